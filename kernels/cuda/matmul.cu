// Batched GEMM through cuBLAS: C = alpha * op(A) @ op(B) + beta * C on strided views.
//
// cuBLAS is column-major, so a row-major product is handed over as its transpose:
// C^T = op(B)^T op(A)^T reads the same memory with the operands swapped. An operand
// goes to cuBLAS without a copy when its matrices have a unit stride in one of their
// last two dims (the other stride is then the leading dimension; a unit row stride
// means the memory holds the transpose) and its batch dims collapse to one stride
// (0 for an operand broadcast over the whole batch). Any other operand is first copied
// to contiguous scratch; C is then computed there and copied back. Semantics follow
// kernels/cpu/matmul.cpp, including k == 0 (C = beta * C, C unread when beta is 0).
#include <climits>
#include <optional>
#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

/// How one stored matrix reads as row-major memory.
struct Layout {
  bool transposed;  // the memory holds the matrix's transpose in row-major order
  int64_t ld;       // row stride of that row-major memory
};

/// The row-major description of a stored [rows, cols] matrix with strides (sr, sc), if
/// one exists: one unit stride, the other at least the extent it must skip (as the CPU).
std::optional<Layout> matrix_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
  const int64_t r1 = rows > 1 ? rows : 1, c1 = cols > 1 ? cols : 1;
  if ((sc == 1 || cols == 1) && (rows == 1 || sr >= c1)) return Layout{false, rows == 1 ? c1 : sr};
  if ((sr == 1 || rows == 1) && (cols == 1 || sc >= r1)) return Layout{true, cols == 1 ? r1 : sc};
  return std::nullopt;
}

std::optional<Layout> matrix_layout(const View& v) {
  const int nd = v.shape.size();
  return matrix_layout(v.shape[nd - 2], v.shape[nd - 1], v.strides[nd - 2], v.strides[nd - 1]);
}

/// The one stride that steps through the batch dims of `v` (all but the last two, in
/// row-major order), if there is one. Size-1 dims never step, so they are ignored.
std::optional<int64_t> batch_stride(const View& v) {
  const int nb = v.shape.size() - 2;
  std::optional<int64_t> stride;
  int64_t next = 0;  // the stride the next outer dim needs to continue the sequence
  for (int d = nb - 1; d >= 0; --d) {
    if (v.shape[d] == 1) continue;
    if (!stride) {
      stride = v.strides[d];
    } else if (v.strides[d] != next) {
      return std::nullopt;
    }
    next = v.strides[d] * v.shape[d];
  }
  return stride.value_or(0);
}

template <class T>
__global__ void gather_kernel(const T* src, Indexer src_ix, T* dst, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = src[src_ix.offset(i)];
}

template <class T>
__global__ void scatter_kernel(const T* src, T* dst, Indexer dst_ix, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[dst_ix.offset(i)] = src[i];
}

/// x = beta * x, writing exact zeros when beta is 0 (x unread, as BLAS).
template <class T>
__global__ void scale_kernel(T* x, Indexer ix, T beta, bool zero, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    T& v = x[ix.offset(i)];
    v = zero ? T(0) : beta * v;
  }
}

/// A contiguous copy of `v` (broadcasts materialised) in scratch `slot`; `copy_values`
/// false leaves the buffer uninitialised (an output that will be fully overwritten).
template <class T>
View contiguous_scratch(const View& v, int slot, bool copy_values) {
  const int64_t n = v.numel();
  View c{scratch(size_t(n) * sizeof(T), slot), v.dtype, v.shape, contiguous_strides(v.shape)};
  if (copy_values) {
    gather_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(v.ptr<const T>(), make_indexer(v), c.ptr<T>(), n);
    GLASSBOX_CUDA_LAUNCHED();
  }
  return c;
}

/// Whether cuBLAS can read `v` as it is (matrix layout and one batch stride).
bool blas_ready(const View& v) { return matrix_layout(v) && batch_stride(v); }

/// C must also not write one matrix twice: a stride-0 batch is only fine for one matrix.
bool blas_ready_output(const View& v, int64_t batch) {
  if (!blas_ready(v)) return false;
  return batch == 1 || *batch_stride(v) != 0;
}

