// Reductions over any set of dims, arg-max/min along one dim, cumulative sum.
//
// Every reduction is an "op" (identity, load, combine, finish) run by one kernel over
// a 2-d block: threadIdx.x picks the output, threadIdx.y walks the reduced elements,
// and the partial results of a column of threads meet in shared memory. The host
// picks the block shape from the layout: a block per output when the reduced elements
// are the contiguous ones, 32 outputs x 8 reducers when the kept dim is contiguous, a
// thread per output for short reductions; and splits a long reduction over several
// blocks (gridDim.y) whose partials a second kernel combines.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

// ---- Accumulator types -------------------------------------------------------------

/// Floating sums and products accumulate in double (as the CPU backend); integer ones
/// in uint64, whose wrap-around truncates to the same bits as T's own arithmetic.
template <class T>
using AccOf = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;

struct NoCtx {};

template <class T>
struct SumOp {
  using Acc = AccOf<T>;
  using Out = T;
  using Ctx = NoCtx;
  __device__ Ctx context(int64_t) const { return {}; }
  __device__ Acc identity() const { return Acc(0); }
  __device__ Acc load(T v, int64_t, Ctx) const { return Acc(v); }
  __device__ Acc combine(Acc a, Acc b) const { return a + b; }
  __device__ Out finish(Acc a, Ctx) const { return static_cast<T>(a); }
};

template <class T>
struct SumSqOp : SumOp<T> {
  using Acc = AccOf<T>;
  __device__ Acc load(T v, int64_t, NoCtx) const { return Acc(v) * Acc(v); }
};

template <class T>
struct ProdOp : SumOp<T> {
  using Acc = AccOf<T>;
  __device__ Acc identity() const { return Acc(1); }
  __device__ Acc combine(Acc a, Acc b) const { return a * b; }
};

/// max / min where a NaN anywhere gives NaN (reduce max/min on the CPU).
template <class T, bool kMax>
struct ExtremeOp {
  using Acc = T;
  using Out = T;
  using Ctx = NoCtx;
  T init;  // -inf / lowest for max, +inf / highest for min (set on the host)
  __device__ Ctx context(int64_t) const { return {}; }
  __device__ Acc identity() const { return init; }
  __device__ Acc load(T v, int64_t, Ctx) const { return v; }
  __device__ Acc combine(Acc a, Acc b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (a != a) return a;
      if (b != b) return b;
    }
    return (kMax ? b > a : b < a) ? b : a;
  }
  __device__ Out finish(Acc a, Ctx) const { return a; }
};

/// The max that logsumexp shifts by: NaNs are skipped, as std::max(m, v) does on the CPU.
template <class T>
struct MaxSkipNanOp : ExtremeOp<T, true> {
  __device__ T combine(T a, T b) const { return a < b ? b : a; }
};

/// Second pass of logsumexp: sum of exp(x - m) in double, then m + log(sum); m (one
/// per output, contiguous) comes from the first pass.
template <class T>
struct SumExpOp {
  using Acc = double;
  using Out = T;
  using Ctx = T;
  const T* m;
  __device__ Ctx context(int64_t o) const { return m[o]; }
  __device__ Acc identity() const { return 0.0; }
  __device__ Acc load(T v, int64_t, Ctx mo) const { return exp(double(v - mo)); }
  __device__ Acc combine(Acc a, Acc b) const { return a + b; }
  __device__ Out finish(Acc s, Ctx mo) const {
    if (isinf(double(mo))) return mo;  // all -inf (or empty), or a +inf present
    return static_cast<T>(double(mo) + log(s));
  }
};

template <class T>
struct ArgAcc {
  T v;
  int64_t i;
};

/// Index of the max (min) along one dim: the first NaN wins, else the best value with
/// the lowest index, as the CPU's scan does. The rule is associative, so any order works.
template <class T, bool kMax>
struct ArgOp {
  using Acc = ArgAcc<T>;
  using Out = int64_t;
  using Ctx = NoCtx;
  T init;  // loses to every element: an element equal to it wins by its lower index
  __device__ Ctx context(int64_t) const { return {}; }
  __device__ Acc identity() const { return {init, INT64_MAX}; }
  __device__ Acc load(T v, int64_t j, Ctx) const { return {v, j}; }
  __device__ Acc combine(Acc a, Acc b) const {
    if constexpr (std::is_floating_point_v<T>) {
      const bool an = a.v != a.v, bn = b.v != b.v;
      if (an || bn) {
        if (an && bn) return a.i < b.i ? a : b;
        return an ? a : b;
      }
    }
    if (kMax ? b.v > a.v : b.v < a.v) return b;
    if (kMax ? a.v > b.v : a.v < b.v) return a;
    return a.i < b.i ? a : b;
  }
  __device__ Out finish(Acc a, Ctx) const { return a.i; }
};

