// Max and average pooling and nearest/bilinear resampling, with backward passes.
//
// Every view is NCHW and may be strided. Forward kernels run one thread per output
// element. Backward passes overwrite the input gradient: average pooling gathers (each
// input element sums the windows that hold it, so no atomics); max pooling and
// resampling scatter with atomicAdd into a zeroed gradient, since their backward
// entries do not get the window geometry (max) or taps overlap (bilinear).
// Semantics, tie rules and formulas follow kernels/cpu/pool.cpp.
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

/// Strides of a rank-4 view, for element (n, c, h, w).
struct Strides4 {
  int64_t s0, s1, s2, s3;
  __device__ int64_t at(int64_t n, int64_t c, int64_t h, int64_t w) const { return n * s0 + c * s1 + h * s2 + w * s3; }
};

Strides4 strides4(const View& v) { return {v.strides[0], v.strides[1], v.strides[2], v.strides[3]}; }

/// (n, c, i, j) of a row-major linear index over [N, C, H, W].
struct Nchw {
  int64_t n, c, i, j;
};
__device__ inline Nchw unflatten(int64_t idx, int64_t channels, int64_t h, int64_t w) {
  Nchw p;
  p.j = idx % w;
  idx /= w;
  p.i = idx % h;
  idx /= h;
  p.c = idx % channels;
  p.n = idx / channels;
  return p;
}

__host__ __device__ inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__host__ __device__ inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

#define GLASSBOX_GRID_LOOP(idx, total)                                              \
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < (total); \
       idx += int64_t(gridDim.x) * blockDim.x)

/// Pooling window geometry, by value to kernels.
struct Window {
  int64_t in_h, in_w, out_h, out_w;
  int64_t kh, kw, sh, sw, pt, pb, pl, pr, dh, dw;
};

Window window(const View& in, const View& out, const Conv2dParams& p, int64_t kh, int64_t kw) {
  return {in.shape[2], in.shape[3], out.shape[2], out.shape[3], kh,          kw,           p.stride_h,
          p.stride_w,  p.pad_top,   p.pad_bottom, p.pad_left,   p.pad_right, p.dilation_h, p.dilation_w};
}

// ---- Max pooling ------------------------------------------------------------------

template <class T>
__global__ void max_pool_kernel(const T* x, Strides4 xs, T* out, Strides4 os, int64_t* idx_out, Strides4 is,
                                int64_t channels, Window g, int64_t total) {
  GLASSBOX_GRID_LOOP(idx, total) {
    const Nchw o = unflatten(idx, channels, g.out_h, g.out_w);
    const T* plane = x + o.n * xs.s0 + o.c * xs.s1;
    T best = T(-INFINITY);
    int64_t best_at = -1;
    for (int64_t a = 0; a < g.kh; ++a) {
      const int64_t h = o.i * g.sh - g.pt + a * g.dh;
      if (h < 0 || h >= g.in_h) continue;
      for (int64_t b = 0; b < g.kw; ++b) {
        const int64_t w = o.j * g.sw - g.pl + b * g.dw;
        if (w < 0 || w >= g.in_w) continue;
        const T v = plane[h * xs.s2 + w * xs.s3];
        // First maximum wins ties; NaN wins (v != v), as on the CPU and in PyTorch.
        if (best_at < 0 || v > best || v != v) {
          best = v;
          best_at = h * g.in_w + w;
        }
      }
    }
    out[os.at(o.n, o.c, o.i, o.j)] = best;
    idx_out[is.at(o.n, o.c, o.i, o.j)] = best_at;
  }
}

/// gx[plane][indices] += grad; windows overlap, so several outputs may hit one input.
template <class T>
__global__ void max_pool_backward_kernel(const T* grad, Strides4 gs, const int64_t* indices, Strides4 is, T* gx,
                                         Strides4 xs, int64_t channels, int64_t out_h, int64_t out_w, int64_t in_w,
                                         int64_t total) {
  GLASSBOX_GRID_LOOP(idx, total) {
    const Nchw o = unflatten(idx, channels, out_h, out_w);
    const int64_t at = indices[is.at(o.n, o.c, o.i, o.j)];
    if (at < 0) continue;
    atomicAdd(gx + xs.at(o.n, o.c, at / in_w, at % in_w), grad[gs.at(o.n, o.c, o.i, o.j)]);
  }
}

// ---- Average pooling --------------------------------------------------------------

