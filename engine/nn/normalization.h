#pragma once
// Normalisation layers: batch norm with running statistics kept as buffers, and layer
// norm, as torch.nn.BatchNorm1d / BatchNorm2d / LayerNorm.
#include <vector>

#include "engine/nn/module.h"

namespace glassbox::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;  // running = (1 - momentum) * running + momentum * batch
  bool affine = true;
};

/// Shared body of BatchNorm1d/2d; they differ only in the input ranks they accept.
class BatchNorm : public UnaryModule {
 public:
  /// Uses batch statistics (and updates the running ones) in training mode, the
  /// running statistics in eval mode.
  Tensor forward(const Tensor& x) override;
  /// forward followed by ReLU / LeakyReLU `act`, fused (ops::batch_norm_activation): what
  /// Sequential runs for a batch norm layer followed by such an activation layer.
  Tensor forward_activation(const Tensor& x, const kernels::NormActivation& act);

  const int64_t num_features;
  const BatchNormOptions options;
  Tensor weight, bias;                     // [C], ones / zeros; undefined unless affine
  Tensor running_mean, running_var;        // [C] buffers, zeros / ones
  Tensor num_batches_tracked;              // i64 scalar buffer, as in PyTorch checkpoints

 protected:
  BatchNorm(int64_t num_features, BatchNormOptions options, int min_rank, int max_rank);

 private:
  Tensor forward_impl(const Tensor& x, const kernels::NormActivation* act);
  int min_rank_, max_rank_;
};

/// Over [N, C] or [N, C, L].
class BatchNorm1d final : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {}) : BatchNorm(num_features, options, 2, 3) {}
  std::string name() const override { return "BatchNorm1d"; }
};

/// Over [N, C, H, W].
class BatchNorm2d final : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {}) : BatchNorm(num_features, options, 4, 4) {}
  std::string name() const override { return "BatchNorm2d"; }
};

class LayerNorm : public UnaryModule {
 public:
  /// Normalises over the trailing dims `normalized_shape`.
  explicit LayerNorm(std::vector<int64_t> normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  std::string name() const override { return "LayerNorm"; }
  Tensor forward(const Tensor& x) override;

  const std::vector<int64_t> normalized_shape;
  const double eps;
  Tensor weight, bias;  // normalized_shape, ones / zeros; undefined without affine
};

}  // namespace glassbox::nn
