// Fused batch normalisation (training) on the CPU: one pass for the channel means, one for the
// variances, one to normalise; backward one pass for the two channel sums and one for the input
// gradient, where the op's composition takes about seven passes each way. An activation after
// the norm (ReLU, LeakyReLU) can ride along: applied in the normalising pass, and its gradient
// taken from the saved output inside the two backward passes, which saves the activation's own
// pass over the activations each way.
#include <cmath>
#include <type_traits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/strided_loop.h"

namespace glassbox::kernels {

namespace {

/// The shape of a contiguous [N, C, S] view, or false when the view is not one.
struct ChannelLayout {
  int64_t n = 0, c = 0, s = 0;
  int64_t count() const { return n * s; }
  int64_t offset(int64_t i, int64_t channel) const { return (i * c + channel) * s; }
};

bool channel_layout(const View& v, ChannelLayout& l) {
  if (v.shape.size() != 3 || !v.is_contiguous()) return false;
  l = {v.shape[0], v.shape[1], v.shape[2]};
  return true;
}

/// Whether v is a contiguous [N, C, S] view of layout l and element type dtype.
bool has_layout(const View& v, const ChannelLayout& l, DType dtype) {
  ChannelLayout lv;
  return v.dtype == dtype && channel_layout(v, lv) && lv.n == l.n && lv.c == l.c && lv.s == l.s;
}

bool is_channel_vector(const View* v, const ChannelLayout& l, DType dtype) {
  return v == nullptr ||
         (v->dtype == dtype && v->shape.size() == 1 && v->shape[0] == l.c && (l.c <= 1 || v->strides[0] == 1));
}

/// Sums f(x[k]) over one contiguous block in double, with eight independent partial sums.
template <class T, class F>
double block_sum(const T* p, int64_t len, F f) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= len; k += 8)
    for (int j = 0; j < 8; ++j) acc[j] += f(p[k + j]);
  for (; k < len; ++k) acc[0] += f(p[k]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/// The activations of the fused kernels, written exactly as the unary relu / leaky_relu kernels
/// and their backward kernels are, so that the fused path gives the same bits as the two ops.
template <class T>
struct Identity {
  T operator()(T v) const { return v; }
  T operator()(T g, T /*y*/) const { return g; }
};
template <class T>
struct Relu {
  T operator()(T v) const { return v > 0 ? v : T(0); }
  T operator()(T g, T y) const { return y > 0 ? g : T(0); }
};
template <class T>
struct LeakyRelu {
  T slope;
  T operator()(T v) const { return v > 0 ? v : v * slope; }
  T operator()(T g, T y) const { return y > 0 ? g : g * slope; }
};

/// Adds sum(g') and sum(g' * (x - mean)) over one contiguous block to the two sums, in one
/// pass, in double with four independent partial sums each; g' = grad(g, y) is the gradient
/// through the fused activation (y its output), or g itself.
template <class T, class Grad>
void block_grad_sums(const T* g, const T* y, const T* x, int64_t len, double mean, Grad grad, double& g_sum,
                     double& gxc_sum) {
  double a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 4 <= len; k += 4)
    for (int j = 0; j < 4; ++j) {
      const double gv = double(grad(g[k + j], y[k + j]));
      a[j] += gv;
      b[j] += gv * (double(x[k + j]) - mean);
    }
  for (; k < len; ++k) {
    const double gv = double(grad(g[k], y[k]));
    a[0] += gv;
    b[0] += gv * (double(x[k]) - mean);
  }
  g_sum += (a[0] + a[1]) + (a[2] + a[3]);
  gxc_sum += (b[0] + b[1]) + (b[2] + b[3]);
}

template <class T, class Act>
void forward(const View& xv, const View* wv, const View* bv, double eps, const View& yv, const View& mv, const View& vv,
             const ChannelLayout& l, Act act) {
  const T* x = xv.ptr<T>();
  T* y = yv.ptr<T>();
  const double inv_count = 1.0 / double(l.count());
#pragma omp parallel for if (l.c > 1 && l.n * l.c * l.s >= cpu::kParallelGrain)
  for (int64_t c = 0; c < l.c; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < l.n; ++i) sum += block_sum(x + l.offset(i, c), l.s, [](T v) { return double(v); });
    const double mean = sum * inv_count;
    double sq = 0;
    for (int64_t i = 0; i < l.n; ++i)
      sq += block_sum(x + l.offset(i, c), l.s, [mean](T v) { return (double(v) - mean) * (double(v) - mean); });
    const double var = sq * inv_count;
    const double rstd = 1.0 / std::sqrt(var + eps);
    const double w = wv ? double(wv->ptr<T>()[c]) : 1.0, b = bv ? double(bv->ptr<T>()[c]) : 0.0;
    // y = (x - mean) * rstd * w + b = x * a + shift.
    const T a = T(rstd * w), shift = T(b - mean * rstd * w);
    for (int64_t i = 0; i < l.n; ++i) {
      const T* xi = x + l.offset(i, c);
      T* yi = y + l.offset(i, c);
      for (int64_t k = 0; k < l.s; ++k) yi[k] = act(T(xi[k] * a + shift));
    }
    mv.ptr<T>()[c] = T(mean);
    vv.ptr<T>()[c] = T(var);
  }
}

