// Reductions, each with its gradient.
#include "engine/ops/reduce.h"

#include "engine/autograd/node.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_utils.h"

namespace glassbox::ops {

using Grads = std::vector<Tensor>;

namespace {

/// Runs a reduce kernel; returns the keepdim-shaped result.
Tensor reduce_kernel(kernels::ReduceOp op, const Tensor& x, const std::vector<int>& dims) {
  Tensor out = empty_like_shape(x, reduced_shape(x.shape(), dims));
  backend_of(x).reduce(op, x.view(), out.view());
  return out;
}

/// Drops the reduced dims unless keepdim.
Tensor finish(const Tensor& kept, const Shape& in_shape, const std::vector<int>& dims, bool keepdim) {
  if (keepdim) return kept;
  Shape s;
  for (int i = 0, j = 0; i < in_shape.size(); ++i) {
    if (j < int(dims.size()) && dims[size_t(j)] == i) {
      ++j;
      continue;
    }
    s.push_back(in_shape[i]);
  }
  return kept.view(s);
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int>& dims_in, bool keepdim) {
  std::vector<int> dims = normalize_dims(dims_in, x.dim(), "sum");
  Tensor out = reduce_kernel(kernels::ReduceOp::sum, x, dims);
  Shape in_shape = x.shape();
  out = record(OpKind::sum, {&x}, out, [in_shape](const Tensor& g) -> Grads { return {g.expand(in_shape)}; });
  return finish(out, in_shape, dims, keepdim);
}

Tensor mean(const Tensor& x, const std::vector<int>& dims_in, bool keepdim) {
  check_floating(x, "mean");
  std::vector<int> dims = normalize_dims(dims_in, x.dim(), "mean");
  int64_t count = 1;
  for (int d : dims) count *= x.shape()[d];
  Tensor s = reduce_kernel(kernels::ReduceOp::sum, x, dims);
  backend_of(s).unary(kernels::UnaryOp::mul_scalar, s.view(), s.view(), {1.0 / double(count), 0});
  Shape in_shape = x.shape();
  s = record(OpKind::mean, {&x}, s, [in_shape, count](const Tensor& g) -> Grads {
    return {mul(g, 1.0 / double(count)).expand(in_shape)};
  });
  return finish(s, in_shape, dims, keepdim);
}

}  // namespace glassbox::ops
