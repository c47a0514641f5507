#pragma once
// Byte buffers on a device. Shared by every view of the same data; the version
// counter lets autograd notice in-place changes to tensors it saved.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/types.h"

namespace glassbox {

class Storage {
 public:
  /// Allocates `nbytes` on `device` through that device's caching allocator.
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  uint32_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  Storage(void* data, size_t nbytes, Device device) : data_(data), nbytes_(nbytes), device_(device) {}
  void* data_;
  size_t nbytes_;
  Device device_;
  uint32_t version_ = 0;
};

/// Returns every cached, unused CPU block to the system (for memory measurements).
void release_cached_memory();

/// Bytes of freed CPU blocks the caching allocator holds for reuse.
size_t cached_memory_bytes();

/// The most bytes of freed CPU blocks kept for reuse (blocks freed beyond it go
/// back to the system; lowering it releases the cache).
inline constexpr size_t kDefaultCpuCacheLimit = size_t{2} << 30;
void set_cached_memory_limit(size_t bytes);

}  // namespace glassbox
