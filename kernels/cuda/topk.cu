// Top-k along one dim, sorted, with i64 indices.
//
// Each value becomes an unsigned key whose integer order is the wanted order (k
// largest: NaN first, then descending; k smallest: ascending, NaN last; -0 == +0),
// and equal keys rank by index, as the CPU's comparator. Per row (one block):
//  - rows of at most kSortMax elements are sorted whole in shared memory (bitonic);
//  - longer rows first find the k-th key by a radix select (8 bits per pass, a
//    shared histogram), collect the k winners (ties at the k-th key by lowest index),
//    and sort those: in shared memory when k <= kSortMax, else in global scratch
//    by a bitonic network of launches, a batch of rows at a time.
#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

constexpr int kSortMax = 2048;     // rows (or winners) sorted in shared memory
constexpr int kSelectThreads = 512;
constexpr int64_t kSentinelIndex = INT64_MAX;  // pads sorts; ranks after every element

template <class T>
using KeyOf = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;

// Order-preserving unsigned images of each dtype (NaN above +inf, -0 folded into +0).
__device__ __forceinline__ uint32_t raw_key(float v) {
  if (v != v) return 0xFFFFFFFFu;
  if (v == 0.0f) v = 0.0f;
  const uint32_t u = __float_as_uint(v);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ uint64_t raw_key(double v) {
  if (v != v) return ~uint64_t(0);
  if (v == 0.0) v = 0.0;
  const uint64_t u = uint64_t(__double_as_longlong(v));
  const uint64_t sign = uint64_t(1) << 63;
  return (u & sign) ? ~u : (u | sign);
}
__device__ __forceinline__ uint32_t raw_key(int32_t v) { return uint32_t(v) ^ 0x80000000u; }
__device__ __forceinline__ uint64_t raw_key(int64_t v) { return uint64_t(v) ^ (uint64_t(1) << 63); }
__device__ __forceinline__ uint32_t raw_key(uint8_t v) { return v; }
__device__ __forceinline__ uint32_t raw_key(bool v) { return v ? 1u : 0u; }

/// The key whose larger values come first in the output.
template <class T>
__device__ __forceinline__ KeyOf<T> rank_key(T v, bool largest) {
  const KeyOf<T> k = raw_key(v);
  return largest ? k : KeyOf<T>(~k);
}

/// Whether (ka, ia) comes before (kb, ib): larger key first, then lower index.
template <class K>
__device__ __forceinline__ bool before(K ka, int64_t ia, K kb, int64_t ib) {
  return ka != kb ? ka > kb : ia < ib;
}

/// One bitonic compare-exchange: puts entries i < j in `before` order when `up`, else reversed.
template <class K>
__device__ __forceinline__ void compare_exchange(K* key, int64_t* idx, int64_t i, int64_t j, bool up) {
  if (before(key[j], idx[j], key[i], idx[i]) == up) {
    const K tk = key[i];
    key[i] = key[j];
    key[j] = tk;
    const int64_t ti = idx[i];
    idx[i] = idx[j];
    idx[j] = ti;
  }
}

/// Finds the k-th key of the row (radix select) and calls emit(slot, key, index) for
/// exactly the k winners, slots 0..k-1 in no particular order. Every thread of the
/// block calls it; blockDim.x is a multiple of 32; 1 <= k <= n.
template <class T, class Emit>
__device__ void select_top(const T* xr, int64_t xs, int64_t n, int64_t k, bool largest, Emit emit) {
  using K = KeyOf<T>;
  __shared__ unsigned long long hist[256];
  __shared__ unsigned long long s_remaining, s_gt, s_eq_seen;
  __shared__ int s_digit;
  __shared__ unsigned warp_count[32];
  const int tid = threadIdx.x, nthreads = blockDim.x;
  // Invariant: the winners are the keys above `prefix` (on the bits fixed so far) plus
  // `remaining` of the keys that match it there.
  K prefix = 0, mask = 0;
  unsigned long long remaining = static_cast<unsigned long long>(k);
  for (int shift = int(sizeof(K)) * 8 - 8; shift >= 0; shift -= 8) {
    for (int b = tid; b < 256; b += nthreads) hist[b] = 0;
    __syncthreads();
    for (int64_t i = tid; i < n; i += nthreads) {
      const K key = rank_key(xr[i * xs], largest);
      if ((key & mask) == prefix) atomicAdd(&hist[int(key >> shift) & 0xFF], 1ull);
    }
    __syncthreads();
    if (tid == 0) {
      unsigned long long above = 0;
      int b = 255;
      while (b > 0 && above + hist[b] < remaining) above += hist[b--];
      s_digit = b;
      s_remaining = remaining - above;
    }
    __syncthreads();
    prefix |= K(s_digit) << shift;
    mask |= K(0xFF) << shift;
    remaining = s_remaining;
  }
  // prefix is now the k-th key itself: take every key above it and the `remaining`
  // lowest-indexed keys equal to it (a running count in index order).
  const K kth = prefix;
  const unsigned long long n_above = static_cast<unsigned long long>(k) - remaining;
  if (tid == 0) s_gt = s_eq_seen = 0;
  __syncthreads();
  const int lane = tid & 31, warp = tid >> 5, warps = nthreads >> 5;
  for (int64_t c0 = 0; c0 < n; c0 += nthreads) {
    const int64_t i = c0 + tid;
    K key = 0;
    bool gt = false, eq = false;
    if (i < n) {
      key = rank_key(xr[i * xs], largest);
      gt = key > kth;
      eq = key == kth;
    }
    if (gt) emit(int64_t(atomicAdd(&s_gt, 1ull)), key, i);
    const unsigned ballot = __ballot_sync(0xffffffffu, eq);
    if (lane == 0) warp_count[warp] = unsigned(__popc(ballot));
    __syncthreads();
    unsigned long long rank = s_eq_seen + unsigned(__popc(ballot & ((1u << lane) - 1u)));
    unsigned long long chunk_total = 0;
    for (int w = 0; w < warps; ++w) {
      if (w < warp) rank += warp_count[w];
      chunk_total += warp_count[w];
    }
    if (eq && rank < remaining) emit(int64_t(n_above + rank), key, i);
    __syncthreads();
    if (tid == 0) s_eq_seen += chunk_total;
  }
  __syncthreads();
}

/// Sorts key/idx[0, p) (p a power of two) into `before` order; every thread calls it.
template <class K>
__device__ void bitonic_sort_shared(K* key, int64_t* idx, int p) {
  for (int size = 2; size <= p; size <<= 1) {
    for (int stride = size >> 1; stride > 0; stride >>= 1) {
      for (int t = threadIdx.x; t < p / 2; t += blockDim.x) {
        const int i = 2 * t - (t & (stride - 1)), j = i + stride;
        compare_exchange(key, idx, i, j, (i & size) == 0);
      }
      __syncthreads();
    }
  }
}

/// Rows whose candidates (the whole row when n <= kSortMax, else the k winners,
/// k <= kSortMax) fit in shared memory: a block per row.
template <class T>
__global__ void topk_shared_kernel(const T* __restrict__ x, T* __restrict__ values, int64_t* __restrict__ indices,
                                   Indexer row_x, Indexer row_v, Indexer row_i, int64_t rows, int64_t n, int64_t k,
                                   int64_t xs, int64_t vs, int64_t is, bool largest) {
  using K = KeyOf<T>;
  __shared__ K s_key[kSortMax];
  __shared__ int64_t s_idx[kSortMax];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row_x.offset(row);
    int64_t m;
    if (n <= kSortMax) {
      m = n;
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        s_key[i] = rank_key(xr[i * xs], largest);
        s_idx[i] = i;
      }
    } else {
      m = k;
      select_top(xr, xs, n, k, largest, [&](int64_t slot, K key, int64_t i) {
        s_key[slot] = key;
        s_idx[slot] = i;
      });
    }
    int p = 1;
    while (p < m) p <<= 1;
    for (int64_t s = m + threadIdx.x; s < p; s += blockDim.x) {
      s_key[s] = 0;
      s_idx[s] = kSentinelIndex;
    }
    __syncthreads();
    bitonic_sort_shared(s_key, s_idx, p);
    T* vr = values + row_v.offset(row);
    int64_t* ir = indices + row_i.offset(row);
    for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
      const int64_t src = s_idx[j];
      vr[j * vs] = xr[src * xs];  // the original value, bits and all
      ir[j * is] = src;
    }
    __syncthreads();  // s_key / s_idx are refilled for the next row
  }
}

