#pragma once
// Prob-PSENN: Vadillo, Santana & Lozano, "Uncertainty-Aware Explanations Through
// Probabilistic Self-Explainable Neural Networks" (arXiv 2403.13740). No official code
// exists; the facts follow the authors' TensorFlow model files (ProbPSENN.py) as
// summarised in shared/papers/protonet_prob_psenn_cbc.md, section 2.
//
// A prototype self-explaining network whose prototypes are distributions: class j has a
// Gaussian q_j = N(mu_j, L_j L_j^T) in the latent space of a VAE-style autoencoder. A
// prediction averages softmax(D(z, P) W) over sampled prototype sets P ~ q, so the spread
// of the prototypes turns into predictive (epistemic) uncertainty, and decoded prototype
// samples show what each class "looks like" with its variability.
//
// The deterministic variant is the PSENN baseline: point prototypes, same backbone, same
// loss without sampling.
#include <memory>
#include <string>

#include "engine/nn/conv.h"
#include "engine/nn/module.h"
#include "engine/nn/sequential.h"
#include "engine/ops/random.h"
#include "engine/tensor.h"

namespace glassbox::models {

struct ProbPsennOptions {
  int64_t channels = 1;               // input channels
  int64_t base_channels = 32;         // the stride-2 convs have (b, b, 2b) channels (paper: 32)
  int64_t bottleneck_channels = 256;  // the 4x4 valid conv / first decoder layer (paper: 256)
  int64_t latent_dim = 40;            // d (paper's saved MNIST model: 40)
  int64_t num_classes = 10;           // K = m: one prototype distribution per class
  bool probabilistic = true;          // false: the deterministic PSENN baseline
  bool full_covariance = true;        // Sigma_j = L_j L_j^T; false: diagonal
  bool vae = true;                    // VAE backbone (encoder gives mu and log sigma^2)
  bool train_class_weights = true;    // W trainable (paper code: disable_W_training)
  double prototype_init_std = 1.0;    // mu_j ~ N(0, s^2) before any fit
  /// PyTorch-convention running-average momentum of the BatchNorm layers (Keras's 0.99 = 0.01).
  double batch_norm_momentum = 0.01;
};

/// The loss weights of train_step_determ_as_prob (paper code defaults).
struct ProbPsennLossWeights {
  double nll = 1.0;
  double reconstruction = 10.0;
  double r2 = 0.05;  // "INT": -log q_{y}(z), clipped to [-1, 1e4]
  double kl = 0.05;  // VAE KL(N(mu, sigma^2) || N(0, I)); ignored without the VAE backbone
};

struct ProbPsennOutput {
  Tensor input;           // the preprocessed images [B, C, 32, 32] in [-1, 1]
  Tensor latent;          // z [B, d]: a reparameterised draw in training, the mean in eval
  Tensor latent_mean;     // [B, d]
  Tensor latent_logvar;   // [B, d] (undefined without the VAE backbone)
  Tensor distances;       // [S, B, K] squared distances to each sampled prototype set
  Tensor logits;          // [S, B, K] = D W
  Tensor reconstruction;  // [B, C, 32, 32] (undefined when not asked for)
};

struct ProbPsennLoss {
  Tensor total;
  Tensor nll, reconstruction, r2, kl;  // the terms before weighting, detached (0-d; kl 0 without the VAE)
};

class ProbPsenn : public nn::Module {
 public:
  /// Convolutions Glorot-uniform with zero biases (Keras defaults), BN eps 1e-3 (Keras), W = -0.5 I, mu_j ~ N(0, s^2),
  /// raw scales ~ N(0.2, 0.1^2).
  ProbPsenn(const ProbPsennOptions& options, Generator& gen);
  std::string name() const override { return "ProbPsenn"; }
  const ProbPsennOptions& options() const { return options_; }

