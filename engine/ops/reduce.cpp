// Reductions, each with its gradient.
#include "engine/ops/reduce.h"

#include <algorithm>
#include <stdexcept>
#include <string>

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

/// A 0-d scalar of t's dtype and device.
Tensor scalar_like(const Tensor& t, double value) { return Tensor::scalar(value, {t.dtype(), t.device()}); }

void check_nonempty(const Tensor& x, const char* op) {
  if (x.numel() == 0)
    throw std::invalid_argument(std::string(op) + ": cannot reduce an empty tensor of shape " + x.shape().str());
}

/// True where position i along `dim` equals idx (idx has size 1 on dim): the one-hot
/// mask of the chosen element of each line, broadcast to `shape`.
Tensor line_mask(const Tensor& idx, const Shape& shape, int dim) {
  Shape along = Dims::filled(shape.size(), 1);
  along[dim] = shape[dim];
  Tensor positions = Tensor::arange(shape[dim], {DType::i64, idx.device()}).view(along);
  return eq(positions, idx);
}

/// max/min along one dim with the winner's index; the gradient goes to that index,
/// so ties send it to the first maximal element (as the index PyTorch returns).
ValuesIndices extreme_along(const Tensor& x, int dim_in, bool keepdim, bool is_max) {
  const char* name = is_max ? "max" : "min";
  check_nonempty(x, name);
  const int dim = normalize_dim(dim_in, x.dim(), name);
  if (x.dim() == 0) return extreme_along(x.reshape({1}), 0, false, is_max);
  Tensor values = reduce_kernel(is_max ? kernels::ReduceOp::max : kernels::ReduceOp::min, x, {dim});
  Tensor indices = empty_like_shape(x, values.shape(), DType::i64);
  backend_of(x).arg_reduce(is_max, x.view(), dim, indices.view());
  if (any_requires_grad({&x})) {
    values = record(is_max ? OpKind::max : OpKind::min, {&x}, values,
                    [si = SavedTensor(indices), in_shape = x.shape(), dim](const Tensor& g) -> Grads {
                      return {where(line_mask(si.get(), in_shape, dim), g, scalar_like(g, 0))};
                    });
  }
  return {finish(values, x.shape(), {dim}, keepdim), finish(indices, x.shape(), {dim}, keepdim)};
}

