#pragma once
// Iteration over the leading (batch) dims of views whose last dims hold one matrix
// each, as the batched linear-algebra kernels need. Batch dims may be broadcast
// (stride 0), in which case the same matrix is visited again.
#include <array>
#include <cstdint>

#include "kernels/types.h"

namespace glassbox::kernels::cpu {

/// Calls fn(batch_index, offsets) for every index over shape[0, batch_dims), where
/// offsets[k] is the element offset of that batch entry in operand k (given its strides).
template <size_t K, class Fn>
void for_each_batch(const Shape& shape, int batch_dims, const std::array<const Strides*, K>& strides, Fn&& fn) {
  int64_t batch = 1;
  for (int d = 0; d < batch_dims; ++d) batch *= shape[d];
  std::array<int64_t, Dims::kMaxDims> idx{};
  std::array<int64_t, K> off{};
  for (int64_t i = 0; i < batch; ++i) {
    fn(i, off);
    for (int d = batch_dims - 1; d >= 0; --d) {
      for (size_t k = 0; k < K; ++k) off[k] += (*strides[k])[d];
      if (++idx[d] < shape[d]) break;
      for (size_t k = 0; k < K; ++k) off[k] -= (*strides[k])[d] * shape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace glassbox::kernels::cpu
