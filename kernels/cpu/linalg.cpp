// Batched Cholesky factorisation and triangular solves. The matrices in this project
// are small (tens of rows), so plain loops over a contiguous copy of each matrix are
// used; every batch entry is independent.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/batch_loop.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/strided_loop.h"

namespace glassbox::kernels {

namespace {

/// Copies the [rows, cols] matrix at `src` (strides rs, cs) into row-major `dst`.
template <class T>
void load_matrix(const T* src, int64_t rows, int64_t cols, int64_t rs, int64_t cs, T* dst) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) dst[i * cols + j] = src[i * rs + j * cs];
}

template <class T>
void store_matrix(const T* src, int64_t rows, int64_t cols, T* dst, int64_t rs, int64_t cs) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) dst[i * rs + j * cs] = src[i * cols + j];
}

/// Cholesky-Banachiewicz: row by row, L[i][j] = (A[i][j] - sum_k<j L[i][k] L[j][k]) / L[j][j].
/// Reads only the lower triangle of `a` (row-major n x n) and overwrites `a` with L.
template <class T>
void cholesky_in_place(T* a, int64_t n, int64_t batch_index) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      T s = a[i * n + j];
      for (int64_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      if (i == j) {
        if (!(s > T(0)))
          throw std::domain_error("cholesky: matrix " + std::to_string(batch_index) +
                                  " of the batch is not positive definite (leading minor of order " +
                                  std::to_string(i + 1) + " is not positive)");
        a[i * n + i] = std::sqrt(s);
      } else {
        a[i * n + j] = s / a[j * n + j];
      }
    }
    for (int64_t j = i + 1; j < n; ++j) a[i * n + j] = T(0);
  }
}

/// Solves op(A) X = B in place in `x` (row-major n x m), A row-major n x n triangular.
template <class T>
void triangular_solve_in_place(const T* a, T* x, int64_t n, int64_t m, bool lower, bool transpose, bool unit) {
  // op(A)[i][j] as stored; the referenced triangle is lower for op(A) iff lower != transpose.
  auto op_a = [&](int64_t i, int64_t j) { return transpose ? a[j * n + i] : a[i * n + j]; };
  const bool forward = lower != transpose;
  for (int64_t step = 0; step < n; ++step) {
    const int64_t i = forward ? step : n - 1 - step;
    const int64_t j_begin = forward ? 0 : i + 1, j_end = forward ? i : n;
    for (int64_t c = 0; c < m; ++c) {
      T s = x[i * m + c];
      for (int64_t j = j_begin; j < j_end; ++j) s -= op_a(i, j) * x[j * m + c];
      x[i * m + c] = unit ? s : s / op_a(i, i);
    }
  }
}

}  // namespace

void CpuBackend::cholesky(const View& a, const View& out) {
  const int nd = a.shape.size();
  if (nd < 2 || a.shape[nd - 1] != a.shape[nd - 2] || !(out.shape == a.shape))
    throw std::invalid_argument("cpu cholesky: needs square [..., n, n] matrices and an output of their shape, got " +
                                a.shape.str() + " -> " + out.shape.str());
  const int64_t n = a.shape[nd - 1];
  cpu::dispatch_floating(a.dtype, "cpu cholesky", [&](auto zero) {
    using T = decltype(zero);
    std::vector<T> work(size_t(n * n));
    cpu::for_each_batch<2>(a.shape, nd - 2, {&a.strides, &out.strides},
                           [&](int64_t i, const std::array<int64_t, 2>& off) {
                             load_matrix(a.ptr<T>() + off[0], n, n, a.strides[nd - 2], a.strides[nd - 1], work.data());
                             cholesky_in_place(work.data(), n, i);
                             store_matrix(work.data(), n, n, out.ptr<T>() + off[1], out.strides[nd - 2],
                                          out.strides[nd - 1]);
                           });
  });
}

void CpuBackend::triangular_solve(const View& a, const View& b, const View& x, bool lower, bool transpose_a,
                                  bool unit_diagonal) {
  const int nd = x.shape.size();
  if (nd < 2 || a.shape.size() != nd || b.shape.size() != nd || a.shape[nd - 1] != a.shape[nd - 2] ||
      a.shape[nd - 1] != x.shape[nd - 2] || !(b.shape == x.shape))
    throw std::invalid_argument("cpu triangular_solve: needs A [..., n, n] and B, X [..., n, m] of one rank, got " +
                                a.shape.str() + ", " + b.shape.str() + " -> " + x.shape.str());
  const int64_t n = x.shape[nd - 2], m = x.shape[nd - 1];
  cpu::dispatch_floating(x.dtype, "cpu triangular_solve", [&](auto zero) {
    using T = decltype(zero);
    std::vector<T> work_a(size_t(n * n)), work_x(size_t(n * m));
    cpu::for_each_batch<3>(x.shape, nd - 2, {&a.strides, &b.strides, &x.strides},
                           [&](int64_t, const std::array<int64_t, 3>& off) {
                             load_matrix(a.ptr<T>() + off[0], n, n, a.strides[nd - 2], a.strides[nd - 1],
                                         work_a.data());
                             load_matrix(b.ptr<T>() + off[1], n, m, b.strides[nd - 2], b.strides[nd - 1],
                                         work_x.data());
                             triangular_solve_in_place(work_a.data(), work_x.data(), n, m, lower, transpose_a,
                                                       unit_diagonal);
                             store_matrix(work_x.data(), n, m, x.ptr<T>() + off[2], x.strides[nd - 2],
                                          x.strides[nd - 1]);
                           });
  });
}

}  // namespace glassbox::kernels
