#pragma once
// Seeded random numbers from one counter-based generator (Philox4x32-10): a seed
// and an offset determine every value, so CPU and CUDA draw the same numbers and
// a generator's state is two integers that checkpoints can store.
#include <cstdint>

#include "engine/tensor.h"

namespace glassbox {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  /// Reserves `n` counters and returns the first.
  uint64_t advance(uint64_t n) {
    uint64_t o = offset_;
    offset_ += n;
    return o;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

/// The process-wide default generator; manual_seed resets it.
Generator& default_generator();
void manual_seed(uint64_t seed);

namespace ops {

/// Uniform in [lo, hi).
Tensor rand(const Shape& shape, double lo = 0.0, double hi = 1.0, TensorOptions opt = {}, Generator* gen = nullptr);
Tensor randn(const Shape& shape, double mean = 0.0, double std = 1.0, TensorOptions opt = {}, Generator* gen = nullptr);
/// In-place fills (no grad recorded; for initialisation).
void uniform_(Tensor& t, double lo, double hi, Generator* gen = nullptr);
void normal_(Tensor& t, double mean, double std, Generator* gen = nullptr);
/// Bernoulli(p) samples as 0/1 in p's dtype (p a tensor of probabilities).
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
/// Inverted dropout: zeroes with probability p and scales the rest by 1/(1-p); identity when !training.
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);
/// Standard Gumbel(0, 1) noise: -log(-log(U)).
Tensor gumbel(const Shape& shape, TensorOptions opt = {}, Generator* gen = nullptr);
/// Gumbel-softmax relaxation of logits along dim at temperature tau; `hard` gives the
/// one-hot argmax forward with the soft gradient (straight-through).
Tensor gumbel_softmax(const Tensor& logits, double tau, bool hard = false, int dim = -1, Generator* gen = nullptr);
/// Draws num_samples i64 category indices per row of probs [R, C] (or [C]).
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement = false, Generator* gen = nullptr);
/// A random permutation of 0..n-1 (i64).
Tensor randperm(int64_t n, Generator* gen = nullptr, Device device = Device::cpu());

}  // namespace ops
}  // namespace glassbox
