// Batched Cholesky factorisation and triangular solves for small matrices.
// Matrices in glassbox are small (latent dims up to ~64), so each Cholesky factor is
// computed by one block, and each right-hand-side column of a triangular solve by one
// thread, with the CPU's formulas and summation order (kernels/cpu/linalg.cpp):
//   L[i][j] = (A[i][j] - sum_{k<j} L[i][k] L[j][k]) / L[j][j],  L[j][j] = sqrt(A[j][j] - sum_{k<j} L[j][k]^2)
//   x_i = (b_i - sum_j op(A)[i][j] x_j) / op(A)[i][i], j ascending over the solved rows.
// A matrix that is not positive definite is recorded in a DeviceReport (smallest batch
// index wins, as the CPU's first failure in batch order) and the host throws the CPU's
// std::domain_error after reading it back (one stream sync per cholesky call).
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

/// Indexer over the leading `batch_dims` dims of `shape`, with `strides` of one operand.
Indexer batch_indexer(const Shape& shape, const Strides& strides, int batch_dims) {
  Indexer ix;
  ix.rank = batch_dims;
  for (int d = 0; d < batch_dims; ++d) {
    ix.size[d] = shape[d];
    ix.stride[d] = strides[d];
  }
  return ix;
}

struct MatrixStrides {
  int64_t row, col;
};

/// One block per matrix (grid-stride over the batch). The factor is built in `work`
/// (shared memory when it fits, else this matrix's slice of a global buffer), row-major.
template <class T>
__global__ void cholesky_kernel(const T* a, T* out, Indexer a_batch, Indexer o_batch, MatrixStrides as,
                                MatrixStrides os, int64_t batch, int64_t n, T* global_work, DeviceReport* report) {
  extern __shared__ __align__(16) unsigned char smem[];  // n * n of T when the factor fits
  __shared__ int ok;
  for (int64_t bi = blockIdx.x; bi < batch; bi += gridDim.x) {
    T* w = global_work ? global_work + int64_t(blockIdx.x) * n * n : reinterpret_cast<T*>(smem);
    const T* A = a + a_batch.offset(bi);
    T* O = out + o_batch.offset(bi);
    // Only the lower triangle of A is read, as on the CPU.
    for (int64_t e = threadIdx.x; e < n * n; e += blockDim.x) {
      const int64_t i = e / n, j = e % n;
      if (j <= i) w[e] = A[i * as.row + j * as.col];
    }
    __syncthreads();
    bool factored = true;
    for (int64_t j = 0; j < n; ++j) {
      if (threadIdx.x == 0) {
        T s = w[j * n + j];
        for (int64_t k = 0; k < j; ++k) s -= w[j * n + k] * w[j * n + k];
        if (!(s > T(0))) {
          ok = 0;
          report_min(report, (static_cast<unsigned long long>(bi) << 32) | static_cast<unsigned long long>(j + 1));
        } else {
          ok = 1;
          w[j * n + j] = sqrt(s);
        }
      }
      __syncthreads();
      if (!ok) {  // the same value for every thread of the block
        factored = false;
        break;
      }
      const T d = w[j * n + j];
      for (int64_t i = j + 1 + threadIdx.x; i < n; i += blockDim.x) {
        T s = w[i * n + j];
        for (int64_t k = 0; k < j; ++k) s -= w[i * n + k] * w[j * n + k];
        w[i * n + j] = s / d;
      }
      __syncthreads();
    }
    if (factored) {
      for (int64_t e = threadIdx.x; e < n * n; e += blockDim.x) {
        const int64_t i = e / n, j = e % n;
        O[i * os.row + j * os.col] = j <= i ? w[e] : T(0);
      }
    }
    __syncthreads();  // `w` and `ok` are reused by the next matrix
  }
}

/// One thread per (matrix, right-hand-side column), solving down (or up) the rows.
/// x may alias b: row i of b is read before row i of x is written, by the same thread.
template <class T>
__global__ void triangular_solve_kernel(const T* a, const T* b, T* x, Indexer a_batch, Indexer b_batch,
                                        Indexer x_batch, MatrixStrides op_a, MatrixStrides bs, MatrixStrides xs,
                                        int64_t batch, int64_t n, int64_t m, bool forward, bool unit) {
  const int64_t total = batch * m;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += step) {
    const int64_t bi = t / m, c = t % m;
    const T* A = a + a_batch.offset(bi);
    const T* B = b + b_batch.offset(bi) + c * bs.col;
    T* X = x + x_batch.offset(bi) + c * xs.col;
    for (int64_t s = 0; s < n; ++s) {
      const int64_t i = forward ? s : n - 1 - s;
      const int64_t j_begin = forward ? 0 : i + 1, j_end = forward ? i : n;
      T acc = B[i * bs.row];
      for (int64_t j = j_begin; j < j_end; ++j) acc -= A[i * op_a.row + j * op_a.col] * X[j * xs.row];
      X[i * xs.row] = unit ? acc : acc / A[i * op_a.row + i * op_a.col];
    }
  }
}

