#pragma once
// What every CUDA kernel file shares: error checks that name the call, the
// per-device stream and cuBLAS handle, launch sizes, strided indexing and dtype
// dispatch. Included only from .cu files.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/backend.h"

namespace glassbox::kernels::cuda {

[[noreturn]] void throw_cuda_error(const char* what, const char* call, const char* file, int line);

#define GLASSBOX_CUDA_CHECK(call)                                                                        \
  do {                                                                                                   \
    cudaError_t glassbox_err_ = (call);                                                                  \
    if (glassbox_err_ != cudaSuccess)                                                                    \
      ::glassbox::kernels::cuda::throw_cuda_error(cudaGetErrorString(glassbox_err_), #call, __FILE__, __LINE__); \
  } while (0)

#define GLASSBOX_CUBLAS_CHECK(call)                                                                      \
  do {                                                                                                   \
    cublasStatus_t glassbox_st_ = (call);                                                                \
    if (glassbox_st_ != CUBLAS_STATUS_SUCCESS)                                                           \
      ::glassbox::kernels::cuda::throw_cuda_error(cublasGetStatusString(glassbox_st_), #call, __FILE__, __LINE__); \
  } while (0)

/// Checks that the kernel just launched was accepted (bad configurations surface here).
#define GLASSBOX_CUDA_LAUNCHED() GLASSBOX_CUDA_CHECK(cudaGetLastError())

/// The stream every glassbox kernel and copy on the current device runs on.
cudaStream_t stream();
/// The cuBLAS handle of the current device, bound to stream().
cublasHandle_t cublas();
/// Makes `device` current for the calling thread (cheap when it already is).
void set_device(int device);
/// Scratch memory for the duration of one backend call (im2col columns, partial
/// sums...): slot 0..3 of the current device, at least `nbytes`, kept between calls
/// and only grown (after a stream sync), so steady-state training never allocates.
/// Two buffers needed at once must use different slots.
void* scratch(size_t nbytes, int slot = 0);

constexpr int kThreads = 256;
/// Blocks for a grid-stride loop over n elements (capped; the loop covers the rest).
inline unsigned blocks_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > 65535 * 4) b = 65535 * 4;
  return static_cast<unsigned>(b);
}

/// Shape and strides of a view passed by value to kernels: maps a linear index in
/// row-major order over `shape` to the element offset of that position.
struct Indexer {
  int rank = 0;
  int64_t size[Dims::kMaxDims];
  int64_t stride[Dims::kMaxDims];
  __host__ __device__ int64_t offset(int64_t linear) const {
    int64_t off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t i = linear % size[d];
      linear /= size[d];
      off += i * stride[d];
    }
    return off;
  }
};
/// The indexer of `v` over its own shape (strides 0 where broadcast).
inline Indexer make_indexer(const View& v) {
  Indexer ix;
  ix.rank = v.shape.size();
  for (int d = 0; d < ix.rank; ++d) {
    ix.size[d] = v.shape[d];
    ix.stride[d] = v.strides[d];
  }
  return ix;
}

/// Calls fn with a value of the C++ type of `dtype` (bool for boolean), e.g.
///   dispatch(v.dtype, [&](auto tag) { using T = decltype(tag); ... });
template <class Fn>
void dispatch(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32: fn(float{}); return;
    case DType::f64: fn(double{}); return;
    case DType::i64: fn(int64_t{}); return;
    case DType::i32: fn(int32_t{}); return;
    case DType::u8: fn(uint8_t{}); return;
    case DType::boolean: fn(bool{}); return;
  }
  throw std::invalid_argument("cuda: unknown dtype");
}
/// As dispatch, for the floating types only; `what` names the op in the error.
template <class Fn>
void dispatch_floating(DType dtype, const char* what, Fn&& fn) {
  switch (dtype) {
    case DType::f32: fn(float{}); return;
    case DType::f64: fn(double{}); return;
    default:
      throw std::invalid_argument(std::string("cuda ") + what + ": needs f32 or f64, got " + dtype_name(dtype));
  }
}