// ---- The reduction kernels -----------------------------------------------------------

/// Offset of reduced element j: one multiply in the common single-dim case.
__device__ __forceinline__ int64_t reduced_offset(const Indexer& red, int64_t j) {
  return red.rank == 1 ? j * red.stride[0] : red.offset(j);
}

/// Block (bx, by): thread (tx, ty) reduces output base + tx over elements
/// ty, ty + by, ... of the chunk [blockIdx.y * chunk, +chunk) of the reduced range.
/// With one split the result is finished into `out`; otherwise each block's partial
/// goes to partial[o * splits + blockIdx.y]. by is a power of two.
template <class T, class Op>
__global__ void reduce_kernel(const T* __restrict__ x, typename Op::Out* __restrict__ out, Indexer kept_x,
                              Indexer kept_out, Indexer red, int64_t n_out, int64_t n_red, int64_t chunk,
                              typename Op::Acc* __restrict__ partial, Op op) {
  using Acc = typename Op::Acc;
  extern __shared__ __align__(16) unsigned char reduce_smem[];
  Acc* smem = reinterpret_cast<Acc*>(reduce_smem);
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  const int64_t lo = int64_t(blockIdx.y) * chunk;
  const int64_t hi = lo + chunk < n_red ? lo + chunk : n_red;
  for (int64_t base = int64_t(blockIdx.x) * bx; base < n_out; base += int64_t(gridDim.x) * bx) {
    const int64_t o = base + tx;
    Acc acc = op.identity();
    typename Op::Ctx ctx{};
    if (o < n_out) {
      ctx = op.context(o);
      const T* xo = x + kept_x.offset(o);
      for (int64_t j = lo + ty; j < hi; j += by) acc = op.combine(acc, op.load(xo[reduced_offset(red, j)], j, ctx));
    }
    if (by > 1) {
      // Tree over the column of threads that share output o (all threads take part).
      smem[ty * bx + tx] = acc;
      __syncthreads();
      for (int s = by / 2; s > 0; s >>= 1) {
        if (ty < s) smem[ty * bx + tx] = op.combine(smem[ty * bx + tx], smem[(ty + s) * bx + tx]);
        __syncthreads();
      }
      acc = smem[tx];
      __syncthreads();  // smem is rewritten by the next group of outputs
    }
    if (ty == 0 && o < n_out) {
      if (gridDim.y == 1)
        out[kept_out.offset(o)] = op.finish(acc, ctx);
      else
        partial[o * gridDim.y + blockIdx.y] = acc;
    }
  }
}

/// Combines the `splits` partials of each output and finishes it.
template <class Op>
__global__ void reduce_finish_kernel(const typename Op::Acc* __restrict__ partial, typename Op::Out* __restrict__ out,
                                     Indexer kept_out, int64_t n_out, int splits, Op op) {
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < n_out; o += int64_t(gridDim.x) * blockDim.x) {
    typename Op::Acc acc = op.identity();
    for (int g = 0; g < splits; ++g) acc = op.combine(acc, partial[o * splits + g]);
    out[kept_out.offset(o)] = op.finish(acc, op.context(o));
  }
}

// ---- Planning ------------------------------------------------------------------------

/// The kept dims (output positions, with x's and out's strides) and the reduced dims
/// (with x's strides) of one reduction, size-1 dims dropped and neighbours that walk
/// memory as one dim merged.
struct ReducePlan {
  Indexer kept_x, kept_out, red;
  int64_t n_out = 1, n_red = 1;
  int64_t min_kept_stride = std::numeric_limits<int64_t>::max();
  int64_t min_red_stride = std::numeric_limits<int64_t>::max();
};

int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

/// Appends (size, stride) to ix, merging it into the last dim when that one steps
/// exactly over it (row-major order is kept, so linear indices keep their meaning).
void push_dim(Indexer& ix, int64_t size, int64_t stride) {
  if (ix.rank > 0 && ix.stride[ix.rank - 1] == stride * size) {
    ix.size[ix.rank - 1] *= size;
    ix.stride[ix.rank - 1] = stride;
    return;
  }
  ix.size[ix.rank] = size;
  ix.stride[ix.rank] = stride;
  ++ix.rank;
}

