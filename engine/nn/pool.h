#pragma once
// Pooling layers for Sequential stacks: MaxPool2d and AvgPool2d, as torch.nn's (the stride
// defaults to the kernel size, windows that run past the edge are dropped: floor mode).
#include <cstdint>
#include <string>

#include "engine/nn/module.h"
#include "engine/ops/conv.h"

namespace glassbox::nn {

/// Square windows: kernel x kernel, moved by `stride` (0: the kernel size), `padding` on every side.
ops::Pool2dOptions square_pool(int64_t kernel, int64_t stride = 0, int64_t padding = 0);

/// A pooling op as a layer: x [N, C, H, W] -> [N, C, H', W'].
class Pool2d : public UnaryModule {
 public:
  using PoolOp = Tensor (*)(const Tensor&, const ops::Pool2dOptions&);
  Pool2d(std::string name, PoolOp op, const ops::Pool2dOptions& options);
  std::string name() const override { return name_; }
  Tensor forward(const Tensor& x) override;

  const ops::Pool2dOptions options;

 private:
  std::string name_;
  PoolOp op_;
};

/// Each window's maximum (torch.nn.MaxPool2d).
class MaxPool2d : public Pool2d {
 public:
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0)
      : MaxPool2d(square_pool(kernel, stride, padding)) {}
  explicit MaxPool2d(const ops::Pool2dOptions& options) : Pool2d("MaxPool2d", ops::max_pool2d, options) {}
};

/// Each window's mean (torch.nn.AvgPool2d).
class AvgPool2d : public Pool2d {
 public:
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0)
      : AvgPool2d(square_pool(kernel, stride, padding)) {}
  explicit AvgPool2d(const ops::Pool2dOptions& options) : Pool2d("AvgPool2d", ops::avg_pool2d, options) {}
};

}  // namespace glassbox::nn
