#pragma once
// A stand-in for CUDA devices on machines without a GPU, for tests of device
// plumbing only: GLASSBOX_EMULATE_CUDA=N makes N "cuda" devices visible whose
// kernels are the CPU backend's, run on host memory that the backend tracks. Every
// view handed to it must lie in memory it allocated, so a CPU tensor reaching a
// "cuda" op, or host code reading device memory directly, fails loudly exactly where
// it would on a real GPU. Numbers are the CPU's, so it says nothing about the CUDA
// kernels themselves; the parity suite on a real GPU does.
#include "kernels/backend.h"

namespace glassbox::kernels {

/// N from GLASSBOX_EMULATE_CUDA (0 when unset or invalid).
int emulated_cuda_device_count();
/// The emulated backend of cuda:index.
Backend& emulated_cuda_backend(int index);

}  // namespace glassbox::kernels
