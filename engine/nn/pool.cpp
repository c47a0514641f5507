#include "engine/nn/pool.h"

#include <stdexcept>
#include <string>

namespace glassbox::nn {

namespace {

// The checks of the constructor's arguments; the op checks the input against them.
const ops::Pool2dOptions& checked(const char* layer, const ops::Pool2dOptions& o) {
  if (o.kernel_h < 1 || o.kernel_w < 1 || o.stride_h < 1 || o.stride_w < 1 || o.padding_h < 0 || o.padding_w < 0)
    throw std::invalid_argument(std::string(layer) + ": kernel " + std::to_string(o.kernel_h) + "x" +
                                std::to_string(o.kernel_w) + ", stride " + std::to_string(o.stride_h) + "x" +
                                std::to_string(o.stride_w) + " must be positive and padding " +
                                std::to_string(o.padding_h) + "x" + std::to_string(o.padding_w) + " not negative");
  return o;
}

void check_input(const char* layer, const Tensor& x) {
  if (x.dim() != 4)
    throw std::invalid_argument(std::string(layer) + ": expected input [N, C, H, W], got " + x.shape().str());
}

}  // namespace

ops::Pool2dOptions square_pool(int64_t kernel, int64_t stride, int64_t padding) {
  const int64_t s = stride == 0 ? kernel : stride;
  ops::Pool2dOptions o;
  o.kernel_h = o.kernel_w = kernel;
  o.stride_h = o.stride_w = s;
  o.padding_h = o.padding_w = padding;
  return o;
}

MaxPool2d::MaxPool2d(const ops::Pool2dOptions& o) : options(checked("MaxPool2d", o)) {}

Tensor MaxPool2d::forward(const Tensor& x) {
  check_input("MaxPool2d", x);
  return ops::max_pool2d(x, options);
}

AvgPool2d::AvgPool2d(const ops::Pool2dOptions& o) : options(checked("AvgPool2d", o)) {}

Tensor AvgPool2d::forward(const Tensor& x) {
  check_input("AvgPool2d", x);
  return ops::avg_pool2d(x, options);
}

}  // namespace glassbox::nn
