// CUDA backend basics: device discovery, the per-device stream and cuBLAS handle,
// memory and host copies, and error reporting.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

// The module's two entry points, looked up by kernels/registry.cpp (everything else in the
// module is hidden).
extern "C" __attribute__((visibility("default"))) int glassbox_cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

extern "C" __attribute__((visibility("default"))) glassbox::kernels::Backend* glassbox_cuda_backend(int index) {
  using glassbox::kernels::cuda::CudaBackend;
  static std::mutex mu;
  static auto* backends = new std::vector<std::unique_ptr<CudaBackend>>();
  std::lock_guard<std::mutex> lock(mu);
  if (static_cast<int>(backends->size()) <= index) backends->resize(index + 1);
  auto& slot = (*backends)[index];
  if (!slot) slot = std::make_unique<CudaBackend>(index);
  return slot.get();
}

namespace glassbox::kernels {

namespace cuda {

void throw_cuda_error(const char* what, const char* call, const char* file, int line) {
  throw std::runtime_error(std::string("CUDA error: ") + what + " (" + call + " at " + file + ":" + std::to_string(line) + ")");
}

namespace {

/// The stream and cuBLAS handle of one device, made on first use and kept for the
/// life of the process (destroying them at exit races the driver's own teardown).
struct DeviceContext {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  static constexpr int kScratchSlots = 4;
  void* scratch[kScratchSlots] = {};
  size_t scratch_bytes[kScratchSlots] = {};
  // Pinned staging buffers for host-to-device copies, used in turn (see copy_from_host).
  struct Staging {
    void* host = nullptr;
    size_t bytes = 0;
    cudaEvent_t done = nullptr;  // recorded behind the last copy out of this buffer
  };
  static constexpr int kStagingSlots = 2;
  Staging staging[kStagingSlots];
  int next_staging = 0;
};

int current_device() {
  int d = 0;
  GLASSBOX_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

DeviceContext& context() {
  static std::mutex mu;
  static auto* contexts = new std::vector<DeviceContext>();
  const int d = current_device();
  std::lock_guard<std::mutex> lock(mu);
  if (static_cast<int>(contexts->size()) <= d) contexts->resize(d + 1);
  DeviceContext& c = (*contexts)[d];
  if (!c.stream) {
    GLASSBOX_CUDA_CHECK(cudaStreamCreateWithFlags(&c.stream, cudaStreamNonBlocking));
    GLASSBOX_CUBLAS_CHECK(cublasCreate(&c.cublas));
    GLASSBOX_CUBLAS_CHECK(cublasSetStream(c.cublas, c.stream));
  }
  return c;
}

}  // namespace

cudaStream_t stream() { return context().stream; }
cublasHandle_t cublas() { return context().cublas; }

void* scratch(size_t nbytes, int slot) {
  DeviceContext& c = context();
  if (slot < 0 || slot >= DeviceContext::kScratchSlots)
    throw std::invalid_argument("cuda scratch: slot " + std::to_string(slot) + " out of range");
  if (c.scratch_bytes[slot] < nbytes) {
    // Queued kernels may still read the old buffer.
    GLASSBOX_CUDA_CHECK(cudaStreamSynchronize(c.stream));
    if (c.scratch[slot]) GLASSBOX_CUDA_CHECK(cudaFree(c.scratch[slot]));
    c.scratch[slot] = nullptr;
    c.scratch_bytes[slot] = 0;
    const size_t grown = nbytes + nbytes / 4;  // a little headroom for the next, larger shape
    GLASSBOX_CUDA_CHECK(cudaMalloc(&c.scratch[slot], grown));
    c.scratch_bytes[slot] = grown;
  }
  return c.scratch[slot];
}

void set_device(int device) {
  thread_local int current = -1;
  if (current == device) return;
  GLASSBOX_CUDA_CHECK(cudaSetDevice(device));
  current = device;
}

/// Out of device memory: a bad_alloc (so the engine's caching allocator frees its
/// cache and retries) whose message says how much was asked for and what was free.
class CudaOutOfMemory : public std::bad_alloc {
 public:
  explicit CudaOutOfMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

const char* CudaBackend::name() const { return "cuda"; }

void CudaBackend::synchronize() {
  set_device(device_);
  GLASSBOX_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

void* CudaBackend::allocate(size_t nbytes) {
  set_device(device_);
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, nbytes == 0 ? 256 : nbytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    throw CudaOutOfMemory("CUDA out of memory on cuda:" + std::to_string(device_) + ": asked for " +
                          std::to_string(nbytes >> 20) + " MiB, " + std::to_string(free_bytes >> 20) + " MiB free of " +
                          std::to_string(total_bytes >> 20) + " MiB (lower the batch size)");
  }
  GLASSBOX_CUDA_CHECK(err);
  return p;
}

void CudaBackend::deallocate(void* p, size_t) {
  set_device(device_);
  // Blocks go back only when the engine's cache is released; wait for queued work
  // that may still read them.
  GLASSBOX_CUDA_CHECK(cudaStreamSynchronize(stream()));
  GLASSBOX_CUDA_CHECK(cudaFree(p));
}

void CudaBackend::copy_from_host(void* dst, const void* src, size_t nbytes) {
  set_device(device_);
  if (nbytes == 0) return;
  // The caller's (pageable) buffer may be freed as soon as we return. Batches are small:
  // they go through a pinned staging buffer, so the upload runs asynchronously at full bus
  // speed while the host prepares the next batch; a buffer is refilled only once the
  // event behind its previous upload has fired. Large one-off uploads (whole data sets,
  // checkpoints) copy synchronously instead of pinning that much memory.
  constexpr size_t kStagingLimit = size_t(64) << 20;
  if (nbytes > kStagingLimit) {
    GLASSBOX_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, stream()));
    GLASSBOX_CUDA_CHECK(cudaStreamSynchronize(stream()));
    return;
  }
  DeviceContext& c = context();
  DeviceContext::Staging& s = c.staging[c.next_staging];
  c.next_staging = (c.next_staging + 1) % DeviceContext::kStagingSlots;
  if (s.done) GLASSBOX_CUDA_CHECK(cudaEventSynchronize(s.done));
  else GLASSBOX_CUDA_CHECK(cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming));
  if (s.bytes < nbytes) {
    if (s.host) GLASSBOX_CUDA_CHECK(cudaFreeHost(s.host));
    s.host = nullptr;
    s.bytes = 0;
    const size_t grown = std::max(nbytes + nbytes / 4, size_t(1) << 20);
    GLASSBOX_CUDA_CHECK(cudaMallocHost(&s.host, grown));
    s.bytes = grown;
  }
  std::memcpy(s.host, src, nbytes);
  GLASSBOX_CUDA_CHECK(cudaMemcpyAsync(dst, s.host, nbytes, cudaMemcpyHostToDevice, stream()));
  GLASSBOX_CUDA_CHECK(cudaEventRecord(s.done, stream()));
}

void CudaBackend::copy_to_host(void* dst, const void* src, size_t nbytes) {
  set_device(device_);
  GLASSBOX_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream()));
  GLASSBOX_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

}  // namespace cuda
}  // namespace glassbox::kernels
