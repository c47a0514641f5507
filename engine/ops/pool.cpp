// Max and average pooling, and nearest/bilinear resampling, on NCHW tensors. The
// kernels read strided views directly, so no contiguous copies are made here.
#include <stdexcept>
#include <string>

#include "engine/autograd/node.h"
#include "engine/ops/conv.h"
#include "engine/ops/op_utils.h"

namespace glassbox::ops {

using Grads = std::vector<Tensor>;

void check_pool_window(const std::string& who, const Pool2dOptions& opt) {
  // As PyTorch: padding beyond half the window would create windows of padding only.
  if (opt.kernel_h < 1 || opt.kernel_w < 1 || opt.stride_h < 1 || opt.stride_w < 1 || opt.padding_h < 0 ||
      opt.padding_w < 0 || 2 * opt.padding_h > opt.kernel_h || 2 * opt.padding_w > opt.kernel_w)
    throw std::invalid_argument(who + ": kernel " + std::to_string(opt.kernel_h) + "x" + std::to_string(opt.kernel_w) +
                                " and stride " + std::to_string(opt.stride_h) + "x" + std::to_string(opt.stride_w) +
                                " must be >= 1, and padding " + std::to_string(opt.padding_h) + "x" +
                                std::to_string(opt.padding_w) + " >= 0 and at most half the kernel");
}

namespace {

/// Checks x and the window; returns the kernel parameters and fills the output size.
kernels::Conv2dParams pool_params(const char* op, const Tensor& x, const Pool2dOptions& opt, Shape& out_shape) {
  if (!x.defined() || x.dim() != 4)
    throw std::invalid_argument(std::string(op) + ": expected x [N, C, H, W], got " +
                                (x.defined() ? x.shape().str() : std::string("an undefined tensor")));
  check_floating(x, op);
  check_pool_window(op, opt);
  const int64_t out_h = (x.size(2) + 2 * opt.padding_h - opt.kernel_h) / opt.stride_h + 1;
  const int64_t out_w = (x.size(3) + 2 * opt.padding_w - opt.kernel_w) / opt.stride_w + 1;
  if (x.size(2) + 2 * opt.padding_h < opt.kernel_h || x.size(3) + 2 * opt.padding_w < opt.kernel_w)
    throw std::invalid_argument(std::string(op) + ": the kernel (" + std::to_string(opt.kernel_h) + ", " +
                                std::to_string(opt.kernel_w) + ") is larger than the padded input " + x.shape().str());
  out_shape = {x.size(0), x.size(1), out_h, out_w};
  return {opt.stride_h, opt.stride_w, opt.padding_h, opt.padding_h, opt.padding_w, opt.padding_w, 1, 1, 1};
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& opt) {
  Shape out_shape;
  const kernels::Conv2dParams p = pool_params("max_pool2d", x, opt, out_shape);
  Tensor out = empty_like_shape(x, out_shape), indices = empty_like_shape(x, out_shape, DType::i64);
  backend_of(x).max_pool2d(x.view(), out.view(), indices.view(), p, opt.kernel_h, opt.kernel_w);
  // The indices are private to this node (nothing else can write them), so no version check.
  return record(OpKind::max_pool2d, {&x}, out, [indices, x_shape = x.shape()](const Tensor& g) -> Grads {
    Tensor gx = empty_like_shape(g, x_shape);
    backend_of(g).max_pool2d_backward(g.view(), indices.view(), gx.view());
    return {gx};
  });
}

Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& opt) {
  Shape out_shape;
  const kernels::Conv2dParams p = pool_params("avg_pool2d", x, opt, out_shape);
  Tensor out = empty_like_shape(x, out_shape);
  backend_of(x).avg_pool2d(x.view(), out.view(), p, opt.kernel_h, opt.kernel_w, opt.count_include_pad);
  return record(OpKind::avg_pool2d, {&x}, out, [p, opt, x_shape = x.shape()](const Tensor& g) -> Grads {
    Tensor gx = empty_like_shape(g, x_shape);
    backend_of(g).avg_pool2d_backward(g.view(), gx.view(), p, opt.kernel_h, opt.kernel_w, opt.count_include_pad);
    return {gx};
  });
}

Tensor upsample2d(const Tensor& x, int64_t out_h, int64_t out_w, UpsampleMode mode, bool align_corners) {
  if (!x.defined() || x.dim() != 4)
    throw std::invalid_argument("upsample2d: expected x [N, C, H, W], got " +
                                (x.defined() ? x.shape().str() : std::string("an undefined tensor")));
  check_floating(x, "upsample2d");
  if (out_h < 1 || out_w < 1)
    throw std::invalid_argument("upsample2d: output size (" + std::to_string(out_h) + ", " + std::to_string(out_w) +
                                ") must be >= 1");
  const bool bilinear = mode == UpsampleMode::bilinear;
  if (!bilinear && align_corners)
    throw std::invalid_argument("upsample2d: align_corners only applies to bilinear mode (as in PyTorch)");
  Tensor out = empty_like_shape(x, {x.size(0), x.size(1), out_h, out_w});
  backend_of(x).upsample2d(x.view(), out.view(), bilinear, align_corners);
  return record(OpKind::upsample2d, {&x}, out,
                [bilinear, align_corners, x_shape = x.shape()](const Tensor& g) -> Grads {
                  Tensor gx = empty_like_shape(g, x_shape);
                  backend_of(g).upsample2d_backward(g.view(), gx.view(), bilinear, align_corners);
                  return {gx};
                });
}

}  // namespace glassbox::ops
