#pragma once
// Activation layers and shape helpers for Sequential stacks (torch.nn.ReLU, ...).
#include "engine/nn/module.h"
#include "engine/ops/activation.h"

namespace glassbox::nn {

class ReLU : public UnaryModule {
 public:
  std::string name() const override { return "ReLU"; }
  Tensor forward(const Tensor& x) override { return ops::relu(x); }
};

class LeakyReLU : public UnaryModule {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  std::string name() const override { return "LeakyReLU"; }
  Tensor forward(const Tensor& x) override { return ops::leaky_relu(x, negative_slope); }
  const double negative_slope;
};

class Sigmoid : public UnaryModule {
 public:
  std::string name() const override { return "Sigmoid"; }
  Tensor forward(const Tensor& x) override { return ops::sigmoid(x); }
};

class Tanh : public UnaryModule {
 public:
  std::string name() const override { return "Tanh"; }
  Tensor forward(const Tensor& x) override { return ops::tanh(x); }
};

class GELU : public UnaryModule {
 public:
  /// tanh_approximation selects PyTorch's approximate="tanh".
  explicit GELU(bool tanh_approximation = false) : tanh_approximation(tanh_approximation) {}
  std::string name() const override { return "GELU"; }
  Tensor forward(const Tensor& x) override { return ops::gelu(x, tanh_approximation); }
  const bool tanh_approximation;
};

class Softplus : public UnaryModule {
 public:
  std::string name() const override { return "Softplus"; }
  Tensor forward(const Tensor& x) override { return ops::softplus(x); }
};

class SiLU : public UnaryModule {
 public:
  std::string name() const override { return "SiLU"; }
  Tensor forward(const Tensor& x) override { return ops::silu(x); }
};

/// Flattens dims start_dim..end_dim into one (torch.nn.Flatten; default keeps the batch dim).
class Flatten : public UnaryModule {
 public:
  explicit Flatten(int start_dim = 1, int end_dim = -1) : start_dim(start_dim), end_dim(end_dim) {}
  std::string name() const override { return "Flatten"; }
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim, end_dim); }
  const int start_dim, end_dim;
};

/// Reshapes the non-batch dims to `shape` (the inverse of Flatten, e.g. before a decoder).
class Unflatten : public UnaryModule {
 public:
  explicit Unflatten(Shape shape) : shape(shape) {}
  std::string name() const override { return "Unflatten"; }
  Tensor forward(const Tensor& x) override {
    Shape s = shape;
    s.insert(0, x.size(0));
    return x.reshape(s);
  }
  const Shape shape;
};

}  // namespace glassbox::nn
