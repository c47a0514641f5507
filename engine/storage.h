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

/// Returns every cached, unused block to the system (for memory measurements).
void release_cached_memory();

}  // namespace glassbox
