// Pooling and resampling on NCHW views: plain loops, one OpenMP task per (n, c) plane.
// Backward passes scatter into their own plane only, so planes never race.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/nchw_accessor.h"
#include "kernels/cpu/strided_loop.h"

namespace glassbox::kernels {

namespace {

using cpu::Accessor4;

/// Runs fn(n, c) for every plane of a [N, C, ...] view, planes spread over threads.
template <class Fn>
void for_each_plane(const View& v, Fn&& fn) {
  const int64_t channels = v.shape[1], planes = v.shape[0] * v.shape[1];
#pragma omp parallel for if (planes > 1 && v.numel() >= cpu::kParallelGrain)
  for (int64_t plane = 0; plane < planes; ++plane) fn(plane / channels, plane % channels);
}

template <class T>
void zero_plane(const Accessor4<T>& a, int64_t n, int64_t c, int64_t h, int64_t w) {
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) a(n, c, i, j) = T(0);
}

/// Window rows [begin, end) of output row `out` clipped to the input, and the divisor
/// avg_pool2d uses for it (PyTorch: the window clipped to the padded input when
/// count_include_pad, to the real input otherwise).
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};

AvgWindow avg_window(int64_t i, int64_t j, int64_t in_h, int64_t in_w, const Conv2dParams& p, int64_t kh, int64_t kw,
                     bool count_include_pad) {
  int64_t h0 = i * p.stride_h - p.pad_top, w0 = j * p.stride_w - p.pad_left;
  int64_t h1 = std::min(h0 + kh, in_h + p.pad_bottom), w1 = std::min(w0 + kw, in_w + p.pad_right);
  const int64_t padded_count = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, in_h);
  w1 = std::min(w1, in_w);
  return {h0, h1, w0, w1, count_include_pad ? padded_count : (h1 - h0) * (w1 - w0)};
}

/// The two source taps (and their weights) of one output coordinate. Nearest uses one
/// tap with weight 1; bilinear follows PyTorch's area_pixel_compute_source_index.
struct Taps {
  int64_t i0, i1;
  double w0, w1;
};

std::vector<Taps> resample_taps(int64_t in, int64_t out, bool bilinear, bool align_corners) {
  std::vector<Taps> taps(size_t(out), Taps{0, 0, 1.0, 0.0});
  for (int64_t d = 0; d < out; ++d) {
    Taps& t = taps[size_t(d)];
    if (!bilinear) {
      // PyTorch 'nearest': src = floor(dst * in / out), clamped to the last index.
      t.i0 = t.i1 = std::min(int64_t(std::floor(double(d) * double(in) / double(out))), in - 1);
      continue;
    }
    double src;
    if (align_corners) {
      src = out > 1 ? double(d) * double(in - 1) / double(out - 1) : 0.0;
    } else {
      src = std::max((double(d) + 0.5) * double(in) / double(out) - 0.5, 0.0);
    }
    t.i0 = std::min(int64_t(src), in - 1);
    t.i1 = t.i0 + (t.i0 < in - 1 ? 1 : 0);
    t.w1 = src - double(t.i0);
    t.w0 = 1.0 - t.w1;
  }
  return taps;
}

template <class T>
void max_pool_forward(const View& xv, const View& ov, const View& iv, const Conv2dParams& p, int64_t kh, int64_t kw) {
  Accessor4<T> x(xv), out(ov);
  Accessor4<int64_t> idx(iv);
  const int64_t in_h = xv.shape[2], in_w = xv.shape[3];
  for_each_plane(ov, [&](int64_t n, int64_t c) {
    for (int64_t i = 0; i < ov.shape[2]; ++i)
      for (int64_t j = 0; j < ov.shape[3]; ++j) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_at = -1;
        for (int64_t a = 0; a < kh; ++a) {
          const int64_t h = i * p.stride_h - p.pad_top + a * p.dilation_h;
          if (h < 0 || h >= in_h) continue;
          for (int64_t b = 0; b < kw; ++b) {
            const int64_t w = j * p.stride_w - p.pad_left + b * p.dilation_w;
            if (w < 0 || w >= in_w) continue;
            const T v = x(n, c, h, w);
            // NaN wins, as in PyTorch, so it propagates instead of being skipped.
            if (best_at < 0 || v > best || std::isnan(v)) {
              best = v;
              best_at = h * in_w + w;
            }
          }
        }
        out(n, c, i, j) = best;
        idx(n, c, i, j) = best_at;
      }
  });
}

