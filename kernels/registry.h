#pragma once
// Finds the backend that owns a device's memory and runs its kernels.
#include "kernels/backend.h"

namespace glassbox::kernels {

/// The backend for `device`; throws with a clear message when CUDA is not built
/// or no GPU is present.
Backend& backend_for(Device device);
/// Whether CUDA kernels were compiled in and a GPU is visible.
bool cuda_available();
int cuda_device_count();

}  // namespace glassbox::kernels
