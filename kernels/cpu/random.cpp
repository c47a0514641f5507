// CPU random-number kernels on Philox4x32-10 (kernels/philox.h). Element i of an
// output, in row-major order, uses counter (offset + i), so the numbers do not
// depend on the thread count, the layout of `out`, or the backend.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/strided_loop.h"
#include "kernels/cpu/philox_avx2.h"
#include "kernels/philox.h"

namespace glassbox::kernels {

namespace {

/// Storage offset (in elements) of the i-th element of v in row-major order.
int64_t element_offset(const View& v, int64_t i) {
  int64_t off = 0;
  for (int d = v.shape.size() - 1; d >= 0; --d) {
    off += (i % v.shape[d]) * v.strides[d];
    i /= v.shape[d];
  }
  return off;
}

constexpr int kCounterBlock = 16;  // counters per vectorised Philox batch

/// Calls fn(first, count, block) for the Philox words of counters offset + first, ...,
/// offset + first + count - 1, for first = 0, 16, 32, ... below n (count < 16 only for
/// the last), in parallel.
template <class BlockFn>
void for_each_counter_block(int64_t n, uint64_t seed, uint64_t offset, BlockFn fn) {
  const int64_t blocks = (n + kCounterBlock - 1) / kCounterBlock;
#pragma omp parallel for schedule(static) if (n >= cpu::kParallelGrain / 8 && !omp_in_parallel())
  for (int64_t b = 0; b < blocks; ++b) {
    philox::Block<kCounterBlock> r;
    const int64_t first = b * kCounterBlock, count = std::min<int64_t>(kCounterBlock, n - first);
    philox::draw_block_avx2(seed, offset + uint64_t(first), r);
    fn(first, count, r);
  }
}

/// out[i] = gen(philox draw of counter offset + i) for every element, in parallel.
template <class T, class Gen>
void fill_from_counters(const View& out, uint64_t seed, uint64_t offset, Gen gen) {
  T* o = out.ptr<T>();
  const bool contiguous = out.is_contiguous();
  for_each_counter_block(out.numel(), seed, offset, [&](int64_t first, int64_t count, const auto& r) {
    for (int l = 0; l < count; ++l) o[contiguous ? first + l : element_offset(out, first + l)] = gen(r.lane(l));
  });
}

/// The f32 draws of U[0, 1) into contiguous memory: uniform_f32 of word 0, eight lanes at a
/// time (the generic path's per-element scaling in double is the identity here, and cost as
/// much as the Philox rounds; Gumbel noise draws these).
void fill_unit_uniform_f32(float* o, int64_t n, uint64_t seed, uint64_t offset) {
  const __m256 scale = _mm256_set1_ps(1.0f / 16777216.0f);
  for_each_counter_block(n, seed, offset, [&](int64_t first, int64_t count, const auto& r) {
    if (count < kCounterBlock) {
      for (int l = 0; l < count; ++l) o[first + l] = philox::uniform_f32(r.w[0][l]);
      return;
    }
    for (int v = 0; v < kCounterBlock; v += 8) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r.w[0] + v));
      // (w >> 8) < 2^24 converts exactly; the scale is a power of two: as uniform_f32.
      _mm256_storeu_ps(o + first + v, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(w, 8)), scale));
    }
  });
}

void check_probs_row(const double* w, int64_t cats, bool replacement, int64_t samples, int64_t row) {
  double total = 0;
  int64_t positive = 0;
  for (int64_t c = 0; c < cats; ++c) {
    const double p = w[c];
    if (!(p >= 0) || !std::isfinite(p))
      throw std::invalid_argument("multinomial: row " + std::to_string(row) +
                                  " has a negative, infinite or NaN probability (" + std::to_string(p) + ")");
    total += p;
    positive += p > 0;
  }
  if (total <= 0) throw std::invalid_argument("multinomial: row " + std::to_string(row) + " sums to zero");
  if (!replacement && samples > positive)
    throw std::invalid_argument("multinomial: cannot draw " + std::to_string(samples) +
                                " samples without replacement from row " + std::to_string(row) + " with only " +
                                std::to_string(positive) + " non-zero categories");
}

}  // namespace

