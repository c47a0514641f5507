// CPU softmax and log-softmax along any dim of a strided view, and their input
// gradients. Each line is shifted by its max before exponentiating so that no
// exp overflows (the standard stable form: softmax(x) = softmax(x - max x)).
#include <cmath>
#include <limits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/dim_lines.h"

namespace glassbox::kernels {

namespace {

/// Softmax (or log-softmax) of one line of n elements with strides xs and os. The
/// exponentials are taken in T (f32 lines use expf, several times cheaper than exp)
/// while the sum accumulates in double, so long f32 lines keep their precision.
template <class T>
inline void softmax_line(const T* x, int64_t xs, T* out, int64_t os, int64_t n, bool log) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i * xs]);
  double s = 0;
  if (log) {
    for (int64_t i = 0; i < n; ++i) s += std::exp(x[i * xs] - m);
    const T shift = m + T(std::log(s));
    for (int64_t i = 0; i < n; ++i) out[i * os] = x[i * xs] - shift;
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const T e = std::exp(x[i * xs] - m);
      out[i * os] = e;
      s += e;
    }
    const T inv = T(1.0 / s);
    for (int64_t i = 0; i < n; ++i) out[i * os] *= inv;
  }
}

}  // namespace

void CpuBackend::softmax(const View& x, int dim, bool log, const View& out) {
  const int64_t n = x.shape[dim], xs = x.strides[dim], os = out.strides[dim];
  cpu::dispatch_floating(x.dtype, "softmax", [&](auto z) {
    using T = decltype(z);
    const T* xp = x.ptr<T>();
    T* op = out.ptr<T>();
    cpu::for_each_line<2>(x.shape, dim, {&x.strides, &out.strides}, 3 * n, [&](const std::array<int64_t, 2>& off) {
      // Unit strides as constants let the compiler vectorise the common contiguous case.
      if (xs == 1 && os == 1)
        softmax_line<T>(xp + off[0], 1, op + off[1], 1, n, log);
      else
        softmax_line<T>(xp + off[0], xs, op + off[1], os, n, log);
    });
  });
}

void CpuBackend::softmax_backward(const View& grad, const View& y, int dim, bool log, const View& out) {
  // With y = softmax(x): dx = y * (g - sum(g * y)).
  // With y = log_softmax(x): dx = g - exp(y) * sum(g).
  const int64_t n = y.shape[dim], gs = grad.strides[dim], ys = y.strides[dim], os = out.strides[dim];
  cpu::dispatch_floating(y.dtype, "softmax_backward", [&](auto z) {
    using T = decltype(z);
    const T* gp = grad.ptr<T>();
    const T* yp = y.ptr<T>();
    T* op = out.ptr<T>();
    cpu::for_each_line<3>(y.shape, dim, {&grad.strides, &y.strides, &out.strides}, 2 * n,
                          [&](const std::array<int64_t, 3>& off) {
                            const T* gl = gp + off[0];
                            const T* yl = yp + off[1];
                            T* ol = op + off[2];
                            double s = 0;
                            if (log) {
                              for (int64_t i = 0; i < n; ++i) s += gl[i * gs];
                              for (int64_t i = 0; i < n; ++i)
                                ol[i * os] = gl[i * gs] - std::exp(yl[i * ys]) * T(s);
                            } else {
                              for (int64_t i = 0; i < n; ++i) s += double(gl[i * gs]) * double(yl[i * ys]);
                              for (int64_t i = 0; i < n; ++i) ol[i * os] = yl[i * ys] * (gl[i * gs] - T(s));
                            }
                          });
  });
}

}  // namespace glassbox::kernels
