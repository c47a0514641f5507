#pragma once
// Finds the backend that owns a device's memory and runs its kernels.
#include <string>

#include "kernels/backend.h"

namespace glassbox::kernels {

/// The backend for `device`; throws with a clear message when CUDA is not built
/// or no GPU is present.
Backend& backend_for(Device device);
/// Waits until every kernel queued on `device` has finished (nothing to wait for on the CPU).
void synchronize(Device device);
/// Whether CUDA kernels were compiled in and a GPU is visible.
bool cuda_available();
/// Why CUDA devices cannot be used even though the build has CUDA (the module failed to
/// load: which paths were tried and the loader's message); empty otherwise.
std::string cuda_load_error();
int cuda_device_count();
/// Whether "cuda" devices are emulated on the CPU (GLASSBOX_EMULATE_CUDA=N, for tests of
/// device plumbing on machines without a GPU; see kernels/emulated_cuda_backend.h).
bool cuda_emulated();
/// Whether the CUDA kernels were compiled into this build.
constexpr bool cuda_built() {
#ifdef GLASSBOX_WITH_CUDA
  return true;
#else
  return false;
#endif
}

}  // namespace glassbox::kernels
