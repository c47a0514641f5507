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
  /// Another handle to the same leaf (no copy): what Module::register_parameter returns,
  /// so a `Parameter` member shares its data with the registered entry.
  static Parameter handle(const Tensor& leaf) {
    Parameter p;
    static_cast<Tensor&>(p) = leaf;
    return p;
  }
};

}  // namespace glassbox::nn

namespace glassbox {
using nn::Parameter;
}  // namespace glassbox
