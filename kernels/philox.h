#pragma once
// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw,
// "Parallel random numbers: as easy as 1, 2, 3" (SC 2011), plus the conversions
// from its output words to uniform and normal numbers. Header-only, using only C math
// functions, so that CPU and CUDA kernels compile the same code and draw the
// same stream: element i of a draw uses counter (offset + i) under key = seed.
#include <math.h>

#include <cstdint>

#ifdef __CUDACC__
#define GLASSBOX_HOST_DEVICE __host__ __device__
#else
#define GLASSBOX_HOST_DEVICE
#endif

namespace glassbox::kernels::philox {

struct Words {
  uint32_t w[4];
};

// Multipliers and Weyl key increments from the paper (Table 2 / Random123).
constexpr uint32_t kM0 = 0xD2511F53u;
constexpr uint32_t kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kW1 = 0xBB67AE85u;  // sqrt(3) - 1
constexpr int kRounds = 10;

/// One Philox S-box round: two 32x32->64 multiplications whose high halves are
/// mixed with the other two counter words and the key.
GLASSBOX_HOST_DEVICE inline Words round(const Words& c, uint32_t k0, uint32_t k1) {
  const uint64_t p0 = uint64_t(kM0) * c.w[0];
  const uint64_t p1 = uint64_t(kM1) * c.w[2];
  const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
  const uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
  return Words{{hi1 ^ c.w[1] ^ k0, lo1, hi0 ^ c.w[3] ^ k1, lo0}};
}

/// Philox4x32 with 10 rounds; the key is bumped by (W0, W1) between rounds.
GLASSBOX_HOST_DEVICE inline Words philox4x32_10(Words counter, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < kRounds; ++r) {
    if (r > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    counter = round(counter, k0, k1);
  }
  return counter;
}

/// The four output words for a 64-bit counter value and a 64-bit seed.
GLASSBOX_HOST_DEVICE inline Words draw(uint64_t seed, uint64_t counter) {
  return philox4x32_10(Words{{uint32_t(counter), uint32_t(counter >> 32), 0u, 0u}}, uint32_t(seed),
                       uint32_t(seed >> 32));
}

/// The words of N draws stored word-major (w[k][lane]); the CPU fills them eight counters
/// at a time (kernels/cpu/philox_avx2.h), a CUDA thread calls draw() for its own counter.
template <int N>
struct Block {
  uint32_t w[4][N];
  Words lane(int l) const { return Words{{w[0][l], w[1][l], w[2][l], w[3][l]}}; }
};

/// Uniform in [0, 1) with a 24-bit mantissa (exact in f32) from one word.
GLASSBOX_HOST_DEVICE inline float uniform_f32(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }

/// Uniform in [0, 1) with a 53-bit mantissa (exact in f64) from two words.
GLASSBOX_HOST_DEVICE inline double uniform_f64(uint32_t hi, uint32_t lo) {
  const uint64_t bits = ((uint64_t(hi) << 32) | lo) >> 11;
  return double(bits) * (1.0 / 9007199254740992.0);
}

GLASSBOX_HOST_DEVICE inline float step_toward(float x, float to) { return nextafterf(x, to); }
GLASSBOX_HOST_DEVICE inline double step_toward(double x, double to) { return nextafter(x, to); }

/// Maps u in [0, 1) to lo + (hi - lo) * u in T, computed in double. When rounding to
/// T would reach hi (a range narrow for f32), the largest T below hi is used instead,
/// so results stay in [lo, hi); that value is found once, not per element.
template <class T>
struct UniformScale {
  double lo, span;
  T hi, below_hi;
  GLASSBOX_HOST_DEVICE UniformScale(double lo_, double hi_)
      : lo(lo_), span(hi_ - lo_), hi(T(hi_)), below_hi(hi_ > lo_ ? step_toward(T(hi_), T(lo_)) : T(lo_)) {}
  GLASSBOX_HOST_DEVICE T operator()(double u) const {
    const T v = T(lo + span * u);
    return v >= hi && span > 0 ? below_hi : v;
  }
};

/// Standard normal by Box-Muller (Box and Muller 1958): sqrt(-2 ln u1) cos(2 pi u2),
/// with u1 taken in (0, 1] so the logarithm stays finite. f32 uses words 0 and 1,
/// f64 uses words (0, 1) and (2, 3) of the same counter.
GLASSBOX_HOST_DEVICE inline float normal_f32(const Words& r) {
  const float u1 = 1.0f - uniform_f32(r.w[0]);
  const float u2 = uniform_f32(r.w[1]);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853071795865f * u2);
}
GLASSBOX_HOST_DEVICE inline double normal_f64(const Words& r) {
  const double u1 = 1.0 - uniform_f64(r.w[0], r.w[1]);
  const double u2 = uniform_f64(r.w[2], r.w[3]);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

}  // namespace glassbox::kernels::philox
