#include "engine/nn/linear.h"

#include <stdexcept>
#include <string>

#include "engine/nn/init.h"
#include "engine/ops/linalg.h"

namespace glassbox::nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias, Generator* gen) : in_features(in), out_features(out) {
  if (in < 1 || out < 1)
    throw std::invalid_argument("Linear: features must be positive, got in=" + std::to_string(in) +
                                " out=" + std::to_string(out));
  weight = register_parameter("weight", Tensor::empty({out, in}));
  if (with_bias) bias = register_parameter("bias", Tensor::empty({out}));
  init::layer_default_(weight, bias, gen);
}

Tensor Linear::forward(const Tensor& x) {
  if (x.dim() < 1 || x.size(-1) != in_features)
    throw std::invalid_argument("Linear: expected input [..., " + std::to_string(in_features) + "], got " +
                                x.shape().str());
  Tensor y = ops::matmul(x, weight.mT());
  return bias.defined() ? y + bias : y;
}

}  // namespace glassbox::nn
