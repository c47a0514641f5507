// CPU reductions: sum/prod/max/min/sum of squares/logsumexp over any set of dims,
// and argmax/argmin along one dim (NaN propagates through both, as in PyTorch).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

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
  int last_reduced = -2;  // x dim of the last reduced dim (size-1 dims skipped)
  for (int d = 0; d < x.shape.size(); ++d) {
    if (x.shape[d] == 1) continue;
    if (out.shape[d] == 1) {
      const int r = p.red_shape.size();
      // Neighbouring reduced dims that are one contiguous run (H and W of an NCHW
      // channel sum) are walked as one, so the inner loop is long.
      if (last_reduced == d - 1 && p.red_strides[r - 1] == x.shape[d] * x.strides[d]) {
        p.red_shape[r - 1] *= x.shape[d];
        p.red_strides[r - 1] = x.strides[d];
      } else {
        p.red_shape.push_back(x.shape[d]);
        p.red_strides.push_back(x.strides[d]);
      }
      last_reduced = d;
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

/// The sum (or sum of squares) of n contiguous elements, in double: runs of 16 or more go
/// into 8 independent partial sums, because one running sum is bound by the add's
/// latency (~0.6 G elements/s here), which made the bias gradients of ProtoNet's
/// transposed convolutions cost more than their bias work.
template <class T, bool Square>
double run_sum(const T* run, int64_t n) {
  auto term = [](T v) { return Square ? double(v) * double(v) : double(v); };
  double total = 0;
  if (n >= 16) {
    constexpr int kLanes = 8;
    const int64_t whole = n - n % kLanes;
    double lanes[kLanes] = {};
    for (int64_t i = 0; i < whole; i += kLanes)
      for (int l = 0; l < kLanes; ++l) lanes[l] += term(run[i + l]);
    for (int l = 0; l < kLanes; ++l) total += lanes[l];
    for (int64_t i = whole; i < n; ++i) total += term(run[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) total += term(run[i]);
  }
  return total;
}

/// The sum (or sum of squares) of the reduced block at `base`; a contiguous innermost run
/// goes through run_sum.
template <class T, bool Square>
auto sum_block(const ReducePlan& p, const T* xs, int64_t base) {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  const int r = p.red_shape.size();
  Acc acc = 0;
  if constexpr (std::is_floating_point_v<T>) {
    if (r > 0 && p.red_strides[r - 1] == 1) {
      ReducePlan outer = p;  // the same walk with the inner run collapsed to its start
      outer.red_shape[r - 1] = 1;
      for_each_reduced(outer, base, [&](int64_t start) { acc += run_sum<T, Square>(xs + start, p.red_shape[r - 1]); });
      return acc;
    }
  }
  for_each_reduced(p, base, [&](int64_t i) { acc += Square ? Acc(xs[i]) * Acc(xs[i]) : Acc(xs[i]); });
  return acc;
}

/// A sum whose kept dims form one block of a contiguous x, viewed as [A, K, B] (K
/// outputs, each summed over a and b): a channel sum of NCHW (bias gradients of
/// convolutions) or a column sum of [N, F] (bias gradients of linear layers).
struct OuterInnerSum {
  int64_t a = 1, k = 1, b = 1;
};

std::optional<OuterInnerSum> outer_inner_sum(const View& x, const View& out) {
  if (!x.is_contiguous() || !out.is_contiguous()) return std::nullopt;
  int first = -1, last = -1;
  for (int d = 0; d < x.shape.size(); ++d)
    if (x.shape[d] != 1 && out.shape[d] != 1) {
      if (first < 0) first = d;
      last = d;
    }
  if (first < 0) return std::nullopt;  // a full reduction: one long run already
  OuterInnerSum s;
  for (int d = 0; d < x.shape.size(); ++d) {
    if (d >= first && d <= last && x.shape[d] != 1 && out.shape[d] == 1) return std::nullopt;
    (d < first ? s.a : d <= last ? s.k : s.b) *= x.shape[d];
  }
  if (s.a * s.b == 1) return std::nullopt;  // nothing reduced
  return s;
}

/// Column sums (b = 1: [A, K] summed over A, as for linear layers' bias gradients or a
/// sum over a leading dim): the outputs go in chunks that fit in L1, each chunk's double
/// accumulators taking one row after another in a loop the compiler vectorises (a
/// run_sum call per element, and a K-long accumulator array, made a [2, 524288] sum three
/// times slower).
template <class T, bool Square>
void sum_columns(const OuterInnerSum& s, const T* xs, T* os) {
  constexpr int64_t kChunk = 512;
  const int64_t chunks = (s.k + kChunk - 1) / kChunk;
  const bool parallel = chunks > 1 && s.a * s.k >= cpu::kParallelGrain && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t k0 = c * kChunk, n = std::min(kChunk, s.k - k0);
    double acc[kChunk] = {};
    for (int64_t a = 0; a < s.a; ++a) {
      const T* row = xs + a * s.k + k0;
      for (int64_t k = 0; k < n; ++k) {
        const double v = double(row[k]);
        acc[k] += Square ? v * v : v;
      }
    }
    for (int64_t k = 0; k < n; ++k) os[k0 + k] = static_cast<T>(acc[k]);
  }
}

/// Walks x in memory order, so the A blocks stream instead of being revisited once per
/// output (a per-channel walk over a [250, 32, 14, 14] gradient ran at a third of the
/// speed). Each output still adds its elements in the order a, then b; only a run of b
/// >= 16 is split into 8 partial sums (as sum_block does). Threads split the outputs.
template <class T, bool Square>
void sum_outer_inner(const OuterInnerSum& s, const T* xs, T* os) {
  if (s.b == 1) return sum_columns<T, Square>(s, xs, os);
  std::vector<double> acc(size_t(s.k), 0.0);
  const bool parallel = s.k > 1 && s.a * s.k * s.b >= cpu::kParallelGrain && !omp_in_parallel();
#pragma omp parallel if (parallel)
  {
    const int threads = omp_get_num_threads(), me = omp_get_thread_num();
    const int64_t k0 = s.k * me / threads, k1 = s.k * (me + 1) / threads;
    for (int64_t a = 0; a < s.a; ++a) {
      const T* block = xs + a * s.k * s.b;
      for (int64_t k = k0; k < k1; ++k) acc[size_t(k)] += run_sum<T, Square>(block + k * s.b, s.b);
    }
  }
  for (int64_t k = 0; k < s.k; ++k) os[k] = static_cast<T>(acc[size_t(k)]);
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
  if constexpr (std::is_floating_point_v<T>) {
    if (op == ReduceOp::sum || op == ReduceOp::sum_sq) {
      if (auto s = outer_inner_sum(x, out)) {
        if (op == ReduceOp::sum) return sum_outer_inner<T, false>(*s, xs, os);
        return sum_outer_inner<T, true>(*s, xs, os);
      }
    }
  }
  switch (op) {
    case ReduceOp::sum:
      return for_each_output(
          p, [&](int64_t xo, int64_t oo) { os[oo] = static_cast<T>(sum_block<T, false>(p, xs, xo)); });
    case ReduceOp::sum_sq:
      return for_each_output(
          p, [&](int64_t xo, int64_t oo) { os[oo] = static_cast<T>(sum_block<T, true>(p, xs, xo)); });
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
