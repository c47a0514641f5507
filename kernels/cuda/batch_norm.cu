// Fused batch normalisation (training) for the CUDA backend, the GPU side of
// kernels/cpu/batch_norm.cpp. Without it the op composes about ten kernels forward and a
// dozen backward per layer (means over dims {0, 2}, centring, squares, rsqrt, affine...),
// which dominate the launches of a TELL step. Here each direction is three launches:
//   1. per-channel partial sums in double, a block per (channel, share of its N * S values);
//   2. one small block folds the partials into each channel's coefficients;
//   3. one elementwise pass: y = x * a + shift, or gx = g * k + (x * c1 + c0), as the CPU does.
// Partial sums are combined in a fixed order, so results do not depend on scheduling.
// The forward sums x - K and (x - K)^2 around K = the channel's first value, so the variance
// loses no precision when the mean is far from zero.
#include <algorithm>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

/// A contiguous [N, C, S] view.
struct ChannelLayout {
  int64_t n = 0, c = 0, s = 0;
  __host__ __device__ int64_t count() const { return n * s; }
  /// Element offset of the j-th of channel `channel`'s N * S values.
  __device__ int64_t offset(int64_t j, int64_t channel) const { return ((j / s) * c + channel) * s + j % s; }
};

bool channel_layout(const View& v, ChannelLayout& l) {
  if (v.shape.size() != 3 || !v.is_contiguous()) return false;
  l = {v.shape[0], v.shape[1], v.shape[2]};
  return true;
}

/// x's layout, when x is a non-empty contiguous f32 or f64 [N, C, S] the kernels take.
bool input_layout(const View& x, ChannelLayout& l) {
  return (x.dtype == DType::f32 || x.dtype == DType::f64) && channel_layout(x, l) && l.count() >= 1 && l.c >= 1;
}

bool same_layout(const View& v, const ChannelLayout& l, DType dtype) {
  ChannelLayout o;
  return v.dtype == dtype && channel_layout(v, o) && o.n == l.n && o.c == l.c && o.s == l.s;
}

bool is_channel_vector(const View* v, const ChannelLayout& l, DType dtype) {
  return v == nullptr ||
         (v->dtype == dtype && v->shape.size() == 1 && v->shape[0] == l.c && (l.c <= 1 || v->strides[0] == 1));
}

constexpr int kStatThreads = 256;
constexpr int64_t kValuesPerPartial = 4096;
constexpr int64_t kMaxPartials = 64;

/// Sums a and b over the block (kStatThreads threads); thread 0 gets the totals.
__device__ void block_sum2(double& a, double& b) {
  __shared__ double sa[kStatThreads / 32], sb[kStatThreads / 32];
  for (int d = 16; d > 0; d >>= 1) {
    a += __shfl_down_sync(0xffffffffu, a, d);
    b += __shfl_down_sync(0xffffffffu, b, d);
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    sa[warp] = a;
    sb[warp] = b;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    a = sa[0];
    b = sb[0];
    for (int w = 1; w < kStatThreads / 32; ++w) {
      a += sa[w];
      b += sb[w];
    }
  }
}

/// Forward partials: sum(x - K) and sum((x - K)^2), K = the channel's first value.
/// Backward partials: sum(g) and sum(g * (x - mean)). out[(c * P + p) * 2 + {0, 1}].
template <class T, bool kBackward>
__global__ void channel_partials(const T* __restrict__ x, const T* __restrict__ g, const T* __restrict__ mean,
                                 ChannelLayout l, int64_t per_partial, double* __restrict__ out) {
  const int64_t c = blockIdx.x, p = blockIdx.y;
  const int64_t begin = p * per_partial, end = min(l.count(), begin + per_partial);
  const double base = kBackward ? double(mean[c]) : double(x[c * l.s]);
  double a = 0, b = 0;
  for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
    const int64_t off = l.offset(j, c);
    const double d = double(x[off]) - base;
    if (kBackward) {
      const double gv = double(g[off]);
      a += gv;
      b += gv * d;
    } else {
      a += d;
      b += d * d;
    }
  }
  block_sum2(a, b);
  if (threadIdx.x == 0) {
    out[(c * gridDim.y + p) * 2] = a;
    out[(c * gridDim.y + p) * 2 + 1] = b;
  }
}

