#include "trainers/data/batch_sampler.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "trainers/data/seeded_hash.h"

namespace glassbox::data {

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed, uint64_t purpose, uint64_t salt) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  const uint64_t key = stream_key(seed, purpose, salt);
  // Fisher-Yates (Knuth, TAOCP vol. 2, Algorithm P): position i swaps with a uniform j in [0, i].
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j =
        static_cast<int64_t>(to_below(stream_bits(key, static_cast<uint64_t>(i)), static_cast<uint64_t>(i) + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

BatchSampler::BatchSampler(int64_t n, int64_t batch_size, uint64_t seed, bool shuffle, bool drop_last)
    : n_(n), batch_size_(batch_size), seed_(seed), shuffle_(shuffle), drop_last_(drop_last) {
  if (n < 0) throw std::invalid_argument("BatchSampler: negative sample count " + std::to_string(n));
  if (batch_size <= 0)
    throw std::invalid_argument("BatchSampler: batch size must be positive, got " + std::to_string(batch_size));
}

int64_t BatchSampler::num_batches() const {
  return drop_last_ ? n_ / batch_size_ : (n_ + batch_size_ - 1) / batch_size_;
}

std::vector<int64_t> BatchSampler::epoch_order(int64_t epoch) const {
  if (!shuffle_) {
    std::vector<int64_t> order(static_cast<size_t>(n_));
    std::iota(order.begin(), order.end(), int64_t{0});
    return order;
  }
  return seeded_permutation(n_, seed_, static_cast<uint64_t>(StreamPurpose::batch_order), static_cast<uint64_t>(epoch));
}

std::vector<int64_t> BatchSampler::batch(int64_t epoch, int64_t b) const {
  if (b < 0 || b >= num_batches()) {
    throw std::out_of_range("BatchSampler: batch " + std::to_string(b) + " out of range [0, " +
                            std::to_string(num_batches()) + ")");
  }
  return epoch_batches(epoch)[static_cast<size_t>(b)];
}

std::vector<std::vector<int64_t>> BatchSampler::epoch_batches(int64_t epoch) const {
  std::vector<int64_t> order = epoch_order(epoch);
  std::vector<std::vector<int64_t>> out;
  for (int64_t b = 0; b < num_batches(); ++b) {
    const int64_t start = b * batch_size_;
    const int64_t end = std::min(n_, start + batch_size_);
    out.emplace_back(order.begin() + start, order.begin() + end);
  }
  return out;
}

TrainValSplit train_validation_split(int64_t n, int64_t validation_size, uint64_t seed) {
  if (validation_size < 0 || validation_size >= n) {
    throw std::invalid_argument("validation split: " + std::to_string(validation_size) +
                                " held-out samples must be in [0, " + std::to_string(n) + ")");
  }
  std::vector<int64_t> order = seeded_permutation(n, seed, static_cast<uint64_t>(StreamPurpose::validation_split));
  TrainValSplit out{{order.begin(), order.end() - validation_size}, {order.end() - validation_size, order.end()}};
  std::sort(out.train.begin(), out.train.end());
  std::sort(out.validation.begin(), out.validation.end());
  return out;
}

}  // namespace glassbox::data
