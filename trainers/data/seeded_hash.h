#pragma once
// Counter-based random numbers for the data pipeline: every value is a pure
// function of (seed, stream, counter), so a batch order or an augmentation can
// be recomputed for any epoch and sample without replaying earlier draws,
// which is what makes training resumable mid-run.
#include <cstdint>

namespace glassbox::data {

/// SplitMix64 finaliser (Steele, Lea & Flood, "Fast splittable pseudorandom
/// number generators", OOPSLA 2014): a bijective mix with full avalanche.
constexpr uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// A key for one independent stream, derived from a seed and up to three labels
/// (e.g. purpose, epoch, sample index).
constexpr uint64_t stream_key(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  return splitmix64(splitmix64(splitmix64(splitmix64(seed) ^ a) ^ b) ^ c);
}

/// The counter-th 64-bit value of the stream `key`.
constexpr uint64_t stream_bits(uint64_t key, uint64_t counter) { return splitmix64(key ^ splitmix64(counter)); }

/// Uniform in [0, 1) with 53 random bits.
constexpr double to_unit_double(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

/// Uniform integer in [0, n) by Lemire's multiply-shift (bias below 2^-64 * n, negligible for data sizes).
inline uint64_t to_below(uint64_t bits, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(bits) * n) >> 64);
}

/// Purposes, so that streams for different jobs never coincide for the same seed.
enum class StreamPurpose : uint64_t { batch_order = 1, validation_split = 2, elastic = 3, sequence_task = 4 };

}  // namespace glassbox::data
