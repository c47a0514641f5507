#pragma once
// Linear: y = x W^T + b over the last dim, as torch.nn.Linear.
#include "engine/nn/module.h"
#include "engine/ops/random.h"

namespace glassbox::nn {

class Linear : public UnaryModule {
 public:
  /// Weights from PyTorch's default initialisation drawn from `gen` (default generator if null).
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator* gen = nullptr);
  std::string name() const override { return "Linear"; }
  /// x [..., in_features] -> [..., out_features].
  Tensor forward(const Tensor& x) override;

  const int64_t in_features, out_features;
  Tensor weight;  // [out_features, in_features]
  Tensor bias;    // [out_features], undefined without bias
};

}  // namespace glassbox::nn