template <class T>
void max_pool_backward(const View& gv, const View& iv, const View& gxv) {
  Accessor4<T> g(gv), gx(gxv);
  Accessor4<int64_t> idx(iv);
  const int64_t in_h = gxv.shape[2], in_w = gxv.shape[3];
  for_each_plane(gxv, [&](int64_t n, int64_t c) {
    zero_plane(gx, n, c, in_h, in_w);
    for (int64_t i = 0; i < gv.shape[2]; ++i)
      for (int64_t j = 0; j < gv.shape[3]; ++j) {
        const int64_t at = idx(n, c, i, j);
        if (at >= 0) gx(n, c, at / in_w, at % in_w) += g(n, c, i, j);
      }
  });
}

template <class T>
void avg_pool_forward(const View& xv, const View& ov, const Conv2dParams& p, int64_t kh, int64_t kw, bool include_pad) {
  Accessor4<T> x(xv), out(ov);
  for_each_plane(ov, [&](int64_t n, int64_t c) {
    for (int64_t i = 0; i < ov.shape[2]; ++i)
      for (int64_t j = 0; j < ov.shape[3]; ++j) {
        const AvgWindow win = avg_window(i, j, xv.shape[2], xv.shape[3], p, kh, kw, include_pad);
        T acc = 0;
        for (int64_t h = win.h0; h < win.h1; ++h)
          for (int64_t w = win.w0; w < win.w1; ++w) acc += x(n, c, h, w);
        out(n, c, i, j) = win.divisor > 0 ? acc / T(win.divisor) : T(0);
      }
  });
}

template <class T>
void avg_pool_backward(const View& gv, const View& gxv, const Conv2dParams& p, int64_t kh, int64_t kw,
                       bool include_pad) {
  Accessor4<T> g(gv), gx(gxv);
  for_each_plane(gxv, [&](int64_t n, int64_t c) {
    zero_plane(gx, n, c, gxv.shape[2], gxv.shape[3]);
    for (int64_t i = 0; i < gv.shape[2]; ++i)
      for (int64_t j = 0; j < gv.shape[3]; ++j) {
        const AvgWindow win = avg_window(i, j, gxv.shape[2], gxv.shape[3], p, kh, kw, include_pad);
        if (win.divisor <= 0) continue;
        const T share = g(n, c, i, j) / T(win.divisor);
        for (int64_t h = win.h0; h < win.h1; ++h)
          for (int64_t w = win.w0; w < win.w1; ++w) gx(n, c, h, w) += share;
      }
  });
}

/// Nearest upsampling is a gather of one source element per output element; this path
/// skips the bilinear blend (three zero-weight taps per element, in double) that made
/// it cost as much as a convolution in ProtoNet's upsample decoder. Same values.
template <class T>
void upsample_nearest_forward(const View& xv, const View& ov, const std::vector<Taps>& rows,
                              const std::vector<Taps>& cols) {
  Accessor4<T> x(xv), out(ov);
  const int64_t out_w = ov.shape[3];
  std::vector<int64_t> src_col(static_cast<size_t>(out_w));
  for (int64_t j = 0; j < out_w; ++j) src_col[size_t(j)] = cols[size_t(j)].i0 * x.s3;
  for_each_plane(ov, [&](int64_t n, int64_t c) {
    for (int64_t i = 0; i < ov.shape[2]; ++i) {
      const T* src = &x(n, c, rows[size_t(i)].i0, 0);
      T* dst = &out(n, c, i, 0);
      for (int64_t j = 0; j < out_w; ++j) dst[j * out.s3] = src[src_col[size_t(j)]];
    }
  });
}

