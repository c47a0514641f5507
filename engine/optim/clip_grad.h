#pragma once
// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_).
#include <vector>

#include "engine/tensor.h"

namespace glassbox::optim {

/// Scales every gradient by max_norm / (norm + 1e-6) when that is below 1, where norm is
/// the L2 norm of all gradients taken together (computed in f64). Parameters without a
/// gradient are skipped. Returns the norm before clipping.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm);

}  // namespace glassbox::optim
