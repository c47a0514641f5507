// 2-d convolution forward and backward: im2col / col2im kernels around cuBLAS GEMMs.
//
// Shapes: x [N, C, H, W], w [O, C/G, kh, kw], y [N, O, OH, OW]; with K = kh*kw taps,
// L = OH*OW output positions and Cg = C/G, Og = O/G per group g:
//   forward        y[n, g]   = w[g] (Og x Cg*K)  @ cols[n, g] (Cg*K x L)
//   backward data  cols[n,g] = w[g]^T            @ gy[n, g] (Og x L), then col2im
//   backward wgt   gw[g]     = sum_n gy[n, g]    @ cols[n, g]^T
// cols rows are ordered (c, tap), so group g owns rows [g*Cg*K, (g+1)*Cg*K). The column
// buffer is filled for a chunk of images at a time so it stays within kColumnBudget.
// Transposed convolutions (engine/ops/conv.cpp) run on these same three entries.
//
// As on the CPU (kernels/cpu/conv.cpp and reference/), every pass overwrites its
// outputs: y (bias included), gx, gw and gbias. x may be strided (im2col reads it
// through its strides) and so may gx (col2im writes through them); w, y, gy and gw need
// the dense layout the GEMMs read, which is what the ops layer passes.
#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

/// Most bytes of scratch one pass uses for columns (and transposed gradients): a
/// chunk of images is sized to fit, one image at least.
constexpr int64_t kColumnBudget = int64_t(256) << 20;

/// Sizes every pass needs: activations (x or gx), weights (w or gw), outputs (y or gy).
struct Geometry {
  int64_t n, c, h, w, o, cg, kh, kw, oh, ow, groups;
  int64_t og() const { return o / groups; }
  int64_t taps() const { return kh * kw; }
  int64_t ck() const { return c * taps(); }    // column rows of a whole image
  int64_t cgk() const { return cg * taps(); }  // column rows of one group
  int64_t l() const { return oh * ow; }
};

Geometry geometry(const View& x, const View& w, const View& y, const Conv2dParams& p) {
  return {x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0], w.shape[1],
          w.shape[2], w.shape[3], y.shape[2], y.shape[3], p.groups};
}

/// 1x1 kernel, stride 1, no padding: an image [C, H*W] is already its own column matrix.
bool pointwise(const Geometry& g, const Conv2dParams& p) {
  return g.kh == 1 && g.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 && p.pad_bottom == 0 &&
         p.pad_left == 0 && p.pad_right == 0;
}

void check_operands(const char* what, std::initializer_list<const View*> four_d, DType dtype) {
  for (const View* v : four_d) {
    if (v->shape.size() != 4)
      throw std::invalid_argument(std::string("cuda ") + what + ": expected rank-4 operands, got " + v->shape.str());
    if (v->dtype != dtype)
      throw std::invalid_argument(std::string("cuda ") + what + ": dtypes differ: " + dtype_name(v->dtype) + " and " +
                                  dtype_name(dtype));
  }
}

/// The GEMM operands must be dense (the CPU's f32 path has the same requirement);
/// an empty view has nothing to read or write.
void check_dense(const char* what, std::initializer_list<const View*> views) {
  for (const View* v : views)
    if (v->numel() > 0 && !v->is_contiguous())
      throw std::logic_error(std::string(what) + ": the cuda path needs contiguous tensors, got strides " +
                             v->strides.str() + " for shape " + v->shape.str());
}

/// Images per chunk when each needs `bytes_per_image` of scratch.
int64_t images_per_chunk(int64_t images, int64_t bytes_per_image) {
  const int64_t fit = bytes_per_image > 0 ? kColumnBudget / bytes_per_image : images;
  return std::max<int64_t>(1, std::min(images, fit));
}

/// Window geometry and the layout of a column buffer, passed by value to kernels.
/// Column element (image i, row r = c*K + tap, position l) lives at
/// i*img_stride + r*row_stride + l.
struct ColumnGeometry {
  int64_t c, h, w, kh, kw, oh, ow;
  int64_t sh, sw, pt, pl, dh, dw;
  int64_t xs0, xs1, xs2, xs3;  // strides of the activation (x or gx)
  int64_t img_stride, row_stride;
};