/// Window of output (i, j) clipped to the input, and its divisor (PyTorch: the window
/// clipped to the padded input when count_include_pad, to the real input otherwise).
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};

__device__ inline AvgWindow avg_window(int64_t i, int64_t j, const Window& g, bool count_include_pad) {
  int64_t h0 = i * g.sh - g.pt, w0 = j * g.sw - g.pl;
  int64_t h1 = min64(h0 + g.kh, g.in_h + g.pb), w1 = min64(w0 + g.kw, g.in_w + g.pr);
  const int64_t padded_count = (h1 - h0) * (w1 - w0);
  h0 = max64(h0, 0);
  w0 = max64(w0, 0);
  h1 = min64(h1, g.in_h);
  w1 = min64(w1, g.in_w);
  return {h0, h1, w0, w1, count_include_pad ? padded_count : (h1 - h0) * (w1 - w0)};
}

template <class T>
__global__ void avg_pool_kernel(const T* x, Strides4 xs, T* out, Strides4 os, int64_t channels, Window g,
                                bool count_include_pad, int64_t total) {
  GLASSBOX_GRID_LOOP(idx, total) {
    const Nchw o = unflatten(idx, channels, g.out_h, g.out_w);
    const AvgWindow win = avg_window(o.i, o.j, g, count_include_pad);
    const T* plane = x + o.n * xs.s0 + o.c * xs.s1;
    T acc = 0;
    for (int64_t h = win.h0; h < win.h1; ++h)
      for (int64_t w = win.w0; w < win.w1; ++w) acc += plane[h * xs.s2 + w * xs.s3];
    out[os.at(o.n, o.c, o.i, o.j)] = win.divisor > 0 ? acc / T(win.divisor) : T(0);
  }
}

/// First output index whose window [o*s - pad, o*s - pad + k) reaches down to `pos`.
__device__ inline int64_t first_window(int64_t pos, int64_t pad, int64_t k, int64_t s) {
  const int64_t t = pos + pad - k + 1;  // need o*s >= t
  return t <= 0 ? 0 : (t + s - 1) / s;
}

/// One thread per input element: the sum of grad / divisor over the windows holding it
/// (a window clipped to the input holds exactly the cells of the unclipped one inside it).
template <class T>
__global__ void avg_pool_backward_kernel(const T* grad, Strides4 gs, T* gx, Strides4 xs, int64_t channels, Window g,
                                         bool count_include_pad, int64_t total) {
  GLASSBOX_GRID_LOOP(idx, total) {
    const Nchw e = unflatten(idx, channels, g.in_h, g.in_w);
    const int64_t i0 = first_window(e.i, g.pt, g.kh, g.sh), i1 = min64((e.i + g.pt) / g.sh, g.out_h - 1);
    const int64_t j0 = first_window(e.j, g.pl, g.kw, g.sw), j1 = min64((e.j + g.pl) / g.sw, g.out_w - 1);
    T acc = 0;
    for (int64_t i = i0; i <= i1; ++i)
      for (int64_t j = j0; j <= j1; ++j) {
        const AvgWindow win = avg_window(i, j, g, count_include_pad);
        if (win.divisor <= 0) continue;
        acc += grad[gs.at(e.n, e.c, i, j)] / T(win.divisor);
      }
    gx[xs.at(e.n, e.c, e.i, e.j)] = acc;
  }
}

// ---- Resampling ---------------------------------------------------------------------

/// The two source taps (and weights) of one output coordinate, in double as on the
/// CPU so the chosen source indices agree exactly. Nearest: one tap of weight 1;
/// bilinear: PyTorch's area_pixel_compute_source_index.
struct Taps {
  int64_t i0, i1;
  double w0, w1;
};

__device__ inline Taps resample_taps(int64_t d, int64_t in, int64_t out, bool bilinear, bool align_corners) {
  Taps t{0, 0, 1.0, 0.0};
  if (!bilinear) {
    // PyTorch 'nearest': src = floor(dst * in / out), clamped to the last index.
    t.i0 = t.i1 = min64(int64_t(floor(double(d) * double(in) / double(out))), in - 1);
    return t;
  }
  double src;
  if (align_corners) {
    src = out > 1 ? double(d) * double(in - 1) / double(out - 1) : 0.0;
  } else {
    src = fmax((double(d) + 0.5) * double(in) / double(out) - 0.5, 0.0);
  }
  t.i0 = min64(int64_t(src), in - 1);
  t.i1 = t.i0 + (t.i0 < in - 1 ? 1 : 0);
  t.w1 = src - double(t.i0);
  t.w0 = 1.0 - t.w1;
  return t;
}