void CpuBackend::random_uniform(const View& out, uint64_t seed, uint64_t offset, double lo, double hi) {
  cpu::dispatch_floating(out.dtype, "random_uniform", [&](auto z) {
    using T = decltype(z);
    const philox::UniformScale<T> scale(lo, hi);
    if constexpr (std::is_same_v<T, float>) {
      if (lo == 0.0 && hi == 1.0 && out.is_contiguous()) return fill_unit_uniform_f32(out.ptr<T>(), out.numel(), seed, offset);
      fill_from_counters<T>(out, seed, offset,
                            [=](const philox::Words& r) { return scale(philox::uniform_f32(r.w[0])); });
    } else {
      fill_from_counters<T>(out, seed, offset,
                            [=](const philox::Words& r) { return scale(philox::uniform_f64(r.w[0], r.w[1])); });
    }
  });
}

void CpuBackend::random_normal(const View& out, uint64_t seed, uint64_t offset, double mean, double std) {
  cpu::dispatch_floating(out.dtype, "random_normal", [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, float>) {
      fill_from_counters<T>(out, seed, offset,
                            [=](const philox::Words& r) { return T(mean + std * philox::normal_f32(r)); });
    } else {
      fill_from_counters<T>(out, seed, offset,
                            [=](const philox::Words& r) { return T(mean + std * philox::normal_f64(r)); });
    }
  });
}

// Counter layout (which the engine reserves): with replacement, sample s of row r
// uses counter offset + r * S + s and picks by inverse CDF; without replacement,
// category c of row r uses counter offset + r * C + c to draw a key
// E_c / p_c with E_c ~ Exp(1), and the S smallest keys win. That is the
// exponential-race form of Efraimidis and Spirakis, "Weighted random sampling with
// a reservoir" (2006): it has the law of drawing one category at a time in
// proportion to the remaining weights.
void CpuBackend::multinomial(const View& probs, bool replacement, uint64_t seed, uint64_t offset, const View& out) {
  if (probs.shape.size() != 2 || out.shape.size() != 2 || out.shape[0] != probs.shape[0] ||
      out.dtype != DType::i64)
    throw std::invalid_argument("multinomial kernel: expects probs [R, C] and i64 out [R, S], got " +
                                probs.shape.str() + " and " + out.shape.str());
  const int64_t rows = probs.shape[0], cats = probs.shape[1], samples = out.shape[1];
  // Rows in f64, validated before any parallel work (exceptions cannot leave an OpenMP region).
  std::vector<double> weights(size_t(rows * cats));
  cpu::dispatch_floating(probs.dtype, "multinomial", [&](auto z) {
    using T = decltype(z);
    const T* p = probs.ptr<T>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cats; ++c)
        weights[size_t(r * cats + c)] = double(p[r * probs.strides[0] + c * probs.strides[1]]);
  });
  for (int64_t r = 0; r < rows; ++r) check_probs_row(weights.data() + r * cats, cats, replacement, samples, r);

  int64_t* o = out.ptr<int64_t>();
#pragma omp parallel for schedule(dynamic) if (rows * std::max(samples, cats) >= cpu::kParallelGrain && !omp_in_parallel())
  for (int64_t r = 0; r < rows; ++r) {
    const double* w = weights.data() + r * cats;
    int64_t* orow = o + r * out.strides[0];
    if (replacement) {
      std::vector<double> cdf(static_cast<size_t>(cats));
      double acc = 0;
      int64_t last_positive = 0;
      for (int64_t c = 0; c < cats; ++c) {
        acc += w[c];
        cdf[size_t(c)] = acc;
        if (w[c] > 0) last_positive = c;
      }
      for (int64_t s = 0; s < samples; ++s) {
        const philox::Words x = philox::draw(seed, offset + uint64_t(r * samples + s));
        const double target = philox::uniform_f64(x.w[0], x.w[1]) * acc;
        const int64_t c = std::upper_bound(cdf.begin(), cdf.end(), target) - cdf.begin();
        orow[s * out.strides[1]] = std::min(c, last_positive);
      }
    } else {
      std::vector<std::pair<double, int64_t>> keys(static_cast<size_t>(cats));
      for (int64_t c = 0; c < cats; ++c) {
        const philox::Words x = philox::draw(seed, offset + uint64_t(r * cats + c));
        const double e = -std::log(1.0 - philox::uniform_f64(x.w[0], x.w[1]));
        const double p = w[c];
        keys[size_t(c)] = {p > 0 ? e / p : std::numeric_limits<double>::infinity(), c};
      }
      std::partial_sort(keys.begin(), keys.begin() + samples, keys.end());
      for (int64_t s = 0; s < samples; ++s) orow[s * out.strides[1]] = keys[size_t(s)].second;
    }
  }
}

}  // namespace glassbox::kernels
