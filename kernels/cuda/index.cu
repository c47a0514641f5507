// Indexing: index_select / index_add along a dim, gather / scatter_add.
//
// All four are one loop over a "loop shape" touching three operands: a direct operand A
// at the loop position, the i64 index at the loop position, and an indexed operand B at
// the loop position with its `dim` coordinate replaced by the index value:
//   index_select: loop = out,   A = out (written), B = x,   index 1-d along dim
//   index_add:    loop = src,   A = src (read),    B = out, index 1-d along dim (+=)
//   gather:       loop = out,   A = out (written), B = x,   index has out's shape
//   scatter_add:  loop = index, A = src (read),    B = out, index strides (+=)
// The accumulating ops use atomics because indices may repeat.
//
// Index validation: the CPU backend checks every index first and throws std::out_of_range.
// Here the main kernel checks each index it reads, skips out-of-range ones and records the
// bad value in a DeviceReport; the host reads the report back after the kernel (one stream
// sync per call) and throws the same error. So on error nothing outside the tensors is
// touched and the same exception is raised; the only difference is that index_add and
// scatter_add may already have added the in-range entries into `out` (the engine always
// passes a temporary there, which the exception discards).
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

constexpr int kMaxDims = Dims::kMaxDims;

/// Loop shape and the strides of A, the index and B over it. B's stride along the
/// indexed dim is taken out (0 in b[]) and kept as b_step: the index value supplies
/// that coordinate. With that, every dim is an ordinary strided dim, so adjacent dims
/// are merged and size-1 dims dropped to shorten the per-element index arithmetic.
struct IndexGeometry {
  int rank = 0;
  int64_t size[kMaxDims];
  int64_t a[kMaxDims];
  int64_t ix[kMaxDims];
  int64_t b[kMaxDims];
  int64_t b_step = 0;  // B's stride along dim
  int64_t limit = 0;   // B's size along dim: valid indices are [0, limit)
};

IndexGeometry make_geometry(const Shape& loop, const Strides& a, const Strides& ix, const Strides& b, int dim,
                            int64_t limit) {
  IndexGeometry g;
  g.b_step = b[dim];
  g.limit = limit;
  // Walk from the innermost dim outwards, merging into the last kept dim when all three
  // stride sets allow it (stride[d] == stride[kept] * size[kept]).
  int64_t rs[kMaxDims], ra[kMaxDims], ri[kMaxDims], rb[kMaxDims];
  int n = 0;
  for (int d = loop.size() - 1; d >= 0; --d) {
    const int64_t s = loop[d];
    if (s == 1) continue;
    const int64_t sa = a[d], si = ix[d], sb = d == dim ? 0 : b[d];
    if (n > 0 && sa == ra[n - 1] * rs[n - 1] && si == ri[n - 1] * rs[n - 1] && sb == rb[n - 1] * rs[n - 1]) {
      rs[n - 1] *= s;
      continue;
    }
    rs[n] = s;
    ra[n] = sa;
    ri[n] = si;
    rb[n] = sb;
    ++n;
  }
  g.rank = n;
  for (int k = 0; k < n; ++k) {  // back to outermost-first order
    g.size[k] = rs[n - 1 - k];
    g.a[k] = ra[n - 1 - k];
    g.ix[k] = ri[n - 1 - k];
    g.b[k] = rb[n - 1 - k];
  }
  return g;
}

// Atomic `*p += v` with the CPU's wrap-around semantics (T(dst + src)) for every dtype.
__device__ inline void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ inline void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ inline void atomic_add(int32_t* p, int32_t v) { atomicAdd(reinterpret_cast<int*>(p), int(v)); }
__device__ inline void atomic_add(int64_t* p, int64_t v) {
  // Two's-complement addition is the same on unsigned words.
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}
__device__ inline void atomic_add(uint8_t* p, uint8_t v) {
  // No byte atomics: compare-and-swap the aligned 32-bit word holding the byte.
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  unsigned int* word = reinterpret_cast<unsigned int*>(addr & ~uintptr_t(3));
  const unsigned int shift = unsigned(addr & 3) * 8u;
  unsigned int old = *word, assumed;
  do {
    assumed = old;
    const unsigned int byte = ((assumed >> shift) + v) & 0xFFu;
    old = atomicCAS(word, assumed, (assumed & ~(0xFFu << shift)) | (byte << shift));
  } while (assumed != old);
}
__device__ inline void atomic_add(bool* p, bool v) {
  // bool(dst + v) is dst || v: only `true` is ever stored, so racing stores agree.
  if (v) *p = true;
}