ColumnGeometry column_geometry(const Geometry& g, const Conv2dParams& p, const View& act, int64_t img_stride,
                               int64_t row_stride) {
  ColumnGeometry cg;
  cg.c = g.c, cg.h = g.h, cg.w = g.w, cg.kh = g.kh, cg.kw = g.kw, cg.oh = g.oh, cg.ow = g.ow;
  cg.sh = p.stride_h, cg.sw = p.stride_w, cg.pt = p.pad_top, cg.pl = p.pad_left;
  cg.dh = p.dilation_h, cg.dw = p.dilation_w;
  cg.xs0 = act.strides[0], cg.xs1 = act.strides[1], cg.xs2 = act.strides[2], cg.xs3 = act.strides[3];
  cg.img_stride = img_stride, cg.row_stride = row_stride;
  return cg;
}

/// One thread per (image, channel, output position) writes that position's K taps
/// (zeros where the window reads padding). x points at the chunk's first image.
template <class T>
__global__ void im2col_kernel(const T* x, T* col, ColumnGeometry g, int64_t images) {
  const int64_t total = images * g.c * g.oh * g.ow;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ow = idx % g.ow;
    int64_t t = idx / g.ow;
    const int64_t oh = t % g.oh;
    t /= g.oh;
    const int64_t c = t % g.c;
    const int64_t i = t / g.c;
    const T* xp = x + i * g.xs0 + c * g.xs1;
    T* cp = col + i * g.img_stride + c * g.kh * g.kw * g.row_stride + oh * g.ow + ow;
    const int64_t h0 = oh * g.sh - g.pt, w0 = ow * g.sw - g.pl;
    for (int64_t a = 0; a < g.kh; ++a) {
      const int64_t h = h0 + a * g.dh;
      const bool row_in = h >= 0 && h < g.h;
      for (int64_t b = 0; b < g.kw; ++b) {
        const int64_t w = w0 + b * g.dw;
        *cp = row_in && w >= 0 && w < g.w ? xp[h * g.xs2 + w * g.xs3] : T(0);
        cp += g.row_stride;
      }
    }
  }
}

/// The adjoint of im2col as a gather: one thread per activation element sums the
/// column entries of every window tap that read it and overwrites the element, so no
/// atomics and no zero fill are needed. gx points at the chunk's first image.
template <class T>
__global__ void col2im_kernel(const T* col, T* gx, ColumnGeometry g, int64_t images) {
  const int64_t total = images * g.c * g.h * g.w;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t x = idx % g.w;
    int64_t t = idx / g.w;
    const int64_t y = t % g.h;
    t /= g.h;
    const int64_t c = t % g.c;
    const int64_t i = t / g.c;
    const T* cp = col + i * g.img_stride + c * g.kh * g.kw * g.row_stride;
    T acc = 0;
    for (int64_t a = 0; a < g.kh; ++a) {
      // Output row oh reads input row oh*sh - pt + a*dh; it must be this row.
      const int64_t hs = y + g.pt - a * g.dh;
      if (hs < 0) break;  // larger taps only move further up
      if (hs % g.sh != 0) continue;
      const int64_t oh = hs / g.sh;
      if (oh >= g.oh) continue;
      for (int64_t b = 0; b < g.kw; ++b) {
        const int64_t ws = x + g.pl - b * g.dw;
        if (ws < 0) break;
        if (ws % g.sw != 0) continue;
        const int64_t ow = ws / g.sw;
        if (ow >= g.ow) continue;
        acc += cp[(a * g.kw + b) * g.row_stride + oh * g.ow + ow];
      }
    }
    gx[i * g.xs0 + c * g.xs1 + y * g.xs2 + x * g.xs3] = acc;
  }
}

/// y [N, O, L] dense: y = (overwrite ? 0 : y) + bias[o] (no bias: + 0).
template <class T>
__global__ void bias_kernel(T* y, const T* bias, int64_t bias_stride, int64_t channels, int64_t plane, bool overwrite,
                            int64_t total) {
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const T b = bias ? bias[((idx / plane) % channels) * bias_stride] : T(0);
    y[idx] = overwrite ? b : y[idx] + b;
  }
}

