#pragma once
// Philox4x32-10 on eight counters at once with AVX2: the same words as philox::draw()
// (kernels/philox.h), bit for bit, about six times faster per draw than the scalar
// rounds, which compilers do not vectorise (each round's 32x32->64 products). Random
// numbers are a tenth of a Transformer Programs step (a Gumbel draw per attention entry
// and MLP output).
#include <immintrin.h>

#include <cstdint>

#include "kernels/philox.h"

namespace glassbox::kernels::philox {

/// The high and low 32-bit halves of the eight products a[l] * m (m the same for every lane).
inline void mul_hi_lo(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
  // _mm256_mul_epu32 multiplies the even 32-bit lanes into 64-bit products; the odd lanes
  // go through it shifted down. The halves are then blended back into lane order.
  const __m256i even = _mm256_mul_epu32(a, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

/// draw_block() for N consecutive counters first, first + 1, ... (N a multiple of 8):
/// lane l of the block holds the words of counter first + l. The N / 8 vectors go through
/// each round together: one vector's round is a chain of dependent instructions (product,
/// shift, blend, xor), and interleaving independent chains hides their latency.
template <int N>
inline void draw_block_avx2(uint64_t seed, uint64_t first, Block<N>& b) {
  static_assert(N % 8 == 0, "draw_block_avx2: whole vectors of eight counters");
  constexpr int V = N / 8;
  const __m256i m0 = _mm256_set1_epi32(int(kM0)), m1 = _mm256_set1_epi32(int(kM1));
  __m256i c0[V], c1[V], c2[V], c3[V];
  for (int v = 0; v < V; ++v) {
    // Counter words 0 and 1 are the low and high halves of first + 8 v + l; words 2, 3 are 0.
    alignas(32) uint32_t lo_words[8], hi_words[8];
    for (int l = 0; l < 8; ++l) {
      const uint64_t c = first + uint64_t(v * 8 + l);
      lo_words[l] = uint32_t(c);
      hi_words[l] = uint32_t(c >> 32);
    }
    c0[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo_words));
    c1[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(hi_words));
    c2[v] = _mm256_setzero_si256();
    c3[v] = _mm256_setzero_si256();
  }
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int r = 0; r < kRounds; ++r) {
    if (r > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const __m256i key0 = _mm256_set1_epi32(int(k0)), key1 = _mm256_set1_epi32(int(k1));
    for (int v = 0; v < V; ++v) {
      __m256i hi0, lo0, hi1, lo1;
      mul_hi_lo(c0[v], m0, hi0, lo0);
      mul_hi_lo(c2[v], m1, hi1, lo1);
      // round(): {hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0}
      c0[v] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[v]), key0);
      c1[v] = lo1;
      c2[v] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[v]), key1);
      c3[v] = lo0;
    }
  }
  for (int v = 0; v < V; ++v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.w[0] + v * 8), c0[v]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.w[1] + v * 8), c1[v]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.w[2] + v * 8), c2[v]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.w[3] + v * 8), c3[v]);
  }
}

}  // namespace glassbox::kernels::philox
