#include "engine/ops/op_utils.h"

#include <algorithm>
#include <stdexcept>

#include "engine/ops/reduce.h"

namespace glassbox::ops {

int normalize_dim(int dim, int rank, const char* op) {
  int r = std::max(rank, 1);
  if (dim < -r || dim >= r)
    throw std::invalid_argument(std::string(op) + ": dim " + std::to_string(dim) + " out of range for a tensor of rank " +
                                std::to_string(rank));
  return dim < 0 ? dim + r : dim;
}

std::vector<int> normalize_dims(const std::vector<int>& dims, int rank, const char* op) {
  std::vector<int> out;
  if (dims.empty()) {
    for (int i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  for (int d : dims) out.push_back(normalize_dim(d, rank, op));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    throw std::invalid_argument(std::string(op) + ": a dim appears twice");
  return out;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  const int n = std::max(a.size(), b.size());
  Shape out = Dims::filled(n, 1);
  for (int i = 0; i < n; ++i) {
    int ia = i - (n - a.size()), ib = i - (n - b.size());
    int64_t sa = ia >= 0 ? a[ia] : 1, sb = ib >= 0 ? b[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1)
      throw std::invalid_argument(std::string(op) + ": shapes " + a.str() + " and " + b.str() + " cannot be broadcast");
    out[i] = sa == 1 ? sb : sa;
  }
  return out;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int lead = grad.dim() - shape.size();
  if (lead < 0) {
    if (grad.numel() == shape.product()) return grad.reshape(shape);
    throw std::logic_error("sum_to: gradient shape " + grad.shape().str() + " has fewer dims than " + shape.str());
  }
  std::vector<int> dims;
  for (int i = 0; i < grad.dim(); ++i) {
    int j = i - lead;
    if (j < 0 || (shape[j] == 1 && grad.shape()[i] != 1)) dims.push_back(i);
  }
  Tensor g = dims.empty() ? grad : ops::sum(grad, dims, true);
  if (!(g.shape() == shape)) {
    if (g.numel() != shape.product())
      throw std::logic_error("sum_to: cannot reduce gradient of shape " + grad.shape().str() + " to " + shape.str());
    g = g.reshape(shape);
  }
  return g;
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  if (!(a.device() == b.device()))
    throw std::invalid_argument(std::string(op) + ": tensors on different devices (" + a.device().str() + " and " +
                                b.device().str() + ")");
}

void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  check_same_device(a, b, op);
  if (a.dtype() != b.dtype())
    throw std::invalid_argument(std::string(op) + ": dtypes differ (" + dtype_name(a.dtype()) + " and " +
                                dtype_name(b.dtype()) + "); convert one with .to(dtype)");
}

void check_floating(const Tensor& t, const char* op) {
  if (!is_floating(t.dtype()))
    throw std::invalid_argument(std::string(op) + ": needs a floating tensor, got " + dtype_name(t.dtype()));
}

Tensor empty_like_shape(const Tensor& t, const Shape& shape) { return Tensor::empty(shape, {t.dtype(), t.device()}); }
Tensor empty_like_shape(const Tensor& t, const Shape& shape, DType dtype) {
  return Tensor::empty(shape, {dtype, t.device()});
}

Shape reduced_shape(const Shape& shape, const std::vector<int>& dims) {
  Shape s = shape;
  for (int d : dims) s[d] = 1;
  return s;
}

}  // namespace glassbox::ops
