#pragma once
// Iteration over the 1-d lines of views along one dim: the shared loop of the
// kernels that need a whole line at once (cumsum, topk, softmax). Lines are
// independent, so big jobs split them across OpenMP threads.
#include <omp.h>

#include <array>
#include <cstdint>

#include "kernels/cpu/strided_loop.h"

namespace glassbox::kernels::cpu {

/// Calls fn(offsets) for every line along `dim` of `shape`, where offsets[k] is the
/// element offset of the line's first element in operand k. Operands share every
/// size except along `dim`; `line_work` is the cost of one line in elements.
template <size_t K, class Fn>
void for_each_line(const Shape& shape, int dim, const std::array<const Strides*, K>& strides, int64_t line_work,
                   Fn&& fn) {
  Shape outer;
  std::array<Strides, K> outer_strides;
  for (int d = 0; d < shape.size(); ++d) {
    if (d == dim || shape[d] == 1) continue;
    outer.push_back(shape[d]);
    for (size_t k = 0; k < K; ++k) outer_strides[k].push_back((*strides[k])[d]);
  }
  const int rank = outer.size();
  const int64_t lines = outer.product();
  const bool parallel = lines > 1 && lines * line_work >= kParallelGrain && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t line = 0; line < lines; ++line) {
    std::array<int64_t, K> off{};
    int64_t rem = line;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t i = rem % outer[d];
      rem /= outer[d];
      for (size_t k = 0; k < K; ++k) off[k] += i * outer_strides[k][d];
    }
    fn(off);
  }
}

}  // namespace glassbox::kernels::cpu
