#include "engine/nn/normalization.h"

#include <stdexcept>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/conv.h"

namespace glassbox::nn {

BatchNorm::BatchNorm(int64_t c, BatchNormOptions opt, int min_rank, int max_rank)
    : num_features(c), options(opt), min_rank_(min_rank), max_rank_(max_rank) {
  if (c < 1) throw std::invalid_argument("BatchNorm: num_features must be positive, got " + std::to_string(c));
  if (opt.eps <= 0 || opt.momentum < 0 || opt.momentum > 1)
    throw std::invalid_argument("BatchNorm: need eps > 0 and momentum in [0, 1]");
  if (opt.affine) {
    weight = register_parameter("weight", Tensor::ones({c}));
    bias = register_parameter("bias", Tensor::zeros({c}));
  }
  running_mean = register_buffer("running_mean", Tensor::zeros({c}));
  running_var = register_buffer("running_var", Tensor::ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", Tensor::scalar(0, {DType::i64}));
}

Tensor BatchNorm::forward(const Tensor& x) { return forward_impl(x, nullptr); }

Tensor BatchNorm::forward_activation(const Tensor& x, const kernels::NormActivation& act) {
  return forward_impl(x, &act);
}

Tensor BatchNorm::forward_impl(const Tensor& x, const kernels::NormActivation* act) {
  if (x.dim() < min_rank_ || x.dim() > max_rank_ || x.size(1) != num_features)
    throw std::invalid_argument(name() + ": expected input [N, " + std::to_string(num_features) +
                                (max_rank_ == 4 ? ", H, W]" : "] or [N, " + std::to_string(num_features) + ", L]") +
                                ", got " + x.shape().str());
  if (is_training()) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(Tensor::scalar(1, {DType::i64, num_batches_tracked.device()}));
  }
  if (act)
    return ops::batch_norm_activation(x, running_mean, running_var, weight, bias, is_training(), options.momentum,
                                      options.eps, *act);
  return ops::batch_norm(x, running_mean, running_var, weight, bias, is_training(), options.momentum, options.eps);
}

LayerNorm::LayerNorm(std::vector<int64_t> shape, double eps_, bool affine)
    : normalized_shape(std::move(shape)), eps(eps_) {
  if (normalized_shape.empty()) throw std::invalid_argument("LayerNorm: normalized_shape is empty");
  Shape s;
  for (int64_t d : normalized_shape) {
    if (d < 1) throw std::invalid_argument("LayerNorm: normalized_shape entries must be positive");
    s.push_back(d);
  }
  if (affine) {
    weight = register_parameter("weight", Tensor::ones(s));
    bias = register_parameter("bias", Tensor::zeros(s));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  const int n = int(normalized_shape.size());
  bool ok = x.dim() >= n;
  for (int i = 0; ok && i < n; ++i) ok = x.size(x.dim() - n + i) == normalized_shape[size_t(i)];
  if (!ok) {
    Shape s(normalized_shape.begin(), normalized_shape.end());
    throw std::invalid_argument("LayerNorm: expected input ending in " + s.str() + ", got " + x.shape().str());
  }
  return ops::layer_norm(x, n, weight, bias, eps);
}

}  // namespace glassbox::nn
