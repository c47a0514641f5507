// CPU elementwise kernels: copy, fill, unary, binary and where over strided views.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/libmvec.h"
#include "kernels/cpu/onednn_eltwise.h"
#include "kernels/cpu/strided_loop.h"

namespace glassbox::kernels {

namespace {
using cpu::strided_for;

constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kTwoOverSqrtPi = 1.1283791670955126;

template <class T>
T sigmoid(T x) {
  return x >= 0 ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
}
template <class T>
T softplus(T x) {  // log(1 + e^x) without overflow
  return x > T(20) ? x : std::log1p(std::exp(x));
}

/// Gumbel(0, 1) noise from one uniform draw, kept off log(0).
template <class T>
T gumbel_from_uniform(T u) {
  return -std::log(-std::log(std::max(u, std::numeric_limits<T>::min())));
}

/// Gumbel(0, 1) noise -log(-log(max(u, tiny))) over a contiguous run, eight at a time: the two
/// scalar logf calls per draw were about a tenth of a Transformer Programs training step
/// (Gumbel-softmax over every attention row and MLP output).
void gumbel_from_uniform_run(const float* u, float* o, int64_t n) {
  const __m256 tiny = _mm256_set1_ps(std::numeric_limits<float>::min()), sign = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    // max_ps returns its second operand where either is NaN: a NaN draw stays NaN, as in the
    // scalar tail's std::max and the CUDA kernel (clamping it to tiny would hide it).
    const __m256 minus_log_u = _mm256_xor_ps(_ZGVdN8v_logf(_mm256_max_ps(tiny, _mm256_loadu_ps(u + i))), sign);
    _mm256_storeu_ps(o + i, _mm256_xor_ps(_ZGVdN8v_logf(minus_log_u), sign));
  }
  for (; i < n; ++i) o[i] = gumbel_from_uniform(u[i]);
}

// Runs fn over (in, out) pairs with the inner loop specialised for contiguous rows.
template <class TIn, class TOut, class Fn>
void map1(const View& x, const View& out, Fn fn) {
  strided_for<2>(out.shape, {&x.strides, &out.strides}, {static_cast<char*>(x.data), static_cast<char*>(out.data)},
                 {int64_t(sizeof(TIn)), int64_t(sizeof(TOut))},
                 [&](const std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
                   const TIn* a = reinterpret_cast<const TIn*>(p[0]);
                   TOut* o = reinterpret_cast<TOut*>(p[1]);
                   if (s[0] == 1 && s[1] == 1) {
                     for (int64_t i = 0; i < n; ++i) o[i] = fn(a[i]);
                   } else {
                     for (int64_t i = 0; i < n; ++i) o[i * s[1]] = fn(a[i * s[0]]);
                   }
                 });
}

template <class TA, class TB, class TOut, class Fn>
void map2(const View& a, const View& b, const View& out, Fn fn) {
  strided_for<3>(out.shape, {&a.strides, &b.strides, &out.strides},
                 {static_cast<char*>(a.data), static_cast<char*>(b.data), static_cast<char*>(out.data)},
                 {int64_t(sizeof(TA)), int64_t(sizeof(TB)), int64_t(sizeof(TOut))},
                 [&](const std::array<char*, 3>& p, const std::array<int64_t, 3>& s, int64_t n) {
                   const TA* x = reinterpret_cast<const TA*>(p[0]);
                   const TB* y = reinterpret_cast<const TB*>(p[1]);
                   TOut* o = reinterpret_cast<TOut*>(p[2]);
                   if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
                     for (int64_t i = 0; i < n; ++i) o[i] = fn(x[i], y[i]);
                   } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
                     const TB yv = y[0];
                     for (int64_t i = 0; i < n; ++i) o[i] = fn(x[i], yv);
                   } else if (s[0] == 0 && s[1] == 1 && s[2] == 1) {
                     const TA xv = x[0];
                     for (int64_t i = 0; i < n; ++i) o[i] = fn(xv, y[i]);
                   } else {
                     for (int64_t i = 0; i < n; ++i) o[i * s[2]] = fn(x[i * s[0]], y[i * s[1]]);
                   }
                 });
}

