// Random numbers from the same Philox4x32-10 stream as the CPU backend (kernels/philox.h).
//
// Element i of `out` in row-major order uses counter offset + i (one thread per element,
// philox::draw), so the words are those of the CPU. The conversions repeat the CPU's
// arithmetic operation by operation. The CPU build (g++ -march=haswell, C++ mode, which
// contracts a*b+c) compiles `lo + span * u` and `mean + std * z` to fused multiply-adds
// (checked in the disassembly of kernels/cpu/random.cpp.o), so they are written as
// explicit __fma_rn here, and every other step uses the _rn intrinsics so nvcc cannot
// contract differently.
//  - random_uniform: bitwise equal to the CPU (only exact conversions and one FMA).
//  - random_normal: NOT bitwise. The CPU calls glibc logf/cosf (f32) and log/cos (f64),
//    which no CUDA function reproduces. f32 here takes log and cos in double and rounds
//    once (correctly rounded); over all 2^24 possible inputs glibc 2.36's logf and cosf
//    differ from that by one ulp for 0.7% and 1.3% of them (measured on the build
//    machine), so about 2% of f32 normals differ by an ulp or two. f64 uses CUDA's log
//    (<= 1 ulp) and cos (<= 2 ulp) against glibc's (< 1 ulp): a few ulps at most.
//    Every other step (sqrt, products, the final FMA) is the CPU's, bit for bit.
//  - multinomial with replacement: bitwise equal (CDF summed sequentially per row in f64
//    in the CPU's order, same uniform, same upper_bound and clamp).
//  - multinomial without replacement: keys -log(1-u)/p use CUDA's log; a one-ulp
//    difference can only swap two categories whose keys are within an ulp of each other.
#include <math_constants.h>

#include <cub/device/device_segmented_radix_sort.cuh>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/philox.h"

namespace glassbox::kernels::cuda {

namespace {

/// The storage offset of element i (row-major) of `out`: i itself when contiguous.
struct OutIndex {
  Indexer ix;
  bool contiguous;
  __device__ int64_t operator()(int64_t i) const { return contiguous ? i : ix.offset(i); }
};

OutIndex out_index(const View& out) { return OutIndex{make_indexer(out), out.is_contiguous()}; }

/// philox::UniformScale's mapping with the CPU's fused multiply-add made explicit.
template <class T>
__device__ inline T scale_uniform(const philox::UniformScale<T>& s, double u) {
  const T v = T(__fma_rn(s.span, u, s.lo));
  return v >= s.hi && s.span > 0 ? s.below_hi : v;
}

template <class T>
__global__ void uniform_kernel(T* out, OutIndex at, int64_t n, uint64_t seed, uint64_t offset,
                               philox::UniformScale<T> scale) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const philox::Words r = philox::draw(seed, offset + uint64_t(i));
    double u;
    if constexpr (std::is_same_v<T, float>)
      u = double(philox::uniform_f32(r.w[0]));  // exact: a 24-bit integer times 2^-24
    else
      u = philox::uniform_f64(r.w[0], r.w[1]);  // exact: a 53-bit integer times 2^-53
    out[at(i)] = scale_uniform(scale, u);
  }
}

/// Box-Muller as philox::normal_f32, with log and cos correctly rounded to f32 (see top).
__device__ inline float box_muller_f32(const philox::Words& r) {
  const float u1 = __fsub_rn(1.0f, philox::uniform_f32(r.w[0]));
  const float u2 = philox::uniform_f32(r.w[1]);
  const float l = float(log(double(u1)));
  const float radius = __fsqrt_rn(__fmul_rn(-2.0f, l));
  const float angle = __fmul_rn(6.2831853071795865f, u2);
  return __fmul_rn(radius, float(cos(double(angle))));
}

__device__ inline double box_muller_f64(const philox::Words& r) {
  const double u1 = __dsub_rn(1.0, philox::uniform_f64(r.w[0], r.w[1]));
  const double u2 = philox::uniform_f64(r.w[2], r.w[3]);
  const double radius = __dsqrt_rn(__dmul_rn(-2.0, log(u1)));
  return __dmul_rn(radius, cos(__dmul_rn(6.283185307179586, u2)));
}

template <class T>
__global__ void normal_kernel(T* out, OutIndex at, int64_t n, uint64_t seed, uint64_t offset, double mean,
                              double std) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const philox::Words r = philox::draw(seed, offset + uint64_t(i));
    double z;
    if constexpr (std::is_same_v<T, float>)
      z = double(box_muller_f32(r));
    else
      z = box_muller_f64(r);
    out[at(i)] = T(__fma_rn(std, z, mean));  // the CPU's T(mean + std * z), contracted
  }
}

