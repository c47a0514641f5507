// Convolution and transposed convolution. Both run on the three conv2d kernels:
// a transposed convolution is the adjoint of a convolution, so its forward is the
// convolution's data gradient, its input gradient is the convolution's forward, and
// its weight gradient is the convolution's weight gradient with x and gy swapped
// (Dumoulin & Visin, "A guide to convolution arithmetic", section 4).
#include "engine/ops/conv.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "engine/autograd/node.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_utils.h"
#include "engine/ops/reduce.h"

namespace glassbox::ops {

using Grads = std::vector<Tensor>;

namespace {

/// A dense copy cut from the graph: the oneDNN path reads plain NCHW memory.
Tensor dense(const Tensor& t) { return t.detach().contiguous(); }

/// y = conv(x, w) (+ bias) with y of `out_shape`.
Tensor conv_forward_kernel(const Tensor& x, const Tensor& w, const Tensor& bias, const Shape& out_shape,
                           const kernels::Conv2dParams& p) {
  Tensor xc = dense(x), wc = dense(w), out = empty_like_shape(x, out_shape);
  if (bias.defined()) {
    Tensor bc = dense(bias);
    kernels::View bv = bc.view();
    backend_of(x).conv2d_forward(xc.view(), wc.view(), &bv, out.view(), p);
  } else {
    backend_of(x).conv2d_forward(xc.view(), wc.view(), nullptr, out.view(), p);
  }
  return out;
}

/// dL/dx of y = conv(x, w) given gy, with x of `x_shape`.
Tensor conv_backward_data_kernel(const Tensor& gy, const Tensor& w, const Shape& x_shape,
                                 const kernels::Conv2dParams& p) {
  Tensor gyc = dense(gy), wc = dense(w), gx = empty_like_shape(gy, x_shape);
  backend_of(gy).conv2d_backward_data(gyc.view(), wc.view(), gx.view(), p);
  return gx;
}

/// dL/dw (and dL/dbias when asked) of y = conv(x, w) + bias given gy.
std::pair<Tensor, Tensor> conv_backward_weights_kernel(const Tensor& x, const Tensor& gy, const Shape& w_shape,
                                                       bool want_bias, const kernels::Conv2dParams& p) {
  Tensor xc = dense(x), gyc = dense(gy), gw = empty_like_shape(x, w_shape), gb;
  if (want_bias) {
    gb = empty_like_shape(x, {w_shape[0]});
    kernels::View gbv = gb.view();
    backend_of(x).conv2d_backward_weights(xc.view(), gyc.view(), gw.view(), &gbv, p);
  } else {
    backend_of(x).conv2d_backward_weights(xc.view(), gyc.view(), gw.view(), nullptr, p);
  }
  return {gw, gb};
}

void check_operands(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias, int64_t bias_size) {
  if (!x.defined() || !w.defined()) throw std::invalid_argument(std::string(op) + ": x and weight must be defined");
  if (x.dim() != 4 || w.dim() != 4)
    throw std::invalid_argument(std::string(op) + ": expected x [N, C, H, W] and a rank-4 weight, got x " +
                                x.shape().str() + " and weight " + w.shape().str());
  check_floating(x, op);
  check_same_dtype(x, w, op);
  if (bias.defined()) {
    check_same_dtype(x, bias, op);
    if (bias.dim() != 1 || bias.size(0) != bias_size)
      throw std::invalid_argument(std::string(op) + ": bias must have shape [" + std::to_string(bias_size) + "], got " +
                                  bias.shape().str());
  }
}

void check_positive(const char* op, const char* what, int64_t h, int64_t w) {
  if (h < 1 || w < 1)
    throw std::invalid_argument(std::string(op) + ": " + what + " must be >= 1, got (" + std::to_string(h) + ", " +
                                std::to_string(w) + ")");
}

/// Output size of a convolution along one axis (floor division, as every framework).
int64_t conv_out_size(int64_t in, int64_t pad_lo, int64_t pad_hi, int64_t k, int64_t stride, int64_t dilation) {
  return (in + pad_lo + pad_hi - dilation * (k - 1) - 1) / stride + 1;
}

}  // namespace

Padding2d Padding2d::same(int64_t in_h, int64_t in_w, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh,
                          int64_t dw) {
  // TensorFlow "SAME": out = ceil(in / s); the total pad makes the last window fit,
  // with the odd pixel going to the bottom/right.
  auto total = [](int64_t in, int64_t k, int64_t s, int64_t d) {
    const int64_t out = (in + s - 1) / s;
    return std::max<int64_t>((out - 1) * s + (k - 1) * d + 1 - in, 0);
  };
  const int64_t th = total(in_h, kh, sh, dh), tw = total(in_w, kw, sw, dw);
  return {th / 2, th - th / 2, tw / 2, tw - tw / 2};
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& opt) {
  const char* op = "conv2d";
  check_operands(op, x, weight, bias, weight.defined() && weight.dim() == 4 ? weight.size(0) : 0);
  check_positive(op, "stride", opt.stride_h, opt.stride_w);
  check_positive(op, "dilation", opt.dilation_h, opt.dilation_w);
  const Padding2d& pad = opt.padding;
  if (pad.top < 0 || pad.bottom < 0 || pad.left < 0 || pad.right < 0)
    throw std::invalid_argument("conv2d: padding must be non-negative");
  const int64_t groups = opt.groups, out_ch = weight.size(0), kh = weight.size(2), kw = weight.size(3);
  if (groups < 1 || out_ch % groups != 0 || x.size(1) != weight.size(1) * groups)
    throw std::invalid_argument("conv2d: x " + x.shape().str() + " and weight " + weight.shape().str() +
                                " do not match groups=" + std::to_string(groups) +
                                " (need C = weight[1] * groups and O divisible by groups)");
  const int64_t out_h = conv_out_size(x.size(2), pad.top, pad.bottom, kh, opt.stride_h, opt.dilation_h);
  const int64_t out_w = conv_out_size(x.size(3), pad.left, pad.right, kw, opt.stride_w, opt.dilation_w);
  if (out_h < 1 || out_w < 1)
    throw std::invalid_argument("conv2d: the kernel " + weight.shape().str() +
                                " (with dilation) is larger than the padded input " + x.shape().str());
  const kernels::Conv2dParams p{opt.stride_h, opt.stride_w,   pad.top,        pad.bottom, pad.left,
                                pad.right,    opt.dilation_h, opt.dilation_w, groups};

  Tensor out = conv_forward_kernel(x, weight, bias, {x.size(0), out_ch, out_h, out_w}, p);
  if (!any_requires_grad({&x, &weight, &bias})) return out;
  const bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
  return record(OpKind::conv2d, {&x, &weight, &bias}, out,
                [sx = SavedTensor(gw || gb ? x : Tensor()), sw = SavedTensor(gx ? weight : Tensor()),
                 x_shape = x.shape(), w_shape = weight.shape(), p, gx, gw, gb](const Tensor& g) -> Grads {
                  Grads grads(3);
                  if (gx) grads[0] = conv_backward_data_kernel(g, sw.get(), x_shape, p);
                  if (gw || gb) {
                    auto [dw, db] = conv_backward_weights_kernel(sx.get(), g, w_shape, gb, p);
                    if (gw) grads[1] = dw;
                    grads[2] = db;
                  }
                  return grads;
                });
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvTranspose2dOptions& opt) {
  const char* op = "conv_transpose2d";
  const int64_t groups = opt.groups;
  const int64_t out_ch = weight.defined() && weight.dim() == 4 ? weight.size(1) * groups : 0;
  check_operands(op, x, weight, bias, out_ch);
  check_positive(op, "stride", opt.stride_h, opt.stride_w);
  check_positive(op, "dilation", opt.dilation_h, opt.dilation_w);
  const Padding2d pad = opt.padding_sides ? *opt.padding_sides : Padding2d::symmetric(opt.padding_h, opt.padding_w);
  if (pad.top < 0 || pad.bottom < 0 || pad.left < 0 || pad.right < 0)
    throw std::invalid_argument("conv_transpose2d: padding must be non-negative");
  // The output size below is only the adjoint of a convolution's floor division while
  // output_padding < stride (PyTorch also allows < dilation; that case is not supported).
  if (opt.output_padding_h < 0 || opt.output_padding_w < 0 || opt.output_padding_h >= opt.stride_h ||
      opt.output_padding_w >= opt.stride_w)
    throw std::invalid_argument("conv_transpose2d: output_padding (" + std::to_string(opt.output_padding_h) + ", " +
                                std::to_string(opt.output_padding_w) + ") must be >= 0 and smaller than the stride (" +
                                std::to_string(opt.stride_h) + ", " + std::to_string(opt.stride_w) + ")");
  if (groups < 1 || x.size(1) != weight.size(0) || weight.size(0) % groups != 0)
    throw std::invalid_argument("conv_transpose2d: x " + x.shape().str() + " and weight " + weight.shape().str() +
                                " (layout [C_in, C_out/groups, kh, kw]) do not match groups=" + std::to_string(groups));
  const int64_t kh = weight.size(2), kw = weight.size(3);
  const int64_t out_h =
      (x.size(2) - 1) * opt.stride_h - pad.top - pad.bottom + opt.dilation_h * (kh - 1) + opt.output_padding_h + 1;
  const int64_t out_w =
      (x.size(3) - 1) * opt.stride_w - pad.left - pad.right + opt.dilation_w * (kw - 1) + opt.output_padding_w + 1;
  if (out_h < 1 || out_w < 1)
    throw std::invalid_argument("conv_transpose2d: padding leaves an empty output for x " + x.shape().str());
  // The convolution this is the adjoint of: input [N, C_out, out_h, out_w], output x.
  const kernels::Conv2dParams p{opt.stride_h, opt.stride_w,   pad.top,        pad.bottom, pad.left,
                                pad.right,    opt.dilation_h, opt.dilation_w, groups};

  const Shape out_shape{x.size(0), out_ch, out_h, out_w};
  // The bias is added in place here rather than by a broadcast add node: one pass over
  // the output and no second activation-sized tensor; its gradient is g's channel sum.
  // (Its view is made before the kernel runs, so the profiler charges the kernel here.)
  Tensor b = bias.defined() ? dense(bias).view({1, out_ch, 1, 1}).expand(out_shape) : Tensor();
  Tensor out = conv_backward_data_kernel(x, weight, out_shape, p);
  if (b.defined()) backend_of(out).binary(kernels::BinaryOp::add, out.view(), b.view(), out.view(), {});
  if (!any_requires_grad({&x, &weight, &bias})) return out;
  const bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
  return record(OpKind::conv_transpose2d, {&x, &weight, &bias}, out,
                [sx = SavedTensor(gw ? x : Tensor()), sw = SavedTensor(gx ? weight : Tensor()), x_shape = x.shape(),
                 w_shape = weight.shape(), p, gx, gw, gb](const Tensor& g) -> Grads {
                  Grads grads(3);
                  if (gx) grads[0] = conv_forward_kernel(g, sw.get(), Tensor(), x_shape, p);
                  if (gw) grads[1] = conv_backward_weights_kernel(g, sx.get(), w_shape, false, p).first;
                  if (gb) grads[2] = sum(g, {0, 2, 3});
                  return grads;
                });
}

}  // namespace glassbox::ops
