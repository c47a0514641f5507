#include "engine/nn/pool.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace glassbox::nn {

ops::Pool2dOptions square_pool(int64_t kernel, int64_t stride, int64_t padding) {
  ops::Pool2dOptions o;
  o.kernel_h = o.kernel_w = kernel;
  o.stride_h = o.stride_w = stride == 0 ? kernel : stride;
  o.padding_h = o.padding_w = padding;
  return o;
}

Pool2d::Pool2d(std::string name, PoolOp op, const ops::Pool2dOptions& o) : options(o), name_(std::move(name)), op_(op) {
  // The op checks each input against these; here only what no input could make right.
  if (o.kernel_h < 1 || o.kernel_w < 1 || o.stride_h < 1 || o.stride_w < 1 || o.padding_h < 0 || o.padding_w < 0)
    throw std::invalid_argument(name_ + ": kernel " + std::to_string(o.kernel_h) + "x" + std::to_string(o.kernel_w) +
                                ", stride " + std::to_string(o.stride_h) + "x" + std::to_string(o.stride_w) +
                                " must be positive and padding " + std::to_string(o.padding_h) + "x" +
                                std::to_string(o.padding_w) + " not negative");
}

Tensor Pool2d::forward(const Tensor& x) {
  if (x.dim() != 4) throw std::invalid_argument(name_ + ": expected input [N, C, H, W], got " + x.shape().str());
  return op_(x, options);
}

}  // namespace glassbox::nn