template <class T>
void unary_typed(UnaryOp op, const View& x, const View& out, Scalars sc) {
  const T a = static_cast<T>(sc.a), b = static_cast<T>(sc.b);
  auto cmp = [&](auto pred) { map1<T, bool>(x, out, pred); };
  switch (op) {
    case UnaryOp::eq_scalar: return cmp([a](T v) { return v == a; });
    case UnaryOp::ne_scalar: return cmp([a](T v) { return v != a; });
    case UnaryOp::lt_scalar: return cmp([a](T v) { return v < a; });
    case UnaryOp::le_scalar: return cmp([a](T v) { return v <= a; });
    case UnaryOp::gt_scalar: return cmp([a](T v) { return v > a; });
    case UnaryOp::ge_scalar: return cmp([a](T v) { return v >= a; });
    case UnaryOp::logical_not: return cmp([](T v) { return !v; });
    default: break;
  }
  auto run = [&](auto f) { map1<T, T>(x, out, f); };
  switch (op) {
    case UnaryOp::neg: return run([](T v) { return T(-v); });
    case UnaryOp::abs: return run([](T v) { return v < 0 ? T(-v) : v; });
    case UnaryOp::sign: return run([](T v) { return T((v > 0) - (v < 0)); });
    case UnaryOp::relu: return run([](T v) { return v > 0 ? v : T(0); });
    case UnaryOp::square: return run([](T v) { return T(v * v); });
    case UnaryOp::add_scalar: return run([a](T v) { return T(v + a); });
    case UnaryOp::mul_scalar: return run([a](T v) { return T(v * a); });
    case UnaryOp::rsub_scalar: return run([a](T v) { return T(a - v); });
    case UnaryOp::clamp: return run([a, b](T v) { return v < a ? a : (v > b ? b : v); });
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case UnaryOp::exp: return run([](T v) { return std::exp(v); });
      case UnaryOp::log: return run([](T v) { return std::log(v); });
      case UnaryOp::sqrt: return run([](T v) { return std::sqrt(v); });
      case UnaryOp::rsqrt: return run([](T v) { return T(1) / std::sqrt(v); });
      case UnaryOp::sigmoid: return run([](T v) { return sigmoid(v); });
      case UnaryOp::tanh: return run([](T v) { return std::tanh(v); });
      case UnaryOp::gelu_erf: return run([](T v) { return T(0.5) * v * (T(1) + std::erf(v * T(kInvSqrt2))); });
      case UnaryOp::gelu_tanh:
        return run([](T v) { return T(0.5) * v * (T(1) + std::tanh(T(kSqrt2OverPi) * (v + T(0.044715) * v * v * v))); });
      case UnaryOp::softplus: return run([](T v) { return softplus(v); });
      case UnaryOp::silu: return run([](T v) { return v * sigmoid(v); });
      case UnaryOp::erf: return run([](T v) { return std::erf(v); });
      case UnaryOp::leaky_relu: return run([a](T v) { return v > 0 ? v : v * a; });
      case UnaryOp::reciprocal: return run([](T v) { return T(1) / v; });
      case UnaryOp::sin: return run([](T v) { return std::sin(v); });
      case UnaryOp::cos: return run([](T v) { return std::cos(v); });
      case UnaryOp::log1p: return run([](T v) { return std::log1p(v); });
      case UnaryOp::expm1: return run([](T v) { return std::expm1(v); });
      case UnaryOp::gumbel_from_uniform: return run([](T v) { return gumbel_from_uniform(v); });
      case UnaryOp::rdiv_scalar: return run([a](T v) { return a / v; });
      case UnaryOp::pow_scalar:
        if (sc.a == 2) return run([](T v) { return v * v; });
        if (sc.a == 0.5) return run([](T v) { return std::sqrt(v); });
        return run([a](T v) { return std::pow(v, a); });
      case UnaryOp::rpow_scalar: return run([a](T v) { return std::pow(a, v); });
      default: break;
    }
  }
  throw std::invalid_argument(std::string("unary ") + op_name(op) + " is not defined for " + dtype_name(x.dtype));
}

