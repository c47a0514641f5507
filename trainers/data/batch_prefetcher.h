#pragma once
// Prepares a loader's next batch on a host thread of its own while the current step runs
// (what PyTorch's DataLoader workers do). On a GPU the step only launches work, so without
// it the gather and the elastic deformation of every batch would wait for the previous step,
// and the step for them. Batches are pure functions of (epoch, batch), so what comes out is
// the same as from DataLoader::batch, in any order.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "trainers/data/data_loader.h"

namespace glassbox::data {

class BatchPrefetcher {
 public:
  /// Only the prefetcher's thread calls `loader` from now until the prefetcher is destroyed.
  explicit BatchPrefetcher(DataLoader& loader);
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  /// Batch `b` of epoch `epoch` (ready at once when it is the one after the last taken), and
  /// starts on the one after it. Rethrows what the loader threw for it.
  Batch take(int64_t epoch, int64_t b);

 private:
  using Key = std::pair<int64_t, int64_t>;  // (epoch, batch)
  void work();
  void request(Key key);  // with mu_ held and the worker idle

  DataLoader& loader_;
  const int threads_;  // OpenMP threads of the caller, for the worker's own parallel loops
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Key> wanted_;  // the batch the worker is to prepare next
  std::optional<Key> done_;    // the batch in ready_ (or whose preparation threw)
  Batch ready_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace glassbox::data