/// [images, O, L] -> [O, images, L], so a chunk's gradient rows for one channel are
/// contiguous and the weight gradient is one GEMM contracting over (image, position).
template <class T>
__global__ void swap_image_channel_kernel(const T* src, T* dst, int64_t images, int64_t channels, int64_t plane) {
  const int64_t total = images * channels * plane;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t l = idx % plane;
    const int64_t t = idx / plane;
    const int64_t i = t % images, o = t / images;
    dst[idx] = src[(i * channels + o) * plane + l];
  }
}

template <class T>
struct Accumulator {
  using type = double;  // f32 sums in double: at least as accurate as the CPU's
};

/// gbias[o] = sum over images and positions of gy[n, o, l]; one block per channel.
/// gridDim.x = channels (< 2^31), kThreads threads.
template <class T>
__global__ void bias_grad_kernel(const T* gy, T* gb, int64_t gb_stride, int64_t images, int64_t channels,
                                 int64_t plane) {
  using Acc = typename Accumulator<T>::type;
  const int64_t o = blockIdx.x;
  const int64_t count = images * plane;
  Acc acc = 0;
  for (int64_t t = threadIdx.x; t < count; t += blockDim.x) {
    const int64_t n = t / plane, l = t % plane;
    acc += Acc(gy[(n * channels + o) * plane + l]);
  }
  for (int offset = 16; offset > 0; offset /= 2) acc += __shfl_down_sync(0xffffffffu, acc, offset);
  __shared__ Acc warp_sums[kThreads / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = lane < int(blockDim.x / 32) ? warp_sums[lane] : Acc(0);
    for (int offset = 16; offset > 0; offset /= 2) acc += __shfl_down_sync(0xffffffffu, acc, offset);
    if (lane == 0) gb[o * gb_stride] = T(acc);
  }
}

/// y = (overwrite ? 0 : y) + bias over a dense [N, O, L] output.
template <class T>
void launch_bias(const View& y, const View* bias, bool overwrite) {
  const int64_t total = y.numel();
  if (total == 0 || (!bias && !overwrite)) return;
  const int64_t plane = y.shape[2] * y.shape[3];
  bias_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(y.ptr<T>(), bias ? bias->ptr<const T>() : nullptr,
                                                               bias ? bias->strides[0] : 0, y.shape[1], plane,
                                                               overwrite, total);
  GLASSBOX_CUDA_LAUNCHED();
}

template <class T>
void launch_im2col(const T* x, T* col, const ColumnGeometry& cg, int64_t images) {
  const int64_t threads = images * cg.c * cg.oh * cg.ow;
  if (threads == 0) return;
  im2col_kernel<T><<<blocks_for(threads), kThreads, 0, stream()>>>(x, col, cg, images);
  GLASSBOX_CUDA_LAUNCHED();
}

/// The per-(image, group) GEMMs of forward / backward data for one chunk of images, as
/// strided-batched calls: batched over images (one call per group) when there are at
/// least as many images as groups, else batched over groups (one call per image).
/// `g` gives the shapes and leading dims; *_img / *_grp are each operand's strides.
template <class T>
void grouped_gemm(GemmArgs g, const T* a, int64_t a_img, int64_t a_grp, const T* b, int64_t b_img, int64_t b_grp, T* c,
                  int64_t c_img, int64_t c_grp, int64_t images, int64_t groups) {
  if (images >= groups) {
    g.stride_a = a_img;
    g.stride_b = b_img;
    g.stride_c = c_img;
    g.batch = images;
    for (int64_t q = 0; q < groups; ++q) gemm_batched(g, 1.0, a + q * a_grp, b + q * b_grp, 0.0, c + q * c_grp);
  } else {
    g.stride_a = a_grp;
    g.stride_b = b_grp;
    g.stride_c = c_grp;
    g.batch = groups;
    for (int64_t i = 0; i < images; ++i) gemm_batched(g, 1.0, a + i * a_img, b + i * b_img, 0.0, c + i * c_img);
  }
}