/// Backward of nearest upsampling: each output gradient adds to its one source element.
template <class T>
void upsample_nearest_backward(const View& gv, const View& gxv, const std::vector<Taps>& rows,
                               const std::vector<Taps>& cols) {
  Accessor4<T> g(gv), gx(gxv);
  const int64_t out_w = gv.shape[3];
  std::vector<int64_t> dst_col(static_cast<size_t>(out_w));
  for (int64_t j = 0; j < out_w; ++j) dst_col[size_t(j)] = cols[size_t(j)].i0 * gx.s3;
  for_each_plane(gxv, [&](int64_t n, int64_t c) {
    zero_plane(gx, n, c, gxv.shape[2], gxv.shape[3]);
    for (int64_t i = 0; i < gv.shape[2]; ++i) {
      const T* src = &g(n, c, i, 0);
      T* dst = &gx(n, c, rows[size_t(i)].i0, 0);
      for (int64_t j = 0; j < out_w; ++j) dst[dst_col[size_t(j)]] += src[j * g.s3];
    }
  });
}

/// Exact 2x nearest upsampling with unit-stride rows (ProtoNet's upsample decoder: 2 -> 4,
/// 7 -> 14, 14 -> 28): each source element fills a 2x2 block and its gradient is that block's
/// sum, so both ways are plain unit-stride loops the compiler vectorises, with no index table.
/// The backward adds in the general path's order (row 2i, then 2i + 1; column 2k, then 2k + 1),
/// so the values are the same to the bit.
bool is_exact_double(const View& small, const View& big) {
  return big.shape[2] == 2 * small.shape[2] && big.shape[3] == 2 * small.shape[3] && small.strides[3] == 1 &&
         big.strides[3] == 1;
}

template <class T>
void upsample_nearest2x_forward(const View& xv, const View& ov) {
  Accessor4<T> x(xv), out(ov);
  const int64_t in_h = xv.shape[2], in_w = xv.shape[3];
  for_each_plane(ov, [&](int64_t n, int64_t c) {
    for (int64_t i = 0; i < in_h; ++i) {
      const T* src = &x(n, c, i, 0);
      T* top = &out(n, c, 2 * i, 0);
      T* bottom = &out(n, c, 2 * i + 1, 0);
      for (int64_t k = 0; k < in_w; ++k) top[2 * k] = top[2 * k + 1] = src[k];
      for (int64_t k = 0; k < 2 * in_w; ++k) bottom[k] = top[k];
    }
  });
}

template <class T>
void upsample_nearest2x_backward(const View& gv, const View& gxv) {
  Accessor4<T> g(gv), gx(gxv);
  const int64_t in_h = gxv.shape[2], in_w = gxv.shape[3];
  for_each_plane(gxv, [&](int64_t n, int64_t c) {
    for (int64_t i = 0; i < in_h; ++i) {
      const T* top = &g(n, c, 2 * i, 0);
      const T* bottom = &g(n, c, 2 * i + 1, 0);
      T* dst = &gx(n, c, i, 0);
      for (int64_t k = 0; k < in_w; ++k) dst[k] = ((top[2 * k] + top[2 * k + 1]) + bottom[2 * k]) + bottom[2 * k + 1];
    }
  });
}

template <class T>
void upsample_forward(const View& xv, const View& ov, bool bilinear, bool align_corners) {
  if (!bilinear && is_exact_double(xv, ov)) return upsample_nearest2x_forward<T>(xv, ov);
  Accessor4<T> x(xv), out(ov);
  const auto rows = resample_taps(xv.shape[2], ov.shape[2], bilinear, align_corners);
  const auto cols = resample_taps(xv.shape[3], ov.shape[3], bilinear, align_corners);
  if (!bilinear) return upsample_nearest_forward<T>(xv, ov, rows, cols);
  for_each_plane(ov, [&](int64_t n, int64_t c) {
    for (int64_t i = 0; i < ov.shape[2]; ++i) {
      const Taps& r = rows[size_t(i)];
      for (int64_t j = 0; j < ov.shape[3]; ++j) {
        const Taps& q = cols[size_t(j)];
        out(n, c, i, j) = T(r.w0 * (q.w0 * x(n, c, r.i0, q.i0) + q.w1 * x(n, c, r.i0, q.i1)) +
                            r.w1 * (q.w0 * x(n, c, r.i1, q.i0) + q.w1 * x(n, c, r.i1, q.i1)));
      }
    }
  });
}