/// y: the fused activation's output (g itself when there is none, and `grad` ignores it).
template <class T, class Grad, bool kActivation = !std::is_same_v<Grad, Identity<T>>>
void backward(const View& gv, const T* y, const View& xv, const View& mv, const View& rv, const View* wv,
              const View* gxv, const View* gwv, const View* gbv, const ChannelLayout& l, Grad grad) {
  const T* g = gv.ptr<T>();
  const T* x = xv.ptr<T>();
  const double inv_count = 1.0 / double(l.count());
#pragma omp parallel for if (l.c > 1 && l.n * l.c * l.s >= cpu::kParallelGrain)
  for (int64_t c = 0; c < l.c; ++c) {
    const double mean = double(mv.ptr<T>()[c]), rstd = double(rv.ptr<T>()[c]);
    double g_sum = 0, gxc_sum = 0;  // sum(g) and sum(g * (x - mean))
    // With an activation and gx wanted, its gradient is staged in gx's own (L2-sized) channel
    // blocks first; the two passes then read it from there, as they would read g.
    T* staged = (kActivation && gxv) ? gxv->ptr<T>() : nullptr;
    for (int64_t i = 0; i < l.n; ++i) {
      const int64_t off = l.offset(i, c);
      if (staged) {
        for (int64_t k = 0; k < l.s; ++k) staged[off + k] = grad(g[off + k], y[off + k]);
        block_grad_sums(staged + off, staged + off, x + off, l.s, mean, Identity<T>{}, g_sum, gxc_sum);
      } else {
        block_grad_sums(g + off, y + off, x + off, l.s, mean, grad, g_sum, gxc_sum);
      }
    }
    const double gxhat_sum = gxc_sum * rstd;  // sum(g * xhat)
    if (gbv) gbv->ptr<T>()[c] = T(g_sum);
    if (gwv) gwv->ptr<T>()[c] = T(gxhat_sum);
    if (!gxv) continue;
    // gx = k (g - g_sum / n - xhat gxhat_sum / n), k = rstd * w, xhat = (x - mean) rstd
    //    = g * k + x * c1 + c0.
    const double k = rstd * (wv ? double(wv->ptr<T>()[c]) : 1.0);
    const double c1 = -k * rstd * gxhat_sum * inv_count;
    const T tk = T(k), tc1 = T(c1), tc0 = T(-k * g_sum * inv_count - c1 * mean);
    T* gx = gxv->ptr<T>();
    for (int64_t i = 0; i < l.n; ++i) {
      const T* gi = g + l.offset(i, c);
      const T* yi = y + l.offset(i, c);
      const T* xi = x + l.offset(i, c);
      T* out = gx + l.offset(i, c);
      if (staged) {
        for (int64_t j = 0; j < l.s; ++j) out[j] = out[j] * tk + (xi[j] * tc1 + tc0);
      } else {
        for (int64_t j = 0; j < l.s; ++j) out[j] = grad(gi[j], yi[j]) * tk + (xi[j] * tc1 + tc0);
      }
    }
  }
}