// ---- multinomial ------------------------------------------------------------------------

/// Reasons a probability row is rejected, in the order the CPU checks them.
enum RowProblem : int { kRowOk = 0, kRowBadValue = 1, kRowZeroSum = 2, kRowTooFewPositive = 3 };

/// The CPU's check_probs_row for row r, reading probs in f64. Returns the problem and
/// the offending value (bad probability) or the count of positive categories.
template <class T>
__device__ RowProblem check_row(const T* p, int64_t s0, int64_t s1, int64_t r, int64_t cats, bool replacement,
                                int64_t samples, double* bad_value, int64_t* positive_out) {
  double total = 0;
  int64_t positive = 0;
  for (int64_t c = 0; c < cats; ++c) {
    const double w = double(p[r * s0 + c * s1]);
    if (!(w >= 0) || isinf(w)) {
      *bad_value = w;
      return kRowBadValue;
    }
    total = __dadd_rn(total, w);
    positive += w > 0;
  }
  *positive_out = positive;
  if (total <= 0) return kRowZeroSum;
  if (!replacement && samples > positive) return kRowTooFewPositive;
  return kRowOk;
}

/// One thread per row: records the smallest bad row.
template <class T>
__global__ void check_rows_kernel(const T* p, int64_t s0, int64_t s1, int64_t rows, int64_t cats, bool replacement,
                                  int64_t samples, DeviceReport* report) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += step) {
    double bad = 0;
    int64_t positive = 0;
    if (check_row(p, s0, s1, r, cats, replacement, samples, &bad, &positive) != kRowOk)
      report_min(report, static_cast<unsigned long long>(r));
  }
}

/// Details of one (bad) row, for the error message.
struct RowDetails {
  int problem;
  double value;
  int64_t positive;
};

template <class T>
__global__ void describe_row_kernel(const T* p, int64_t s0, int64_t s1, int64_t r, int64_t cats, bool replacement,
                                    int64_t samples, RowDetails* out) {
  double bad = 0;
  int64_t positive = 0;
  out->problem = check_row(p, s0, s1, r, cats, replacement, samples, &bad, &positive);
  out->value = bad;
  out->positive = positive;
}

/// With replacement: one thread per row builds the CDF sequentially (the CPU's order, so
/// the same partial sums bit for bit) into `cdf` [rows, cats], plus the total and the
/// last positive category.
template <class T>
__global__ void cdf_kernel(const T* p, int64_t s0, int64_t s1, int64_t rows, int64_t cats, double* cdf,
                           double* totals, int64_t* last_positive) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += step) {
    double acc = 0;
    int64_t last = 0;
    double* row = cdf + r * cats;
    for (int64_t c = 0; c < cats; ++c) {
      const double w = double(p[r * s0 + c * s1]);
      acc = __dadd_rn(acc, w);
      row[c] = acc;
      if (w > 0) last = c;
    }
    totals[r] = acc;
    last_positive[r] = last;
  }
}

/// One thread per (row, sample): inverse CDF by std::upper_bound's rule (first entry
/// greater than the target), clamped to the last positive category.
__global__ void sample_with_replacement_kernel(const double* cdf, const double* totals, const int64_t* last_positive,
                                               int64_t rows, int64_t cats, int64_t samples, uint64_t seed,
                                               uint64_t offset, int64_t* out, int64_t o0, int64_t o1) {
  const int64_t n = rows * samples;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const int64_t r = i / samples, s = i % samples;
    const philox::Words x = philox::draw(seed, offset + uint64_t(r * samples + s));
    const double target = __dmul_rn(philox::uniform_f64(x.w[0], x.w[1]), totals[r]);
    const double* row = cdf + r * cats;
    int64_t lo = 0, hi = cats;  // upper_bound over [0, cats)
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (!(target < row[mid]))
        lo = mid + 1;
      else
        hi = mid;
    }
    out[r * o0 + s * o1] = lo < last_positive[r] ? lo : last_positive[r];
  }
}