template <class T>
void matmul_typed(const View& a_in, const View& b_in, const View& c_in, bool trans_a, bool trans_b, double alpha,
                  double beta) {
  const int nd = c_in.shape.size();
  const int64_t m = c_in.shape[nd - 2], n = c_in.shape[nd - 1];
  const int64_t k = trans_a ? a_in.shape[nd - 2] : a_in.shape[nd - 1];
  const int64_t total = c_in.numel();
  if (total == 0) return;  // no rows, no columns or an empty batch
  if (k == 0) {
    // An empty sum: C = beta * C (BLAS convention: C is not read when beta is 0).
    scale_kernel<T>
        <<<blocks_for(total), kThreads, 0, stream()>>>(c_in.ptr<T>(), make_indexer(c_in), T(beta), beta == 0, total);
    GLASSBOX_CUDA_LAUNCHED();
    return;
  }
  const int64_t batch = total / (m * n);

  const View a = blas_ready(a_in) ? a_in : contiguous_scratch<T>(a_in, 0, true);
  const View b = blas_ready(b_in) ? b_in : contiguous_scratch<T>(b_in, 1, true);
  const bool c_copied = !blas_ready_output(c_in, batch);
  const View c = c_copied ? contiguous_scratch<T>(c_in, 2, beta != 0) : c_in;

  const Layout la = *matrix_layout(a), lb = *matrix_layout(b), lc = *matrix_layout(c);
  GemmArgs g;
  g.k = k;
  g.batch = batch;
  g.ldc = lc.ld;
  g.stride_c = *batch_stride(c);
  // Whether each stored matrix must be transposed to give op(A) / op(B) row-major.
  const bool ta = trans_a != la.transposed, tb = trans_b != lb.transposed;
  const T* pa = a.ptr<const T>();
  const T* pb = b.ptr<const T>();
  if (!lc.transposed) {
    g.m = m;
    g.n = n;
    g.trans_a = ta;
    g.trans_b = tb;
    g.lda = la.ld;
    g.ldb = lb.ld;
    g.stride_a = *batch_stride(a);
    g.stride_b = *batch_stride(b);
    gemm_batched(g, alpha, pa, pb, beta, c.ptr<T>());
  } else {
    // C's memory holds C^T row-major: compute C^T = op(B)^T op(A)^T into it.
    g.m = n;
    g.n = m;
    g.trans_a = !tb;
    g.trans_b = !ta;
    g.lda = lb.ld;
    g.ldb = la.ld;
    g.stride_a = *batch_stride(b);
    g.stride_b = *batch_stride(a);
    gemm_batched(g, alpha, pb, pa, beta, c.ptr<T>());
  }
  if (c_copied) {
    scatter_kernel<T>
        <<<blocks_for(total), kThreads, 0, stream()>>>(c.ptr<const T>(), c_in.ptr<T>(), make_indexer(c_in), total);
    GLASSBOX_CUDA_LAUNCHED();
  }
}

bool fits_int(std::initializer_list<int64_t> values) {
  for (int64_t v : values)
    if (v > INT_MAX) return false;
  return true;
}

cublasOperation_t op(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

}  // namespace

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS gets B first,
// with n and m swapped; each row-major leading dimension is the column-major one of the
// transposed matrix, so the transpose flags carry over unchanged.
void gemm_batched(const GemmArgs& g, double alpha, const float* a, const float* b, double beta, float* c) {
  const float al = float(alpha), be = float(beta);
  if (fits_int({g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.batch})) {
    GLASSBOX_CUBLAS_CHECK(cublasSgemmStridedBatched(cublas(), op(g.trans_b), op(g.trans_a), int(g.n), int(g.m),
                                                    int(g.k), &al, b, int(g.ldb), g.stride_b, a, int(g.lda), g.stride_a,
                                                    &be, c, int(g.ldc), g.stride_c, int(g.batch)));
  } else {
    GLASSBOX_CUBLAS_CHECK(cublasSgemmStridedBatched_64(cublas(), op(g.trans_b), op(g.trans_a), g.n, g.m, g.k, &al, b,
                                                       g.ldb, g.stride_b, a, g.lda, g.stride_a, &be, c, g.ldc,
                                                       g.stride_c, g.batch));
  }
}

void gemm_batched(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c) {
  if (fits_int({g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.batch})) {
    GLASSBOX_CUBLAS_CHECK(cublasDgemmStridedBatched(cublas(), op(g.trans_b), op(g.trans_a), int(g.n), int(g.m),
                                                    int(g.k), &alpha, b, int(g.ldb), g.stride_b, a, int(g.lda),
                                                    g.stride_a, &beta, c, int(g.ldc), g.stride_c, int(g.batch)));
  } else {
    GLASSBOX_CUBLAS_CHECK(cublasDgemmStridedBatched_64(cublas(), op(g.trans_b), op(g.trans_a), g.n, g.m, g.k, &alpha, b,
                                                       g.ldb, g.stride_b, a, g.lda, g.stride_a, &beta, c, g.ldc,
                                                       g.stride_c, g.batch));
  }
}

void CudaBackend::matmul(const View& a, const View& b, const View& c, bool trans_a, bool trans_b, double alpha,
                         double beta) {
  set_device(device_);
  const int nd = c.shape.size();
  if (nd < 2 || a.shape.size() != nd || b.shape.size() != nd)
    throw std::invalid_argument("cuda matmul: operands need the same rank >= 2, got " + a.shape.str() + ", " +
                                b.shape.str() + " -> " + c.shape.str());
  if (a.dtype != c.dtype || b.dtype != c.dtype)
    throw std::invalid_argument(std::string("cuda matmul: dtypes differ: ") + dtype_name(a.dtype) + ", " +
                                dtype_name(b.dtype) + " -> " + dtype_name(c.dtype));
  dispatch_floating(c.dtype, "matmul", [&](auto zero) {
    using T = decltype(zero);
    matmul_typed<T>(a, b, c, trans_a, trans_b, alpha, beta);
  });
}

}  // namespace glassbox::kernels::cuda