/// Calls f(activation functor) for `act` (null: none) in element type T.
template <class T, class F>
void with_activation(const NormActivation* act, F f) {
  if (!act) return f(Identity<T>{});
  if (act->leaky) return f(LeakyRelu<T>{static_cast<T>(act->negative_slope)});
  f(Relu<T>{});
}

bool forward_checked(const View& x, const View* weight, const View* bias, double eps, const NormActivation* act,
                     const View& y, const View& mean, const View& var) {
  ChannelLayout l;
  if (!channel_layout(x, l) || !has_layout(y, l, x.dtype)) return false;
  if (!is_channel_vector(weight, l, x.dtype) || !is_channel_vector(bias, l, x.dtype) ||
      !is_channel_vector(&mean, l, x.dtype) || !is_channel_vector(&var, l, x.dtype))
    return false;
  if (x.dtype == DType::f32) {
    with_activation<float>(act, [&](auto a) { forward<float>(x, weight, bias, eps, y, mean, var, l, a); });
  } else if (x.dtype == DType::f64) {
    with_activation<double>(act, [&](auto a) { forward<double>(x, weight, bias, eps, y, mean, var, l, a); });
  } else {
    return false;
  }
  return true;
}

bool backward_checked(const View& g, const View* y, const View& x, const View& mean, const View& rstd,
                      const View* weight, const NormActivation* act, const View* gx, const View* gw, const View* gb) {
  ChannelLayout l;
  if (!channel_layout(x, l) || !has_layout(g, l, x.dtype) || (gx && !has_layout(*gx, l, x.dtype)) ||
      (y && !has_layout(*y, l, x.dtype)))
    return false;
  if (!is_channel_vector(&mean, l, x.dtype) || !is_channel_vector(&rstd, l, x.dtype) ||
      !is_channel_vector(weight, l, x.dtype) || !is_channel_vector(gw, l, x.dtype) ||
      !is_channel_vector(gb, l, x.dtype))
    return false;
  const View& out = y ? *y : g;  // without an activation its "output" is never read
  if (x.dtype == DType::f32) {
    with_activation<float>(
        act, [&](auto a) { backward<float>(g, out.ptr<float>(), x, mean, rstd, weight, gx, gw, gb, l, a); });
  } else if (x.dtype == DType::f64) {
    with_activation<double>(
        act, [&](auto a) { backward<double>(g, out.ptr<double>(), x, mean, rstd, weight, gx, gw, gb, l, a); });
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool CpuBackend::batch_norm_forward(const View& x, const View* weight, const View* bias, double eps, const View& y,
                                    const View& mean, const View& var) {
  return forward_checked(x, weight, bias, eps, nullptr, y, mean, var);
}

bool CpuBackend::batch_norm_backward(const View& g, const View& x, const View& mean, const View& rstd,
                                     const View* weight, const View* gx, const View* gw, const View* gb) {
  return backward_checked(g, nullptr, x, mean, rstd, weight, nullptr, gx, gw, gb);
}

bool CpuBackend::batch_norm_act_forward(const View& x, const View* weight, const View* bias, double eps,
                                        const NormActivation& act, const View& y, const View& mean, const View& var) {
  return forward_checked(x, weight, bias, eps, &act, y, mean, var);
}

bool CpuBackend::batch_norm_act_backward(const View& g, const View& y, const View& x, const View& mean,
                                         const View& rstd, const View* weight, const NormActivation& act,
                                         const View* gx, const View* gw, const View* gb) {
  return backward_checked(g, &y, x, mean, rstd, weight, &act, gx, gw, gb);
}

}  // namespace glassbox::kernels