template <class T>
void upsample_backward(const View& gv, const View& gxv, bool bilinear, bool align_corners) {
  if (!bilinear && is_exact_double(gxv, gv)) return upsample_nearest2x_backward<T>(gv, gxv);
  Accessor4<T> g(gv), gx(gxv);
  const auto rows = resample_taps(gxv.shape[2], gv.shape[2], bilinear, align_corners);
  const auto cols = resample_taps(gxv.shape[3], gv.shape[3], bilinear, align_corners);
  if (!bilinear) return upsample_nearest_backward<T>(gv, gxv, rows, cols);
  for_each_plane(gxv, [&](int64_t n, int64_t c) {
    zero_plane(gx, n, c, gxv.shape[2], gxv.shape[3]);
    for (int64_t i = 0; i < gv.shape[2]; ++i) {
      const Taps& r = rows[size_t(i)];
      for (int64_t j = 0; j < gv.shape[3]; ++j) {
        const Taps& q = cols[size_t(j)];
        const double v = double(g(n, c, i, j));
        gx(n, c, r.i0, q.i0) += T(r.w0 * q.w0 * v);
        gx(n, c, r.i0, q.i1) += T(r.w0 * q.w1 * v);
        gx(n, c, r.i1, q.i0) += T(r.w1 * q.w0 * v);
        gx(n, c, r.i1, q.i1) += T(r.w1 * q.w1 * v);
      }
    }
  });
}

}  // namespace

void CpuBackend::max_pool2d(const View& x, const View& out, const View& indices, const Conv2dParams& p,
                            int64_t kernel_h, int64_t kernel_w) {
  cpu::dispatch_floating(x.dtype, "max_pool2d",
                         [&](auto t) { max_pool_forward<decltype(t)>(x, out, indices, p, kernel_h, kernel_w); });
}

void CpuBackend::max_pool2d_backward(const View& grad, const View& indices, const View& grad_x) {
  cpu::dispatch_floating(grad.dtype, "max_pool2d_backward",
                         [&](auto t) { max_pool_backward<decltype(t)>(grad, indices, grad_x); });
}

void CpuBackend::avg_pool2d(const View& x, const View& out, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w,
                            bool count_include_pad) {
  cpu::dispatch_floating(x.dtype, "avg_pool2d", [&](auto t) {
    avg_pool_forward<decltype(t)>(x, out, p, kernel_h, kernel_w, count_include_pad);
  });
}

void CpuBackend::avg_pool2d_backward(const View& grad, const View& grad_x, const Conv2dParams& p, int64_t kernel_h,
                                     int64_t kernel_w, bool count_include_pad) {
  cpu::dispatch_floating(grad.dtype, "avg_pool2d_backward", [&](auto t) {
    avg_pool_backward<decltype(t)>(grad, grad_x, p, kernel_h, kernel_w, count_include_pad);
  });
}

void CpuBackend::upsample2d(const View& x, const View& out, bool bilinear, bool align_corners) {
  cpu::dispatch_floating(x.dtype, "upsample2d",
                         [&](auto t) { upsample_forward<decltype(t)>(x, out, bilinear, align_corners); });
}

void CpuBackend::upsample2d_backward(const View& grad, const View& grad_x, bool bilinear, bool align_corners) {
  cpu::dispatch_floating(grad.dtype, "upsample2d_backward",
                         [&](auto t) { upsample_backward<decltype(t)>(grad, grad_x, bilinear, align_corners); });
}

}  // namespace glassbox::kernels
