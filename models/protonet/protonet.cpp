#include "models/protonet/protonet.h"

#include <stdexcept>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"

namespace glassbox::models {

namespace {

Tensor normal_tensor(const Shape& shape, double std, Generator& gen) {
  return ops::randn(shape, 0.0, std, {}, &gen);
}

}  // namespace

ProtoNet::ProtoNet(const ProtoNetOptions& o, Generator& gen) : options_(o) {
  if (o.activation != "sigmoid" && o.activation != "relu")
    throw std::invalid_argument("protonet: activation must be sigmoid or relu, got '" + o.activation + "'");
  if (o.decoder != "deconv" && o.decoder != "upsample")
    throw std::invalid_argument("protonet: decoder must be deconv or upsample, got '" + o.decoder + "'");
  if (o.num_layers < 1 || o.num_prototypes < 1 || o.num_classes < 2)
    throw std::invalid_argument("protonet: need >= 1 layer, >= 1 prototype and >= 2 classes");
  // TF "SAME" with stride 2 gives ceil(n / 2) at every layer: 28 -> 14 -> 7 -> 4 -> 2.
  sizes_.push_back(o.image_size);
  for (int64_t i = 0; i < o.num_layers; ++i) sizes_.push_back((sizes_.back() + 1) / 2);

  register_module("encoder", encoder_);
  register_module("decoder", decoder_);
  const bool upsample = o.decoder == "upsample";
  for (int64_t i = 0; i < o.num_layers; ++i) {
    int64_t in = i == 0 ? o.channels : o.hidden_channels;
    int64_t out = i + 1 == o.num_layers ? o.latent_channels : o.hidden_channels;
    enc_.push_back(encoder_.register_module(
        std::to_string(i),
        std::make_shared<ConvParams>(normal_tensor({out, in, 3, 3}, o.init_std, gen), Tensor::zeros({out}))));
  }
  // Decoder layer i maps the size at encoder depth L-i back to depth L-i-1.
  for (int64_t i = 0; i < o.num_layers; ++i) {
    int64_t in = i == 0 ? o.latent_channels : o.hidden_channels;
    int64_t out = i + 1 == o.num_layers ? o.channels : o.hidden_channels;
    // Transposed convolution weights are [in, out, k, k]; upsample+conv uses a conv's [out, in, k, k].
    Shape shape = upsample ? Shape{out, in, 3, 3} : Shape{in, out, 3, 3};
    dec_.push_back(decoder_.register_module(
        std::to_string(i), std::make_shared<ConvParams>(normal_tensor(shape, o.init_std, gen), Tensor::zeros({out}))));
  }
  prototypes_ = register_parameter("prototypes", ops::rand({o.num_prototypes, latent_dim()}, 0.0, 1.0, {}, &gen));
  class_weights_ =
      register_parameter("class_weights", ops::rand({o.num_prototypes, o.num_classes}, 0.0, 1.0, {}, &gen));
}

int64_t ProtoNet::latent_dim() const { return options_.latent_channels * sizes_.back() * sizes_.back(); }

Tensor ProtoNet::activate(const Tensor& x) const {
  return options_.activation == "relu" ? ops::relu(x) : ops::sigmoid(x);
}

Tensor ProtoNet::encode(const Tensor& images) const {
  if (images.dim() != 4 || images.size(1) != options_.channels || images.size(2) != options_.image_size ||
      images.size(3) != options_.image_size)
    throw std::invalid_argument("protonet: expected images [B, " + std::to_string(options_.channels) + ", " +
                                std::to_string(options_.image_size) + ", " + std::to_string(options_.image_size) +
                                "], got " + images.shape().str());
  Tensor h = images;
  for (size_t i = 0; i < enc_.size(); ++i) {
    int64_t n = sizes_[i];
    ops::Conv2dOptions c;
    c.stride_h = c.stride_w = 2;
    c.padding = ops::Padding2d::same(n, n, 3, 3, 2, 2);
    h = activate(ops::conv2d(h, enc_[i]->weight, enc_[i]->bias, c));
  }
  return h.flatten(1);
}

Tensor ProtoNet::decode(const Tensor& latent) const {
  const int64_t L = options_.num_layers;
  Tensor h = latent.reshape({latent.size(0), options_.latent_channels, sizes_.back(), sizes_.back()});
  for (int64_t i = 0; i < L; ++i) {
    const int64_t target = sizes_[size_t(L - i - 1)];
    const bool last = i + 1 == L;
    if (options_.decoder == "upsample") {
      h = ops::upsample2d(h, target, target, ops::UpsampleMode::nearest);
      ops::Conv2dOptions c;
      c.padding = ops::Padding2d::symmetric(1, 1);
      h = ops::conv2d(h, dec_[size_t(i)]->weight, dec_[size_t(i)]->bias, c);
    } else {
      // TensorFlow's conv2d_transpose with "SAME" (the paper's code): the adjoint of the
      // encoder's SAME convolution target -> n, whose odd padding pixel sits at the bottom/
      // right. PyTorch's usual padding 1 + output_padding 1 instead would shift 4 <- 2,
      // 14 <- 7 and 28 <- 14 by a pixel.
      ops::ConvTranspose2dOptions c;
      c.stride_h = c.stride_w = 2;
      c.padding_sides = ops::Padding2d::same(target, target, 3, 3, 2, 2);
      h = ops::conv_transpose2d(h, dec_[size_t(i)]->weight, dec_[size_t(i)]->bias, c);
    }
    h = last ? ops::sigmoid(h) : activate(h);
  }
  return h;
}

ProtoNetOutput ProtoNet::forward(const Tensor& images, bool reconstruct) const {
  ProtoNetOutput out;
  out.latent = encode(images);
  // The prototype layer: D_ij = ||z_i - p_j||^2 (GEMM form, clamped at 0).
  out.distances = ops::pairwise_sq_distance(out.latent, prototypes_);
  // logits = D W with no bias: a small distance times a negative weight is evidence.
  out.logits = ops::matmul(out.distances, class_weights_);
  if (reconstruct) out.reconstruction = decode(out.latent);
  return out;
}

ProtoNetLoss ProtoNet::loss(const ProtoNetOutput& out, const Tensor& images, const Tensor& labels,
                            const ProtoNetLossWeights& w) const {
  ProtoNetLoss l;
  Tensor ce = ops::cross_entropy(out.logits, labels);
  // R: squared error summed over the pixels of each image, averaged over the batch.
  Tensor rec = ops::mean(ops::sum(ops::square(out.reconstruction - images), {1, 2, 3}));
  // R1: mean over prototypes of the distance to the nearest latent in the batch.
  Tensor r1 = ops::mean(ops::amin(out.distances, {0}));
  // R2: mean over latents of the distance to the nearest prototype.
  Tensor r2 = ops::mean(ops::amin(out.distances, {1}));
  l.total = ce * w.classification + rec * w.reconstruction + r1 * w.r1 + r2 * w.r2;
  l.classification = ce.detach();
  l.reconstruction = rec.detach();
  l.r1 = r1.detach();
  l.r2 = r2.detach();
  return l;
}

}  // namespace glassbox::models