/// Each channel's partial sums, in scratch slot 0: its values are split into `count` shares
/// of `per` values (a few thousand each, at most 64 shares), a block each.
struct Partials {
  int64_t count = 0, per = 0;
  double* sums = nullptr;
};

template <class T, bool kBackward>
Partials launch_partials(const ChannelLayout& l, const T* x, const T* g, const T* mean) {
  Partials p;
  p.count = std::clamp<int64_t>((l.count() + kValuesPerPartial - 1) / kValuesPerPartial, 1, kMaxPartials);
  p.per = (l.count() + p.count - 1) / p.count;
  p.sums = static_cast<double*>(scratch(size_t(l.c * p.count * 2) * sizeof(double), 0));
  channel_partials<T, kBackward><<<dim3(unsigned(l.c), unsigned(p.count)), kStatThreads, 0, stream()>>>(
      x, g, mean, l, p.per, p.sums);
  GLASSBOX_CUDA_LAUNCHED();
  return p;
}

/// Sums channel c's partials in order.
__device__ void fold_partials(const double* partials, int64_t c, int64_t partial_count, double& a, double& b) {
  a = 0;
  b = 0;
  for (int64_t p = 0; p < partial_count; ++p) {
    a += partials[(c * partial_count + p) * 2];
    b += partials[(c * partial_count + p) * 2 + 1];
  }
}

/// Mean, biased variance and y = x * a + shift's coefficients (coef[2c], coef[2c + 1]), as the CPU.
template <class T>
__global__ void forward_coefficients(const T* __restrict__ x, const double* __restrict__ partials,
                                     int64_t partial_count, ChannelLayout l, const T* __restrict__ weight,
                                     const T* __restrict__ bias, double eps, T* __restrict__ mean_out,
                                     T* __restrict__ var_out, T* __restrict__ coef) {
  const double inv_count = 1.0 / double(l.count());
  for (int64_t c = threadIdx.x; c < l.c; c += blockDim.x) {
    double s1, s2;
    fold_partials(partials, c, partial_count, s1, s2);
    const double shifted_mean = s1 * inv_count;
    const double mean = double(x[c * l.s]) + shifted_mean;
    const double var = max(s2 * inv_count - shifted_mean * shifted_mean, 0.0);
    const double rstd = 1.0 / sqrt(var + eps);
    const double w = weight ? double(weight[c]) : 1.0, b = bias ? double(bias[c]) : 0.0;
    coef[2 * c] = T(rstd * w);
    coef[2 * c + 1] = T(b - mean * rstd * w);
    mean_out[c] = T(mean);
    var_out[c] = T(var);
  }
}

/// gb, gw and gx = g * k + (x * c1 + c0)'s coefficients (coef[3c..3c+2]), as the CPU.
template <class T>
__global__ void backward_coefficients(const double* __restrict__ partials, int64_t partial_count, ChannelLayout l,
                                      const T* __restrict__ mean, const T* __restrict__ rstd,
                                      const T* __restrict__ weight, T* __restrict__ gw, T* __restrict__ gb,
                                      T* __restrict__ coef) {
  const double inv_count = 1.0 / double(l.count());
  for (int64_t c = threadIdx.x; c < l.c; c += blockDim.x) {
    double g_sum, gxc_sum;
    fold_partials(partials, c, partial_count, g_sum, gxc_sum);
    const double r = double(rstd[c]), m = double(mean[c]);
    const double gxhat_sum = gxc_sum * r;
    if (gb) gb[c] = T(g_sum);
    if (gw) gw[c] = T(gxhat_sum);
    const double k = r * (weight ? double(weight[c]) : 1.0);
    const double c1 = -k * r * gxhat_sum * inv_count;
    coef[3 * c] = T(k);
    coef[3 * c + 1] = T(c1);
    coef[3 * c + 2] = T(-k * g_sum * inv_count - c1 * m);
  }
}

template <class T>
__global__ void normalize_kernel(const T* __restrict__ x, const T* __restrict__ coef, ChannelLayout l,
                                 T* __restrict__ y) {
  const int64_t total = l.n * l.c * l.s;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = (i / l.s) % l.c;
    y[i] = x[i] * coef[2 * c] + coef[2 * c + 1];
  }
}