template <class T>
__global__ void zero_kernel(T* x, Indexer ix, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[ix.offset(i)] = T(0);
}

/// Sets every element of a floating view to 0: one memset when it is contiguous (all-zero
/// bytes are 0.0 in f32 and f64), else a strided kernel. For the outputs a backward pass
/// adds into, and empty reductions.
template <class T>
void zero_view(const View& v) {
  const int64_t n = v.numel();
  if (n == 0) return;
  if (v.is_contiguous()) {
    GLASSBOX_CUDA_CHECK(cudaMemsetAsync(v.data, 0, size_t(n) * sizeof(T), stream()));
    return;
  }
  zero_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(v.ptr<T>(), make_indexer(v), n);
  GLASSBOX_CUDA_LAUNCHED();
}

[[noreturn]] inline void not_implemented(const char* what) {
  throw std::runtime_error(std::string("cuda backend: ") + what + " is not implemented yet");
}

}  // namespace glassbox::kernels::cuda

// ---- Device-side input checks (added for index.cu, random.cu and linalg.cu) ---------
// Kernels that meet bad input (an out-of-range index, a matrix that is not positive
// definite) record it here; the host reads the record back after the kernel, which is
// the one stream synchronisation such a validating op makes, and throws as the CPU does.
namespace glassbox::kernels::cuda {

struct DeviceReport {
  unsigned long long inv_key;  // ~(smallest key passed to report_min); 0 when none
  long long value;             // the value of the first report_value
  int flag;                    // set by report_value
};

/// Records `key` (< ~0ull); the smallest one recorded wins (e.g. the first bad batch entry).
__device__ inline void report_min(DeviceReport* r, unsigned long long key) { atomicMax(&r->inv_key, ~key); }
/// Records that something went wrong, keeping the value given by the first caller.
__device__ inline void report_value(DeviceReport* r, long long value) {
  if (atomicCAS(&r->flag, 0, 1) == 0) r->value = value;
}

/// A cleared report in scratch slot 3 (so slots 0..2 stay free for the op itself).
inline DeviceReport* begin_report() {
  auto* r = static_cast<DeviceReport*>(scratch(sizeof(DeviceReport), 3));
  GLASSBOX_CUDA_CHECK(cudaMemsetAsync(r, 0, sizeof(DeviceReport), stream()));
  return r;
}
/// Waits for the kernels queued so far and returns the report's contents.
struct HostReport {
  bool has_min = false;
  unsigned long long min_key = 0;
  bool flagged = false;
  long long value = 0;
};
inline HostReport end_report(const DeviceReport* r) {
  DeviceReport h{};
  GLASSBOX_CUDA_CHECK(cudaMemcpyAsync(&h, r, sizeof(h), cudaMemcpyDeviceToHost, stream()));
  GLASSBOX_CUDA_CHECK(cudaStreamSynchronize(stream()));
  HostReport out;
  out.has_min = h.inv_key != 0;
  out.min_key = ~h.inv_key;
  out.flagged = h.flag != 0;
  out.value = h.value;
  return out;
}

}  // namespace glassbox::kernels::cuda

// ---- Strided-batched row-major GEMM (added for matmul.cu and conv.cu; defined in matmul.cu) ----
namespace glassbox::kernels::cuda {

/// Row-major C[m, n] = alpha * op(A)[m, k] @ op(B)[k, n] + beta * C for `batch` products
/// whose matrices lie stride_* elements apart (0: one matrix shared by the whole batch);
/// op(X) = X^T when trans_x, lda/ldb/ldc are row strides. Needs m, n, k, batch >= 1.
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
  int64_t batch = 1;
};
void gemm_batched(const GemmArgs& g, double alpha, const float* a, const float* b, double beta, float* c);
void gemm_batched(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c);

}  // namespace glassbox::kernels::cuda
