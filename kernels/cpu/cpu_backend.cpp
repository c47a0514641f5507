// CPU backend basics: memory, thread control, and op names.
#include "kernels/cpu/cpu_backend.h"

#include <cblas.h>
#include <omp.h>
#include <xmmintrin.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace glassbox::kernels {

const char* CpuBackend::name() const { return "cpu"; }

void* CpuBackend::allocate(size_t nbytes) {
  // 64-byte alignment suits AVX loads and oneDNN's preferences.
  size_t rounded = (nbytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) throw std::bad_alloc();
  return p;
}
void CpuBackend::deallocate(void* p, size_t) { std::free(p); }
void CpuBackend::copy_from_host(void* dst, const void* src, size_t nbytes) { std::memcpy(dst, src, nbytes); }
void CpuBackend::copy_to_host(void* dst, const void* src, size_t nbytes) { std::memcpy(dst, src, nbytes); }

void set_cpu_threads(int n) {
  if (n < 1) throw std::invalid_argument("thread count must be >= 1, got " + std::to_string(n));
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}
int cpu_threads() { return omp_get_max_threads(); }

namespace {
constexpr unsigned kFlushToZero = 1u << 15, kDenormalsAreZero = 1u << 6;  // MXCSR bits

void set_mode_on_this_thread(bool on) {
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(on ? (csr | kFlushToZero | kDenormalsAreZero) : (csr & ~(kFlushToZero | kDenormalsAreZero)));
}
}  // namespace

void set_flush_denormals(bool on) {
  set_mode_on_this_thread(on);
  // The mode is per thread: set it on OpenMP's pool too. Threads created later inherit the
  // creating thread's mode.
#pragma omp parallel
  set_mode_on_this_thread(on);
}

CpuBackend::CpuBackend() {
  const char* keep = std::getenv("GLASSBOX_DENORMALS");
  set_flush_denormals(!(keep && std::string(keep) == "keep"));
}


}  // namespace glassbox::kernels
