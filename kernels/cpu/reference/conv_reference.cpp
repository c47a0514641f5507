// Direct-summation convolution loops, written for clarity over speed. One loop nest
// per pass; the window geometry (input row = out_row*stride - pad_top + tap*dilation)
// is shared by all three through `input_coord`.
#include "kernels/cpu/reference/conv_reference.h"

#include "kernels/cpu/nchw_accessor.h"
#include "kernels/cpu/strided_loop.h"

namespace glassbox::kernels::reference {

namespace {

using cpu::Accessor4;

/// Sizes every pass needs, read from the activation and weight views.
struct Geometry {
  int64_t batch, in_channels, in_h, in_w, out_channels, group_in, kernel_h, kernel_w, out_h, out_w, groups;
  int64_t group_out() const { return out_channels / groups; }
  /// Multiply-adds per pass; small convolutions stay on one thread (a parallel region
  /// costs more than they do, and much more on a busy machine).
  bool worth_threads() const {
    return batch * out_channels * out_h * out_w * group_in * kernel_h * kernel_w >= cpu::kParallelGrain;
  }
};

Geometry geometry(const View& x, const View& w, const View& y, const Conv2dParams& p) {
  return {x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0], w.shape[1],
          w.shape[2], w.shape[3], y.shape[2], y.shape[3], p.groups};
}

inline int64_t input_coord(int64_t out, int64_t tap, int64_t stride, int64_t pad, int64_t dilation) {
  return out * stride - pad + tap * dilation;
}

template <class T>
void forward(const View& xv, const View& wv, const View* bv, const View& yv, const Conv2dParams& p) {
  const Geometry g = geometry(xv, wv, yv, p);
  Accessor4<T> x(xv), w(wv), y(yv);
  const T* bias = bv ? bv->ptr<T>() : nullptr;
  const int64_t bias_stride = bv ? bv->strides[0] : 0;
#pragma omp parallel for collapse(2) if (g.worth_threads())
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t o = 0; o < g.out_channels; ++o) {
      const int64_t c0 = (o / g.group_out()) * g.group_in;
      for (int64_t i = 0; i < g.out_h; ++i)
        for (int64_t j = 0; j < g.out_w; ++j) {
          T acc = bias ? bias[o * bias_stride] : T(0);
          for (int64_t c = 0; c < g.group_in; ++c)
            for (int64_t a = 0; a < g.kernel_h; ++a) {
              const int64_t h = input_coord(i, a, p.stride_h, p.pad_top, p.dilation_h);
              if (h < 0 || h >= g.in_h) continue;
              for (int64_t b = 0; b < g.kernel_w; ++b) {
                const int64_t col = input_coord(j, b, p.stride_w, p.pad_left, p.dilation_w);
                if (col < 0 || col >= g.in_w) continue;
                acc += x(n, c0 + c, h, col) * w(o, c, a, b);
              }
            }
          y(n, o, i, j) = acc;
        }
    }
}

template <class T>
void backward_data(const View& gyv, const View& wv, const View& gxv, const Conv2dParams& p) {
  const Geometry g = geometry(gxv, wv, gyv, p);
  Accessor4<T> gy(gyv), w(wv), gx(gxv);
  // Each (n, group) pair owns a disjoint block of gx channels, so threads never collide.
#pragma omp parallel for collapse(2) if (g.worth_threads())
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const int64_t c0 = grp * g.group_in;
      for (int64_t c = 0; c < g.group_in; ++c)
        for (int64_t h = 0; h < g.in_h; ++h)
          for (int64_t col = 0; col < g.in_w; ++col) gx(n, c0 + c, h, col) = T(0);
      for (int64_t o = grp * g.group_out(); o < (grp + 1) * g.group_out(); ++o)
        for (int64_t i = 0; i < g.out_h; ++i)
          for (int64_t j = 0; j < g.out_w; ++j) {
            const T grad = gy(n, o, i, j);
            for (int64_t c = 0; c < g.group_in; ++c)
              for (int64_t a = 0; a < g.kernel_h; ++a) {
                const int64_t h = input_coord(i, a, p.stride_h, p.pad_top, p.dilation_h);
                if (h < 0 || h >= g.in_h) continue;
                for (int64_t b = 0; b < g.kernel_w; ++b) {
                  const int64_t col = input_coord(j, b, p.stride_w, p.pad_left, p.dilation_w);
                  if (col < 0 || col >= g.in_w) continue;
                  gx(n, c0 + c, h, col) += grad * w(o, c, a, b);
                }
              }
          }
    }
}

template <class T>
void backward_weights(const View& xv, const View& gyv, const View& gwv, const View* gbv, const Conv2dParams& p) {
  const Geometry g = geometry(xv, gwv, gyv, p);
  Accessor4<T> x(xv), gy(gyv), gw(gwv);
#pragma omp parallel for if (g.worth_threads())
  for (int64_t o = 0; o < g.out_channels; ++o) {
    const int64_t c0 = (o / g.group_out()) * g.group_in;
    for (int64_t c = 0; c < g.group_in; ++c)
      for (int64_t a = 0; a < g.kernel_h; ++a)
        for (int64_t b = 0; b < g.kernel_w; ++b) {
          T acc = 0;
          for (int64_t n = 0; n < g.batch; ++n)
            for (int64_t i = 0; i < g.out_h; ++i) {
              const int64_t h = input_coord(i, a, p.stride_h, p.pad_top, p.dilation_h);
              if (h < 0 || h >= g.in_h) continue;
              for (int64_t j = 0; j < g.out_w; ++j) {
                const int64_t col = input_coord(j, b, p.stride_w, p.pad_left, p.dilation_w);
                if (col < 0 || col >= g.in_w) continue;
                acc += x(n, c0 + c, h, col) * gy(n, o, i, j);
              }
            }
          gw(o, c, a, b) = acc;
        }
    if (gbv) {
      T acc = 0;
      for (int64_t n = 0; n < g.batch; ++n)
        for (int64_t i = 0; i < g.out_h; ++i)
          for (int64_t j = 0; j < g.out_w; ++j) acc += gy(n, o, i, j);
      gbv->ptr<T>()[o * gbv->strides[0]] = acc;
    }
  }
}

}  // namespace

void conv2d_forward(const View& x, const View& w, const View* bias, const View& y, const Conv2dParams& p) {
  cpu::dispatch_floating(x.dtype, "conv2d_forward", [&](auto t) { forward<decltype(t)>(x, w, bias, y, p); });
}

void conv2d_backward_data(const View& gy, const View& w, const View& gx, const Conv2dParams& p) {
  cpu::dispatch_floating(gy.dtype, "conv2d_backward_data", [&](auto t) { backward_data<decltype(t)>(gy, w, gx, p); });
}

void conv2d_backward_weights(const View& x, const View& gy, const View& gw, const View* gbias, const Conv2dParams& p) {
  cpu::dispatch_floating(x.dtype, "conv2d_backward_weights",
                         [&](auto t) { backward_weights<decltype(t)>(x, gy, gw, gbias, p); });
}

}  // namespace glassbox::kernels::reference
