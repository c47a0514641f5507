#include "engine/storage.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "kernels/registry.h"

namespace glassbox {

namespace {

/// Keeps freed blocks by exact rounded size and hands them out again: training
/// loops allocate the same shapes every step, and fresh large allocations cost
/// page faults (CPU) or device synchronisation (CUDA). The cache holds at most
/// `limit` bytes: a block freed beyond it goes back to the system, so a loop
/// over ever-new shapes (evaluation at many batch sizes, say) cannot grow the
/// process without bound. The blocks cached first, a training step's, stay.
class CachingAllocator {
 public:
  CachingAllocator(Device device, size_t limit) : device_(device), limit_(limit) {}

  static size_t round(size_t n) {
    if (n <= 512) return 512;
    // Round up to a multiple of 1/8 of the next power of two below: <= 12.5% waste.
    size_t p = 1;
    while (p * 2 <= n) p *= 2;
    size_t step = p / 8;
    return (n + step - 1) / step * step;
  }
  void* allocate(size_t nbytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(nbytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= nbytes;
        return p;
      }
    }
    try {
      return kernels::backend_for(device_).allocate(nbytes);
    } catch (const std::bad_alloc&) {
      release();
      return kernels::backend_for(device_).allocate(nbytes);
    }
  }
  void deallocate(void* p, size_t nbytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_bytes_ + nbytes <= limit_) {
        free_[nbytes].push_back(p);
        cached_bytes_ += nbytes;
        return;
      }
    }
    kernels::backend_for(device_).deallocate(p, nbytes);
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [size, blocks] : free_)
      for (void* p : blocks) kernels::backend_for(device_).deallocate(p, size);
    free_.clear();
    cached_bytes_ = 0;
  }
  size_t cached_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_bytes_;
  }
  void set_limit(size_t limit) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      limit_ = limit;
      if (cached_bytes_ <= limit_) return;
    }
    release();
  }

 private:
  Device device_;
  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;
  size_t cached_bytes_ = 0;
  size_t limit_;
};

CachingAllocator& allocator_for(Device device) {
  // Never destroyed: tensors held in static objects may outlive any destructor order.
  static auto* cpu = new CachingAllocator(Device::cpu(), kDefaultCpuCacheLimit);
  if (device.is_cpu()) return *cpu;
  static std::mutex mu;
  static auto* cuda = new std::map<int, std::unique_ptr<CachingAllocator>>();
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = (*cuda)[device.index];
  // Device memory is the process's own, as in PyTorch's CUDA caching allocator: no limit.
  if (!slot) slot = std::make_unique<CachingAllocator>(device, SIZE_MAX);
  return *slot;
}

}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  size_t rounded = CachingAllocator::round(nbytes);
  void* p = allocator_for(device).allocate(rounded);
  return std::shared_ptr<Storage>(new Storage(p, rounded, device));
}

Storage::~Storage() { allocator_for(device_).deallocate(data_, nbytes_); }

void release_cached_memory() { allocator_for(Device::cpu()).release(); }

size_t cached_memory_bytes() { return allocator_for(Device::cpu()).cached_bytes(); }

void set_cached_memory_limit(size_t bytes) { allocator_for(Device::cpu()).set_limit(bytes); }

}  // namespace glassbox
