#include "engine/nn/dropout.h"

#include <stdexcept>
#include <string>

namespace glassbox::nn {

Dropout::Dropout(double p_, Generator* gen) : p(p_), gen_(gen) {
  if (!(p >= 0 && p <= 1)) throw std::invalid_argument("Dropout: p must lie in [0, 1], got " + std::to_string(p));
}

Tensor Dropout::forward(const Tensor& x) { return ops::dropout(x, p, is_training(), gen_); }

}  // namespace glassbox::nn