template <class T>
__global__ void input_grad_kernel(const T* __restrict__ g, const T* __restrict__ x, const T* __restrict__ coef,
                                  ChannelLayout l, T* __restrict__ gx) {
  const int64_t total = l.n * l.c * l.s;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = (i / l.s) % l.c;
    gx[i] = g[i] * coef[3 * c] + (x[i] * coef[3 * c + 1] + coef[3 * c + 2]);
  }
}

template <class T>
T* ptr_or_null(const View* v) {
  return v ? v->ptr<T>() : nullptr;
}

/// Threads of the one-block coefficient kernels.
unsigned coefficient_threads(const ChannelLayout& l) { return unsigned(std::clamp<int64_t>(l.c, 32, 1024)); }

}  // namespace

bool CudaBackend::batch_norm_forward(const View& x, const View* weight, const View* bias, double eps, const View& y,
                                     const View& mean, const View& var) {
  ChannelLayout l;
  if (!input_layout(x, l) || !same_layout(y, l, x.dtype) || !is_channel_vector(weight, l, x.dtype) ||
      !is_channel_vector(bias, l, x.dtype) || !is_channel_vector(&mean, l, x.dtype) ||
      !is_channel_vector(&var, l, x.dtype))
    return false;
  set_device(device_);
  dispatch_floating(x.dtype, "batch_norm_forward", [&](auto zero) {
    using T = decltype(zero);
    const Partials p = launch_partials<T, false>(l, x.ptr<T>(), nullptr, nullptr);
    auto* coef = static_cast<T*>(scratch(size_t(l.c * 2) * sizeof(T), 1));
    forward_coefficients<T><<<1, coefficient_threads(l), 0, stream()>>>(x.ptr<T>(), p.sums, p.count, l,
                                                                        ptr_or_null<T>(weight), ptr_or_null<T>(bias),
                                                                        eps, mean.ptr<T>(), var.ptr<T>(), coef);
    GLASSBOX_CUDA_LAUNCHED();
    normalize_kernel<T><<<blocks_for(l.n * l.c * l.s), kThreads, 0, stream()>>>(x.ptr<T>(), coef, l, y.ptr<T>());
    GLASSBOX_CUDA_LAUNCHED();
  });
  return true;
}

bool CudaBackend::batch_norm_backward(const View& g, const View& x, const View& mean, const View& rstd,
                                      const View* weight, const View* gx, const View* gw, const View* gb) {
  ChannelLayout l;
  if (!input_layout(x, l) || !same_layout(g, l, x.dtype) || (gx && !same_layout(*gx, l, x.dtype)) ||
      !is_channel_vector(&mean, l, x.dtype) || !is_channel_vector(&rstd, l, x.dtype) ||
      !is_channel_vector(weight, l, x.dtype) || !is_channel_vector(gw, l, x.dtype) ||
      !is_channel_vector(gb, l, x.dtype))
    return false;
  set_device(device_);
  dispatch_floating(x.dtype, "batch_norm_backward", [&](auto zero) {
    using T = decltype(zero);
    const Partials p = launch_partials<T, true>(l, x.ptr<T>(), g.ptr<T>(), mean.ptr<T>());
    auto* coef = static_cast<T*>(scratch(size_t(l.c * 3) * sizeof(T), 1));
    backward_coefficients<T><<<1, coefficient_threads(l), 0, stream()>>>(p.sums, p.count, l, mean.ptr<T>(),
                                                                         rstd.ptr<T>(), ptr_or_null<T>(weight),
                                                                         ptr_or_null<T>(gw), ptr_or_null<T>(gb), coef);
    GLASSBOX_CUDA_LAUNCHED();
    if (gx) {
      input_grad_kernel<T><<<blocks_for(l.n * l.c * l.s), kThreads, 0, stream()>>>(g.ptr<T>(), x.ptr<T>(), coef, l,
                                                                                  gx->ptr<T>());
      GLASSBOX_CUDA_LAUNCHED();
    }
  });
  return true;
}

}  // namespace glassbox::kernels::cuda
