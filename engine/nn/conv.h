#pragma once
// 2-d convolution and transposed convolution layers on NCHW tensors (square kernels),
// as torch.nn.Conv2d / ConvTranspose2d.
#include "engine/nn/module.h"
#include "engine/ops/random.h"

namespace glassbox::nn {

struct Conv2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;  // on every side
  /// TensorFlow's "SAME": pads so that out = ceil(in / stride), the extra pixel at the
  /// bottom/right; with stride 1 this is PyTorch's padding="same". Overrides `padding`.
  bool same_padding = false;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public UnaryModule {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Conv2dOptions options = {},
         Generator* gen = nullptr);
  std::string name() const override { return "Conv2d"; }
  /// x [N, in_channels, H, W] -> [N, out_channels, H', W'].
  Tensor forward(const Tensor& x) override;

  const int64_t in_channels, out_channels, kernel_size;
  const Conv2dOptions options;
  Tensor weight;  // [out_channels, in_channels / groups, k, k]
  Tensor bias;    // [out_channels] or undefined
};

struct ConvTranspose2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  /// Extra rows/columns on the bottom/right of the output (must be < stride or dilation).
  int64_t output_padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class ConvTranspose2d : public UnaryModule {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                  ConvTranspose2dOptions options = {}, Generator* gen = nullptr);
  std::string name() const override { return "ConvTranspose2d"; }
  /// x [N, in_channels, H, W] -> [N, out_channels, H', W'] with
  /// H' = (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
  Tensor forward(const Tensor& x) override;

  const int64_t in_channels, out_channels, kernel_size;
  const ConvTranspose2dOptions options;
  Tensor weight;  // [in_channels, out_channels / groups, k, k]
  Tensor bias;    // [out_channels] or undefined
};

}  // namespace glassbox::nn
