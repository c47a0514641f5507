#include "models/tell/tell.h"

#include <stdexcept>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/nn/nn.h"
#include "engine/ops/ops.h"

namespace glassbox::models {

namespace {

constexpr int64_t kConvOut = 16;  // channels of the last encoder convolution

}  // namespace

Tensor rows_to_length(const Tensor& x, double length) {
  // torch.nn.functional.normalize: x / max(||x||, 1e-12).
  return x * (ops::rdiv(ops::clamp_min(ops::norm(x, {1}, true), 1e-12), length));
}

Tell::Tell(const TellOptions& o, Generator& gen) : options_(o) {
  if (o.image_size < 4 || o.image_size % 4 != 0)
    throw std::invalid_argument("tell: image_size must be a positive multiple of 4, got " +
                                std::to_string(o.image_size));
  if (o.channels < 1 || o.hidden < 1 || o.latent_dim < 2 || o.num_clusters < 2)
    throw std::invalid_argument("tell: need channels >= 1, hidden >= 1, latent_dim >= 2 and num_clusters >= 2");
  if (!(o.alpha > 0) || !(o.lambda >= 0) || !(o.grad_fraction > 0))
    throw std::invalid_argument("tell: alpha and grad_fraction must be > 0 and lambda >= 0");
  const int64_t side = o.image_size / 4, inner = kConvOut * side * side;
  register_module("encoder", encoder_);
  register_module("decoder", decoder_);

  // Encoder (TELL section 4.1, NetConv): four 3x3 convolutions with BN-ReLU, strides 1 2 1 2,
  // then fc inner -> hidden -> d.
  auto conv = [&](int64_t in, int64_t out, int64_t stride) {
    nn::Conv2dOptions c;
    c.stride = stride;
    c.padding = 1;
    encoder_.emplace_back<nn::Conv2d>(in, out, 3, c, &gen);
    encoder_.emplace_back<nn::BatchNorm2d>(out);
    encoder_.emplace_back<nn::ReLU>();
  };
  conv(o.channels, 16, 1);
  conv(16, 32, 2);
  conv(32, 32, 1);
  conv(32, kConvOut, 2);
  encoder_.emplace_back<nn::Flatten>();
  encoder_.emplace_back<nn::Linear>(inner, o.hidden, true, &gen);
  encoder_.emplace_back<nn::ReLU>();
  encoder_.emplace_back<nn::Linear>(o.hidden, o.latent_dim, true, &gen);

  // Decoder: the mirror image, transposed convolutions with output_padding 1 where the
  // encoder halved the size, and a sigmoid so pixels land in [0, 1].
  decoder_.emplace_back<nn::Linear>(o.latent_dim, o.hidden, true, &gen);
  decoder_.emplace_back<nn::ReLU>();
  decoder_.emplace_back<nn::Linear>(o.hidden, inner, true, &gen);
  decoder_.emplace_back<nn::Unflatten>(Shape{kConvOut, side, side});
  auto deconv = [&](int64_t in, int64_t out, int64_t stride, bool last) {
    nn::ConvTranspose2dOptions c;
    c.stride = stride;
    c.padding = 1;
    c.output_padding = stride - 1;
    decoder_.emplace_back<nn::ConvTranspose2d>(in, out, 3, c, &gen);
    if (last) return;
    decoder_.emplace_back<nn::BatchNorm2d>(out);
    decoder_.emplace_back<nn::ReLU>();
  };
  deconv(kConvOut, 32, 2, false);
  deconv(32, 32, 1, false);
  deconv(32, 16, 2, false);
  deconv(16, o.channels, 1, true);
  decoder_.emplace_back<nn::Sigmoid>();

  // The cluster layer: a bias-free linear layer (the bias -||Omega||^2 is constant once the
  // centres have unit length, paper section 2.2.3).
  cluster_layer_ = register_module("cluster_layer", std::make_shared<nn::Linear>(o.latent_dim, o.num_clusters, false, &gen));
  normalise_centres();
}

Tensor Tell::encode(const Tensor& images) const {
  if (images.dim() != 4 || images.size(1) != options_.channels || images.size(2) != options_.image_size ||
      images.size(3) != options_.image_size)
    throw std::invalid_argument("tell: expected images [B, " + std::to_string(options_.channels) + ", " +
                                std::to_string(options_.image_size) + ", " + std::to_string(options_.image_size) +
                                "], got " + images.shape().str());
  return rows_to_length(encoder_.forward(images), 1.0);
}

Tensor Tell::decode(const Tensor& latent) const {
  if (latent.dim() != 2 || latent.size(1) != options_.latent_dim)
    throw std::invalid_argument("tell: expected latent codes [B, " + std::to_string(options_.latent_dim) + "], got " +
                                latent.shape().str());
  return decoder_.forward(latent);
}

Tensor Tell::scores(const Tensor& latent) const { return cluster_layer_->forward(latent); }

Tensor Tell::assign(const Tensor& latent) const {
  NoGradGuard no_grad;
  return ops::argmax(scores(latent), 1);
}

TellOutput Tell::forward(const Tensor& images, int64_t epoch) const {
  TellOutput out;
  out.latent = encode(images);
  out.scores = scores(centres_move(epoch) ? out.latent.detach() : out.latent);
  {
    NoGradGuard no_grad;
    out.assignment = ops::argmax(out.scores, 1);
  }
  out.reconstruction = decode(out.latent);
  return out;
}

Tensor Tell::clustering_term(const Tensor& scores, const Tensor& assignment) const {
  // delta = one-hot(argmax c): only each sample's winning centre is pulled (hard k-means).
  // The assignment comes from argmax, so it is in range and needs none of one_hot's index
  // checks, which read the indices back to the host (a GPU would wait).
  Tensor delta = ops::one_hot_in_range(assignment, options_.num_clusters, scores.dtype());
  const double a = options_.alpha;
  return ops::mean(ops::rsub(delta * scores, 2.0 * a)) * (options_.lambda / a);
}

TellLoss Tell::loss(const TellOutput& out, const Tensor& images) const {
  TellLoss l;
  l.rec_term = ops::mse_loss(out.reconstruction, images);
  l.clu_term = clustering_term(out.scores, out.assignment);
  l.total = l.rec_term + l.clu_term;
  return l;
}

TellLoss Tell::fixed_feature_loss(const Tensor& latent) const {
  Tensor c = scores(latent.detach());
  Tensor assignment;
  {
    NoGradGuard no_grad;
    assignment = ops::argmax(c, 1);
  }
  TellLoss l;
  l.clu_term = clustering_term(c, assignment);
  l.total = l.clu_term;
  return l;
}

const Tensor& Tell::cluster_weight() const { return cluster_layer_->weight; }

Tensor Tell::centres() const {
  NoGradGuard no_grad;
  return cluster_layer_->weight * (1.0 / (2.0 * options_.alpha));
}

void Tell::normalise_centres() {
  NoGradGuard no_grad;
  cluster_layer_->weight.copy_(rows_to_length(cluster_layer_->weight, 2.0 * options_.alpha));
}

void Tell::attach_normalised_updates(optim::Optimizer& optimizer, std::function<bool()> centres_move) const {
  const double row_length = 2.0 * options_.alpha;
  const double grad_length = options_.grad_fraction * row_length;
  // Paper section 2.2.3: a fixed gradient length per centre keeps each centre's identity
  // (a step cannot carry a "3" centre over to the "5"s); frozen centres get a zero gradient,
  // as the code's cluster_layer.zero_grad() (Adadelta's running averages still decay).
  optimizer.add_grad_transform(cluster_layer_->weight,
                               [grad_length, centres_move](const Tensor& grad, const Tensor&) {
                                 return centres_move() ? rows_to_length(grad, grad_length) : Tensor::zeros_like(grad);
                               });
  optimizer.add_projection(cluster_layer_->weight,
                           [row_length](Tensor& w) { w.copy_(rows_to_length(w, row_length)); });
}

}  // namespace glassbox::models