/// Without replacement: the exponential-race key E_c / p_c of every (row, category),
/// +inf for p_c == 0; -0.0 is turned into +0.0 so the radix sort orders zeros by index
/// as std::pair comparison does. Segment offsets are written alongside.
template <class T>
__global__ void race_keys_kernel(const T* p, int64_t s0, int64_t s1, int64_t row_begin, int64_t rows, int64_t cats,
                                 uint64_t seed, uint64_t offset, double* keys, int* values, int* segment_offsets) {
  const int64_t n = rows * cats;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const int64_t r = row_begin + i / cats, c = i % cats;
    const philox::Words x = philox::draw(seed, offset + uint64_t(r * cats + c));
    const double e = -log(__dsub_rn(1.0, philox::uniform_f64(x.w[0], x.w[1])));
    const double w = double(p[r * s0 + c * s1]);
    keys[i] = w > 0 ? __dadd_rn(__ddiv_rn(e, w), 0.0) : CUDART_INF;
    values[i] = int(c);
    if (c == 0) segment_offsets[i / cats] = int(i);
    if (i == n - 1) segment_offsets[rows] = int(n);
  }
}

/// The first `samples` categories of every sorted row segment.
__global__ void take_smallest_kernel(const int* sorted_values, int64_t row_begin, int64_t rows, int64_t cats,
                                     int64_t samples, int64_t* out, int64_t o0, int64_t o1) {
  const int64_t n = rows * samples;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const int64_t r = i / samples, s = i % samples;
    out[(row_begin + r) * o0 + s * o1] = sorted_values[r * cats + s];
  }
}

[[noreturn]] void throw_row_problem(const RowDetails& d, int64_t row, int64_t samples) {
  const std::string r = std::to_string(row);
  switch (d.problem) {
    case kRowBadValue:
      throw std::invalid_argument("multinomial: row " + r + " has a negative, infinite or NaN probability (" +
                                  std::to_string(d.value) + ")");
    case kRowZeroSum:
      throw std::invalid_argument("multinomial: row " + r + " sums to zero");
    default:
      throw std::invalid_argument("multinomial: cannot draw " + std::to_string(samples) +
                                  " samples without replacement from row " + r + " with only " +
                                  std::to_string(d.positive) + " non-zero categories");
  }
}

/// Validates every row as the CPU does (first bad row wins) before anything is drawn.
template <class T>
void check_rows(const View& probs, int64_t rows, int64_t cats, bool replacement, int64_t samples) {
  const T* p = probs.ptr<T>();
  DeviceReport* report = begin_report();
  check_rows_kernel<T><<<blocks_for(rows, 128), 128, 0, stream()>>>(p, probs.strides[0], probs.strides[1], rows, cats,
                                                                      replacement, samples, report);
  GLASSBOX_CUDA_LAUNCHED();
  const HostReport h = end_report(report);
  if (!h.has_min) return;
  const int64_t row = int64_t(h.min_key);
  // Error path only: describe that row in scratch slot 0 and read it back.
  auto* details = static_cast<RowDetails*>(scratch(sizeof(RowDetails), 0));
  describe_row_kernel<T><<<1, 1, 0, stream()>>>(p, probs.strides[0], probs.strides[1], row, cats, replacement, samples,
                                                details);
  GLASSBOX_CUDA_LAUNCHED();
  RowDetails d{};
  GLASSBOX_CUDA_CHECK(cudaMemcpyAsync(&d, details, sizeof(d), cudaMemcpyDeviceToHost, stream()));
  GLASSBOX_CUDA_CHECK(cudaStreamSynchronize(stream()));
  throw_row_problem(d, row, samples);
}

template <class T>
void multinomial_with_replacement(const View& probs, int64_t rows, int64_t cats, int64_t samples, uint64_t seed,
                                  uint64_t offset, const View& out) {
  auto* cdf = static_cast<double*>(scratch(size_t(rows * cats) * sizeof(double), 0));
  auto* totals = static_cast<double*>(scratch(size_t(rows) * sizeof(double), 1));
  auto* last = static_cast<int64_t*>(scratch(size_t(rows) * sizeof(int64_t), 2));
  cdf_kernel<T><<<blocks_for(rows, 64), 64, 0, stream()>>>(probs.ptr<T>(), probs.strides[0], probs.strides[1], rows,
                                                           cats, cdf, totals, last);
  GLASSBOX_CUDA_LAUNCHED();
  sample_with_replacement_kernel<<<blocks_for(rows * samples), kThreads, 0, stream()>>>(
      cdf, totals, last, rows, cats, samples, seed, offset, out.ptr<int64_t>(), out.strides[0], out.strides[1]);
  GLASSBOX_CUDA_LAUNCHED();
}