/// One grid-stride loop for the four ops; I is the type of the loop-index arithmetic
/// (32-bit when the loop has fewer than 2^31 elements: divisions are much cheaper).
template <class T, bool Accumulate, class I>
__global__ void index_kernel(IndexGeometry g, T* a, const int64_t* index, T* b, I n, DeviceReport* report) {
  const I step = I(gridDim.x) * I(blockDim.x);
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < n; i += step) {
    I rest = i;
    int64_t ao = 0, io = 0, bo = 0;
    for (int d = g.rank - 1; d >= 0; --d) {
      const I size = I(g.size[d]);
      const int64_t c = int64_t(rest % size);
      rest /= size;
      ao += c * g.a[d];
      io += c * g.ix[d];
      bo += c * g.b[d];
    }
    const int64_t k = index[io];
    if (k < 0 || k >= g.limit) {
      report_value(report, k);
      continue;
    }
    bo += k * g.b_step;
    if constexpr (Accumulate)
      atomic_add(b + bo, a[ao]);
    else
      a[ao] = b[bo];
  }
}

/// Only checks a 1-d index (for loops with no elements, which read no index).
__global__ void check_index_kernel(const int64_t* index, int64_t stride, int64_t n, int64_t limit,
                                   DeviceReport* report) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const int64_t k = index[i * stride];
    if (k < 0 || k >= limit) report_value(report, k);
  }
}

void check_index_dtype(const View& index, const char* op) {
  if (index.dtype != DType::i64)
    throw std::invalid_argument(std::string(op) + ": indices must be i64, got " + dtype_name(index.dtype));
}

void check_index_vector(const View& index, const char* op) {
  if (index.shape.size() != 1)
    throw std::invalid_argument(std::string(op) + ": index must be 1-d, got " + index.shape.str());
}

[[noreturn]] void throw_out_of_range(const char* op, long long value, int dim, int64_t size) {
  throw std::out_of_range(std::string(op) + ": index " + std::to_string(value) + " is out of range for dim " +
                          std::to_string(dim) + " of size " + std::to_string(size));
}

/// Runs the loop described above, then reads the report back and throws on a bad index.
/// `index_1d` marks index_select / index_add, whose index is only read along dim (and
/// must still be validated when the loop is empty).
template <bool Accumulate>
void run_index_op(const char* op, DType dtype, const Shape& loop, const View& a, const View& index,
                  const Strides& ix_strides, const View& b, int dim, bool index_1d) {
  const int64_t n = loop.product();
  const int64_t index_count = index.numel();
  if (n == 0 && (index_count == 0 || !index_1d)) return;
  const int64_t limit = b.shape[dim];
  DeviceReport* report = begin_report();
  if (n == 0) {
    check_index_kernel<<<blocks_for(index_count), kThreads, 0, stream()>>>(index.ptr<int64_t>(), index.strides[0],
                                                                            index_count, limit, report);
    GLASSBOX_CUDA_LAUNCHED();
  } else {
    const IndexGeometry g = make_geometry(loop, a.strides, ix_strides, b.strides, dim, limit);
    dispatch(dtype, [&](auto zero) {
      using T = decltype(zero);
      T* ap = static_cast<T*>(a.data);
      T* bp = static_cast<T*>(b.data);
      const int64_t* ip = index.ptr<int64_t>();
      if (n < (int64_t(1) << 31)) {
        index_kernel<T, Accumulate, uint32_t>
            <<<blocks_for(n), kThreads, 0, stream()>>>(g, ap, ip, bp, uint32_t(n), report);
      } else {
        index_kernel<T, Accumulate, int64_t><<<blocks_for(n), kThreads, 0, stream()>>>(g, ap, ip, bp, n, report);
      }
      GLASSBOX_CUDA_LAUNCHED();
    });
  }
  const HostReport r = end_report(report);
  if (r.flagged) throw_out_of_range(op, r.value, dim, limit);
}

/// Strides for a 1-d index read along `dim` of a loop of rank `rank`: 0 elsewhere.
Strides index_vector_strides(const View& index, int rank, int dim) {
  Strides s = Dims::filled(rank, 0);
  s[dim] = index.strides[0];
  return s;
}

}  // namespace

void CudaBackend::index_select(const View& x, int dim, const View& index, const View& out) {
  set_device(device_);
  check_index_vector(index, "index_select");
  check_index_dtype(index, "index_select");
  run_index_op<false>("index_select", x.dtype, out.shape, out, index, index_vector_strides(index, out.shape.size(), dim),
                      x, dim, true);
}

void CudaBackend::index_add(const View& out, int dim, const View& index, const View& src) {
  set_device(device_);
  check_index_vector(index, "index_add");
  check_index_dtype(index, "index_add");
  run_index_op<true>("index_add", out.dtype, src.shape, src, index, index_vector_strides(index, src.shape.size(), dim),
                     out, dim, true);
}

void CudaBackend::gather(const View& x, int dim, const View& index, const View& out) {
  set_device(device_);
  check_index_dtype(index, "gather");
  run_index_op<false>("gather", x.dtype, out.shape, out, index, index.strides, x, dim, false);
}

void CudaBackend::scatter_add(const View& out, int dim, const View& index, const View& src) {
  set_device(device_);
  check_index_dtype(index, "scatter_add");
  // The loop runs over the index's shape; src is read at the same positions (its own
  // strides: index.size(d) <= src.size(d)).
  run_index_op<true>("scatter_add", out.dtype, index.shape, src, index, index.strides, out, dim, false);
}

}  // namespace glassbox::kernels::cuda
