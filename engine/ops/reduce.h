#pragma once
// Reductions. `dims` empty means every dim; negative dims count from the end;
// `keepdim` keeps reduced dims with size 1 (as PyTorch).
#include <vector>

#include "engine/tensor.h"

namespace glassbox::ops {

Tensor sum(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false);
Tensor prod(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false);
/// Variance with Bessel's correction `correction` (1 = unbiased, 0 = population).
Tensor var(const Tensor& x, const std::vector<int>& dims = {}, int64_t correction = 1, bool keepdim = false);
/// Max/min over dims; the gradient goes to the (first) maximal element of each slice.
Tensor amax(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false);

struct ValuesIndices {
  Tensor values;   // differentiable
  Tensor indices;  // i64, no gradient
};
/// Max/min along one dim with the index of the winner (torch.max(x, dim)).
ValuesIndices max(const Tensor& x, int dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, int dim, bool keepdim = false);
/// Index (i64) of the max/min along dim; first index wins ties.
Tensor argmax(const Tensor& x, int dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int dim, bool keepdim = false);
/// log(sum(exp(x))) computed stably.
Tensor logsumexp(const Tensor& x, const std::vector<int>& dims, bool keepdim = false);
/// L2 norm over dims (gradient defined as 0 at the origin).
Tensor norm(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false);
/// The k largest (or smallest) along dim, sorted; gradient routed to the chosen elements.
ValuesIndices topk(const Tensor& x, int64_t k, int dim = -1, bool largest = true);
/// Running sum along dim.
Tensor cumsum(const Tensor& x, int dim);

}  // namespace glassbox::ops