/// The factor is kept in dynamic shared memory up to this size (f64: n <= 72, f32: n <= 101),
/// below the 48 KiB a block gets without opting in, leaving room for the static `ok`.
constexpr size_t kMaxSharedBytes = 40 * 1024;

}  // namespace

void CudaBackend::cholesky(const View& a, const View& out) {
  set_device(device_);
  const int nd = a.shape.size();
  if (nd < 2 || a.shape[nd - 1] != a.shape[nd - 2] || !(out.shape == a.shape))
    throw std::invalid_argument("cuda cholesky: needs square [..., n, n] matrices and an output of their shape, got " +
                                a.shape.str() + " -> " + out.shape.str());
  const int64_t n = a.shape[nd - 1];
  int64_t batch = 1;
  for (int d = 0; d < nd - 2; ++d) batch *= a.shape[d];
  dispatch_floating(a.dtype, "cholesky", [&](auto zero) {
    using T = decltype(zero);
    if (n == 0 || batch == 0) return;
    const size_t matrix_bytes = size_t(n * n) * sizeof(T);
    const bool in_shared = matrix_bytes <= kMaxSharedBytes;
    const int64_t blocks = std::min<int64_t>(batch, 1 << 20);
    T* global_work = in_shared ? nullptr : static_cast<T*>(scratch(size_t(blocks) * matrix_bytes, 0));
    const int threads = int(std::min<int64_t>(256, std::max<int64_t>(32, (n + 31) / 32 * 32)));
    DeviceReport* report = begin_report();
    cholesky_kernel<T><<<unsigned(blocks), threads, in_shared ? matrix_bytes : 0, stream()>>>(
        a.ptr<T>(), out.ptr<T>(), batch_indexer(a.shape, a.strides, nd - 2), batch_indexer(out.shape, out.strides, nd - 2),
        MatrixStrides{a.strides[nd - 2], a.strides[nd - 1]}, MatrixStrides{out.strides[nd - 2], out.strides[nd - 1]},
        batch, n, global_work, report);
    GLASSBOX_CUDA_LAUNCHED();
    const HostReport r = end_report(report);
    if (r.has_min)
      throw std::domain_error("cholesky: matrix " + std::to_string(r.min_key >> 32) +
                              " of the batch is not positive definite (leading minor of order " +
                              std::to_string(r.min_key & 0xFFFFFFFFull) + " is not positive)");
  });
}

void CudaBackend::triangular_solve(const View& a, const View& b, const View& x, bool lower, bool transpose_a,
                                   bool unit_diagonal) {
  set_device(device_);
  const int nd = x.shape.size();
  if (nd < 2 || a.shape.size() != nd || b.shape.size() != nd || a.shape[nd - 1] != a.shape[nd - 2] ||
      a.shape[nd - 1] != x.shape[nd - 2] || !(b.shape == x.shape))
    throw std::invalid_argument("cuda triangular_solve: needs A [..., n, n] and B, X [..., n, m] of one rank, got " +
                                a.shape.str() + ", " + b.shape.str() + " -> " + x.shape.str());
  const int64_t n = x.shape[nd - 2], m = x.shape[nd - 1];
  int64_t batch = 1;
  for (int d = 0; d < nd - 2; ++d) batch *= x.shape[d];
  dispatch_floating(x.dtype, "triangular_solve", [&](auto zero) {
    using T = decltype(zero);
    if (n == 0 || m == 0 || batch == 0) return;
    // op(A)[i][j] is A[j][i] when transposed: swap A's strides. The triangle referenced
    // by op(A) is lower (solve top-down) iff lower != transpose_a.
    const MatrixStrides op_a = transpose_a ? MatrixStrides{a.strides[nd - 1], a.strides[nd - 2]}
                                           : MatrixStrides{a.strides[nd - 2], a.strides[nd - 1]};
    const int64_t total = batch * m;
    triangular_solve_kernel<T><<<blocks_for(total, 128), 128, 0, stream()>>>(
        a.ptr<T>(), b.ptr<T>(), x.ptr<T>(), batch_indexer(x.shape, a.strides, nd - 2),
        batch_indexer(x.shape, b.strides, nd - 2), batch_indexer(x.shape, x.strides, nd - 2), op_a,
        MatrixStrides{b.strides[nd - 2], b.strides[nd - 1]}, MatrixStrides{x.strides[nd - 2], x.strides[nd - 1]},
        batch, n, m, lower != transpose_a, unit_diagonal);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

}  // namespace glassbox::kernels::cuda