template <class T>
void binary_typed(BinaryOp op, const View& a, const View& b, const View& out, Scalars sc) {
  auto cmp = [&](auto pred) { map2<T, T, bool>(a, b, out, pred); };
  switch (op) {
    case BinaryOp::eq: return cmp([](T x, T y) { return x == y; });
    case BinaryOp::ne: return cmp([](T x, T y) { return x != y; });
    case BinaryOp::lt: return cmp([](T x, T y) { return x < y; });
    case BinaryOp::le: return cmp([](T x, T y) { return x <= y; });
    case BinaryOp::gt: return cmp([](T x, T y) { return x > y; });
    case BinaryOp::ge: return cmp([](T x, T y) { return x >= y; });
    case BinaryOp::logical_and: return cmp([](T x, T y) { return x && y; });
    case BinaryOp::logical_or: return cmp([](T x, T y) { return x || y; });
    default: break;
  }
  auto run = [&](auto f) { map2<T, T, T>(a, b, out, f); };
  switch (op) {
    case BinaryOp::add: return run([](T x, T y) { return T(x + y); });
    case BinaryOp::sub: return run([](T x, T y) { return T(x - y); });
    case BinaryOp::mul: return run([](T x, T y) { return T(x * y); });
    case BinaryOp::minimum: return run([](T x, T y) { return x < y ? x : y; });
    case BinaryOp::maximum: return run([](T x, T y) { return x > y ? x : y; });
    case BinaryOp::relu_backward: return run([](T g, T x) { return x > 0 ? g : T(0); });
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    const T sa = static_cast<T>(sc.a), sb = static_cast<T>(sc.b);
    switch (op) {
      case BinaryOp::div: return run([](T x, T y) { return x / y; });
      case BinaryOp::pow: return run([](T x, T y) { return std::pow(x, y); });
      case BinaryOp::atan2: return run([](T x, T y) { return std::atan2(x, y); });
      case BinaryOp::leaky_relu_backward: return run([sa](T g, T x) { return x > 0 ? g : g * sa; });
      case BinaryOp::sigmoid_backward: return run([](T g, T y) { return g * y * (T(1) - y); });
      case BinaryOp::tanh_backward: return run([](T g, T y) { return g * (T(1) - y * y); });
      case BinaryOp::gelu_erf_backward:
        return run([](T g, T x) {
          T cdf = T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2)));
          T pdf = std::exp(T(-0.5) * x * x) * T(kTwoOverSqrtPi * kInvSqrt2 * 0.5);
          return g * (cdf + x * pdf);
        });
      case BinaryOp::gelu_tanh_backward:
        return run([](T g, T x) {
          T inner = T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x);
          T t = std::tanh(inner);
          T dinner = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * x * x);
          return g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * dinner);
        });
      case BinaryOp::softplus_backward: return run([](T g, T x) { return g * sigmoid(x); });
      case BinaryOp::silu_backward:
        return run([](T g, T x) {
          T s = sigmoid(x);
          return g * s * (T(1) + x * (T(1) - s));
        });
      case BinaryOp::erf_backward: return run([](T g, T x) { return g * T(kTwoOverSqrtPi) * std::exp(-x * x); });
      case BinaryOp::clamp_backward: return run([sa, sb](T g, T x) { return (x >= sa && x <= sb) ? g : T(0); });
      default: break;
    }
  }
  throw std::invalid_argument(std::string("binary ") + op_name(op) + " is not defined for " + dtype_name(a.dtype));
}

}  // namespace

void CpuBackend::copy(const View& src, const View& out) {
  if (src.dtype == out.dtype && src.is_contiguous() && out.is_contiguous()) {
    std::memcpy(out.data, src.data, size_t(out.numel()) * dtype_size(out.dtype));
    return;
  }
  cpu::dispatch_all(src.dtype, [&](auto s) {
    using S = decltype(s);
    cpu::dispatch_all(out.dtype, [&](auto o) {
      using O = decltype(o);
      map1<S, O>(src, out, [](S v) { return static_cast<O>(v); });
    });
  });
}

void CpuBackend::fill(const View& out, double value) {
  cpu::dispatch_all(out.dtype, [&](auto z) {
    using T = decltype(z);
    const T v = static_cast<T>(value);
    // Write-only: reading the old contents (uninitialised memory, for a fresh tensor)
    // would load invalid bools.
    strided_for<1>(out.shape, {&out.strides}, {static_cast<char*>(out.data)}, {int64_t(sizeof(T))},
                   [v](const std::array<char*, 1>& p, const std::array<int64_t, 1>& s, int64_t n) {
                     T* o = reinterpret_cast<T*>(p[0]);
                     if (s[0] == 1) {
                       std::fill(o, o + n, v);
                     } else {
                       for (int64_t i = 0; i < n; ++i) o[i * s[0]] = v;
                     }
                   });
  });
}

