#include "engine/nn/conv.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/nn/init.h"
#include "engine/ops/conv.h"

namespace glassbox::nn {

namespace {

void check_geometry(const char* layer, int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                    int64_t dilation, int64_t groups) {
  auto fail = [&](const std::string& what) { throw std::invalid_argument(std::string(layer) + ": " + what); };
  if (in < 1 || out < 1 || kernel < 1) fail("channels and kernel_size must be positive");
  if (stride < 1 || dilation < 1 || padding < 0) fail("stride and dilation must be >= 1 and padding >= 0");
  if (groups < 1 || in % groups != 0 || out % groups != 0)
    fail("groups=" + std::to_string(groups) + " must divide in_channels=" + std::to_string(in) +
         " and out_channels=" + std::to_string(out));
}

void check_input(const char* layer, const Tensor& x, int64_t channels) {
  if (x.dim() != 4 || x.size(1) != channels)
    throw std::invalid_argument(std::string(layer) + ": expected input [N, " + std::to_string(channels) +
                                ", H, W], got " + x.shape().str());
}

}  // namespace

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, Conv2dOptions opt, Generator* gen)
    : in_channels(in), out_channels(out), kernel_size(k), options(opt) {
  check_geometry("Conv2d", in, out, k, opt.stride, opt.padding, opt.dilation, opt.groups);
  weight = register_parameter("weight", Tensor::empty({out, in / opt.groups, k, k}));
  if (opt.bias) bias = register_parameter("bias", Tensor::empty({out}));
  init::layer_default_(weight, bias, gen);
}

Tensor Conv2d::forward(const Tensor& x) {
  check_input("Conv2d", x, in_channels);
  ops::Conv2dOptions o;
  o.stride_h = o.stride_w = options.stride;
  o.dilation_h = o.dilation_w = options.dilation;
  o.groups = options.groups;
  o.padding = options.same_padding
                  ? ops::Padding2d::same(x.size(2), x.size(3), kernel_size, kernel_size, options.stride,
                                         options.stride, options.dilation, options.dilation)
                  : ops::Padding2d::symmetric(options.padding, options.padding);
  return ops::conv2d(x, weight, bias, o);
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t k, ConvTranspose2dOptions opt, Generator* gen)
    : in_channels(in), out_channels(out), kernel_size(k), options(opt) {
  check_geometry("ConvTranspose2d", in, out, k, opt.stride, opt.padding, opt.dilation, opt.groups);
  if (opt.output_padding < 0 || opt.output_padding >= std::max(opt.stride, opt.dilation))
    throw std::invalid_argument("ConvTranspose2d: output_padding=" + std::to_string(opt.output_padding) +
                                " must be non-negative and smaller than stride or dilation");
  // PyTorch's transposed layout, so fan_in (dim 1 x kernel) is out_channels / groups * k * k.
  weight = register_parameter("weight", Tensor::empty({in, out / opt.groups, k, k}));
  if (opt.bias) bias = register_parameter("bias", Tensor::empty({out}));
  init::layer_default_(weight, bias, gen);
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  check_input("ConvTranspose2d", x, in_channels);
  ops::ConvTranspose2dOptions o;
  o.stride_h = o.stride_w = options.stride;
  o.padding_h = o.padding_w = options.padding;
  o.output_padding_h = o.output_padding_w = options.output_padding;
  o.dilation_h = o.dilation_w = options.dilation;
  o.groups = options.groups;
  return ops::conv_transpose2d(x, weight, bias, o);
}

}  // namespace glassbox::nn
