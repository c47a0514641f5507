#include "engine/nn/pool.h"

#include <stdexcept>
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
  ops::check_pool_window(name_, o);  // at construction, as well as on each input in the op
}

Tensor Pool2d::forward(const Tensor& x) {
  if (x.dim() != 4) throw std::invalid_argument(name_ + ": expected input [N, C, H, W], got " + x.shape().str());
  return op_(x, options);
}

}  // namespace glassbox::nn