template <class T>
void forward(const View& x, const View& w, const View* bias, const View& y, const Conv2dParams& p) {
  const Geometry g = geometry(x, w, y, p);
  check_dense("conv2d_forward", {&w, &y});
  if (y.numel() == 0) return;
  if (g.cgk() == 0) {
    // Every output is an empty sum: just the bias.
    launch_bias<T>(y, bias, true);
    return;
  }
  const int64_t l = g.l();
  const bool direct = pointwise(g, p) && x.is_contiguous();
  const int64_t chunk = direct ? g.n : images_per_chunk(g.n, g.ck() * l * int64_t(sizeof(T)));
  T* col = direct ? nullptr : static_cast<T*>(scratch(size_t(chunk * g.ck() * l) * sizeof(T), 0));
  const T* wp = w.ptr<const T>();
  for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
    const int64_t images = std::min(chunk, g.n - n0);
    const T* cols = direct ? x.ptr<const T>() + n0 * g.ck() * l : col;
    if (!direct)
      launch_im2col<T>(x.ptr<const T>() + n0 * x.strides[0], col, column_geometry(g, p, x, g.ck() * l, l), images);
    // y[n, g] (Og x L) = w[g] (Og x CgK) @ cols[n, g] (CgK x L).
    GemmArgs args;
    args.m = g.og();
    args.n = l;
    args.k = g.cgk();
    args.lda = g.cgk();
    args.ldb = l;
    args.ldc = l;
    grouped_gemm<T>(args, wp, 0, g.og() * g.cgk(), cols, g.ck() * l, g.cgk() * l, y.ptr<T>() + n0 * g.o * l, g.o * l,
                    g.og() * l, images, g.groups);
  }
  launch_bias<T>(y, bias, false);
}

template <class T>
void backward_data(const View& gy, const View& w, const View& gx, const Conv2dParams& p) {
  const Geometry g = geometry(gx, w, gy, p);
  check_dense("conv2d_backward_data", {&gy, &w});
  if (gx.numel() == 0) return;
  if (gy.numel() == 0 || g.taps() == 0) {
    // No window reads any element (empty output or kernel): the gradient is zero.
    zero_view<T>(gx);
    return;
  }
  const int64_t l = g.l();
  const bool direct = pointwise(g, p) && gx.is_contiguous();
  const int64_t chunk = direct ? g.n : images_per_chunk(g.n, g.ck() * l * int64_t(sizeof(T)));
  T* col = direct ? nullptr : static_cast<T*>(scratch(size_t(chunk * g.ck() * l) * sizeof(T), 0));
  const ColumnGeometry cg = column_geometry(g, p, gx, g.ck() * l, l);
  for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
    const int64_t images = std::min(chunk, g.n - n0);
    T* cols = direct ? gx.ptr<T>() + n0 * g.ck() * l : col;
    // cols[n, g] (CgK x L) = w[g]^T (CgK x Og) @ gy[n, g] (Og x L).
    GemmArgs args;
    args.trans_a = true;
    args.m = g.cgk();
    args.n = l;
    args.k = g.og();
    args.lda = g.cgk();
    args.ldb = l;
    args.ldc = l;
    grouped_gemm<T>(args, w.ptr<const T>(), 0, g.og() * g.cgk(), gy.ptr<const T>() + n0 * g.o * l, g.o * l, g.og() * l,
                    cols, g.ck() * l, g.cgk() * l, images, g.groups);
    if (!direct) {
      const int64_t threads = images * g.c * g.h * g.w;
      col2im_kernel<T>
          <<<blocks_for(threads), kThreads, 0, stream()>>>(col, gx.ptr<T>() + n0 * gx.strides[0], cg, images);
      GLASSBOX_CUDA_LAUNCHED();
    }
  }
}

