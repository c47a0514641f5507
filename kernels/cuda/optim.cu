// Fused optimiser updates (SGD, Adam/AdamW, Adadelta), one kernel each.
// The formulas, the operation order and the host-side precomputation (bias corrections
// in f64, constants rounded to T once) are those of kernels/cpu/optim.cpp, so results
// agree to rounding (the CPU build may contract a*b+c into FMAs where nvcc does too, or
// not: differences are a few ulps per step).
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

/// Fused updates need contiguous operands of one dtype and one size (as on the CPU).
void check_operands(const char* op, const View& param, std::initializer_list<const View*> others) {
  if (!param.is_contiguous()) throw std::invalid_argument(std::string(op) + ": the parameter must be contiguous");
  for (const View* v : others) {
    if (v->dtype != param.dtype || v->numel() != param.numel() || !v->is_contiguous())
      throw std::invalid_argument(std::string(op) + ": state and gradient must be contiguous " +
                                  dtype_name(param.dtype) + " of " + std::to_string(param.numel()) +
                                  " elements, got " + dtype_name(v->dtype) + " of " + std::to_string(v->numel()));
  }
}

/// Calls fn(std::bool_constant<flag>) so kernels test flags at compile time.
template <class Fn>
void with_flag(bool flag, Fn&& fn) {
  if (flag)
    fn(std::true_type{});
  else
    fn(std::false_type{});
}

template <class T>
struct SgdConsts {
  T lr, wd, mom, keep;
};

template <class T, bool Decay>
__global__ void sgd_plain_kernel(T* p, const T* g, int64_t n, SgdConsts<T> c) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    p[i] -= c.lr * (Decay ? g[i] + c.wd * p[i] : g[i]);
}

template <class T, bool Decay, bool First, bool Nesterov>
__global__ void sgd_momentum_kernel(T* p, const T* g, T* buf, int64_t n, SgdConsts<T> c) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const T d = Decay ? g[i] + c.wd * p[i] : g[i];
    const T m = First ? d : c.mom * buf[i] + c.keep * d;
    buf[i] = m;
    p[i] -= c.lr * (Nesterov ? d + c.mom * m : m);
  }
}

template <class T>
struct AdamConsts {
  T step_size, bc2_sqrt, b1, b2, one_b1, one_b2, eps, wd, decay;
};

template <class T, bool L2, bool Decoupled>
__global__ void adam_kernel(T* p, const T* g, T* m, T* v, int64_t n, AdamConsts<T> c) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const T gi = L2 ? g[i] + c.wd * p[i] : g[i];
    const T pi = Decoupled ? p[i] * c.decay : p[i];
    const T mi = m[i] * c.b1 + gi * c.one_b1;
    const T vi = v[i] * c.b2 + c.one_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - c.step_size * (mi / (sqrt(vi) / c.bc2_sqrt + c.eps));
  }
}

template <class T>
struct AdadeltaConsts {
  T lr, rho, one_rho, eps, wd;
};

template <class T, bool Decay>
__global__ void adadelta_kernel(T* p, const T* g, T* sq, T* acc, int64_t n, AdadeltaConsts<T> c) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const T gi = Decay ? g[i] + c.wd * p[i] : g[i];
    const T si = sq[i] * c.rho + c.one_rho * gi * gi;
    const T delta = sqrt(acc[i] + c.eps) / sqrt(si + c.eps) * gi;
    sq[i] = si;
    acc[i] = acc[i] * c.rho + c.one_rho * delta * delta;
    p[i] -= c.lr * delta;
  }
}

}  // namespace

void CudaBackend::sgd_update(const View& param, const View& grad, const View* momentum_buffer, const SgdHyper& h) {
  set_device(device_);
  if (momentum_buffer)
    check_operands("sgd_update", param, {&grad, momentum_buffer});
  else
    check_operands("sgd_update", param, {&grad});
  dispatch_floating(param.dtype, "sgd_update", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = param.numel();
    if (n == 0) return;
    const SgdConsts<T> c{T(h.lr), T(h.weight_decay), T(h.momentum), T(1.0 - h.dampening)};
    T* p = param.ptr<T>();
    const T* g = grad.ptr<T>();
    with_flag(h.weight_decay != 0, [&](auto decay) {
      constexpr bool kDecay = decltype(decay)::value;
      if (!momentum_buffer) {
        sgd_plain_kernel<T, kDecay><<<blocks_for(n), kThreads, 0, stream()>>>(p, g, n, c);
        GLASSBOX_CUDA_LAUNCHED();
        return;
      }
      T* buf = momentum_buffer->ptr<T>();
      with_flag(h.first_step, [&](auto first) {
        with_flag(h.nesterov, [&](auto nesterov) {
          sgd_momentum_kernel<T, kDecay, decltype(first)::value, decltype(nesterov)::value>
              <<<blocks_for(n), kThreads, 0, stream()>>>(p, g, buf, n, c);
          GLASSBOX_CUDA_LAUNCHED();
        });
      });
    });
  });
}

void CudaBackend::adam_update(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq,
                              const AdamHyper& h) {
  set_device(device_);
  check_operands("adam_update", param, {&grad, &exp_avg, &exp_avg_sq});
  if (h.step < 1) throw std::invalid_argument("adam_update: step counts from 1, got " + std::to_string(h.step));
  dispatch_floating(param.dtype, "adam_update", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = param.numel();
    if (n == 0) return;
    // Bias corrections in f64 on the host, then rounded to T, exactly as the CPU does.
    const double bias_correction1 = 1.0 - std::pow(h.beta1, double(h.step));
    const double bias_correction2 = 1.0 - std::pow(h.beta2, double(h.step));
    const AdamConsts<T> c{T(h.lr / bias_correction1), T(std::sqrt(bias_correction2)),
                          T(h.beta1),                 T(h.beta2),
                          T(1.0 - h.beta1),           T(1.0 - h.beta2),
                          T(h.eps),                   T(h.weight_decay),
                          T(1.0 - h.lr * h.weight_decay)};
    with_flag(h.weight_decay != 0 && !h.decoupled_weight_decay, [&](auto l2) {
      with_flag(h.weight_decay != 0 && h.decoupled_weight_decay, [&](auto decoupled) {
        adam_kernel<T, decltype(l2)::value, decltype(decoupled)::value><<<blocks_for(n), kThreads, 0, stream()>>>(
            param.ptr<T>(), grad.ptr<T>(), exp_avg.ptr<T>(), exp_avg_sq.ptr<T>(), n, c);
        GLASSBOX_CUDA_LAUNCHED();
      });
    });
  });
}

void CudaBackend::adadelta_update(const View& param, const View& grad, const View& square_avg, const View& acc_delta,
                                  const AdadeltaHyper& h) {
  set_device(device_);
  check_operands("adadelta_update", param, {&grad, &square_avg, &acc_delta});
  dispatch_floating(param.dtype, "adadelta_update", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = param.numel();
    if (n == 0) return;
    const AdadeltaConsts<T> c{T(h.lr), T(h.rho), T(1.0 - h.rho), T(h.eps), T(h.weight_decay)};
    with_flag(h.weight_decay != 0, [&](auto decay) {
      adadelta_kernel<T, decltype(decay)::value><<<blocks_for(n), kThreads, 0, stream()>>>(
          param.ptr<T>(), grad.ptr<T>(), square_avg.ptr<T>(), acc_delta.ptr<T>(), n, c);
      GLASSBOX_CUDA_LAUNCHED();
    });
  });
}

}  // namespace glassbox::kernels::cuda
