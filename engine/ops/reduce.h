#pragma once
// Reductions. `dims` empty means every dim; negative dims count from the end;
// `keepdim` keeps reduced dims with size 1 (as PyTorch).
#include <vector>

#include "engine/tensor.h"

namespace glassbox::ops {

Tensor sum(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false);

}  // namespace glassbox::ops