template <class T>
void backward_weights(const View& x, const View& gy, const View& gw, const View* gbias, const Conv2dParams& p) {
  const Geometry g = geometry(x, gw, gy, p);
  check_dense("conv2d_backward_weights", {&gy, &gw});
  const int64_t l = g.l();
  if (gbias && gbias->numel() > 0) {
    // An empty batch or output gives zeros: each block's sum is then empty.
    bias_grad_kernel<T>
        <<<unsigned(g.o), kThreads, 0, stream()>>>(gy.ptr<const T>(), gbias->ptr<T>(), gbias->strides[0], g.n, g.o, l);
    GLASSBOX_CUDA_LAUNCHED();
  }
  if (gw.numel() == 0) return;
  if (g.n == 0 || l == 0) {
    zero_view<T>(gw);
    return;
  }
  // Per image: its columns and its gradient with image and channel swapped.
  const int64_t chunk = images_per_chunk(g.n, (g.ck() + g.o) * l * int64_t(sizeof(T)));
  T* col = static_cast<T*>(scratch(size_t(chunk * g.ck() * l) * sizeof(T), 0));
  T* gyt = chunk > 1 ? static_cast<T*>(scratch(size_t(chunk * g.o * l) * sizeof(T), 1)) : nullptr;
  for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
    const int64_t images = std::min(chunk, g.n - n0);
    const int64_t width = images * l;  // the contraction: (image, position)
    // Columns as [CK, images * L]: row r of image i at r*width + i*L.
    launch_im2col<T>(x.ptr<const T>() + n0 * x.strides[0], col, column_geometry(g, p, x, l, width), images);
    const T* gy_chunk = gy.ptr<const T>() + n0 * g.o * l;
    const T* rows = gy_chunk;  // [O, images * L]; a single image already is
    if (images > 1) {
      swap_image_channel_kernel<T>
          <<<blocks_for(images * g.o * l), kThreads, 0, stream()>>>(gy_chunk, gyt, images, g.o, l);
      GLASSBOX_CUDA_LAUNCHED();
      rows = gyt;
    }
    // gw[g] (Og x CgK) (+)= rows[g] (Og x width) @ cols[g]^T (width x CgK), batched over groups.
    GemmArgs args;
    args.trans_b = true;
    args.m = g.og();
    args.n = g.cgk();
    args.k = width;
    args.lda = width;
    args.ldb = width;
    args.ldc = g.cgk();
    args.stride_a = g.og() * width;
    args.stride_b = g.cgk() * width;
    args.stride_c = g.og() * g.cgk();
    args.batch = g.groups;
    gemm_batched(args, 1.0, rows, col, n0 == 0 ? 0.0 : 1.0, gw.ptr<T>());
  }
}

}  // namespace

void CudaBackend::conv2d_forward(const View& x, const View& w, const View* bias, const View& y, const Conv2dParams& p) {
  set_device(device_);
  check_operands("conv2d_forward", {&x, &w, &y}, x.dtype);
  if (bias && bias->dtype != x.dtype)
    throw std::invalid_argument(std::string("cuda conv2d_forward: bias dtype ") + dtype_name(bias->dtype) +
                                " differs from " + dtype_name(x.dtype));
  dispatch_floating(x.dtype, "conv2d_forward", [&](auto t) { forward<decltype(t)>(x, w, bias, y, p); });
}

void CudaBackend::conv2d_backward_data(const View& gy, const View& w, const View& gx, const Conv2dParams& p) {
  set_device(device_);
  check_operands("conv2d_backward_data", {&gy, &w, &gx}, gy.dtype);
  dispatch_floating(gy.dtype, "conv2d_backward_data", [&](auto t) { backward_data<decltype(t)>(gy, w, gx, p); });
}

void CudaBackend::conv2d_backward_weights(const View& x, const View& gy, const View& gw, const View* gbias,
                                          const Conv2dParams& p) {
  set_device(device_);
  check_operands("conv2d_backward_weights", {&x, &gy, &gw}, x.dtype);
  if (gbias && gbias->dtype != x.dtype)
    throw std::invalid_argument(std::string("cuda conv2d_backward_weights: gbias dtype ") + dtype_name(gbias->dtype) +
                                " differs from " + dtype_name(x.dtype));
  dispatch_floating(x.dtype, "conv2d_backward_weights",
                    [&](auto t) { backward_weights<decltype(t)>(x, gy, gw, gbias, p); });
}

}  // namespace glassbox::kernels::cuda
