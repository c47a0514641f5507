#pragma once
// CUDA parity: runs an op on the CPU and on cuda:0 from the same inputs and
// compares the outputs and the gradients of sum(out * w) for a fixed random w.
// Without a GPU every such test skips, saying why.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "engine/tensor.h"
#include "kernels/registry.h"
#include "tests/support/gradcheck.h"

namespace glassbox::testing {

/// Skips the current test when no CUDA GPU can run it.
#define GLASSBOX_REQUIRE_CUDA()                                                                                  \
  do {                                                                                                           \
    if (!::glassbox::kernels::cuda_available())                                                                  \
      GTEST_SKIP() << "no CUDA GPU visible (built " << (::glassbox::testing::cuda_built() ? "with" : "without") \
                   << " CUDA); run ./run test-cuda on a GPU machine";                                            \
  } while (0)

using kernels::cuda_built;

/// Skips tests of the real CUDA backend's own behaviour (memory, errors) where the
/// "cuda" device is emulated on the CPU (GLASSBOX_EMULATE_CUDA) or absent.
#define GLASSBOX_REQUIRE_REAL_CUDA()                                                          \
  do {                                                                                       \
    GLASSBOX_REQUIRE_CUDA();                                                                 \
    if (::glassbox::kernels::cuda_emulated()) GTEST_SKIP() << "CUDA is emulated on the CPU here"; \
  } while (0)

inline Device gpu() { return Device::cuda(0); }

/// Tolerances: |cuda - cpu| <= atol + rtol * |cpu|, elementwise.
struct Tolerance {
  double rtol = 1e-5;
  double atol = 1e-6;
};
/// f32 results from different summation orders (cuBLAS, tree reductions) differ by a few ulps of the sum.
inline Tolerance f32_tolerance() { return {1e-4, 1e-5}; }
inline Tolerance f64_tolerance() { return {1e-10, 1e-12}; }
inline Tolerance default_tolerance(DType t) { return t == DType::f64 ? f64_tolerance() : f32_tolerance(); }
/// Exact agreement, for integer and boolean results and for indices.
inline Tolerance exact() { return {0, 0}; }
/// The float tolerance of `t`, or exact agreement for integer and boolean dtypes.
inline Tolerance tolerance_for(DType t) { return is_floating(t) ? default_tolerance(t) : exact(); }

/// Same shape, dtype and (within tolerance) values; `cuda_result` must live on a GPU.
inline ::testing::AssertionResult same_values(const Tensor& cpu_result, const Tensor& cuda_result, Tolerance tol) {
  if (!cuda_result.device().is_cuda())
    return ::testing::AssertionFailure() << "result is on " << cuda_result.device().str() << ", not on the GPU";
  if (cpu_result.shape() != cuda_result.shape())
    return ::testing::AssertionFailure() << "shape " << cuda_result.shape().str() << " on cuda vs " << cpu_result.shape().str()
                                         << " on cpu";
  if (cpu_result.dtype() != cuda_result.dtype())
    return ::testing::AssertionFailure() << "dtype " << dtype_name(cuda_result.dtype()) << " on cuda vs "
                                         << dtype_name(cpu_result.dtype()) << " on cpu";
  std::vector<double> a = cpu_result.to_vector<double>(), b = cuda_result.to_vector<double>();
  int bad = 0;
  std::ostringstream os;
  for (size_t i = 0; i < a.size(); ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
    const bool equal_inf = std::isinf(a[i]) && a[i] == b[i];
    if (both_nan || equal_inf) continue;
    if (!(std::abs(a[i] - b[i]) <= tol.atol + tol.rtol * std::abs(a[i]))) {
      if (bad < 5) os << "\n  [" << i << "] cpu " << a[i] << " cuda " << b[i];
      ++bad;
    }
  }
  if (bad) return ::testing::AssertionFailure() << bad << " of " << a.size() << " elements differ:" << os.str();
  return ::testing::AssertionSuccess();
}

/// Runs f on CPU inputs and on their GPU copies; compares the forward results and,
/// for inputs that require grad, the gradients of sum(f(x) * w).
inline ::testing::AssertionResult op_parity(const TensorFn& f, const std::vector<Tensor>& cpu_inputs,
                                            Tolerance tol) {
  std::vector<Tensor> cpu_in, gpu_in;
  for (const Tensor& x : cpu_inputs) {
    Tensor c = x.detach().clone(), g = x.detach().to(gpu());
    if (x.requires_grad()) {
      c.set_requires_grad(true);
      g.set_requires_grad(true);
    }
    cpu_in.push_back(c);
    gpu_in.push_back(g);
  }
  Tensor cpu_out = f(cpu_in), gpu_out = f(gpu_in);
  if (auto r = same_values(cpu_out, gpu_out, tol); !r) return r << " (forward)";
  if (!cpu_out.requires_grad()) return ::testing::AssertionSuccess();
  Tensor w = random_tensor(cpu_out.shape(), 4321).to(cpu_out.dtype());
  ops::sum(ops::mul(cpu_out, w)).backward();
  ops::sum(ops::mul(gpu_out, w.to(gpu()))).backward();
  for (size_t i = 0; i < cpu_in.size(); ++i) {
    if (!cpu_in[i].requires_grad()) continue;
    if (!gpu_in[i].grad().defined()) return ::testing::AssertionFailure() << "input " << i << " has no gradient on cuda";
    if (auto r = same_values(cpu_in[i].grad(), gpu_in[i].grad(), tol); !r) return r << " (gradient of input " << i << ")";
  }
  return ::testing::AssertionSuccess();
}

/// A random tensor of `dtype` in [lo, hi) that requires grad when floating and asked to.
inline Tensor random_input(const Shape& shape, uint64_t seed, DType dtype = DType::f32, bool requires_grad = true,
                           double lo = -1.0, double hi = 1.0) {
  Tensor t = random_tensor(shape, seed, lo, hi).to(dtype);
  if (requires_grad && is_floating(dtype)) t.set_requires_grad(true);
  return t;
}

}  // namespace glassbox::testing
