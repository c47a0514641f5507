#pragma once
// Parameter: a leaf Tensor that requires grad, the trainable state of a Module.
#include "engine/tensor.h"

namespace glassbox::nn {

class Parameter : public Tensor {
 public:
  Parameter() = default;
  /// A new leaf sharing t's data (cut from any graph) with requires_grad set.
  explicit Parameter(const Tensor& t, bool requires_grad = true) : Tensor(t.detach()) {
    set_requires_grad(requires_grad);
  }
};

}  // namespace glassbox::nn

namespace glassbox {
using nn::Parameter;
}  // namespace glassbox