template <class T>
__global__ void upsample_kernel(const T* x, Strides4 xs, int64_t in_h, int64_t in_w, T* out, Strides4 os,
                                int64_t channels, int64_t out_h, int64_t out_w, bool bilinear, bool align_corners,
                                int64_t total) {
  GLASSBOX_GRID_LOOP(idx, total) {
    const Nchw o = unflatten(idx, channels, out_h, out_w);
    const Taps r = resample_taps(o.i, in_h, out_h, bilinear, align_corners);
    const Taps q = resample_taps(o.j, in_w, out_w, bilinear, align_corners);
    const T* plane = x + o.n * xs.s0 + o.c * xs.s1;
    T v;
    if (!bilinear) {
      v = plane[r.i0 * xs.s2 + q.i0 * xs.s3];
    } else {
      const double x00 = double(plane[r.i0 * xs.s2 + q.i0 * xs.s3]), x01 = double(plane[r.i0 * xs.s2 + q.i1 * xs.s3]);
      const double x10 = double(plane[r.i1 * xs.s2 + q.i0 * xs.s3]), x11 = double(plane[r.i1 * xs.s2 + q.i1 * xs.s3]);
      v = T(r.w0 * (q.w0 * x00 + q.w1 * x01) + r.w1 * (q.w0 * x10 + q.w1 * x11));
    }
    out[os.at(o.n, o.c, o.i, o.j)] = v;
  }
}

/// Scatters each output gradient onto its taps (bilinear taps of neighbouring outputs
/// overlap, hence atomicAdd); gx was zeroed first.
template <class T>
__global__ void upsample_backward_kernel(const T* grad, Strides4 gs, int64_t out_h, int64_t out_w, T* gx, Strides4 xs,
                                         int64_t in_h, int64_t in_w, int64_t channels, bool bilinear,
                                         bool align_corners, int64_t total) {
  GLASSBOX_GRID_LOOP(idx, total) {
    const Nchw o = unflatten(idx, channels, out_h, out_w);
    const Taps r = resample_taps(o.i, in_h, out_h, bilinear, align_corners);
    const Taps q = resample_taps(o.j, in_w, out_w, bilinear, align_corners);
    T* plane = gx + o.n * xs.s0 + o.c * xs.s1;
    const T g = grad[gs.at(o.n, o.c, o.i, o.j)];
    if (!bilinear) {
      atomicAdd(plane + r.i0 * xs.s2 + q.i0 * xs.s3, g);
      continue;
    }
    // All four terms, as the CPU does (a zero weight still carries a NaN or inf).
    const double v = double(g);
    atomicAdd(plane + r.i0 * xs.s2 + q.i0 * xs.s3, T(r.w0 * q.w0 * v));
    atomicAdd(plane + r.i0 * xs.s2 + q.i1 * xs.s3, T(r.w0 * q.w1 * v));
    atomicAdd(plane + r.i1 * xs.s2 + q.i0 * xs.s3, T(r.w1 * q.w0 * v));
    atomicAdd(plane + r.i1 * xs.s2 + q.i1 * xs.s3, T(r.w1 * q.w1 * v));
  }
}

#undef GLASSBOX_GRID_LOOP

void check_rank4(const char* what, std::initializer_list<const View*> views) {
  for (const View* v : views)
    if (v->shape.size() != 4)
      throw std::invalid_argument(std::string("cuda ") + what + ": expected [N, C, H, W] views, got " + v->shape.str());
}

void check_same_dtype(const char* what, const View& a, const View& b) {
  if (a.dtype != b.dtype)
    throw std::invalid_argument(std::string("cuda ") + what + ": dtypes differ: " + dtype_name(a.dtype) + " and " +
                                dtype_name(b.dtype));
}

void check_indices(const char* what, const View& indices) {
  if (indices.dtype != DType::i64)
    throw std::invalid_argument(std::string("cuda ") + what + ": indices must be i64, got " +
                                dtype_name(indices.dtype));
}

}  // namespace

