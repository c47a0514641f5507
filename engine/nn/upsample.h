#pragma once
// Upsample: nearest or bilinear resampling of NCHW tensors, as torch.nn.Upsample.
#include "engine/nn/module.h"
#include "engine/ops/conv.h"

namespace glassbox::nn {

struct UpsampleOptions {
  /// Either a scale factor (output = floor(input * scale)) or an explicit output size.
  double scale_factor = 0;
  int64_t out_h = 0, out_w = 0;
  ops::UpsampleMode mode = ops::UpsampleMode::nearest;
  bool align_corners = false;  // bilinear only
};

class Upsample : public UnaryModule {
 public:
  explicit Upsample(UpsampleOptions options);
  std::string name() const override { return "Upsample"; }
  /// x [N, C, H, W] -> [N, C, H', W'].
  Tensor forward(const Tensor& x) override;

  const UpsampleOptions options;
};

}  // namespace glassbox::nn
