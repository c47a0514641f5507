#pragma once
// TELL: Peng, Li, Tsang, Zhu, Lv & Zhou, "XAI Beyond Classification: Interpretable
// Neural Clustering", JMLR 23(6), 2022 (official code XLearning-SCU/2022-JMLR-TELL).
//
// k-means written as a network layer. With unit-length features z and centres Omega_k,
//   ||z - Omega_k||^2 = 2 - 2 Omega_k^T z,
// so the nearest centre is the largest entry of the linear layer c = W z whose weight
// rows are W_k = 2 alpha Omega_k (the paper's W = 2 Omega, scaled by alpha = 0.001 as
// the code does). A convolutional autoencoder supplies z = normalize(f(x)); the
// centres decoded by the decoder are the images the clustering is explained with.
#include <functional>
#include <memory>

#include "engine/nn/module.h"
#include "engine/nn/sequential.h"
#include "engine/ops/random.h"
#include "engine/optim/optimizer.h"
#include "engine/tensor.h"

namespace glassbox::nn {
class Linear;
}

namespace glassbox::models {

struct TellOptions {
  int64_t image_size = 28;  // square inputs; must be divisible by 4 (two stride-2 convolutions)
  int64_t channels = 1;
  int64_t hidden = 256;       // width of the fully connected layer (paper: 256)
  int64_t latent_dim = 10;    // d of the unit-sphere features (paper: 10)
  int64_t num_clusters = 10;  // K
  /// Scale of the cluster layer: W = 2 alpha Omega (official code: 0.001).
  double alpha = 0.001;
  /// lambda of L = L_rec + lambda L_clu (paper: 0.01); the code's L_clu is
  /// (lambda / alpha) * mean over the B x K entries of (2 alpha - delta . c).
  double lambda = 0.01;
  /// Each centre row's gradient is rescaled to this fraction of the row's length 2 alpha
  /// before the step (paper section 2.2.3 and the code: 10%, i.e. 0.2 alpha).
  double grad_fraction = 0.1;
};

struct TellOutput {
  Tensor latent;          // z [B, d], unit rows
  Tensor scores;          // c = W z [B, K] (z detached when the centres move)
  Tensor assignment;      // i64 [B], argmax_k c (no gradient)
  Tensor reconstruction;  // [B, C, H, W] in [0, 1]
};

struct TellLoss {
  Tensor total;  // L_rec + L_clu
  Tensor rec_term, clu_term;  // the two scalars, differentiable
};

class Tell : public nn::Module {
 public:
  /// PyTorch's default initialisation drawn from `gen`; the centre rows are then
  /// scaled to length 2 alpha.
  Tell(const TellOptions& options, Generator& gen);
  std::string name() const override { return "TELL"; }
  const TellOptions& options() const { return options_; }

  /// The alternation of the official code, per epoch (0-based): on even epochs the centres
  /// move and the encoder learns from L_rec alone; on odd ones the centres are frozen and
  /// the encoder is also pulled towards its centre.
  static bool centres_move(int64_t epoch) { return epoch % 2 == 0; }

  /// Images [B, C, H, W] -> z [B, d] on the unit sphere.
  Tensor encode(const Tensor& images) const;
  /// z [B, d] -> images [B, C, H, W] in [0, 1].
  Tensor decode(const Tensor& latent) const;
  /// c = W z [B, K] and its hard assignment.
  Tensor scores(const Tensor& latent) const;
  /// Nearest centre of each row of z (= argmax_k Omega_k^T z for unit vectors).
  Tensor assign(const Tensor& latent) const;
  /// The forward pass of a training step in epoch `epoch`: z is detached in the cluster
  /// term when the centres move, so L_clu reaches W but not the encoder.
  TellOutput forward(const Tensor& images, int64_t epoch) const;
  /// L_rec = mean squared reconstruction error; L_clu = (lambda / alpha) mean_{i,k}(2 alpha - delta_ik c_ik).
  TellLoss loss(const TellOutput& out, const Tensor& images) const;
  /// TELL-TwoStage (paper Table 4): the centres learn on fixed features z [B, d] of an autoencoder
  /// trained before, so L_rec is a constant and the loss is L_clu alone (rec_term undefined).
  TellLoss fixed_feature_loss(const Tensor& latent) const;

  /// The cluster layer's weight W [K, d] (rows of length 2 alpha).
  const Tensor& cluster_weight() const;
  /// Omega = W / (2 alpha) [K, d], unit rows (a copy without gradient).
  Tensor centres() const;
  /// Rescales every row of W to length 2 alpha, in place.
  void normalise_centres();
  /// Registers the normalised updates on `optimizer` (which must own W): before each step
  /// W's gradient rows are rescaled to length grad_fraction * 2 alpha when
  /// `centres_move()` says so and zeroed otherwise; after each step W's rows are
  /// projected back to length 2 alpha.
  void attach_normalised_updates(optim::Optimizer& optimizer, std::function<bool()> centres_move) const;

 private:
  /// (lambda / alpha) mean_{i,k}(2 alpha - delta_ik c_ik), delta = one-hot(assignment).
  Tensor clustering_term(const Tensor& scores, const Tensor& assignment) const;

  TellOptions options_;
  // Layers run forward from const methods (evaluation, exports); their state is the module's.
  mutable nn::Sequential encoder_, decoder_;
  std::shared_ptr<nn::Linear> cluster_layer_;
};

/// Rows of `x` [N, d] scaled to `length` (rows of norm < 1e-12 are divided by 1e-12,
/// as torch.nn.functional.normalize does, so a zero row stays zero).
Tensor rows_to_length(const Tensor& x, double length);

}  // namespace glassbox::models