/// Kept dims: all d in `kept` (x strides and out strides merged together only when
/// both allow it). Reduced dims: `red` (their order is free, so sorted by stride
/// descending to merge as much as possible).
ReducePlan make_plan(const View& x, const View& out, const std::vector<int>& kept, std::vector<int> red,
                     bool merge_reduced) {
  ReducePlan p;
  for (int d : kept) {
    const int64_t s = x.shape[d];
    Indexer& kx = p.kept_x;
    Indexer& ko = p.kept_out;
    const bool mergeable = kx.rank > 0 && kx.stride[kx.rank - 1] == x.strides[d] * s &&
                           ko.stride[ko.rank - 1] == out.strides[d] * s;
    if (mergeable) {
      kx.size[kx.rank - 1] *= s;
      kx.stride[kx.rank - 1] = x.strides[d];
      ko.size[ko.rank - 1] *= s;
      ko.stride[ko.rank - 1] = out.strides[d];
    } else {
      kx.size[kx.rank] = s;
      kx.stride[kx.rank] = x.strides[d];
      ++kx.rank;
      ko.size[ko.rank] = s;
      ko.stride[ko.rank] = out.strides[d];
      ++ko.rank;
    }
    p.n_out *= s;
    p.min_kept_stride = std::min(p.min_kept_stride, abs64(x.strides[d]));
  }
  if (merge_reduced)
    std::stable_sort(red.begin(), red.end(), [&](int a, int b) { return abs64(x.strides[a]) > abs64(x.strides[b]); });
  for (int d : red) {
    if (merge_reduced) {
      push_dim(p.red, x.shape[d], x.strides[d]);
    } else {
      p.red.size[p.red.rank] = x.shape[d];
      p.red.stride[p.red.rank] = x.strides[d];
      ++p.red.rank;
    }
    p.n_red *= x.shape[d];
    p.min_red_stride = std::min(p.min_red_stride, abs64(x.strides[d]));
  }
  return p;
}

int pow2_at_least(int64_t n, int lo, int hi) {
  int p = lo;
  while (p < hi && p < n) p *= 2;
  return p;
}

/// Launches op over the plan (and the finishing pass when the reduction is split).
template <class T, class Op>
void run_reduce(const T* x, typename Op::Out* out, const ReducePlan& p, const Op& op) {
  using Acc = typename Op::Acc;
  if (p.n_out == 0) return;
  int bx, by;
  if (p.n_red <= 32) {
    bx = 256, by = 1;  // short reductions: a thread per output
  } else if (p.min_red_stride <= p.min_kept_stride) {
    bx = 1, by = pow2_at_least(p.n_red, 64, 256);  // reduced elements contiguous: a block per output
  } else {
    bx = 32, by = 8;  // kept dim contiguous: a warp reads 32 neighbouring outputs at once
  }
  const int64_t blocks_x = (p.n_out + bx - 1) / bx;
  // Few outputs with long reductions leave the GPU idle: split the reduced range.
  int64_t splits = 1;
  constexpr int64_t kTargetBlocks = 1024, kMinPerThread = 128;
  if (blocks_x < kTargetBlocks / 4 && p.n_red / by > kMinPerThread) {
    splits = std::min<int64_t>({(kTargetBlocks + blocks_x - 1) / blocks_x, p.n_red / (by * kMinPerThread), 65535});
    splits = std::max<int64_t>(splits, 1);
  }
  const int64_t chunk = (p.n_red + splits - 1) / splits;
  splits = p.n_red == 0 ? 1 : (p.n_red + chunk - 1) / chunk;
  Acc* partial = nullptr;
  if (splits > 1) partial = static_cast<Acc*>(scratch(size_t(p.n_out * splits) * sizeof(Acc), 0));
  const dim3 block(bx, by);
  const dim3 grid(unsigned(std::min<int64_t>(blocks_x, 1 << 20)), unsigned(splits));
  const size_t smem = by > 1 ? size_t(bx) * by * sizeof(Acc) : 0;
  reduce_kernel<T, Op><<<grid, block, smem, stream()>>>(x, out, p.kept_x, p.kept_out, p.red, p.n_out, p.n_red,
                                                         chunk, partial, op);
  GLASSBOX_CUDA_LAUNCHED();
  if (splits > 1) {
    reduce_finish_kernel<Op><<<blocks_for(p.n_out), kThreads, 0, stream()>>>(partial, out, p.kept_out, p.n_out,
                                                                              int(splits), op);
    GLASSBOX_CUDA_LAUNCHED();
  }
}

