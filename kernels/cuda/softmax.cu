// Softmax and log-softmax along one dim, and their backward passes.
//
// Rows (the 1-d lines along `dim`) are handled by a 2-d block: threadIdx.x picks the
// row, threadIdx.y walks its elements, and row-wide max / sums meet in shared memory.
// Contiguous rows get a block per row (bx = 1); rows whose neighbours are adjacent in
// memory (softmax over a channel dim) get 32 rows per block so a warp's reads coalesce.
// The formulas are the CPU backend's: shift by the row max (NaNs skipped), exp in T,
// sums in double.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

/// Combines v over the threads of one column (same threadIdx.x) and returns the
/// result to all of them. Every thread of the block calls it. smem holds
/// max(32, bx * by) values; blockDim.y is a power of two, and a multiple of 32 when
/// blockDim.x is 1 (then warps hold one column and reduce by shuffles).
template <class A, class F>
__device__ A column_reduce(A v, A* smem, F f) {
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  if (by == 1) return v;
  if (bx == 1) {
    const int lane = ty & 31, warp = ty >> 5, warps = by >> 5;
    for (int d = 16; d > 0; d >>= 1) v = f(v, __shfl_xor_sync(0xffffffffu, v, d));
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    v = smem[0];
    for (int w = 1; w < warps; ++w) v = f(v, smem[w]);
    __syncthreads();  // smem is reused by the next call
    return v;
  }
  smem[ty * bx + tx] = v;
  __syncthreads();
  for (int s = by / 2; s > 0; s >>= 1) {
    if (ty < s) smem[ty * bx + tx] = f(smem[ty * bx + tx], smem[(ty + s) * bx + tx]);
    __syncthreads();
  }
  v = smem[tx];
  __syncthreads();
  return v;
}

struct MaxSkipNan {
  // std::max(a, b) of the CPU loop: a NaN b never replaces a.
  template <class T>
  __device__ T operator()(T a, T b) const { return a < b ? b : a; }
};
struct Plus {
  __device__ double operator()(double a, double b) const { return a + b; }
};

/// Shared memory of a launch: the double sums dominate.
size_t smem_bytes(dim3 block) { return std::max<size_t>(32, size_t(block.x) * block.y) * sizeof(double); }

template <class T>
__global__ void softmax_kernel(const T* __restrict__ x, T* __restrict__ out, Indexer row_x, Indexer row_out,
                               int64_t rows, int64_t n, int64_t xs, int64_t os, bool log) {
  extern __shared__ __align__(16) unsigned char softmax_smem[];
  T* smem_t = reinterpret_cast<T*>(softmax_smem);
  double* smem_d = reinterpret_cast<double*>(softmax_smem);
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  for (int64_t base = int64_t(blockIdx.x) * bx; base < rows; base += int64_t(gridDim.x) * bx) {
    const int64_t r = base + tx;
    const bool live = r < rows;
    const T* xr = x + (live ? row_x.offset(r) : 0);
    T* orow = out + (live ? row_out.offset(r) : 0);
    T m = -INFINITY;
    if (live)
      for (int64_t i = ty; i < n; i += by) m = MaxSkipNan{}(m, xr[i * xs]);
    m = column_reduce(m, smem_t, MaxSkipNan{});
    double s = 0;
    if (live)
      for (int64_t i = ty; i < n; i += by) s += double(exp(T(xr[i * xs] - m)));
    s = column_reduce(s, smem_d, Plus{});
    if (!live) continue;
    if (log) {
      const T shift = m + T(::log(s));
      for (int64_t i = ty; i < n; i += by) orow[i * os] = xr[i * xs] - shift;
    } else {
      const T inv = T(1.0 / s);
      for (int64_t i = ty; i < n; i += by) orow[i * os] = exp(T(xr[i * xs] - m)) * inv;
    }
  }
}

