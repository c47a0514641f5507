#pragma once
// Activation functions (elementwise, differentiable).
#include "engine/tensor.h"

namespace glassbox::ops {

Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
/// GELU; `tanh_approximation` selects the tanh form (PyTorch's approximate="tanh").
Tensor gelu(const Tensor& x, bool tanh_approximation = false);
/// log(1 + exp(x)), overflow-safe.
Tensor softplus(const Tensor& x);
/// x * sigmoid(x).
Tensor silu(const Tensor& x);
Tensor erf(const Tensor& x);

}  // namespace glassbox::ops
