#pragma once
// Custom autograd functions: a user-written forward and backward, for estimators
// the op catalog cannot express (straight-through codebooks, Gumbel-softmax
// straight-through, TELL's normalised gradient).
#include <functional>
#include <vector>

#include "engine/autograd/node.h"

namespace glassbox::autograd {

/// Runs `forward` on `inputs` without recording, then attaches `backward`, which
/// receives the output's gradient and returns one gradient per input (undefined
/// for inputs that get none).
///
///   Tensor y = autograd::apply_function({x}, [](auto& in) { return ops::round(in[0]); },
///                                       [](const Tensor& g) { return std::vector<Tensor>{g}; });
Tensor apply_function(const std::vector<Tensor>& inputs,
                      const std::function<Tensor(const std::vector<Tensor>&)>& forward, BackwardFn backward);

}  // namespace glassbox::autograd
