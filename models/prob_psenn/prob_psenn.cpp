#include "models/prob_psenn/prob_psenn.h"

#include <stdexcept>

#include "engine/autograd/grad_mode.h"
#include "engine/nn/activation.h"
#include "engine/nn/init.h"
#include "engine/nn/normalization.h"
#include "engine/ops/ops.h"
#include "models/common/gaussian.h"

namespace glassbox::models {

namespace {

// Keras BatchNormalization's eps 1e-3; its momentum 0.99 is PyTorch's 0.01 (the options' default).
nn::BatchNormOptions keras_batch_norm(double momentum) {
  nn::BatchNormOptions o;
  o.momentum = momentum;
  o.eps = 1e-3;
  return o;
}

/// Keras's GlorotUniform kernels and zero biases, drawn from `gen`.
template <class Conv>
void glorot(Conv& conv, Generator& gen) {
  nn::init::xavier_uniform_(conv.weight, 1.0, &gen);
  nn::init::zeros_(conv.bias);
}

void add_norm_act(nn::Sequential& seq, int64_t channels, double momentum) {
  seq.emplace_back<nn::BatchNorm2d>(channels, keras_batch_norm(momentum));
  seq.emplace_back<nn::LeakyReLU>(0.2);
}

}  // namespace

ProbPsenn::ProbPsenn(const ProbPsennOptions& o, Generator& gen) : options_(o) {
  if (o.channels < 1 || o.base_channels < 1 || o.bottleneck_channels < 1 || o.latent_dim < 1)
    throw std::invalid_argument("prob_psenn: channels, base_channels, bottleneck_channels and latent_dim must be >= 1");
  if (o.num_classes < 2) throw std::invalid_argument("prob_psenn: needs >= 2 classes");
  if (!(o.batch_norm_momentum > 0 && o.batch_norm_momentum <= 1))
    throw std::invalid_argument("prob_psenn: batch_norm_momentum must be in (0, 1]");
  const int64_t b = o.base_channels, wide = 2 * o.base_channels, bottleneck = o.bottleneck_channels;
  const int64_t d = o.latent_dim;

  // Encoder (generate_cnn_vae_32x32): 32 -> 16 -> 8 -> 4 with 4x4 stride-2 "same" convs, a
  // 4x4 "valid" conv to 1x1, then a 1x1 conv to [mu, log sigma^2].
  encoder_ = register_module("encoder", std::make_shared<nn::Sequential>());
  nn::Conv2dOptions down;
  down.stride = 2;
  down.same_padding = true;
  const int64_t widths[] = {o.channels, b, b, wide};
  for (int i = 0; i < 3; ++i) {
    glorot(encoder_->emplace_back<nn::Conv2d>(widths[i], widths[i + 1], 4, down, &gen), gen);
    add_norm_act(*encoder_, widths[i + 1], o.batch_norm_momentum);
  }
  glorot(encoder_->emplace_back<nn::Conv2d>(wide, bottleneck, 4, nn::Conv2dOptions{}, &gen), gen);
  add_norm_act(*encoder_, bottleneck, o.batch_norm_momentum);
  glorot(encoder_->emplace_back<nn::Conv2d>(bottleneck, o.vae ? 2 * d : d, 1, nn::Conv2dOptions{}, &gen), gen);

  // Decoder: 1x1 conv, 4x4 valid transposed conv to 4x4, then stride-2 transposed convs
  // (k 4, padding 1 doubles the size as TF's "same") to 32x32, tanh.
  decoder_ = register_module("decoder", std::make_shared<nn::Sequential>());
  glorot(decoder_->emplace_back<nn::Conv2d>(d, bottleneck, 1, nn::Conv2dOptions{}, &gen), gen);
  add_norm_act(*decoder_, bottleneck, o.batch_norm_momentum);
  glorot(decoder_->emplace_back<nn::ConvTranspose2d>(bottleneck, wide, 4, nn::ConvTranspose2dOptions{}, &gen), gen);
  add_norm_act(*decoder_, wide, o.batch_norm_momentum);
  nn::ConvTranspose2dOptions up;
  up.stride = 2;
  up.padding = 1;
  const int64_t up_widths[] = {wide, b, b, o.channels};
  for (int i = 0; i < 3; ++i) {
    glorot(decoder_->emplace_back<nn::ConvTranspose2d>(up_widths[i], up_widths[i + 1], 4, up, &gen), gen);
    if (i < 2) add_norm_act(*decoder_, up_widths[i + 1], o.batch_norm_momentum);
  }
  decoder_->emplace_back<nn::Tanh>();

  const int64_t k = o.num_classes;
  means_ = register_parameter("prototype_means", ops::randn({k, d}, 0.0, o.prototype_init_std, {}, &gen));
  if (o.probabilistic) {
    Shape raw_shape = o.full_covariance ? Shape{k, d, d} : Shape{k, d};
    scale_raw_ = register_parameter("prototype_scale_raw", ops::randn(raw_shape, 0.2, 0.1, {}, &gen));
  }
  // W = -0.5 I: with one prototype per class, logit_c = -1/2 |z - p_c|^2, a Gaussian classifier.
  class_weights_ = register_parameter("class_weights", identity_matrix(k) * -0.5, o.train_class_weights);
}

Tensor ProbPsenn::preprocess(const Tensor& images) {
  if (images.dim() != 4)
    throw std::invalid_argument("prob_psenn: expected images [B, C, H, W], got " + images.shape().str());
  Tensor x = images * 2.0 - 1.0;
  if (images.size(2) == kImageSize && images.size(3) == kImageSize) return x;
  return ops::upsample2d(x, kImageSize, kImageSize, ops::UpsampleMode::bilinear, false);
}

std::pair<Tensor, Tensor> ProbPsenn::encode(const Tensor& input) const {
  if (input.dim() != 4 || input.size(1) != options_.channels || input.size(2) != kImageSize ||
      input.size(3) != kImageSize)
    throw std::invalid_argument("prob_psenn: expected preprocessed images [B, " + std::to_string(options_.channels) +
                                ", 32, 32], got " + input.shape().str());
  Tensor h = encoder_->forward(input).flatten(1);
  if (!options_.vae) return {h, Tensor()};
  const int64_t d = options_.latent_dim;
  return {h.narrow(1, 0, d), h.narrow(1, d, d)};
}

Tensor ProbPsenn::decode(const Tensor& latent) const {
  return decoder_->forward(latent.reshape({latent.size(0), options_.latent_dim, 1, 1}));
}

Tensor ProbPsenn::prototype_scales() const {
  if (!options_.probabilistic) return Tensor();
  return options_.full_covariance ? fill_scale_tril(scale_raw_) : positive_scale(scale_raw_);
}

Tensor ProbPsenn::sample_prototypes(int64_t samples, Generator* gen) const {
  if (samples < 0) throw std::invalid_argument("prob_psenn: the number of prototype samples must be >= 0");
  if (!options_.probabilistic || samples == 0) return means_.unsqueeze(0);
  Tensor eps = ops::randn({samples, means_.size(0), means_.size(1)}, 0.0, 1.0, {means_.dtype(), means_.device()}, gen);
  Tensor scales = prototype_scales();
  return options_.full_covariance ? sample_tril_gaussian(means_, scales, eps)
                                  : sample_diag_gaussian(means_, scales, eps);
}

Tensor ProbPsenn::negative_log_density(const Tensor& latent, const Tensor& labels) const {
  Tensor mean = ops::index_select(means_, 0, labels);
  if (!options_.probabilistic)
    return diag_gaussian_negative_log_density(latent, mean, Tensor::ones(latent.shape(), {latent.dtype(), latent.device()}));
  Tensor scales = ops::index_select(prototype_scales(), 0, labels);
  return options_.full_covariance ? tril_gaussian_negative_log_density(latent, mean, scales)
                                  : diag_gaussian_negative_log_density(latent, mean, scales);
}

ProbPsennOutput ProbPsenn::forward(const Tensor& images, int64_t samples, bool reconstruct, Generator* gen,
                                   bool sample_latent) const {
  ProbPsennOutput out;
  out.input = preprocess(images);
  std::tie(out.latent_mean, out.latent_logvar) = encode(out.input);
  out.latent = out.latent_mean;
  // The VAE backbone trains on a reparameterised draw z = mu + sigma eps; evaluation uses mu.
  if (options_.vae && is_training())
    out.latent = out.latent_mean + ops::exp(0.5 * out.latent_logvar) *
                                       ops::randn(out.latent_mean.shape(), 0.0, 1.0, {out.latent_mean.dtype(), out.latent_mean.device()}, gen);
  Tensor prototypes = sample_prototypes(samples, gen);  // [S, K, d]
  Tensor z = out.latent.unsqueeze(0);                   // [1, B, d], shared by every prototype set
  if (options_.vae && sample_latent && !is_training()) {
    // Point prototypes are one set; the S latent draws then still give S predictions.
    Shape shape{std::max(prototypes.size(0), samples), out.latent.size(0), out.latent.size(1)};
    z = out.latent_mean + ops::exp(0.5 * out.latent_logvar) * ops::randn(shape, 0.0, 1.0, {z.dtype(), z.device()}, gen);
  }
  // D[s, b, j] = |z_b - p^(s)_j|^2: one GEMM per sampled prototype set.
  out.distances = ops::pairwise_sq_distance(z, prototypes);
  out.logits = ops::matmul(out.distances, class_weights_);
  if (reconstruct) out.reconstruction = decode(out.latent);
  return out;
}

Tensor ProbPsenn::sample_probabilities(const ProbPsennOutput& out) { return ops::softmax(out.logits, -1); }

namespace {

/// KL(N(mu, sigma^2) || N(0, I)) summed over the latent, averaged over the batch.
Tensor vae_kl(const ProbPsennOutput& out) {
  const Tensor& mu = out.latent_mean;
  const Tensor& logvar = out.latent_logvar;
  return ops::mean(ops::sum(-0.5 * (1.0 + logvar - ops::square(mu) - ops::exp(logvar)), {1}));
}

}  // namespace

ProbPsennLoss ProbPsenn::loss(const ProbPsennOutput& out, const Tensor& labels, const ProbPsennLossWeights& w) const {
  if (!out.reconstruction.defined()) throw std::invalid_argument("prob_psenn: the loss needs the reconstruction");
  ProbPsennLoss l;
  const int64_t s = out.logits.size(0), b = out.logits.size(1), k = out.logits.size(2);
  // NLL = -(1/(B S)) sum_b sum_s log softmax(D(z_b, P^(s)) W)_{y_b}: the expected log-likelihood
  // over prototype samples (not the log of the averaged predictive). Rows are sample-major.
  Tensor nll = ops::cross_entropy(out.logits.reshape({s * b, k}), ops::repeat(labels, {s}));
  Tensor rec = ops::mse_loss(out.reconstruction, out.input);
  // R2 = (1/B) sum_b clip(-log q_{y_b}(z_b), -1, 1e4).
  Tensor r2 = ops::mean(ops::clamp(negative_log_density(out.latent, labels), -1.0, 1e4));
  l.total = nll * w.nll + rec * w.reconstruction + r2 * w.r2;
  Tensor kl;
  if (options_.vae) {
    kl = vae_kl(out);
    l.total = l.total + kl * w.kl;
  }
  l.nll = nll.detach();
  l.reconstruction = rec.detach();
  l.r2 = r2.detach();
  l.kl = kl.defined() ? kl.detach() : Tensor::zeros({}, {rec.dtype(), rec.device()});
  return l;
}

ProbPsennLoss ProbPsenn::reconstruction_loss(const ProbPsennOutput& out, double kl_weight) const {
  if (!out.reconstruction.defined()) throw std::invalid_argument("prob_psenn: the loss needs the reconstruction");
  ProbPsennLoss l;
  Tensor rec = ops::mse_loss(out.reconstruction, out.input);
  l.total = rec;
  Tensor kl;
  if (options_.vae) {
    kl = vae_kl(out);
    l.total = l.total + kl * kl_weight;
  }
  l.reconstruction = rec.detach();
  l.kl = kl.defined() ? kl.detach() : Tensor::zeros({}, {rec.dtype(), rec.device()});
  return l;
}

void ProbPsenn::fit_prototypes(const Tensor& latents, const Tensor& labels, const Tensor& latent_variances) {
  NoGradGuard no_grad;
  const int64_t d = options_.latent_dim, k = options_.num_classes;
  if (latents.dim() != 2 || latents.size(1) != d || labels.dim() != 1 || labels.size(0) != latents.size(0))
    throw std::invalid_argument("prob_psenn: fit_prototypes needs latents [N, " + std::to_string(d) +
                                "] and labels [N], got " + latents.shape().str() + " and " + labels.shape().str());
  if (latent_variances.defined() && latent_variances.shape() != latents.shape())
    throw std::invalid_argument("prob_psenn: fit_prototypes needs latent variances of the latents' shape " +
                                latents.shape().str() + ", got " + latent_variances.shape().str());
  std::vector<int64_t> y = labels.to_vector<int64_t>();
  // A one-off fit in f64 on the CPU (per-class means and covariance factors); copy_ moves
  // the results to the parameters' device.
  Tensor z = latents.to(Device::cpu()).to(DType::f64);
  for (int64_t c = 0; c < k; ++c) {
    std::vector<int64_t> ids;
    for (size_t i = 0; i < y.size(); ++i)
      if (y[i] == c) ids.push_back(int64_t(i));
    if (ids.empty()) continue;
    Tensor rows = Tensor::from_vector(ids, {int64_t(ids.size())});
    Tensor zc = ops::index_select(z, 0, rows);
    Tensor mean = ops::mean(zc, {0});
    means_.select(0, c).copy_(mean);
    if (!options_.probabilistic) continue;
    Tensor centred = zc - mean;
    const double n = double(std::max<size_t>(ids.size() - 1, 1));
    // A small ridge keeps the covariance positive definite when a class has fewer than d samples.
    Tensor extra_variance = Tensor::full({d}, 1e-6, {DType::f64});
    if (latent_variances.defined())
      extra_variance = extra_variance + ops::mean(ops::index_select(latent_variances.to(Device::cpu()).to(DType::f64), 0, rows), {0});
    if (!options_.full_covariance) {
      std::vector<double> sd = ops::sqrt(ops::sum(ops::square(centred), {0}) / n + extra_variance).to_vector<double>();
      std::vector<double> raw;
      for (double s : sd) raw.push_back(inverse_positive_scale(s + kMinScale));
      scale_raw_.select(0, c).copy_(Tensor::from_vector(raw, {d}));
      continue;
    }
    Tensor cov = ops::matmul(centred.mT(), centred) / n + identity_matrix(d, DType::f64) * extra_variance;
    std::vector<double> chol = ops::cholesky(cov).to_vector<double>();
    for (int64_t i = 0; i < d; ++i)
      chol[size_t(i * d + i)] = inverse_positive_scale(chol[size_t(i * d + i)] + kMinScale);
    scale_raw_.select(0, c).copy_(Tensor::from_vector(chol, {d, d}));
  }
}

}  // namespace glassbox::models
