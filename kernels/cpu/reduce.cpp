// CPU reductions: sum/prod/max/min/sum of squares/logsumexp over any set of dims,
// and argmax/argmin along one dim (NaN propagates through both, as in PyTorch).
#include <cmath>
#include <limits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/strided_loop.h"

namespace glassbox::kernels {

namespace {

/// Splits x's dims into kept ones (size > 1 in out) and reduced ones (size 1 in out),
/// and walks every output element with the element offsets of its reduced block.
struct ReducePlan {
  Shape kept_shape, kept_x_strides, kept_out_strides;
  Shape red_shape, red_strides;
  int64_t n_out = 1, n_red = 1;
};

ReducePlan plan_reduce(const View& x, const View& out) {
  ReducePlan p;
  for (int d = 0; d < x.shape.size(); ++d) {
    if (x.shape[d] == 1) continue;
    if (out.shape[d] == 1) {
      p.red_shape.push_back(x.shape[d]);
      p.red_strides.push_back(x.strides[d]);
      p.n_red *= x.shape[d];
    } else {
      p.kept_shape.push_back(x.shape[d]);
      p.kept_x_strides.push_back(x.strides[d]);
      p.kept_out_strides.push_back(out.strides[d]);
      p.n_out *= x.shape[d];
    }
  }
  return p;
}

/// Calls fn(x_offset) for every element of the reduced block starting at `base`.
template <class Fn>
inline void for_each_reduced(const ReducePlan& p, int64_t base, Fn&& fn) {
  const int r = p.red_shape.size();
  if (r == 0) return fn(base);
  // An empty reduced block (a reduced dim of size 0) visits nothing: the accumulators keep
  // their identities (sum 0, prod 1).
  for (int d = 0; d < r; ++d)
    if (p.red_shape[d] == 0) return;
  std::array<int64_t, Dims::kMaxDims> idx{};
  const int64_t inner = p.red_shape[r - 1], inner_stride = p.red_strides[r - 1];
  for (;;) {
    int64_t off = base;
    for (int d = 0; d < r - 1; ++d) off += idx[d] * p.red_strides[d];
    for (int64_t i = 0; i < inner; ++i) fn(off + i * inner_stride);
    int d = r - 2;
    for (; d >= 0; --d) {
      if (++idx[d] < p.red_shape[d]) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

template <class Fn>
void for_each_output(const ReducePlan& p, Fn&& fn) {
  auto offsets = [&](int64_t o, int64_t& xo, int64_t& oo) {
    xo = 0;
    oo = 0;
    for (int d = p.kept_shape.size() - 1; d >= 0; --d) {
      int64_t i = o % p.kept_shape[d];
      o /= p.kept_shape[d];
      xo += i * p.kept_x_strides[d];
      oo += i * p.kept_out_strides[d];
    }
  };
  const bool parallel = p.n_out > 1 && p.n_out * p.n_red >= cpu::kParallelGrain && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t o = 0; o < p.n_out; ++o) {
    int64_t xo, oo;
    offsets(o, xo, oo);
    fn(xo, oo);
  }
}

template <class T>
void reduce_typed(ReduceOp op, const View& x, const View& out) {
  const ReducePlan p = plan_reduce(x, out);
  const T* xs = x.ptr<T>();
  T* os = out.ptr<T>();
  // Floating sums accumulate in double so long reductions keep their precision.
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  switch (op) {
    case ReduceOp::sum:
      return for_each_output(p, [&](int64_t xo, int64_t oo) {
        Acc acc = 0;
        for_each_reduced(p, xo, [&](int64_t i) { acc += xs[i]; });
        os[oo] = static_cast<T>(acc);
      });
    case ReduceOp::sum_sq:
      return for_each_output(p, [&](int64_t xo, int64_t oo) {
        Acc acc = 0;
        for_each_reduced(p, xo, [&](int64_t i) { acc += Acc(xs[i]) * Acc(xs[i]); });
        os[oo] = static_cast<T>(acc);
      });
    case ReduceOp::prod:
      return for_each_output(p, [&](int64_t xo, int64_t oo) {
        Acc acc = 1;
        for_each_reduced(p, xo, [&](int64_t i) { acc *= xs[i]; });
        os[oo] = static_cast<T>(acc);
      });
    case ReduceOp::max:
    case ReduceOp::min: {
      const bool is_max = op == ReduceOp::max;
      return for_each_output(p, [&](int64_t xo, int64_t oo) {
        T best = xs[xo];
        for_each_reduced(p, xo, [&](int64_t i) {
          T v = xs[i];
          if constexpr (std::is_floating_point_v<T>) {
            if (std::isnan(v) || std::isnan(best)) {
              best = std::numeric_limits<T>::quiet_NaN();
              return;
            }
          }
          if (is_max ? v > best : v < best) best = v;
        });
        os[oo] = best;
      });
    }
    case ReduceOp::logsumexp:
      if constexpr (std::is_floating_point_v<T>) {
        return for_each_output(p, [&](int64_t xo, int64_t oo) {
          T m = -std::numeric_limits<T>::infinity();
          for_each_reduced(p, xo, [&](int64_t i) { m = std::max(m, xs[i]); });
          if (std::isinf(m)) {
            os[oo] = m;
            return;
          }
          double acc = 0;
          for_each_reduced(p, xo, [&](int64_t i) { acc += std::exp(double(xs[i] - m)); });
          os[oo] = static_cast<T>(m + std::log(acc));
        });
      }
      break;
  }
  throw std::invalid_argument(std::string("reduce ") + op_name(op) + " is not defined for " + dtype_name(x.dtype));
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const View& x, const View& out) {
  cpu::dispatch_all(x.dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bool>) {
      throw std::invalid_argument(std::string("reduce ") + op_name(op) + " is not defined for bool");
    } else {
      reduce_typed<T>(op, x, out);
    }
  });
}

void CpuBackend::arg_reduce(bool is_max, const View& x, int dim, const View& out) {
  // Walk every output position; scan x along `dim`. First index wins ties (as PyTorch).
  View keep = x;
  keep.shape[dim] = 1;
  const int64_t n = x.shape[dim], stride = x.strides[dim];
  cpu::dispatch_all(x.dtype, [&](auto z) {
    using T = decltype(z);
    const T* xs = x.ptr<T>();
    int64_t* os = out.ptr<int64_t>();
    const int rank = x.shape.size();
    int64_t total = keep.numel();
#pragma omp parallel for schedule(static) if (total * n >= cpu::kParallelGrain && !omp_in_parallel())
    for (int64_t o = 0; o < total; ++o) {
      int64_t rem = o, xo = 0, oo = 0;
      for (int d = rank - 1; d >= 0; --d) {
        int64_t i = rem % keep.shape[d];
        rem /= keep.shape[d];
        xo += i * x.strides[d];
        oo += i * out.strides[d];
      }
      int64_t best_i = 0;
      T best = xs[xo];
      for (int64_t i = 1; i < n; ++i) {
        T v = xs[xo + i * stride];
        // A NaN wins (the first one), matching the NaN that reduce max/min returns.
        if constexpr (std::is_floating_point_v<T>) {
          if (std::isnan(best)) break;
          if (std::isnan(v)) {
            best_i = i;
            break;
          }
        }
        if (is_max ? v > best : v < best) {
          best = v;
          best_i = i;
        }
      }
      os[oo] = best_i;
    }
  });
}

}  // namespace glassbox::kernels
