// CPU softmax and log-softmax along any dim of a strided view, and their input
// gradients. Each line is shifted by its max before exponentiating so that no
// exp overflows (the standard stable form: softmax(x) = softmax(x - max x)).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/dim_lines.h"
#include "kernels/cpu/libmvec.h"

namespace glassbox::kernels {

namespace {

/// Softmax (or log-softmax) of one line of n elements with strides xs and os. The
/// exponentials are taken in T (f32 lines use expf, several times cheaper than exp)
/// while the sum accumulates in double, so long f32 lines keep their precision.
template <class T>
inline void softmax_line(const T* x, int64_t xs, T* out, int64_t os, int64_t n, bool log) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i * xs]);
  double s = 0;
  if (log) {
    for (int64_t i = 0; i < n; ++i) s += std::exp(x[i * xs] - m);
    const T shift = m + T(std::log(s));
    for (int64_t i = 0; i < n; ++i) out[i * os] = x[i * xs] - shift;
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const T e = std::exp(x[i * xs] - m);
      out[i * os] = e;
      s += e;
    }
    const T inv = T(1.0 / s);
    for (int64_t i = 0; i < n; ++i) out[i * os] *= inv;
  }
}

/// The lanes below `count` (of 8) set: the mask of a line's last, partial vector.
inline __m256i lane_mask(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Eight lanes of a contiguous f32 line from `at`, `count` of them real (all when >= 8);
/// the rest read as `pad`, without touching memory past the line.
inline __m256 load_lanes(const float* at, int64_t count, float pad) {
  if (count >= 8) return _mm256_loadu_ps(at);
  const __m256i mask = lane_mask(count);
  return _mm256_blendv_ps(_mm256_set1_ps(pad), _mm256_maskload_ps(at, mask), _mm256_castsi256_ps(mask));
}

inline void store_lanes(float* at, int64_t count, __m256 v) {
  if (count >= 8) return _mm256_storeu_ps(at, v);
  _mm256_maskstore_ps(at, lane_mask(count), v);
}

/// exp(d) for d <= 0 (or NaN), eight lanes. libmvec's expf takes a slow scalar path for a
/// whole vector when any lane is outside its normal range (masked -inf logits, the -inf
/// padding of a partial vector), so those lanes are computed at -87 and set to 0: exp below
/// -87.3 is a denormal or 0 in f32, here 0 (NaN lanes stay NaN).
inline __m256 exp_nonpositive(__m256 d) {
  const __m256 floor = _mm256_set1_ps(-87.0f);
  const __m256 tiny = _mm256_cmp_ps(d, floor, _CMP_LT_OQ);
  return _mm256_andnot_ps(tiny, _ZGVdN8v_expf(_mm256_max_ps(floor, d)));
}

/// Lanes 0-3 and 4-7 of a float vector, widened to double.
inline __m256d low_lanes_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
inline __m256d high_lanes_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

/// The sum of a vector's eight floats added into two double accumulators (lanes 0-3, 4-7).
inline void add_to_double(__m256 v, __m256d& lo, __m256d& hi) {
  lo = _mm256_add_pd(lo, low_lanes_pd(v));
  hi = _mm256_add_pd(hi, high_lanes_pd(v));
}

inline double horizontal_sum(__m256d lo, __m256d hi) {
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(lo, hi));
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

/// softmax_line for a contiguous f32 line, eight elements at a time with libmvec's expf:
/// the exponentials were most of a Transformer Programs step's softmax time (rows of 16:
/// attention over keys, Gumbel-softmax over values). A last partial vector is padded with
/// -inf (exp gives 0), so every element goes through the same exp.
inline void softmax_line_f32(const float* x, float* out, int64_t n, bool log) {
  const float inf = std::numeric_limits<float>::infinity();
  __m256 vmax = _mm256_set1_ps(-inf);
  for (int64_t i = 0; i < n; i += 8) vmax = _mm256_max_ps(vmax, load_lanes(x + i, n - i, -inf));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax);
  float m = lanes[0];
  for (int i = 1; i < 8; ++i) m = std::max(m, lanes[i]);
  const __m256 shift = _mm256_set1_ps(m);
  __m256d sum_lo = _mm256_setzero_pd(), sum_hi = _mm256_setzero_pd();
  if (log) {
    for (int64_t i = 0; i < n; i += 8)
      add_to_double(exp_nonpositive(_mm256_sub_ps(load_lanes(x + i, n - i, -inf), shift)), sum_lo, sum_hi);
    const __m256 total = _mm256_set1_ps(m + float(std::log(horizontal_sum(sum_lo, sum_hi))));
    for (int64_t i = 0; i < n; i += 8) store_lanes(out + i, n - i, _mm256_sub_ps(load_lanes(x + i, n - i, 0.0f), total));
  } else {
    for (int64_t i = 0; i < n; i += 8) {
      const __m256 e = exp_nonpositive(_mm256_sub_ps(load_lanes(x + i, n - i, -inf), shift));
      store_lanes(out + i, n - i, e);
      add_to_double(e, sum_lo, sum_hi);
    }
    const __m256 inv = _mm256_set1_ps(float(1.0 / horizontal_sum(sum_lo, sum_hi)));
    for (int64_t i = 0; i < n; i += 8) store_lanes(out + i, n - i, _mm256_mul_ps(load_lanes(out + i, n - i, 0.0f), inv));
  }
}

