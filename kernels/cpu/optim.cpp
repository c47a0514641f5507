// Fused CPU optimiser updates: one pass over each parameter updates it and its
// state buffers. The rules are PyTorch's (torch.optim, 1.13 single-tensor path),
// written with the same operation order so results match it to rounding.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/strided_loop.h"

namespace glassbox::kernels {

namespace {

/// Fused updates need contiguous operands of one dtype and one size.
void check_operands(const char* op, const View& param, std::initializer_list<const View*> others) {
  if (!param.is_contiguous())
    throw std::invalid_argument(std::string(op) + ": the parameter must be contiguous");
  for (const View* v : others) {
    if (v->dtype != param.dtype || v->numel() != param.numel() || !v->is_contiguous())
      throw std::invalid_argument(std::string(op) + ": state and gradient must be contiguous " +
                                  dtype_name(param.dtype) + " of " + std::to_string(param.numel()) +
                                  " elements, got " + dtype_name(v->dtype) + " of " +
                                  std::to_string(v->numel()));
  }
}

/// Runs body(begin, end) over [0, n), split across threads for large tensors.
template <class Body>
void parallel_range(int64_t n, Body body) {
  if (n < cpu::kParallelGrain || omp_get_max_threads() == 1 || omp_in_parallel()) {
    body(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t chunk = (n + nt - 1) / nt;
    body(std::min(n, t * chunk), std::min(n, (t + 1) * chunk));
  }
}

}  // namespace

/// Calls fn(std::bool_constant<flag>) so a loop can test a flag at compile time:
/// branch-free inner loops vectorise.
template <class Fn>
void with_flag(bool flag, Fn&& fn) {
  if (flag)
    fn(std::true_type{});
  else
    fn(std::false_type{});
}

// torch.optim.SGD: d = g + wd*p; buf = d on the first step, else momentum*buf + (1-dampening)*d;
// d = nesterov ? d + momentum*buf : buf; p -= lr*d.
void CpuBackend::sgd_update(const View& param, const View& grad, const View* momentum_buffer, const SgdHyper& h) {
  if (momentum_buffer)
    check_operands("sgd_update", param, {&grad, momentum_buffer});
  else
    check_operands("sgd_update", param, {&grad});
  cpu::dispatch_floating(param.dtype, "sgd_update", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.ptr<T>();
    const T* g = grad.ptr<T>();
    T* buf = momentum_buffer ? momentum_buffer->ptr<T>() : nullptr;
    const T lr = T(h.lr), wd = T(h.weight_decay), mom = T(h.momentum), keep = T(1.0 - h.dampening);
    with_flag(h.weight_decay != 0, [&](auto decay) {
      if (!buf) {
        parallel_range(param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
          for (int64_t i = b; i < e; ++i) p[i] -= lr * (decay ? g[i] + wd * p[i] : g[i]);
        });
        return;
      }
      with_flag(h.first_step, [&](auto first) {
        with_flag(h.nesterov, [&](auto nesterov) {
          parallel_range(param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
            for (int64_t i = b; i < e; ++i) {
              const T d = decay ? g[i] + wd * p[i] : g[i];
              T m;
              if constexpr (first)
                m = d;
              else
                m = mom * buf[i] + keep * d;
              buf[i] = m;
              p[i] -= lr * (nesterov ? d + mom * m : m);
            }
          });
        });
      });
    });
  });
}

// torch.optim.Adam / AdamW: m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
// p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). Adam adds wd*p to g (L2);
// AdamW first scales p by 1 - lr*wd (decoupled decay, Loshchilov & Hutter 2019, Alg. 2).
void CpuBackend::adam_update(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq,
                             const AdamHyper& h) {
  check_operands("adam_update", param, {&grad, &exp_avg, &exp_avg_sq});
  if (h.step < 1) throw std::invalid_argument("adam_update: step counts from 1, got " + std::to_string(h.step));
  cpu::dispatch_floating(param.dtype, "adam_update", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.ptr<T>();
    const T* g = grad.ptr<T>();
    T* m = exp_avg.ptr<T>();
    T* v = exp_avg_sq.ptr<T>();
    const double bias_correction1 = 1.0 - std::pow(h.beta1, double(h.step));
    const double bias_correction2 = 1.0 - std::pow(h.beta2, double(h.step));
    const T step_size = T(h.lr / bias_correction1);
    const T bc2_sqrt = T(std::sqrt(bias_correction2));
    const T b1 = T(h.beta1), b2 = T(h.beta2), one_b1 = T(1.0 - h.beta1), one_b2 = T(1.0 - h.beta2);
    const T eps = T(h.eps), wd = T(h.weight_decay), decay = T(1.0 - h.lr * h.weight_decay);
    with_flag(h.weight_decay != 0 && !h.decoupled_weight_decay, [&](auto l2) {
      with_flag(h.weight_decay != 0 && h.decoupled_weight_decay, [&](auto decoupled) {
        parallel_range(param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
          for (int64_t i = b; i < e; ++i) {
            const T gi = l2 ? g[i] + wd * p[i] : g[i];
            const T pi = decoupled ? p[i] * decay : p[i];
            const T mi = m[i] * b1 + gi * one_b1;
            const T vi = v[i] * b2 + one_b2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = pi - step_size * (mi / (std::sqrt(vi) / bc2_sqrt + eps));
          }
        });
      });
    });
  });
}

// torch.optim.Adadelta (Zeiler 2012, Alg. 1): E[g^2] = rho*E[g^2] + (1-rho)*g^2;
// dx = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g; E[dx^2] = rho*E[dx^2] + (1-rho)*dx^2;
// p -= lr*dx, with optional L2 decay added to g.
void CpuBackend::adadelta_update(const View& param, const View& grad, const View& square_avg,
                                 const View& acc_delta, const AdadeltaHyper& h) {
  check_operands("adadelta_update", param, {&grad, &square_avg, &acc_delta});
  cpu::dispatch_floating(param.dtype, "adadelta_update", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.ptr<T>();
    const T* g = grad.ptr<T>();
    T* sq = square_avg.ptr<T>();
    T* acc = acc_delta.ptr<T>();
    const T lr = T(h.lr), rho = T(h.rho), one_rho = T(1.0 - h.rho), eps = T(h.eps), wd = T(h.weight_decay);
    with_flag(h.weight_decay != 0, [&](auto decay) {
      parallel_range(param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
        for (int64_t i = b; i < e; ++i) {
          const T gi = decay ? g[i] + wd * p[i] : g[i];
          const T si = sq[i] * rho + one_rho * gi * gi;
          const T delta = std::sqrt(acc[i] + eps) / std::sqrt(si + eps) * gi;
          sq[i] = si;
          acc[i] = acc[i] * rho + one_rho * delta * delta;
          p[i] -= lr * delta;
        }
      });
    });
  });
}

}  // namespace glassbox::kernels
