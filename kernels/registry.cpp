#include "kernels/registry.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/emulated_cuda_backend.h"

namespace glassbox::kernels {

#ifdef GLASSBOX_WITH_CUDA
namespace {

/// The CUDA backend module (kernels/cuda, libglassbox_cuda.so), loaded on first use so that
/// CPU-only processes never map the CUDA libraries. Looked for at $GLASSBOX_CUDA_MODULE, where
/// the build put it, then beside the running program (a packed bundle).
struct CudaModule {
  int (*device_count)() = nullptr;
  Backend* (*backend)(int) = nullptr;
  std::string error;  // why it could not be loaded
};

std::filesystem::path program_dir() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
}

const CudaModule& cuda_module() {
  static const CudaModule module = [] {
    CudaModule m;
    std::string tried;
    std::vector<std::filesystem::path> candidates;
    if (const char* env = std::getenv("GLASSBOX_CUDA_MODULE"); env != nullptr && *env != '\0') candidates.emplace_back(env);
    candidates.emplace_back(GLASSBOX_CUDA_MODULE_PATH);
    candidates.push_back(program_dir() / std::filesystem::path(GLASSBOX_CUDA_MODULE_PATH).filename());
    for (const auto& path : candidates) {
      if (!std::filesystem::exists(path)) {
        tried += "\n  " + path.string() + ": not found";
        continue;
      }
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        tried += "\n  " + path.string() + ": " + dlerror();
        continue;
      }
      m.device_count = reinterpret_cast<int (*)()>(dlsym(handle, "glassbox_cuda_device_count"));
      m.backend = reinterpret_cast<Backend* (*)(int)>(dlsym(handle, "glassbox_cuda_backend"));
      if (m.device_count && m.backend) return m;
      tried += "\n  " + path.string() + ": not a glassbox CUDA module";
      m.device_count = nullptr;
      m.backend = nullptr;
    }
    m.error = "the CUDA backend module could not be loaded:" + tried;
    return m;
  }();
  return module;
}

int cuda_runtime_device_count() {
  const CudaModule& m = cuda_module();
  return m.device_count ? m.device_count() : 0;
}

Backend& cuda_backend(int index) {
  const CudaModule& m = cuda_module();
  if (!m.backend) throw std::runtime_error(m.error);
  return *m.backend(index);
}

}  // namespace
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
  if (device.index < 0 || device.index >= cuda_runtime_device_count()) {
    const std::string why = cuda_module().error.empty() ? "" : " (" + cuda_module().error + ")";
    throw std::runtime_error("asked for " + device.str() + " but " + std::to_string(cuda_runtime_device_count()) +
                             " CUDA device(s) are visible" + why);
  }
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

std::string cuda_load_error() {
#ifdef GLASSBOX_WITH_CUDA
  if (!cuda_emulated()) return cuda_module().error;
#endif
  return "";
}

}  // namespace glassbox::kernels
