#pragma once
// Indexing and shaping: joins, splits, padding, gathers and scatters.
#include <vector>

#include "engine/tensor.h"

namespace glassbox::ops {

Tensor concat(const std::vector<Tensor>& tensors, int dim);
Tensor stack(const std::vector<Tensor>& tensors, int dim);
/// Pieces of `split_size` along dim (the last may be smaller); views.
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int dim);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int dim);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int dim);
/// Constant padding; `pads` lists (before, after) pairs starting from the LAST dim (torch.nn.functional.pad).
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value = 0.0);
/// x.index_select(dim, index), index i64 [K].
Tensor index_select(const Tensor& x, int dim, const Tensor& index);
/// out[i][j] = x[i][index[i][j]] along dim (torch.gather).
Tensor gather(const Tensor& x, int dim, const Tensor& index);
/// A copy of x with src added at index along dim (torch.scatter_add, out-of-place).
Tensor scatter_add(const Tensor& x, int dim, const Tensor& index, const Tensor& src);
/// Rows of weight [V, D] at i64 indices of any shape -> [..., D]; gradient scatter-adds.
Tensor embedding(const Tensor& weight, const Tensor& indices);
/// i64 indices -> f32 (or dtype) one-hot with num_classes in a new last dim (no gradient).
/// Checks every index is in range, which reads their smallest and largest back to the host.
Tensor one_hot(const Tensor& indices, int64_t num_classes, DType dtype = DType::f32);
/// One-hot by comparison, for indices in [0, num_classes) by construction (argmax, arange): no
/// range check, so nothing is read back to the host (one_hot's check makes a GPU step wait);
/// an index outside the range gives a row of zeros, as jax.nn.one_hot does. No gradient.
Tensor one_hot_in_range(const Tensor& indices, int64_t num_classes, DType dtype = DType::f32);
/// x with `value` where mask (bool, broadcast) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
/// Tiles x `repeats[i]` times along each dim (torch.Tensor.repeat).
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);

}  // namespace glassbox::ops