/// amax/amin over any set of dims: the reduced dims are moved last and merged into
/// one, so the single-dim max (and its first-winner gradient) serves every case.
Tensor extreme_over(const Tensor& x, const std::vector<int>& dims_in, bool keepdim, bool is_max) {
  const char* name = is_max ? "amax" : "amin";
  check_nonempty(x, name);
  std::vector<int> dims = normalize_dims(dims_in, x.dim(), name);
  if (x.dim() == 0) return extreme_along(x, 0, false, is_max).values;
  if (dims.size() == 1) return extreme_along(x, dims[0], keepdim, is_max).values;
  std::vector<int> perm;
  Shape merged;
  for (int d = 0; d < x.dim(); ++d) {
    if (std::find(dims.begin(), dims.end(), d) != dims.end()) continue;
    perm.push_back(d);
    merged.push_back(x.shape()[d]);
  }
  int64_t reduced = 1;
  for (int d : dims) {
    perm.push_back(d);
    reduced *= x.shape()[d];
  }
  merged.push_back(reduced);
  Tensor v = extreme_along(x.permute(perm).reshape(merged), -1, false, is_max).values;
  return finish(v.reshape(reduced_shape(x.shape(), dims)), x.shape(), dims, keepdim);
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

Tensor prod(const Tensor& x, const std::vector<int>& dims_in, bool keepdim) {
  std::vector<int> dims = normalize_dims(dims_in, x.dim(), "prod");
  Tensor out = reduce_kernel(kernels::ReduceOp::prod, x, dims);
  if (any_requires_grad({&x})) {
    out = record(OpKind::prod, {&x}, out,
                 [sx = SavedTensor(x), so = SavedTensor(out.detach()), dims](const Tensor& g) -> Grads {
                   // d prod / d x_i is the product of the other entries: prod / x_i when the
                   // slice has no zero; at a lone zero, the product of the non-zeros; and 0
                   // everywhere when the slice holds two or more zeros.
                   const Tensor& x = sx.get();
                   Tensor zero = eq(x, 0.0);
                   Tensor nonzero = where(zero, scalar_like(x, 1), x);
                   Tensor zero_count = sum(zero.to(x.dtype()), dims, true);
                   Tensor at_zero = where(eq(zero_count, 1.0), prod(nonzero, dims, true), scalar_like(x, 0));
                   return {mul(g, where(zero, at_zero, div(so.get(), nonzero)))};
                 });
  }
  return finish(out, x.shape(), dims, keepdim);
}

Tensor var(const Tensor& x, const std::vector<int>& dims_in, int64_t correction, bool keepdim) {
  check_floating(x, "var");
  std::vector<int> dims = normalize_dims(dims_in, x.dim(), "var");
  if (correction < 0) throw std::invalid_argument("var: correction must be >= 0, got " + std::to_string(correction));
  int64_t count = 1;
  for (int d : dims) count *= x.shape()[d];
  // sum((x - mean)^2) / (N - correction); the two-pass form avoids the cancellation
  // of E[x^2] - E[x]^2. N <= correction divides by zero (inf or nan, as PyTorch).
  Tensor centered = sub(x, mean(x, dims, true));
  Tensor ss = sum(square(centered), dims, keepdim);
  return ss / double(std::max<int64_t>(count - correction, 0));
}

Tensor amax(const Tensor& x, const std::vector<int>& dims, bool keepdim) { return extreme_over(x, dims, keepdim, true); }
Tensor amin(const Tensor& x, const std::vector<int>& dims, bool keepdim) { return extreme_over(x, dims, keepdim, false); }

ValuesIndices max(const Tensor& x, int dim, bool keepdim) { return extreme_along(x, dim, keepdim, true); }
ValuesIndices min(const Tensor& x, int dim, bool keepdim) { return extreme_along(x, dim, keepdim, false); }

Tensor argmax(const Tensor& x, int dim, bool keepdim) { return extreme_along(x.detach(), dim, keepdim, true).indices; }
Tensor argmin(const Tensor& x, int dim, bool keepdim) { return extreme_along(x.detach(), dim, keepdim, false).indices; }

Tensor logsumexp(const Tensor& x, const std::vector<int>& dims_in, bool keepdim) {
  check_floating(x, "logsumexp");
  std::vector<int> dims = normalize_dims(dims_in, x.dim(), "logsumexp");
  Tensor out = reduce_kernel(kernels::ReduceOp::logsumexp, x, dims);
  if (any_requires_grad({&x})) {
    // d lse / d x_i = exp(x_i - lse) = softmax(x)_i.
    out = record(OpKind::logsumexp, {&x}, out, [sx = SavedTensor(x), so = SavedTensor(out.detach())](const Tensor& g) -> Grads {
      return {mul(g, exp(sub(sx.get(), so.get())))};
    });
  }
  return finish(out, x.shape(), dims, keepdim);
}

Tensor norm(const Tensor& x, const std::vector<int>& dims_in, bool keepdim) {
  check_floating(x, "norm");
  std::vector<int> dims = normalize_dims(dims_in, x.dim(), "norm");
  Tensor out = reduce_kernel(kernels::ReduceOp::sum_sq, x, dims);
  backend_of(out).unary(kernels::UnaryOp::sqrt, out.view(), out.view(), {});
  if (any_requires_grad({&x})) {
    // d |x| / d x = x / |x|, taken as 0 at the origin where it is undefined.
    out = record(OpKind::norm, {&x}, out, [sx = SavedTensor(x), so = SavedTensor(out.detach())](const Tensor& g) -> Grads {
      const Tensor& n = so.get();
      return {mul(g, where(eq(n, 0.0), scalar_like(n, 0), div(sx.get(), n)))};
    });
  }
  return finish(out, x.shape(), dims, keepdim);
}

ValuesIndices topk(const Tensor& x, int64_t k, int dim_in, bool largest) {
  const int dim = normalize_dim(dim_in, x.dim(), "topk");
  if (x.dim() == 0) {
    ValuesIndices r = topk(x.reshape({1}), k, 0, largest);
    return {r.values.reshape({}), r.indices.reshape({})};
  }
  const int64_t n = x.shape()[dim];
  if (k < 0 || k > n)
    throw std::invalid_argument("topk: k = " + std::to_string(k) + " is out of range for dim " + std::to_string(dim) +
                                " of size " + std::to_string(n) + " (shape " + x.shape().str() + ")");
  Shape out_shape = x.shape();
  out_shape[dim] = k;
  Tensor values = empty_like_shape(x, out_shape);
  Tensor indices = empty_like_shape(x, out_shape, DType::i64);
  backend_of(x).topk(x.view(), k, dim, largest, values.view(), indices.view());
  if (any_requires_grad({&x})) {
    values = record(OpKind::topk, {&x}, values,
                    [si = SavedTensor(indices), in_shape = x.shape(), dim](const Tensor& g) -> Grads {
                      // Route each chosen value's gradient to its source: a [.., k, n, ..] one-hot
                      // of the indices, summed over k (indices within a line are distinct).
                      Shape onehot_shape = si.get().shape();
                      onehot_shape.insert(dim + 1, in_shape[dim]);
                      Tensor hit = line_mask(si.get().unsqueeze(dim + 1), onehot_shape, dim + 1);
                      return {sum(where(hit, g.unsqueeze(dim + 1), scalar_like(g, 0)), {dim})};
                    });
  }
  return {values, indices};
}

Tensor cumsum(const Tensor& x, int dim_in) {
  const int dim = normalize_dim(dim_in, x.dim(), "cumsum");
  if (x.dim() == 0) return cumsum(x.reshape({1}), 0).reshape({});
  // Integer and bool sums count in i64 (as PyTorch) so they cannot overflow a narrow type.
  if (!is_floating(x.dtype()) && x.dtype() != DType::i64) return cumsum(x.to(DType::i64), dim);
  Tensor out = empty_like_shape(x, x.shape());
  backend_of(x).cumsum(x.view(), dim, out.view());
  return record(OpKind::cumsum, {&x}, out, [dim](const Tensor& g) -> Grads {
    // d out_j / d x_i = [i <= j], so grad_i = sum_{j >= i} g_j = total - cumsum(g)_i + g_i.
    return {add(sub(sum(g, {dim}, true), cumsum(g, dim)), g)};
  });
}

}  // namespace glassbox::ops