template <class T>
T lowest_of() {
  return std::is_floating_point_v<T> ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
}
template <class T>
T highest_of() {
  return std::is_floating_point_v<T> ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
}

template <class T>
void reduce_typed(ReduceOp op, const View& x, const View& out) {
  std::vector<int> kept, red;
  for (int d = 0; d < x.shape.size(); ++d) {
    if (x.shape[d] == 1) continue;
    (out.shape[d] == 1 ? red : kept).push_back(d);
  }
  const ReducePlan p = make_plan(x, out, kept, red, true);
  const T* xs = x.ptr<T>();
  T* os = out.ptr<T>();
  switch (op) {
    case ReduceOp::sum: return run_reduce(xs, os, p, SumOp<T>{});
    case ReduceOp::sum_sq: return run_reduce(xs, os, p, SumSqOp<T>{});
    case ReduceOp::prod: return run_reduce(xs, os, p, ProdOp<T>{});
    case ReduceOp::max: return run_reduce(xs, os, p, ExtremeOp<T, true>{lowest_of<T>()});
    case ReduceOp::min: return run_reduce(xs, os, p, ExtremeOp<T, false>{highest_of<T>()});
    case ReduceOp::logsumexp:
      if constexpr (std::is_floating_point_v<T>) {
        if (p.n_out == 0) return;
        // Pass 1: the NaN-skipping max of each output into scratch slot 1 (contiguous,
        // indexed by output number); pass 2: m + log(sum(exp(x - m))).
        T* m = static_cast<T*>(scratch(size_t(p.n_out) * sizeof(T), 1));
        ReducePlan to_m = p;
        int64_t stride = 1;
        for (int d = p.kept_out.rank - 1; d >= 0; --d) {
          to_m.kept_out.stride[d] = stride;
          stride *= p.kept_out.size[d];
        }
        MaxSkipNanOp<T> max_op;
        max_op.init = -std::numeric_limits<T>::infinity();
        run_reduce(xs, m, to_m, max_op);
        return run_reduce(xs, os, p, SumExpOp<T>{m});
      }
      break;
  }
  throw std::invalid_argument(std::string("reduce ") + op_name(op) + " is not defined for " + dtype_name(x.dtype));
}

// ---- Cumulative sum ------------------------------------------------------------------

/// Inclusive scan of v over the block (blockDim.x a multiple of 32, every thread
/// calling); `total` receives the block's sum. warp_sums holds 32 entries.
template <class Acc>
__device__ Acc block_inclusive_scan(Acc v, Acc* warp_sums, Acc& total) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int d = 1; d < 32; d <<= 1) {
    const Acc n = __shfl_up_sync(0xffffffffu, v, d);
    if (lane >= d) v += n;
  }
  if (lane == 31) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    Acc w = lane < warps ? warp_sums[lane] : Acc(0);
    for (int d = 1; d < 32; d <<= 1) {
      const Acc n = __shfl_up_sync(0xffffffffu, w, d);
      if (lane >= d) w += n;
    }
    if (lane < warps) warp_sums[lane] = w;
  }
  __syncthreads();
  if (warp > 0) v += warp_sums[warp - 1];
  total = warp_sums[warps - 1];
  __syncthreads();  // warp_sums is rewritten by the next call
  return v;
}

constexpr int kScanItems = 4;  // consecutive elements per thread per chunk

/// A block per line: chunks of blockDim * kScanItems elements, each thread summing
/// its kScanItems neighbours, a block scan of those sums, and a running carry.
template <class T>
__global__ void cumsum_lines_kernel(const T* __restrict__ x, T* __restrict__ out, Indexer line_x, Indexer line_out,
                                    int64_t lines, int64_t n, int64_t xs, int64_t os) {
  using Acc = AccOf<T>;
  __shared__ Acc warp_sums[32];
  for (int64_t line = blockIdx.x; line < lines; line += gridDim.x) {
    const T* xl = x + line_x.offset(line);
    T* ol = out + line_out.offset(line);
    Acc carry = 0;
    for (int64_t c0 = 0; c0 < n; c0 += int64_t(blockDim.x) * kScanItems) {
      const int64_t first = c0 + int64_t(threadIdx.x) * kScanItems;
      Acc item[kScanItems];
      Acc local = 0;
#pragma unroll
      for (int q = 0; q < kScanItems; ++q) {
        item[q] = first + q < n ? Acc(xl[(first + q) * xs]) : Acc(0);
        local += item[q];
      }
      Acc total;
      const Acc before = block_inclusive_scan(local, warp_sums, total) - local + carry;
      Acc run = before;
#pragma unroll
      for (int q = 0; q < kScanItems; ++q) {
        run += item[q];
        if (first + q < n) ol[(first + q) * os] = static_cast<T>(run);
      }
      carry += total;
    }
  }
}