/// Large k: the winners of rows [r0, r0 + batch) go to global key/idx rows of p
/// entries, padded with sentinels.
template <class T>
__global__ void topk_select_global_kernel(const T* __restrict__ x, Indexer row_x, int64_t r0, int64_t batch,
                                          int64_t n, int64_t k, int64_t xs, bool largest, KeyOf<T>* __restrict__ gkey,
                                          int64_t* __restrict__ gidx, int64_t p) {
  using K = KeyOf<T>;
  for (int64_t local = blockIdx.x; local < batch; local += gridDim.x) {
    const T* xr = x + row_x.offset(r0 + local);
    K* key = gkey + local * p;
    int64_t* idx = gidx + local * p;
    select_top(xr, xs, n, k, largest, [&](int64_t slot, K kv, int64_t i) {
      key[slot] = kv;
      idx[slot] = i;
    });
    for (int64_t s = k + threadIdx.x; s < p; s += blockDim.x) {
      key[s] = 0;
      idx[s] = kSentinelIndex;
    }
  }
}

/// One compare-exchange step (size, stride) of a bitonic sort of every row of p entries.
template <class K>
__global__ void bitonic_step_kernel(K* __restrict__ gkey, int64_t* __restrict__ gidx, int64_t pairs, int64_t p,
                                    int64_t size, int64_t stride) {
  const int64_t half = p / 2;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < pairs; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = t / half, u = t % half;
    const int64_t i = 2 * u - (u & (stride - 1)), j = i + stride;
    K* key = gkey + row * p;
    int64_t* idx = gidx + row * p;
    compare_exchange(key, idx, i, j, (i & size) == 0);
  }
}

