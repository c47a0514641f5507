#include "kernels/registry.h"

#include <stdexcept>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/emulated_cuda_backend.h"

namespace glassbox::kernels {

#ifdef GLASSBOX_WITH_CUDA
Backend& cuda_backend(int index);  // kernels/cuda
int cuda_runtime_device_count();
#endif

Backend& backend_for(Device device) {
  static CpuBackend cpu;
  if (device.is_cpu()) return cpu;
  if (cuda_emulated()) {
    if (device.index < 0 || device.index >= emulated_cuda_device_count())
      throw std::runtime_error("asked for " + device.str() + " but " + std::to_string(emulated_cuda_device_count()) +
                               " emulated CUDA device(s) are visible (GLASSBOX_EMULATE_CUDA)");
    return emulated_cuda_backend(device.index);
  }
#ifdef GLASSBOX_WITH_CUDA
  if (device.index < 0 || device.index >= cuda_runtime_device_count())
    throw std::runtime_error("asked for " + device.str() + " but " + std::to_string(cuda_runtime_device_count()) +
                             " CUDA device(s) are visible");
  return cuda_backend(device.index);
#else
  throw std::runtime_error("asked for " + device.str() +
                           " but glassbox was built without CUDA (configure with -DGLASSBOX_CUDA=ON where nvcc exists)");
#endif
}

void synchronize(Device device) {
  if (!device.is_cpu()) backend_for(device).synchronize();
}

bool cuda_emulated() { return emulated_cuda_device_count() > 0; }

int cuda_device_count() {
  if (cuda_emulated()) return emulated_cuda_device_count();
#ifdef GLASSBOX_WITH_CUDA
  return cuda_runtime_device_count();
#else
  return 0;
#endif
}
bool cuda_available() { return cuda_device_count() > 0; }

}  // namespace glassbox::kernels