/// A thread per line, for lines whose neighbours are adjacent in memory (a warp's
/// reads of one step then coalesce).
template <class T>
__global__ void cumsum_thread_kernel(const T* __restrict__ x, T* __restrict__ out, Indexer line_x, Indexer line_out,
                                     int64_t lines, int64_t n, int64_t xs, int64_t os) {
  using Acc = AccOf<T>;
  for (int64_t line = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; line < lines;
       line += int64_t(gridDim.x) * blockDim.x) {
    const T* xl = x + line_x.offset(line);
    T* ol = out + line_out.offset(line);
    Acc acc = 0;
    for (int64_t i = 0; i < n; ++i) {
      acc += Acc(xl[i * xs]);
      ol[i * os] = static_cast<T>(acc);
    }
  }
}

/// The indexer of v's lines along dim (size 1 there), in row-major order of the other dims.
Indexer lines_of(const View& v, int dim) {
  Indexer ix = make_indexer(v);
  ix.size[dim] = 1;
  return ix;
}

/// True when `dim` has the smallest stride of x's non-trivial dims: its lines are
/// contiguous runs, best read by a block per line.
bool dim_is_fastest(const View& x, int dim) {
  for (int d = 0; d < x.shape.size(); ++d)
    if (d != dim && x.shape[d] > 1 && abs64(x.strides[d]) < abs64(x.strides[dim])) return false;
  return true;
}

}  // namespace

void CudaBackend::reduce(ReduceOp op, const View& x, const View& out) {
  set_device(device_);
  dispatch(x.dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bool>) {
      throw std::invalid_argument(std::string("reduce ") + op_name(op) + " is not defined for bool");
    } else {
      reduce_typed<T>(op, x, out);
    }
  });
}

void CudaBackend::arg_reduce(bool is_max, const View& x, int dim, const View& out) {
  set_device(device_);
  std::vector<int> kept;
  for (int d = 0; d < x.shape.size(); ++d)
    if (d != dim && x.shape[d] != 1) kept.push_back(d);
  // The reduced range is `dim` alone and unmerged: its linear index is the answer.
  const ReducePlan p = make_plan(x, out, kept, {dim}, false);
  dispatch(x.dtype, [&](auto z) {
    using T = decltype(z);
    const T* xs = x.ptr<T>();
    int64_t* os = out.ptr<int64_t>();
    if (is_max)
      run_reduce(xs, os, p, ArgOp<T, true>{lowest_of<T>()});
    else
      run_reduce(xs, os, p, ArgOp<T, false>{highest_of<T>()});
  });
}

void CudaBackend::cumsum(const View& x, int dim, const View& out) {
  set_device(device_);
  if (x.dtype != out.dtype) throw std::invalid_argument("cumsum: input and output dtypes differ");
  const int64_t n = x.shape[dim], xs = x.strides[dim], os = out.strides[dim];
  dispatch(x.dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bool>) {
      throw std::invalid_argument("cumsum is not defined for bool (convert to i64 first)");
    } else {
      if (x.numel() == 0) return;
      const int64_t lines = x.numel() / n;
      const Indexer lx = lines_of(x, dim), lo = lines_of(out, dim);
      if (!dim_is_fastest(x, dim) && lines >= 2048) {
        cumsum_thread_kernel<T><<<blocks_for(lines), kThreads, 0, stream()>>>(x.ptr<T>(), out.ptr<T>(), lx, lo,
                                                                              lines, n, xs, os);
      } else {
        const int threads = pow2_at_least((n + kScanItems - 1) / kScanItems, 32, 512);
        const unsigned grid = unsigned(std::min<int64_t>(lines, 1 << 20));
        cumsum_lines_kernel<T><<<grid, threads, 0, stream()>>>(x.ptr<T>(), out.ptr<T>(), lx, lo, lines, n, xs, os);
      }
      GLASSBOX_CUDA_LAUNCHED();
    }
  });
}

}  // namespace glassbox::kernels::cuda
