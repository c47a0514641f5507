#include "trainers/data/batch_prefetcher.h"

#include <omp.h>

namespace glassbox::data {

BatchPrefetcher::BatchPrefetcher(DataLoader& loader)
    : loader_(loader), threads_(omp_get_max_threads()), worker_([this] { work(); }) {}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void BatchPrefetcher::work() {
  // OpenMP's thread count is per thread: a new thread starts from the default (every core),
  // not from what --threads set on the caller's.
  omp_set_num_threads(threads_);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || wanted_.has_value(); });
    if (stop_) return;
    const Key key = *wanted_;
    lock.unlock();
    Batch batch;
    std::exception_ptr error;
    try {
      batch = loader_.batch(key.first, key.second);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    ready_ = std::move(batch);
    error_ = error;
    done_ = key;
    wanted_.reset();
    cv_.notify_all();
  }
}

void BatchPrefetcher::request(Key key) {
  wanted_ = key;
  done_.reset();
  cv_.notify_all();
}

Batch BatchPrefetcher::take(int64_t epoch, int64_t b) {
  const Key key{epoch, b};
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !wanted_.has_value(); });  // the worker is idle
  if (done_ != key) {
    request(key);
    cv_.wait(lock, [this] { return !wanted_.has_value(); });
  }
  Batch out = std::move(ready_);
  std::exception_ptr error = error_;
  ready_ = Batch{};
  error_ = nullptr;
  // The next batch: the following one of this epoch, else the first of the next epoch.
  request(b + 1 < loader_.num_batches() ? Key{epoch, b + 1} : Key{epoch + 1, 0});
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace glassbox::data