/// Sorts each row's race keys with CUB's segmented radix sort (stable, so equal keys
/// keep category order, as the CPU's pair comparison does) and keeps the S smallest.
/// Rows go in chunks of fewer than 2^31 keys (CUB's item counts are int).
template <class T>
void multinomial_without_replacement(const View& probs, int64_t rows, int64_t cats, int64_t samples, uint64_t seed,
                                     uint64_t offset, const View& out) {
  constexpr int64_t kMaxItems = (int64_t(1) << 31) - 1;
  if (cats > kMaxItems)
    throw std::invalid_argument("cuda multinomial: " + std::to_string(cats) +
                                " categories per row is more than this backend supports without replacement");
  const int64_t chunk_rows = std::min<int64_t>(rows, std::max<int64_t>(1, kMaxItems / cats));
  const int64_t chunk_items = chunk_rows * cats;
  // Slot 0: keys in and out; slot 1: values in and out plus segment offsets; slot 2: CUB.
  auto* keys = static_cast<double*>(scratch(size_t(2 * chunk_items) * sizeof(double), 0));
  auto* values = static_cast<int*>(scratch(size_t(2 * chunk_items + chunk_rows + 1) * sizeof(int), 1));
  int* segment_offsets = values + 2 * chunk_items;
  for (int64_t begin = 0; begin < rows; begin += chunk_rows) {
    const int64_t n_rows = std::min(chunk_rows, rows - begin), n_items = n_rows * cats;
    race_keys_kernel<T><<<blocks_for(n_items), kThreads, 0, stream()>>>(probs.ptr<T>(), probs.strides[0],
                                                                        probs.strides[1], begin, n_rows, cats, seed,
                                                                        offset, keys, values, segment_offsets);
    GLASSBOX_CUDA_LAUNCHED();
    size_t temp_bytes = 0;
    GLASSBOX_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(
        nullptr, temp_bytes, keys, keys + chunk_items, values, values + chunk_items, int(n_items), int(n_rows),
        segment_offsets, segment_offsets + 1, 0, int(sizeof(double) * 8), stream()));
    void* temp = scratch(std::max<size_t>(temp_bytes, 1), 2);
    GLASSBOX_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(
        temp, temp_bytes, keys, keys + chunk_items, values, values + chunk_items, int(n_items), int(n_rows),
        segment_offsets, segment_offsets + 1, 0, int(sizeof(double) * 8), stream()));
    take_smallest_kernel<<<blocks_for(n_rows * samples), kThreads, 0, stream()>>>(
        values + chunk_items, begin, n_rows, cats, samples, out.ptr<int64_t>(), out.strides[0], out.strides[1]);
    GLASSBOX_CUDA_LAUNCHED();
  }
}

}  // namespace

void CudaBackend::random_uniform(const View& out, uint64_t seed, uint64_t offset, double lo, double hi) {
  set_device(device_);
  dispatch_floating(out.dtype, "random_uniform", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = out.numel();
    if (n == 0) return;
    // Built on the host exactly as the CPU builds it (hi, and the largest T below hi).
    const philox::UniformScale<T> scale(lo, hi);
    uniform_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(out.ptr<T>(), out_index(out), n, seed, offset, scale);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

void CudaBackend::random_normal(const View& out, uint64_t seed, uint64_t offset, double mean, double std) {
  set_device(device_);
  dispatch_floating(out.dtype, "random_normal", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = out.numel();
    if (n == 0) return;
    normal_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(out.ptr<T>(), out_index(out), n, seed, offset, mean, std);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

void CudaBackend::multinomial(const View& probs, bool replacement, uint64_t seed, uint64_t offset, const View& out) {
  set_device(device_);
  if (probs.shape.size() != 2 || out.shape.size() != 2 || out.shape[0] != probs.shape[0] || out.dtype != DType::i64)
    throw std::invalid_argument("multinomial kernel: expects probs [R, C] and i64 out [R, S], got " +
                                probs.shape.str() + " and " + out.shape.str());
  const int64_t rows = probs.shape[0], cats = probs.shape[1], samples = out.shape[1];
  dispatch_floating(probs.dtype, "multinomial", [&](auto zero) {
    using T = decltype(zero);
    if (rows == 0) return;
    // The CPU rejects rows (empty ones sum to zero) before drawing anything; so does this,
    // at the cost of one stream sync.
    check_rows<T>(probs, rows, cats, replacement, samples);
    if (samples == 0) return;
    if (replacement)
      multinomial_with_replacement<T>(probs, rows, cats, samples, seed, offset, out);
    else
      multinomial_without_replacement<T>(probs, rows, cats, samples, seed, offset, out);
  });
}

}  // namespace glassbox::kernels::cuda