void CudaBackend::max_pool2d(const View& x, const View& out, const View& indices, const Conv2dParams& p,
                             int64_t kernel_h, int64_t kernel_w) {
  set_device(device_);
  check_rank4("max_pool2d", {&x, &out, &indices});
  check_same_dtype("max_pool2d", x, out);
  check_indices("max_pool2d", indices);
  dispatch_floating(x.dtype, "max_pool2d", [&](auto t) {
    using T = decltype(t);
    const int64_t total = out.numel();
    if (total == 0) return;
    max_pool_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        x.ptr<const T>(), strides4(x), out.ptr<T>(), strides4(out), indices.ptr<int64_t>(), strides4(indices),
        out.shape[1], window(x, out, p, kernel_h, kernel_w), total);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

void CudaBackend::max_pool2d_backward(const View& grad, const View& indices, const View& grad_x) {
  set_device(device_);
  check_rank4("max_pool2d_backward", {&grad, &indices, &grad_x});
  check_same_dtype("max_pool2d_backward", grad, grad_x);
  check_indices("max_pool2d_backward", indices);
  dispatch_floating(grad.dtype, "max_pool2d_backward", [&](auto t) {
    using T = decltype(t);
    zero_view<T>(grad_x);
    const int64_t total = grad.numel();
    if (total == 0 || grad_x.numel() == 0) return;
    max_pool_backward_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        grad.ptr<const T>(), strides4(grad), indices.ptr<const int64_t>(), strides4(indices), grad_x.ptr<T>(),
        strides4(grad_x), grad.shape[1], grad.shape[2], grad.shape[3], grad_x.shape[3], total);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

void CudaBackend::avg_pool2d(const View& x, const View& out, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w,
                             bool count_include_pad) {
  set_device(device_);
  check_rank4("avg_pool2d", {&x, &out});
  check_same_dtype("avg_pool2d", x, out);
  dispatch_floating(x.dtype, "avg_pool2d", [&](auto t) {
    using T = decltype(t);
    const int64_t total = out.numel();
    if (total == 0) return;
    avg_pool_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        x.ptr<const T>(), strides4(x), out.ptr<T>(), strides4(out), out.shape[1], window(x, out, p, kernel_h, kernel_w),
        count_include_pad, total);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

void CudaBackend::avg_pool2d_backward(const View& grad, const View& grad_x, const Conv2dParams& p, int64_t kernel_h,
                                      int64_t kernel_w, bool count_include_pad) {
  set_device(device_);
  check_rank4("avg_pool2d_backward", {&grad, &grad_x});
  check_same_dtype("avg_pool2d_backward", grad, grad_x);
  dispatch_floating(grad.dtype, "avg_pool2d_backward", [&](auto t) {
    using T = decltype(t);
    const int64_t total = grad_x.numel();
    if (total == 0) return;
    if (grad.numel() == 0) {
      zero_view<T>(grad_x);  // no windows: nothing flows back
      return;
    }
    avg_pool_backward_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        grad.ptr<const T>(), strides4(grad), grad_x.ptr<T>(), strides4(grad_x), grad_x.shape[1],
        window(grad_x, grad, p, kernel_h, kernel_w), count_include_pad, total);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

void CudaBackend::upsample2d(const View& x, const View& out, bool bilinear, bool align_corners) {
  set_device(device_);
  check_rank4("upsample2d", {&x, &out});
  check_same_dtype("upsample2d", x, out);
  dispatch_floating(x.dtype, "upsample2d", [&](auto t) {
    using T = decltype(t);
    const int64_t total = out.numel();
    if (total == 0) return;
    upsample_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        x.ptr<const T>(), strides4(x), x.shape[2], x.shape[3], out.ptr<T>(), strides4(out), out.shape[1], out.shape[2],
        out.shape[3], bilinear, align_corners, total);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

void CudaBackend::upsample2d_backward(const View& grad, const View& grad_x, bool bilinear, bool align_corners) {
  set_device(device_);
  check_rank4("upsample2d_backward", {&grad, &grad_x});
  check_same_dtype("upsample2d_backward", grad, grad_x);
  dispatch_floating(grad.dtype, "upsample2d_backward", [&](auto t) {
    using T = decltype(t);
    zero_view<T>(grad_x);
    const int64_t total = grad.numel();
    if (total == 0 || grad_x.numel() == 0) return;
    upsample_backward_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        grad.ptr<const T>(), strides4(grad), grad.shape[2], grad.shape[3], grad_x.ptr<T>(), strides4(grad_x),
        grad_x.shape[2], grad_x.shape[3], grad.shape[1], bilinear, align_corners, total);
    GLASSBOX_CUDA_LAUNCHED();
  });
}

}  // namespace glassbox::kernels::cuda
