#pragma once
// Seeded, shuffled mini-batches that can be recomputed from any point: the order
// of epoch e is a pure function of (seed, e), so a run resumed at (epoch, batch)
// sees exactly the batches it would have seen without the interruption.
#include <cstdint>
#include <vector>

namespace glassbox::data {

/// A permutation of 0..n-1 drawn by Fisher-Yates from the stream (seed, purpose, salt).
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed, uint64_t purpose, uint64_t salt = 0);

class BatchSampler {
 public:
  /// Batches of `batch_size` over `n` samples; with `drop_last` a final short batch is skipped.
  BatchSampler(int64_t n, int64_t batch_size, uint64_t seed, bool shuffle = true, bool drop_last = false);

  int64_t size() const { return n_; }
  int64_t batch_size() const { return batch_size_; }
  /// Batches per epoch.
  int64_t num_batches() const;
  /// The sample order of epoch `epoch` (identity when not shuffling).
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  /// The sample indices of batch `batch` of epoch `epoch` (recomputes the epoch's order:
  /// to resume mid-epoch; iterate with epoch_batches).
  std::vector<int64_t> batch(int64_t epoch, int64_t batch) const;
  /// Every batch of `epoch`, in order.
  std::vector<std::vector<int64_t>> epoch_batches(int64_t epoch) const;

 private:
  int64_t n_, batch_size_;
  uint64_t seed_;
  bool shuffle_, drop_last_;
};

struct TrainValSplit {
  std::vector<int64_t> train;       // sorted sample indices
  std::vector<int64_t> validation;  // sorted sample indices
};

/// Holds out `validation_size` of `n` samples: the last `validation_size` entries of
/// a seeded permutation (Li et al. 2018 hold out 5,000 of the 60,000 training images).
TrainValSplit train_validation_split(int64_t n, int64_t validation_size, uint64_t seed);

}  // namespace glassbox::data