/// Writes the first k sorted entries of each batch row.
template <class T>
__global__ void topk_write_kernel(const T* __restrict__ x, T* __restrict__ values, int64_t* __restrict__ indices,
                                  Indexer row_x, Indexer row_v, Indexer row_i, int64_t r0, int64_t batch, int64_t k,
                                  int64_t xs, int64_t vs, int64_t is, const int64_t* __restrict__ gidx, int64_t p) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < batch * k; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t local = t / k, j = t % k, row = r0 + local;
    const int64_t src = gidx[local * p + j];
    values[row_v.offset(row) + j * vs] = x[row_x.offset(row) + src * xs];
    indices[row_i.offset(row) + j * is] = src;
  }
}

/// The indexer of v's rows along dim (size 1 there), in row-major order of the other dims.
Indexer rows_of(const View& v, int dim) {
  Indexer ix = make_indexer(v);
  ix.size[dim] = 1;
  return ix;
}

}  // namespace

void CudaBackend::topk(const View& x, int64_t k, int dim, bool largest, const View& values, const View& indices) {
  set_device(device_);
  const int64_t n = x.shape[dim], xs = x.strides[dim], vs = values.strides[dim], is = indices.strides[dim];
  dispatch(x.dtype, [&](auto z) {
    using T = decltype(z);
    using K = KeyOf<T>;
    if (k <= 0 || values.numel() == 0) return;
    if (k > n) throw std::invalid_argument("cuda topk: k = " + std::to_string(k) + " exceeds the dim size " + std::to_string(n));
    const int64_t rows = values.numel() / k;
    const Indexer rx = rows_of(x, dim), rv = rows_of(values, dim), ri = rows_of(indices, dim);
    const T* xp = x.ptr<T>();
    T* vp = values.ptr<T>();
    int64_t* ip = indices.ptr<int64_t>();
    if (n <= kSortMax || k <= kSortMax) {
      int threads = kSelectThreads;
      if (n <= kSortMax) {
        threads = 32;  // half the padded row: one compare-exchange per thread and step
        while (threads < kSelectThreads && 2 * threads < n) threads *= 2;
      }
      const unsigned grid = unsigned(std::min<int64_t>(rows, 1 << 20));
      topk_shared_kernel<T><<<grid, threads, 0, stream()>>>(xp, vp, ip, rx, rv, ri, rows, n, k, xs, vs, is, largest);
      GLASSBOX_CUDA_LAUNCHED();
      return;
    }
    // Large k: winners sorted in global scratch, as many rows at once as 256 MiB allows.
    int64_t p = 1;
    while (p < k) p <<= 1;
    const int64_t per_row = p * int64_t(sizeof(K) + sizeof(int64_t));
    const int64_t batch = std::max<int64_t>(1, std::min<int64_t>(rows, (int64_t(256) << 20) / per_row));
    K* gkey = static_cast<K*>(scratch(size_t(batch * p) * sizeof(K), 0));
    int64_t* gidx = static_cast<int64_t*>(scratch(size_t(batch * p) * sizeof(int64_t), 1));
    for (int64_t r0 = 0; r0 < rows; r0 += batch) {
      const int64_t rb = std::min(batch, rows - r0);
      topk_select_global_kernel<T><<<unsigned(std::min<int64_t>(rb, 1 << 20)), kSelectThreads, 0, stream()>>>(
          xp, rx, r0, rb, n, k, xs, largest, gkey, gidx, p);
      GLASSBOX_CUDA_LAUNCHED();
      const int64_t pairs = rb * (p / 2);
      for (int64_t size = 2; size <= p; size <<= 1) {
        for (int64_t stride = size >> 1; stride > 0; stride >>= 1) {
          bitonic_step_kernel<K><<<blocks_for(pairs), kThreads, 0, stream()>>>(gkey, gidx, pairs, p, size, stride);
          GLASSBOX_CUDA_LAUNCHED();
        }
      }
      topk_write_kernel<T><<<blocks_for(rb * k), kThreads, 0, stream()>>>(xp, vp, ip, rx, rv, ri, r0, rb, k, xs, vs, is,
                                                                           gidx, p);
      GLASSBOX_CUDA_LAUNCHED();
    }
  });
}

}  // namespace glassbox::kernels::cuda
