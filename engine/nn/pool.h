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

class MaxPool2d : public UnaryModule {
 public:
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0)
      : MaxPool2d(square_pool(kernel, stride, padding)) {}
  explicit MaxPool2d(const ops::Pool2dOptions& options);
  std::string name() const override { return "MaxPool2d"; }
  /// x [N, C, H, W] -> [N, C, H', W'], each window's maximum.
  Tensor forward(const Tensor& x) override;

  const ops::Pool2dOptions options;
};

class AvgPool2d : public UnaryModule {
 public:
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0)
      : AvgPool2d(square_pool(kernel, stride, padding)) {}
  explicit AvgPool2d(const ops::Pool2dOptions& options);
  std::string name() const override { return "AvgPool2d"; }
  /// x [N, C, H, W] -> [N, C, H', W'], each window's mean.
  Tensor forward(const Tensor& x) override;

  const ops::Pool2dOptions options;
};

}  // namespace glassbox::nn
