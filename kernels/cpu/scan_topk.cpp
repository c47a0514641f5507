// CPU kernels that need a whole line along one dim: running sums and top-k.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/dim_lines.h"

namespace glassbox::kernels {

void CpuBackend::cumsum(const View& x, int dim, const View& out) {
  if (x.dtype != out.dtype) throw std::invalid_argument("cumsum: input and output dtypes differ");
  const int64_t n = x.shape[dim], xs = x.strides[dim], os = out.strides[dim];
  cpu::dispatch_all(x.dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bool>) {
      throw std::invalid_argument("cumsum is not defined for bool (convert to i64 first)");
    } else {
      // Floating running sums accumulate in double so late entries keep their precision.
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
      const T* xp = x.ptr<T>();
      T* op = out.ptr<T>();
      cpu::for_each_line<2>(x.shape, dim, {&x.strides, &out.strides}, n, [&](const std::array<int64_t, 2>& off) {
        Acc acc = 0;
        for (int64_t i = 0; i < n; ++i) {
          acc += xp[off[0] + i * xs];
          op[off[1] + i * os] = static_cast<T>(acc);
        }
      });
    }
  });
}

void CpuBackend::topk(const View& x, int64_t k, int dim, bool largest, const View& values, const View& indices) {
  const int64_t n = x.shape[dim], xs = x.strides[dim], vs = values.strides[dim], is = indices.strides[dim];
  cpu::dispatch_all(x.dtype, [&](auto z) {
    using T = decltype(z);
    const T* xp = x.ptr<T>();
    T* vp = values.ptr<T>();
    int64_t* ip = indices.ptr<int64_t>();
    // NaN ranks above every number (as in PyTorch); equal values keep index order,
    // so the result is deterministic.
    auto before = [largest](T a, int64_t ia, T b, int64_t ib) {
      if constexpr (std::is_floating_point_v<T>) {
        const bool na = std::isnan(a), nb = std::isnan(b);
        if (na || nb) return na && !nb ? largest : (!na && nb ? !largest : ia < ib);
      }
      if (a != b) return largest ? a > b : a < b;
      return ia < ib;
    };
    cpu::for_each_line<3>(x.shape, dim, {&x.strides, &values.strides, &indices.strides}, n,
                          [&](const std::array<int64_t, 3>& off) {
                            std::vector<int64_t> order(static_cast<size_t>(n));
                            for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
                            const T* xl = xp + off[0];
                            std::partial_sort(order.begin(), order.begin() + k, order.end(),
                                              [&](int64_t a, int64_t b) { return before(xl[a * xs], a, xl[b * xs], b); });
                            for (int64_t j = 0; j < k; ++j) {
                              vp[off[1] + j * vs] = xl[order[size_t(j)] * xs];
                              ip[off[2] + j * is] = order[size_t(j)];
                            }
                          });
  });
}

}  // namespace glassbox::kernels