/// softmax: dx = y * (g - sum(g * y)); log-softmax: dx = g - exp(y) * sum(g).
template <class T>
__global__ void softmax_backward_kernel(const T* __restrict__ g, const T* __restrict__ y, T* __restrict__ out,
                                        Indexer row_g, Indexer row_y, Indexer row_out, int64_t rows, int64_t n,
                                        int64_t gs, int64_t ys, int64_t os, bool log) {
  extern __shared__ __align__(16) unsigned char softmax_smem[];
  double* smem_d = reinterpret_cast<double*>(softmax_smem);
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  for (int64_t base = int64_t(blockIdx.x) * bx; base < rows; base += int64_t(gridDim.x) * bx) {
    const int64_t r = base + tx;
    const bool live = r < rows;
    const T* gr = g + (live ? row_g.offset(r) : 0);
    const T* yr = y + (live ? row_y.offset(r) : 0);
    T* orow = out + (live ? row_out.offset(r) : 0);
    double s = 0;
    if (live) {
      if (log)
        for (int64_t i = ty; i < n; i += by) s += double(gr[i * gs]);
      else
        for (int64_t i = ty; i < n; i += by) s += double(gr[i * gs]) * double(yr[i * ys]);
    }
    s = column_reduce(s, smem_d, Plus{});
    if (!live) continue;
    const T st = T(s);
    if (log)
      for (int64_t i = ty; i < n; i += by) orow[i * os] = gr[i * gs] - exp(yr[i * ys]) * st;
    else
      for (int64_t i = ty; i < n; i += by) orow[i * os] = yr[i * ys] * (gr[i * gs] - st);
  }
}

/// The indexer of v's rows along dim (size 1 there), in row-major order of the other dims.
Indexer rows_of(const View& v, int dim) {
  Indexer ix = make_indexer(v);
  ix.size[dim] = 1;
  return ix;
}

int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

/// Block shape for rows of n elements along dim of `v`: a block per row when the row
/// is the contiguous direction (or rows are few), else 32 rows side by side.
dim3 block_for(const View& v, int dim, int64_t n, int64_t rows) {
  bool fastest = true;
  for (int d = 0; d < v.shape.size(); ++d)
    if (d != dim && v.shape[d] > 1 && abs64(v.strides[d]) < abs64(v.strides[dim])) fastest = false;
  auto pow2 = [](int64_t want, int lo, int hi) {
    int p = lo;
    while (p < hi && p < want) p *= 2;
    return p;
  };
  if (fastest || rows < 1024) return dim3(1, pow2(n, 32, 512));
  return dim3(32, pow2(n, 1, 8));
}

unsigned grid_for(int64_t rows, dim3 block) {
  return unsigned(std::min<int64_t>((rows + block.x - 1) / block.x, 1 << 20));
}

}  // namespace

void CudaBackend::softmax(const View& x, int dim, bool log, const View& out) {
  set_device(device_);
  const int64_t n = x.shape[dim], xs = x.strides[dim], os = out.strides[dim];
  dispatch_floating(x.dtype, "softmax", [&](auto z) {
    using T = decltype(z);
    if (x.numel() == 0) return;
    const int64_t rows = x.numel() / n;
    const dim3 block = block_for(x, dim, n, rows);
    softmax_kernel<T><<<grid_for(rows, block), block, smem_bytes(block), stream()>>>(
        x.ptr<T>(), out.ptr<T>(), rows_of(x, dim), rows_of(out, dim), rows, n, xs, os, log);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

void CudaBackend::softmax_backward(const View& grad, const View& y, int dim, bool log, const View& out) {
  set_device(device_);
  const int64_t n = y.shape[dim], gs = grad.strides[dim], ys = y.strides[dim], os = out.strides[dim];
  dispatch_floating(y.dtype, "softmax_backward", [&](auto z) {
    using T = decltype(z);
    if (y.numel() == 0) return;
    const int64_t rows = y.numel() / n;
    const dim3 block = block_for(y, dim, n, rows);
    softmax_backward_kernel<T><<<grid_for(rows, block), block, smem_bytes(block), stream()>>>(
        grad.ptr<T>(), y.ptr<T>(), out.ptr<T>(), rows_of(grad, dim), rows_of(y, dim), rows_of(out, dim), rows, n, gs,
        ys, os, log);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

}  // namespace glassbox::kernels::cuda
