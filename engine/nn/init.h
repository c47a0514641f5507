#pragma once
// Weight initialisation, as torch.nn.init: in-place fills (no gradient recorded) drawing
// from `gen`, or the default generator when null, so a seed fixes every initial weight.
#include <cstdint>
#include <utility>

#include "engine/ops/random.h"
#include "engine/tensor.h"

namespace glassbox::nn::init {

enum class FanMode { fan_in, fan_out };
enum class Nonlinearity { linear, conv, sigmoid, tanh, relu, leaky_relu, selu };

/// The recommended gain for a nonlinearity (torch.nn.init.calculate_gain); `param` is
/// leaky_relu's negative slope.
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);
/// (fan_in, fan_out) of a weight [out, in, *kernel]: in * receptive field, out * receptive field.
std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& weight);

void uniform_(const Tensor& t, double lo = 0.0, double hi = 1.0, Generator* gen = nullptr);
void normal_(const Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);
/// He et al. 2015: U(-b, b) with b = gain * sqrt(3 / fan), gain from `nonlinearity` and slope `a`.
void kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                      Nonlinearity nonlinearity = Nonlinearity::leaky_relu, Generator* gen = nullptr);
/// He et al. 2015: N(0, std^2) with std = gain / sqrt(fan).
void kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                     Nonlinearity nonlinearity = Nonlinearity::leaky_relu, Generator* gen = nullptr);
/// Glorot & Bengio 2010: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);
/// Glorot & Bengio 2010: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
void xavier_normal_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);

}  // namespace glassbox::nn::init

namespace glassbox::nn::init {

/// PyTorch's default for Linear and convolution layers: kaiming_uniform_(weight, a = sqrt(5)),
/// i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias (if defined) from the same range.
void layer_default_(const Tensor& weight, const Tensor& bias, Generator* gen = nullptr);

}  // namespace glassbox::nn::init