/// The log-softmax gradient g - exp(y) * sum(g) of a contiguous f32 line, eight at a time.
inline void log_softmax_backward_line_f32(const float* g, const float* y, float* out, int64_t n) {
  __m256d sum_lo = _mm256_setzero_pd(), sum_hi = _mm256_setzero_pd();
  for (int64_t i = 0; i < n; i += 8) add_to_double(load_lanes(g + i, n - i, 0.0f), sum_lo, sum_hi);
  const __m256 total = _mm256_set1_ps(float(horizontal_sum(sum_lo, sum_hi)));
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 p = exp_nonpositive(load_lanes(y + i, n - i, 0.0f));
    store_lanes(out + i, n - i, _mm256_sub_ps(load_lanes(g + i, n - i, 0.0f), _mm256_mul_ps(p, total)));
  }
}

/// The softmax gradient y * (g - sum(g * y)) of a contiguous f32 line, eight at a time, the
/// products summed in double as in the scalar loop.
inline void softmax_backward_line_f32(const float* g, const float* y, float* out, int64_t n) {
  __m256d sum_lo = _mm256_setzero_pd(), sum_hi = _mm256_setzero_pd();
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 gv = load_lanes(g + i, n - i, 0.0f), yv = load_lanes(y + i, n - i, 0.0f);
    sum_lo = _mm256_add_pd(sum_lo, _mm256_mul_pd(low_lanes_pd(gv), low_lanes_pd(yv)));
    sum_hi = _mm256_add_pd(sum_hi, _mm256_mul_pd(high_lanes_pd(gv), high_lanes_pd(yv)));
  }
  const __m256 total = _mm256_set1_ps(float(horizontal_sum(sum_lo, sum_hi)));
  for (int64_t i = 0; i < n; i += 8)
    store_lanes(out + i, n - i,
                _mm256_mul_ps(load_lanes(y + i, n - i, 0.0f), _mm256_sub_ps(load_lanes(g + i, n - i, 0.0f), total)));
}

}  // namespace

void CpuBackend::softmax(const View& x, int dim, bool log, const View& out) {
  const int64_t n = x.shape[dim], xs = x.strides[dim], os = out.strides[dim];
  cpu::dispatch_floating(x.dtype, "softmax", [&](auto z) {
    using T = decltype(z);
    const T* xp = x.ptr<T>();
    T* op = out.ptr<T>();
    cpu::for_each_line<2>(x.shape, dim, {&x.strides, &out.strides}, 3 * n, [&](const std::array<int64_t, 2>& off) {
      // Unit strides as constants let the compiler vectorise the common contiguous case.
      if constexpr (std::is_same_v<T, float>) {
        // (Lines shorter than a vector stay scalar: the lane shuffling costs more there.)
        if (xs == 1 && os == 1 && n >= 8) return softmax_line_f32(xp + off[0], op + off[1], n, log);
      }
      if (xs == 1 && os == 1)
        softmax_line<T>(xp + off[0], 1, op + off[1], 1, n, log);
      else
        softmax_line<T>(xp + off[0], xs, op + off[1], os, n, log);
    });
  });
}

void CpuBackend::softmax_backward(const View& grad, const View& y, int dim, bool log, const View& out) {
  // With y = softmax(x): dx = y * (g - sum(g * y)).
  // With y = log_softmax(x): dx = g - exp(y) * sum(g).
  const int64_t n = y.shape[dim], gs = grad.strides[dim], ys = y.strides[dim], os = out.strides[dim];
  cpu::dispatch_floating(y.dtype, "softmax_backward", [&](auto z) {
    using T = decltype(z);
    const T* gp = grad.ptr<T>();
    const T* yp = y.ptr<T>();
    T* op = out.ptr<T>();
    cpu::for_each_line<3>(y.shape, dim, {&grad.strides, &y.strides, &out.strides}, 2 * n,
                          [&](const std::array<int64_t, 3>& off) {
                            const T* gl = gp + off[0];
                            const T* yl = yp + off[1];
                            T* ol = op + off[2];
                            if constexpr (std::is_same_v<T, float>) {
                              if (gs == 1 && ys == 1 && os == 1 && n >= 8)
                                return log ? log_softmax_backward_line_f32(gl, yl, ol, n)
                                           : softmax_backward_line_f32(gl, yl, ol, n);
                            }
                            double s = 0;
                            if (log) {
                              for (int64_t i = 0; i < n; ++i) s += gl[i * gs];
                              for (int64_t i = 0; i < n; ++i)
                                ol[i * os] = gl[i * gs] - std::exp(yl[i * ys]) * T(s);
                            } else {
                              for (int64_t i = 0; i < n; ++i) s += double(gl[i * gs]) * double(yl[i * ys]);
                              for (int64_t i = 0; i < n; ++i) ol[i * os] = yl[i * ys] * (gl[i * gs] - T(s));
                            }
                          });
  });
}

}  // namespace glassbox::kernels
