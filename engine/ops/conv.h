#pragma once
// Convolution, normalisation, pooling and resampling on NCHW tensors.
#include <optional>
#include <string>

#include "engine/tensor.h"

namespace glassbox::ops {

/// Spatial padding: symmetric, or explicit top/bottom/left/right for "SAME".
struct Padding2d {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  static Padding2d symmetric(int64_t h, int64_t w) { return {h, h, w, w}; }
  /// TensorFlow's "SAME" for a given input size, kernel, stride, dilation.
  static Padding2d same(int64_t in_h, int64_t in_w, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                        int64_t dh = 1, int64_t dw = 1);
};

struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  Padding2d padding;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
};

/// x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] or undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& opt = {});

struct ConvTranspose2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  int64_t padding_h = 0, padding_w = 0;
  int64_t output_padding_h = 0, output_padding_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  /// When set, replaces padding_h/padding_w with the four sides of the convolution this is
  /// the adjoint of. Padding2d::same(out_h, out_w, ...) gives TensorFlow's conv2d_transpose
  /// with "SAME", whose odd padding row/column is at the bottom/right.
  std::optional<Padding2d> padding_sides;
};
/// x [N, C, H, W], weight [C, O/groups, kh, kw] (PyTorch layout), bias [O] or undefined.
/// Output H = (H-1)*stride - pad_top - pad_bottom + dilation*(kh-1) + output_padding + 1
/// (pad_top = pad_bottom = padding_h unless padding_sides is set), with
/// 0 <= output_padding < stride (PyTorch also allows < dilation; not supported here).
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dOptions& opt = {});

/// Batch normalisation over all dims but 1 (channels). In training mode uses batch
/// statistics and updates running_mean/var in place (momentum as PyTorch, unbiased
/// running var); in eval mode uses the running statistics. weight/bias may be undefined.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5);
/// relu (act.leaky false) or leaky_relu(act.negative_slope > 0) of batch_norm(...): the same
/// values and gradients, to the bit, computed in one fused node where the backend has the kernel
/// (the CPU, in training), which skips the activation's own pass over the activations each way.
Tensor batch_norm_activation(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                             const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps,
                             const kernels::NormActivation& act);
/// Normalises over the last `normalized_dims` dims; weight/bias of that trailing shape or undefined.
Tensor layer_norm(const Tensor& x, int normalized_dims, const Tensor& weight, const Tensor& bias,
                  double eps = 1e-5);

struct Pool2dOptions {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;
  int64_t padding_h = 0, padding_w = 0;
  bool count_include_pad = true;  // avg_pool2d only
};
/// x [N, C, H, W] -> [N, C, (H + 2*padding_h - kernel_h)/stride_h + 1, ...] (floor); padding
/// at most half the kernel. max_pool2d sends each window's gradient to its (first) maximum.
/// Throws, naming `who`, unless kernel and stride are >= 1 and padding is >= 0 and at most half the kernel.
void check_pool_window(const std::string& who, const Pool2dOptions& opt);
Tensor max_pool2d(const Tensor& x, const Pool2dOptions& opt);
Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& opt);

enum class UpsampleMode { nearest, bilinear };
/// Resamples [N, C, H, W] to [N, C, out_h, out_w] with PyTorch's source-index formulas
/// (interpolate with `size`); align_corners applies to bilinear only.
Tensor upsample2d(const Tensor& x, int64_t out_h, int64_t out_w, UpsampleMode mode = UpsampleMode::nearest,
                  bool align_corners = false);

}  // namespace glassbox::ops
