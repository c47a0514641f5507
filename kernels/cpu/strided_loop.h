#pragma once
// Iteration over K same-shaped strided views: dimensions that are laid out
// back-to-back are merged, the innermost one becomes a tight loop (contiguous
// inner loops vectorise), and big jobs are split across OpenMP threads.
#include <omp.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/backend.h"

namespace glassbox::kernels::cpu {

/// Elements below which a loop stays on one thread (thread start-up costs more).
constexpr int64_t kParallelGrain = 32768;

template <size_t K>
struct LoopPlan {
  Shape shape;                     // coalesced; innermost last
  std::array<Strides, K> strides;  // per operand, same rank as shape
};

template <size_t K>
LoopPlan<K> plan_loop(const Shape& shape, const std::array<const Strides*, K>& strides) {
  LoopPlan<K> plan;
  // Drop size-1 dims, then merge dim i into i+1 when every operand is contiguous across them.
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    int n = plan.shape.size();
    bool merge = n > 0;
    for (size_t k = 0; k < K && merge; ++k)
      merge = plan.strides[k][n - 1] == (*strides[k])[d] * shape[d];
    if (merge) {
      plan.shape[n - 1] *= shape[d];
      for (size_t k = 0; k < K; ++k) plan.strides[k][n - 1] = (*strides[k])[d];
    } else {
      plan.shape.push_back(shape[d]);
      for (size_t k = 0; k < K; ++k) plan.strides[k].push_back((*strides[k])[d]);
    }
  }
  if (plan.shape.empty()) {
    plan.shape.push_back(1);
    for (size_t k = 0; k < K; ++k) plan.strides[k].push_back(0);
  }
  return plan;
}

/// Calls fn(ptrs, inner_strides, n) for every innermost row, where ptrs[k] points at
/// the row's first element of operand k (as char*) and inner_strides are in elements.
template <size_t K, class Fn>
void strided_for(const Shape& shape, const std::array<const Strides*, K>& strides,
                 const std::array<char*, K>& base, const std::array<int64_t, K>& elem_size, Fn&& fn) {
  LoopPlan<K> plan = plan_loop<K>(shape, strides);
  const int rank = plan.shape.size();
  const int64_t inner = plan.shape[rank - 1];
  std::array<int64_t, K> inner_stride;
  for (size_t k = 0; k < K; ++k) inner_stride[k] = plan.strides[k][rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; ++d) rows *= plan.shape[d];

  auto run_rows = [&](int64_t begin, int64_t end) {
    if (begin >= end) return;
    // Multi-index of row `begin` over the outer dims.
    std::array<int64_t, Dims::kMaxDims> idx{};
    int64_t r = begin;
    for (int d = rank - 2; d >= 0; --d) {
      idx[d] = r % plan.shape[d];
      r /= plan.shape[d];
    }
    std::array<char*, K> ptr;
    for (size_t k = 0; k < K; ++k) {
      int64_t off = 0;
      for (int d = 0; d < rank - 1; ++d) off += idx[d] * plan.strides[k][d];
      ptr[k] = base[k] + off * elem_size[k];
    }
    for (int64_t row = begin; row < end; ++row) {
      fn(ptr, inner_stride, inner);
      // Advance the multi-index by one row.
      for (int d = rank - 2; d >= 0; --d) {
        for (size_t k = 0; k < K; ++k) ptr[k] += plan.strides[k][d] * elem_size[k];
        if (++idx[d] < plan.shape[d]) break;
        for (size_t k = 0; k < K; ++k) ptr[k] -= plan.strides[k][d] * plan.shape[d] * elem_size[k];
        idx[d] = 0;
      }
    }
  };

  const int64_t total = rows * inner;
  if (total < kParallelGrain || rows == 1 || omp_get_max_threads() == 1 || omp_in_parallel()) {
    if (rows == 1 && total >= kParallelGrain && omp_get_max_threads() > 1 && !omp_in_parallel()) {
      // One long row: split the row itself.
#pragma omp parallel
      {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int64_t chunk = (inner + nt - 1) / nt;
        int64_t b = t * chunk, e = std::min(inner, b + chunk);
        if (b < e) {
          std::array<char*, K> ptr;
          for (size_t k = 0; k < K; ++k) ptr[k] = base[k] + b * inner_stride[k] * elem_size[k];
          fn(ptr, inner_stride, e - b);
        }
      }
      return;
    }
    run_rows(0, rows);
    return;
  }
#pragma omp parallel
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t chunk = (rows + nt - 1) / nt;
    run_rows(t * chunk, std::min(rows, (t + 1) * chunk));
  }
}

/// Dispatches on a dtype to a generic lambda taking a value of that C++ type.
template <class Fn>
decltype(auto) dispatch_all(DType t, Fn&& fn) {
  switch (t) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    case DType::i64: return fn(int64_t{});
    case DType::i32: return fn(int32_t{});
    case DType::u8: return fn(uint8_t{});
    case DType::boolean: return fn(bool{});
  }
  throw std::invalid_argument("unknown dtype");
}

template <class Fn>
decltype(auto) dispatch_floating(DType t, const char* what, Fn&& fn) {
  switch (t) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    default: throw std::invalid_argument(std::string(what) + ": needs a floating dtype, got " + dtype_name(t));
  }
}

}  // namespace glassbox::kernels::cpu
