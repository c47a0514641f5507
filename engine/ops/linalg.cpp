// Linear algebra: matrix products, distances, triangular solves and Cholesky, each
// forward beside its gradient. Batched ops broadcast their leading dims.
#include "engine/ops/linalg.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_utils.h"
#include "engine/ops/reduce.h"

namespace glassbox {

Tensor Tensor::matmul(const Tensor& other) const { return ops::matmul(*this, other); }

namespace ops {

using Grads = std::vector<Tensor>;

namespace {

Shape batch_of(const Shape& s) {
  Shape b;
  for (int i = 0; i + 2 < s.size(); ++i) b.push_back(s[i]);
  return b;
}

Shape with_matrix(Shape batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

void check_matrix_operands(const Tensor& a, const Tensor& b, const char* op) {
  check_same_dtype(a, b, op);
  check_floating(a, op);
  if (a.dim() < 2 || b.dim() < 2)
    throw std::invalid_argument(std::string(op) + ": needs operands with at least 2 dims, got " + a.shape().str() +
                                " and " + b.shape().str());
}

/// op(a) @ op(b) for rank >= 2 operands whose batch dims broadcast; not recorded.
/// `out_batch` is the broadcast batch shape.
Tensor gemm(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, const Shape& out_batch) {
  const int64_t m = trans_a ? a.size(-1) : a.size(-2);
  const int64_t n = trans_b ? b.size(-2) : b.size(-1);
  Tensor ea = a.detach().expand(with_matrix(out_batch, a.size(-2), a.size(-1)));
  Tensor eb = b.detach().expand(with_matrix(out_batch, b.size(-2), b.size(-1)));
  Tensor out = empty_like_shape(a, with_matrix(out_batch, m, n));
  backend_of(a).matmul(ea.view(), eb.view(), out.view(), trans_a, trans_b, 1.0, 0.0);
  return out;
}

/// Whether the last two dims of t are laid out column-major (t is x.transpose(-1, -2) of a
/// row-major x), with more than one row and column so the layout is not ambiguous.
bool is_transposed_layout(const Tensor& t) {
  const Strides& st = t.strides();
  const int r = t.dim();
  return t.size(-2) > 1 && t.size(-1) > 1 && st[r - 2] == 1 && st[r - 1] == t.size(-2);
}

Shape broadcast_batch(const Tensor& a, const Tensor& b, const char* op) {
  return broadcast_shapes(batch_of(a.shape()), batch_of(b.shape()), op);
}

/// (col - row) for an [rows, cols] grid, in t's dtype: the diagonal offset of each element.
Tensor diagonal_offsets(int64_t rows, int64_t cols, const Tensor& t) {
  TensorOptions opt{t.dtype(), t.device()};
  return sub(Tensor::arange(cols, opt).unsqueeze(0), Tensor::arange(rows, opt).unsqueeze(1));
}

Tensor keep_where(const Tensor& mask, const Tensor& x) {
  return where(mask, x, Tensor::zeros({}, {x.dtype(), x.device()}));
}

/// The gradient of a matmul operand that was broadcast over some batch dims: instead of
/// one small GEMM per broadcast batch element followed by a sum, those dims join the
/// contraction, so it is one GEMM per kept batch element (a single GEMM when the operand
/// is a plain matrix). For dA (left = true): dA = sum over broadcast dims of g @ other^T,
/// with g [batch.., M, N] and other [batch.., K, N]; for dB (left = false): dB = sum of
/// other^T @ g with other [batch.., M, K]. Returns an undefined tensor when the operand
/// is not broadcast (the caller then uses the batched GEMM).
Tensor broadcast_operand_grad(const Shape& operand_shape, const Tensor& g, const Tensor& other, const Shape& batch,
                              bool left) {
  const int rank = batch.size();
  const Shape own = batch_of(operand_shape);
  std::vector<int> kept, folded;
  for (int i = 0; i < rank; ++i) {
    const int j = i - (rank - own.size());
    const int64_t size = j >= 0 ? own[j] : 1;
    (size == 1 && batch[i] != 1 ? folded : kept).push_back(i);
  }
  if (folded.empty()) return Tensor();
  Shape kept_batch;
  int64_t folded_numel = 1;
  for (int i : kept) kept_batch.push_back(batch[i]);
  for (int i : folded) folded_numel *= batch[i];
  const Tensor ge = g.detach();
  const Tensor oe = other.detach().expand(with_matrix(batch, other.size(-2), other.size(-1)));
  // dims of a [batch.., X, Y] tensor with the folded batch dims moved next to `fold_next_to`
  // (rank or rank + 1: before the rows or before the columns).
  auto order = [&](int fold_before) {
    std::vector<int> dims(kept.begin(), kept.end());
    for (int d = rank; d < rank + 2; ++d) {
      if (d == fold_before) dims.insert(dims.end(), folded.begin(), folded.end());
      dims.push_back(d);
    }
    return dims;
  };
  Tensor grad;
  if (left) {
    // dA[m, k] = sum_{f, n} g[f, m, n] other[f, k, n]: fold f into the columns.
    const int64_t m = g.size(-2), n = g.size(-1), k = other.size(-2);
    Tensor g2 = ge.permute(order(rank + 1)).contiguous().reshape(with_matrix(kept_batch, m, folded_numel * n));
    Tensor o2 = oe.permute(order(rank + 1)).contiguous().reshape(with_matrix(kept_batch, k, folded_numel * n));
    grad = gemm(g2, o2, false, true, kept_batch);
  } else {
    // dB[k, n] = sum_{f, m} other[f, m, k] g[f, m, n]: fold f into the rows.
    const int64_t m = g.size(-2), n = g.size(-1), k = other.size(-1);
    Tensor o2 = oe.permute(order(rank)).contiguous().reshape(with_matrix(kept_batch, folded_numel * m, k));
    Tensor g2 = ge.permute(order(rank)).contiguous().reshape(with_matrix(kept_batch, folded_numel * m, n));
    grad = gemm(o2, g2, true, false, kept_batch);
  }
  return grad.reshape(operand_shape);
}

/// Matrix product of rank >= 2 operands with matching inner sizes (batch dims
/// broadcast), one recorded node.
Tensor matmul_batched(const Tensor& a, const Tensor& b) {
  Shape batch = broadcast_batch(a, b, "matmul");
  Tensor out = gemm(a, b, false, false, batch);
  if (!any_requires_grad({&a, &b})) return out;
  bool ga = a.requires_grad(), gb = b.requires_grad();
  // An operand that is the transpose of a row-major matrix (x.transpose(-1, -2)) gets its
  // gradient in the same layout, computed as the transpose of a row-major GEMM result, as
  // PyTorch's mm backward does: the transpose's own backward then hands a contiguous
  // gradient on, which later reshapes need not copy.
  const bool a_transposed = is_transposed_layout(a), b_transposed = is_transposed_layout(b);
  // C = A B: dA = dC B^T, dB = A^T dC, summed over the batch dims an operand was broadcast
  // along (folded into the GEMM when there are any, else by the engine).
  return record(OpKind::matmul, {&a, &b}, out,
                [sa = SavedTensor(gb ? a : Tensor()), sb = SavedTensor(ga ? b : Tensor()), ga, gb, batch,
                 a_shape = a.shape(), b_shape = b.shape(), a_transposed, b_transposed](const Tensor& g) -> Grads {
                  Tensor da, db;
                  if (ga) {
                    da = broadcast_operand_grad(a_shape, g, sb.get(), batch, true);
                    if (!da.defined())
                      da = a_transposed ? gemm(sb.get(), g, false, true, batch).transpose(-1, -2)  // (B dC^T)^T
                                        : gemm(g, sb.get(), false, true, batch);
                  }
                  if (gb) {
                    db = broadcast_operand_grad(b_shape, g, sa.get(), batch, false);
                    if (!db.defined())
                      db = b_transposed ? gemm(g, sa.get(), true, false, batch).transpose(-1, -2)  // (dC^T A)^T
                                        : gemm(sa.get(), g, true, false, batch);
                  }
                  return {da, db};
                });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_dtype(a, b, "matmul");
  check_floating(a, "matmul");
  if (a.dim() == 0 || b.dim() == 0)
    throw std::invalid_argument("matmul: operands must have at least 1 dim, got " + a.shape().str() + " and " +
                                b.shape().str());
  // torch.matmul: a 1-d operand becomes a matrix (row for a, column for b) and the
  // added dim is removed from the result.
  if (a.dim() == 1 || b.dim() == 1) {
    Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
    Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
    Tensor out = matmul(a2, b2);
    if (b.dim() == 1) out = out.squeeze(-1);
    if (a.dim() == 1) out = out.squeeze(b.dim() == 1 ? -1 : -2);
    return out;
  }
  if (a.size(-1) != b.size(-2))
    throw std::invalid_argument("matmul: inner sizes differ: " + a.shape().str() + " @ " + b.shape().str());
  // A batch of matrices times one matrix is one tall GEMM: [B.., M, K] -> [B..*M, K].
  if (b.dim() == 2 && a.dim() > 2 && a.size(-1) > 0) {
    Shape out_shape = a.shape();
    out_shape[out_shape.size() - 1] = b.size(-1);
    return matmul_batched(a.reshape({-1, a.size(-1)}), b).view(out_shape);
  }
  return matmul_batched(a, b);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  if (a.dim() != 1 || b.dim() != 1)
    throw std::invalid_argument("outer: needs two vectors, got " + a.shape().str() + " and " + b.shape().str());
  return mul(a.unsqueeze(1), b.unsqueeze(0));
}

Tensor pairwise_sq_distance(const Tensor& x, const Tensor& y) {
  check_matrix_operands(x, y, "pairwise_sq_distance");
  if (x.size(-1) != y.size(-1))
    throw std::invalid_argument("pairwise_sq_distance: feature sizes differ: " + x.shape().str() + " and " +
                                y.shape().str());
  Shape batch = broadcast_batch(x, y, "pairwise_sq_distance");
  const int64_t n = x.size(-2), m = y.size(-2);
  Tensor out = empty_like_shape(x, with_matrix(batch, n, m));
  {
    // ||x||^2 + ||y||^2 written first, then the GEMM accumulates -2 x y^T onto it (beta = 1).
    NoGradGuard no_grad;
    Tensor xx = sum(square(x), {-1}, true);
    Tensor yy = sum(square(y), {-1}, true).mT();
    Tensor ex = xx.expand(out.shape()), ey = yy.expand(out.shape());
    kernels::Backend& be = backend_of(x);
    be.binary(kernels::BinaryOp::add, ex.view(), ey.view(), out.view(), {});
    Tensor bx = x.detach().expand(with_matrix(batch, n, x.size(-1)));
    Tensor by = y.detach().expand(with_matrix(batch, m, y.size(-1)));
    be.matmul(bx.view(), by.view(), out.view(), false, true, -2.0, 1.0);
    // Rounding can make the distance of near-equal points slightly negative.
    be.unary(kernels::UnaryOp::clamp, out.view(), out.view(), {0.0, HUGE_VAL});
  }
  if (!any_requires_grad({&x, &y})) return out;
  // d = max(r, 0) with r_ij = ||x_i - y_j||^2: where r > 0, dd/dx_i = 2 (x_i - y_j) and
  // dd/dy_j = 2 (y_j - x_i); where the clamp is active the gradient is 0. With G the
  // masked output gradient: dX = 2 (rowsum(G) * X - G Y), dY = 2 (colsum(G) * Y - G^T X).
  return record(OpKind::pairwise_sq_distance, {&x, &y}, out,
                [sx = SavedTensor(x), sy = SavedTensor(y), so = SavedTensor(out.detach()),
                 batch](const Tensor& g) -> Grads {
                  const Tensor& xs = sx.get();
                  const Tensor& ys = sy.get();
                  Tensor gm = keep_where(gt(so.get(), 0.0), g);
                  Tensor gx = mul(sub(mul(sum(gm, {-1}, true), xs), gemm(gm, ys, false, false, batch)), 2.0);
                  Tensor gy = mul(sub(mul(sum(gm, {-2}, true).mT(), ys), gemm(gm, xs, true, false, batch)), 2.0);
                  return {gx, gy};
                });
}

Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower, bool transpose_a, bool unit_diagonal) {
  check_matrix_operands(a, b, "triangular_solve");
  if (a.size(-1) != a.size(-2) || b.size(-2) != a.size(-1))
    throw std::invalid_argument("triangular_solve: needs A [.., n, n] and B [.., n, m], got " + a.shape().str() +
                                " and " + b.shape().str());
  Shape batch = broadcast_batch(a, b, "triangular_solve");
  const int64_t n = a.size(-1), m = b.size(-1);
  Tensor ea = a.detach().expand(with_matrix(batch, n, n));
  Tensor eb = b.detach().expand(with_matrix(batch, n, m));
  Tensor out = empty_like_shape(a, with_matrix(batch, n, m));
  backend_of(a).triangular_solve(ea.view(), eb.view(), out.view(), lower, transpose_a, unit_diagonal);
  if (!any_requires_grad({&a, &b})) return out;
  bool ga = a.requires_grad();
  // op(A) X = B: dB = op(A)^-T dX; d op(A) = -dB X^T, kept on the triangle the solve read
  // (strictly, when the diagonal is taken as unit).
  return record(OpKind::triangular_solve, {&a, &b}, out,
                [sa = SavedTensor(a), so = SavedTensor(ga ? out.detach() : Tensor()), lower, transpose_a,
                 unit_diagonal, ga](const Tensor& g) -> Grads {
                  Tensor gb = triangular_solve(sa.get(), g, lower, !transpose_a, unit_diagonal);
                  if (!ga) return {Tensor(), gb};
                  const Tensor& x = so.get();
                  Tensor gop = neg(transpose_a ? matmul(x, gb.mT()) : matmul(gb, x.mT()));
                  const int64_t k = unit_diagonal ? 1 : 0;
                  return {lower ? tril(gop, -k) : triu(gop, k), gb};
                });
}

Tensor cholesky(const Tensor& a) {
  check_floating(a, "cholesky");
  if (a.dim() < 2 || a.size(-1) != a.size(-2))
    throw std::invalid_argument("cholesky: needs square matrices [.., n, n], got " + a.shape().str());
  Tensor out = empty_like_shape(a, a.shape());
  backend_of(a).cholesky(a.view(), out.view());
  if (!any_requires_grad({&a})) return out;
  // Murray (2016), "Differentiation of the Cholesky decomposition", eq. 10, symmetrised
  // (A is taken as symmetric, as PyTorch does): with Phi(P) = tril(P) with its diagonal
  // halved, S = L^-T Phi(L^T dL) L^-1 and dA = (S + S^T) / 2.
  return record(OpKind::cholesky, {&a}, out, [sl = SavedTensor(out.detach())](const Tensor& g) -> Grads {
    const Tensor& l = sl.get();
    Tensor p = matmul(l.mT(), g);
    Tensor offsets = diagonal_offsets(p.size(-2), p.size(-1), p);
    Tensor phi = add(keep_where(lt(offsets, 0.0), p), mul(keep_where(eq(offsets, 0.0), p), 0.5));
    Tensor left = triangular_solve(l, phi, true, true);                    // L^-T Phi
    Tensor s = triangular_solve(l, left.mT(), true, true).mT();           // (L^-T Phi) L^-1
    return {mul(add(s, s.mT()), 0.5)};
  });
}

Tensor tril(const Tensor& x, int64_t k) {
  if (x.dim() < 2) throw std::invalid_argument("tril: needs at least 2 dims, got " + x.shape().str());
  return keep_where(le(diagonal_offsets(x.size(-2), x.size(-1), x), double(k)), x);
}

Tensor triu(const Tensor& x, int64_t k) {
  if (x.dim() < 2) throw std::invalid_argument("triu: needs at least 2 dims, got " + x.shape().str());
  return keep_where(ge(diagonal_offsets(x.size(-2), x.size(-1), x), double(k)), x);
}

Tensor diagonal(const Tensor& a) {
  if (a.dim() < 2 || a.size(-1) != a.size(-2))
    throw std::invalid_argument("diagonal: needs square matrices [.., n, n], got " + a.shape().str());
  // A view: stepping one row and one column at once walks the diagonal.
  Shape shape = batch_of(a.shape());
  Strides strides = batch_of(a.strides());
  shape.push_back(a.size(-1));
  strides.push_back(a.strides()[a.dim() - 1] + a.strides()[a.dim() - 2]);
  Tensor out = make_tensor(a.storage(), shape, strides, a.offset(), a.dtype());
  Shape in_shape = a.shape();
  return record(OpKind::diagonal, {&a}, out, [in_shape](const Tensor& g) -> Grads {
    Tensor gi = Tensor::zeros(in_shape, {g.dtype(), g.device()});
    diagonal(gi).copy_(g);
    return {gi};
  });
}

Tensor triangular_logdet(const Tensor& a) {
  // det of a triangular matrix is the product of its diagonal.
  return sum(log(abs(diagonal(a))), {-1});
}

}  // namespace ops
}  // namespace glassbox
