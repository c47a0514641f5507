#pragma once
// Gradient check: compares autograd's gradient of sum(f(inputs) * w), for a fixed
// random weighting w, with central finite differences in f64. Inputs may be any
// strided f64 tensors (non-contiguous views included); each is perturbed in place.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "engine/tensor.h"

namespace glassbox::testing {

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

/// A random f64 tensor with values in [lo, hi).
inline Tensor random_tensor(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(size_t(shape.product()));
  for (double& x : v) x = dist(rng);
  return Tensor::from_vector(v, shape, {DType::f64});
}

/// Element offsets (into storage) of every element of t in row-major order.
inline std::vector<int64_t> element_offsets(const Tensor& t) {
  std::vector<int64_t> offs;
  const Shape& s = t.shape();
  int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, off = t.offset();
    for (int d = s.size() - 1; d >= 0; --d) {
      off += (rem % s[d]) * t.strides()[d];
      rem /= s[d];
    }
    offs.push_back(off);
  }
  return offs;
}

/// Checks d sum(f(x) * w) / dx for every input that requires grad.
inline ::testing::AssertionResult gradcheck(const TensorFn& f, std::vector<Tensor> inputs, double eps = 1e-6,
                                            double atol = 1e-5, double rtol = 1e-4) {
  for (auto& x : inputs)
    if (x.dtype() != DType::f64) return ::testing::AssertionFailure() << "gradcheck needs f64 inputs";
  Tensor out = f(inputs);
  Tensor w = random_tensor(out.shape(), 1234);
  Tensor loss = ops::sum(ops::mul(out, w));
  for (auto& x : inputs)
    if (x.requires_grad()) x.set_grad(Tensor());
  loss.backward();

  auto objective = [&]() {
    NoGradGuard ng;
    Tensor o = f(inputs);
    return ops::sum(ops::mul(o, w)).item();
  };
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    Tensor analytic = x.grad();
    if (!analytic.defined()) analytic = Tensor::zeros(x.shape(), {DType::f64});
    if (!(analytic.shape() == x.shape()))
      return ::testing::AssertionFailure() << "input " << k << ": gradient shape " << analytic.shape().str()
                                           << " != input shape " << x.shape().str();
    std::vector<double> a = analytic.to_vector<double>();
    double* base = static_cast<double*>(x.storage()->data());
    std::vector<int64_t> offs = element_offsets(x);
    for (size_t i = 0; i < offs.size(); ++i) {
      double orig = base[offs[i]];
      base[offs[i]] = orig + eps;
      double up = objective();
      base[offs[i]] = orig - eps;
      double down = objective();
      base[offs[i]] = orig;
      double numeric = (up - down) / (2 * eps);
      if (std::abs(numeric - a[i]) > atol + rtol * std::abs(numeric))
        return ::testing::AssertionFailure() << "input " << k << " element " << i << ": analytic " << a[i]
                                             << " vs numeric " << numeric;
    }
  }
  return ::testing::AssertionSuccess();
}

/// Leaf f64 input requiring grad.
inline Tensor grad_input(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Tensor t = random_tensor(shape, seed, lo, hi);
  t.set_requires_grad();
  return t;
}

/// A non-contiguous leaf: the transpose of a random [shape[1], shape[0]] tensor.
inline Tensor grad_input_transposed(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Tensor base = random_tensor({shape[1], shape[0]}, seed, lo, hi);
  Tensor t = base.transpose(0, 1);
  t.set_requires_grad();
  return t;
}

}  // namespace glassbox::testing