  static constexpr int64_t kImageSize = 32;
  /// Images [B, C, H, W] in [0, 1] -> [B, C, 32, 32] in [-1, 1]: the paper maps x to 2x - 1
  /// and resizes bilinearly (tf.image.resize, half-pixel centres) to 32 x 32.
  static Tensor preprocess(const Tensor& images);

  /// Encoder output for preprocessed images: (mean, log variance) of the latent, each [B, d]
  /// (log variance undefined without the VAE backbone).
  std::pair<Tensor, Tensor> encode(const Tensor& input) const;
  /// Latent codes [B, d] -> images [B, C, 32, 32] in [-1, 1].
  Tensor decode(const Tensor& latent) const;

  /// Lower-triangular scale factors L [K, d, d] (full) or scales [K, d] (diagonal); for the
  /// deterministic variant an undefined tensor.
  Tensor prototype_scales() const;
  /// `samples` draws of the whole prototype set [samples, K, d]: p = mu + L eps (the
  /// reparameterisation, so gradients reach mu and L). The deterministic variant, and
  /// samples == 0, give the modes mu as one set [1, K, d].
  Tensor sample_prototypes(int64_t samples, Generator* gen = nullptr) const;
  /// -log q_{labels_b}(z_b) [B]: for a full Gaussian 1/2 |L^-1 (z - mu)|^2 + sum_i log L_ii +
  /// d/2 log 2 pi (a triangular solve and a log-determinant); for point prototypes the unit
  /// Gaussian N(p_y, I) that W = -0.5 I makes the classifier use.
  Tensor negative_log_density(const Tensor& latent, const Tensor& labels) const;

  /// The forward pass for images in [0, 1]: `samples` prototype sets (0: the modes only).
  /// In evaluation mode z is the encoder's mean unless `sample_latent`: then (VAE backbone)
  /// each prototype set is paired with its own draw z^(s) ~ N(mu, sigma^2), so the Monte Carlo
  /// predictive also covers the encoder's uncertainty. Training always draws one z per input.
  ProbPsennOutput forward(const Tensor& images, int64_t samples, bool reconstruct = true, Generator* gen = nullptr,
                          bool sample_latent = false) const;
  /// The predictive p(y|x) = (1/S) sum_s softmax(D(z, P^(s)) W): per-sample probabilities [S, B, K].
  static Tensor sample_probabilities(const ProbPsennOutput& out);

  /// NLL (mean over samples and batch of -log softmax(D W)_y) + 10 MSE + 0.05 R2 + 0.05 KL.
  ProbPsennLoss loss(const ProbPsennOutput& out, const Tensor& labels, const ProbPsennLossWeights& weights) const;
  /// The autoencoder-only pre-training loss (train_step_reconstruction): MSE + 0.05 KL.
  ProbPsennLoss reconstruction_loss(const ProbPsennOutput& out, double kl_weight) const;

  /// Sets mu_c and L_c (or the diagonal scales) to the mean and Cholesky factor (or
  /// standard deviations) of the latents of class c (fit_gauss_*_prototypes); point
  /// prototypes get the class means. latents [N, d], labels [N]. With the VAE's per-input
  /// variances sigma^2 [N, d] the covariance is that of the class's aggregate posterior,
  /// Cov[mu(x)] + E[diag sigma^2(x)] (law of total covariance), since training sees draws
  /// z ~ N(mu(x), sigma^2(x)), not the means. A class without samples keeps its prototype.
  void fit_prototypes(const Tensor& latents, const Tensor& labels, const Tensor& latent_variances = Tensor());

  const Tensor& prototype_means() const { return means_; }
  const Tensor& class_weights() const { return class_weights_; }

 private:
  ProbPsennOptions options_;
  std::shared_ptr<nn::Sequential> encoder_, decoder_;
  Tensor means_;          // [K, d]
  Tensor scale_raw_;      // [K, d, d] (full: lower triangle used) or [K, d] (diagonal)
  Tensor class_weights_;  // W [K, K]
};

}  // namespace glassbox::models