void CpuBackend::unary(UnaryOp op, const View& x, const View& out, Scalars s) {
  if (op == UnaryOp::gumbel_from_uniform && x.dtype == DType::f32 && out.dtype == DType::f32) {
    strided_for<2>(out.shape, {&x.strides, &out.strides}, {static_cast<char*>(x.data), static_cast<char*>(out.data)},
                   {int64_t(sizeof(float)), int64_t(sizeof(float))},
                   [](const std::array<char*, 2>& p, const std::array<int64_t, 2>& st, int64_t n) {
                     const float* u = reinterpret_cast<const float*>(p[0]);
                     float* o = reinterpret_cast<float*>(p[1]);
                     if (st[0] == 1 && st[1] == 1) return gumbel_from_uniform_run(u, o, n);
                     for (int64_t i = 0; i < n; ++i) o[i * st[1]] = gumbel_from_uniform(u[i * st[0]]);
                   });
    return;
  }
  if (const int64_t done = cpu::onednn_unary(op, x, out); done > 0) {
    if (done == out.numel()) return;
    return unary(op, cpu::onednn_tail(x, done), cpu::onednn_tail(out, done), s);
  }
  cpu::dispatch_all(x.dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, uint8_t>) {
      if (op == UnaryOp::logical_not) return map1<T, bool>(x, out, [](T v) { return !v; });
      throw std::invalid_argument(std::string("unary ") + op_name(op) + " is not defined for " + dtype_name(x.dtype));
    } else {
      unary_typed<T>(op, x, out, s);
    }
  });
}

void CpuBackend::binary(BinaryOp op, const View& a, const View& b, const View& out, Scalars s) {
  if (const int64_t done = cpu::onednn_binary(op, a, b, out); done > 0) {
    if (done == out.numel()) return;
    return binary(op, cpu::onednn_tail(a, done), cpu::onednn_tail(b, done), cpu::onednn_tail(out, done), s);
  }
  cpu::dispatch_all(a.dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, uint8_t>) {
      switch (op) {
        case BinaryOp::logical_and: return map2<T, T, bool>(a, b, out, [](T x, T y) { return x && y; });
        case BinaryOp::logical_or: return map2<T, T, bool>(a, b, out, [](T x, T y) { return x || y; });
        case BinaryOp::eq: return map2<T, T, bool>(a, b, out, [](T x, T y) { return x == y; });
        case BinaryOp::ne: return map2<T, T, bool>(a, b, out, [](T x, T y) { return x != y; });
        default:
          throw std::invalid_argument(std::string("binary ") + op_name(op) + " is not defined for " + dtype_name(a.dtype));
      }
    } else {
      binary_typed<T>(op, a, b, out, s);
    }
  });
}

void CpuBackend::where(const View& cond, const View& a, const View& b, const View& out) {
  cpu::dispatch_all(out.dtype, [&](auto z) {
    using T = decltype(z);
    strided_for<4>(out.shape, {&cond.strides, &a.strides, &b.strides, &out.strides},
                   {static_cast<char*>(cond.data), static_cast<char*>(a.data), static_cast<char*>(b.data),
                    static_cast<char*>(out.data)},
                   {1, int64_t(sizeof(T)), int64_t(sizeof(T)), int64_t(sizeof(T))},
                   [&](const std::array<char*, 4>& p, const std::array<int64_t, 4>& s, int64_t n) {
                     const bool* c = reinterpret_cast<const bool*>(p[0]);
                     const T* x = reinterpret_cast<const T*>(p[1]);
                     const T* y = reinterpret_cast<const T*>(p[2]);
                     T* o = reinterpret_cast<T*>(p[3]);
                     for (int64_t i = 0; i < n; ++i) o[i * s[3]] = c[i * s[0]] ? x[i * s[1]] : y[i * s[2]];
                   });
  });
}

}  // namespace glassbox::kernels
