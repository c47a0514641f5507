// Elementwise kernels: strided copy with dtype conversion, fill, unary, binary (broadcast views), where.
//
// Each op is a small device functor; one templated grid-stride kernel applies it.
// Operands are walked over the output's shape with their own strides (0 where
// broadcast), as the CPU's strided_for does. Dimensions that every operand lays out
// back to back are merged first, so dense tensors become one flat run and take the
// contiguous kernel (no index division at all); everything else takes the strided
// kernel, which turns a linear index into all operands' offsets in one pass of
// divisions (32-bit when the element count allows, since 64-bit division is slow).
//
// Semantics follow kernels/cpu/elementwise.cpp: which ops each dtype supports (the
// others throw std::invalid_argument), comparison outputs are boolean, scalar
// parameters are converted to the element type on the host exactly as the CPU does.
#include <array>
#include <cfloat>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_common.cuh"

namespace glassbox::kernels::cuda {

namespace {

constexpr int kUnroll = 4;  // elements per thread per tile in the contiguous kernel (memory-level parallelism)
constexpr int kMaxDims = Dims::kMaxDims;

constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kTwoOverSqrtPi = 1.1283791670955126;

template <class T>
constexpr bool is_bool_like = std::is_same_v<T, bool> || std::is_same_v<T, uint8_t>;

// ---- Index plans ------------------------------------------------------------------

/// The output shape, coalesced, with every operand's strides over it (operand K-1 is
/// the output). Passed to kernels by value.
template <int K>
struct Plan {
  int rank = 0;
  int64_t size[kMaxDims];
  int64_t stride[K][kMaxDims];

  /// One flat run where element i of every operand sits at data[i].
  bool contiguous() const {
    if (rank != 1) return false;
    for (int k = 0; k < K; ++k)
      if (stride[k][0] != 1) return false;
    return true;
  }

  /// Offsets (in elements) of linear position `linear` in every operand. The
  /// outermost dimension needs no division: what remains of the index is its coordinate.
  template <class IdxT>
  __device__ __forceinline__ void offsets(int64_t linear, int64_t (&off)[K]) const {
#pragma unroll
    for (int k = 0; k < K; ++k) off[k] = 0;
    IdxT rem = static_cast<IdxT>(linear);
    for (int d = rank - 1; d > 0; --d) {
      const IdxT n = static_cast<IdxT>(size[d]);
      const IdxT q = rem / n;
      const int64_t i = static_cast<int64_t>(rem - q * n);
      rem = q;
#pragma unroll
      for (int k = 0; k < K; ++k) off[k] += i * stride[k][d];
    }
#pragma unroll
    for (int k = 0; k < K; ++k) off[k] += static_cast<int64_t>(rem) * stride[k][0];
  }
};

/// Drops size-1 dims and merges neighbours that all operands lay out back to back
/// (the same rule as the CPU's plan_loop). `shape` has at least one element.
template <int K>
Plan<K> make_plan(const Shape& shape, const std::array<const Strides*, K>& strides) {
  Plan<K> p;
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = p.rank > 0;
    for (int k = 0; k < K && merge; ++k) merge = p.stride[k][p.rank - 1] == (*strides[k])[d] * shape[d];
    if (merge) {
      p.size[p.rank - 1] *= shape[d];
      for (int k = 0; k < K; ++k) p.stride[k][p.rank - 1] = (*strides[k])[d];
    } else {
      p.size[p.rank] = shape[d];
      for (int k = 0; k < K; ++k) p.stride[k][p.rank] = (*strides[k])[d];
      ++p.rank;
    }
  }
  if (p.rank == 0) {  // a single element
    p.rank = 1;
    p.size[0] = 1;
    for (int k = 0; k < K; ++k) p.stride[k][0] = 1;
  }
  return p;
}

// ---- Operand sets -------------------------------------------------------------------
// Each knows its pointers and how to apply its functor at given offsets (at) or over a
// tile of a contiguous run (tile: all loads first, then the stores, so a thread has
// kUnroll loads in flight; in-place use stays correct since every element is read and
// written by the same thread).

template <class T>
struct FillSet {
  static constexpr int K = 1;
  T value;
  T* out;
  __device__ void at(const int64_t (&off)[K]) const { out[off[0]] = value; }
  __device__ void tile(int64_t i, int64_t n, int step) const {
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (i + u * step < n) out[i + u * step] = value;
  }
};

template <class F, class TIn, class TOut>
struct Set1 {
  static constexpr int K = 2;
  F f;
  const TIn* x;
  TOut* out;
  __device__ void at(const int64_t (&off)[K]) const { out[off[1]] = f(x[off[0]]); }
  __device__ void tile(int64_t i, int64_t n, int step) const {
    TIn v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (i + u * step < n) v[u] = x[i + u * step];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (i + u * step < n) out[i + u * step] = f(v[u]);
  }
};

template <class F, class TIn, class TOut>
struct Set2 {
  static constexpr int K = 3;
  F f;
  const TIn* a;
  const TIn* b;
  TOut* out;
  __device__ void at(const int64_t (&off)[K]) const { out[off[2]] = f(a[off[0]], b[off[1]]); }
  __device__ void tile(int64_t i, int64_t n, int step) const {
    TIn va[kUnroll], vb[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (i + u * step < n) {
        va[u] = a[i + u * step];
        vb[u] = b[i + u * step];
      }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (i + u * step < n) out[i + u * step] = f(va[u], vb[u]);
  }
};

/// where: the condition is read as bytes (any non-zero is true).
template <class T>
struct WhereSet {
  static constexpr int K = 4;
  const uint8_t* cond;
  const T* a;
  const T* b;
  T* out;
  __device__ void at(const int64_t (&off)[K]) const { out[off[3]] = cond[off[0]] ? a[off[1]] : b[off[2]]; }
  __device__ void tile(int64_t i, int64_t n, int step) const {
    T v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (i + u * step < n) {
        const int64_t j = i + u * step;
        v[u] = cond[j] ? a[j] : b[j];
      }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (i + u * step < n) out[i + u * step] = v[u];
  }
};

// ---- Kernels and launch ---------------------------------------------------------------

template <class S>
__global__ void __launch_bounds__(kThreads) contiguous_kernel(S set, int64_t n) {
  const int64_t tile = int64_t(blockDim.x) * kUnroll;
  const int64_t step = int64_t(gridDim.x) * tile;
  for (int64_t i = int64_t(blockIdx.x) * tile + threadIdx.x; i < n; i += step) set.tile(i, n, blockDim.x);
}

template <class S, class IdxT>
__global__ void __launch_bounds__(kThreads) strided_kernel(S set, Plan<S::K> plan, int64_t n) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[S::K];
    plan.template offsets<IdxT>(i, off);
    set.at(off);
  }
}

/// Applies `set` over `shape`, operand k walking with strides[k] (the output last).
template <class S>
void launch(const S& set, const Shape& shape, const std::array<const Strides*, S::K>& strides) {
  const int64_t n = shape.product();
  if (n == 0) return;
  const Plan<S::K> plan = make_plan<S::K>(shape, strides);
  if (plan.contiguous()) {
    contiguous_kernel<S><<<blocks_for((n + kUnroll - 1) / kUnroll), kThreads, 0, stream()>>>(set, n);
  } else if (n <= int64_t(INT32_MAX)) {
    strided_kernel<S, uint32_t><<<blocks_for(n), kThreads, 0, stream()>>>(set, plan, n);
  } else {
    strided_kernel<S, uint64_t><<<blocks_for(n), kThreads, 0, stream()>>>(set, plan, n);
  }
  GLASSBOX_CUDA_LAUNCHED();
}

// ---- Device math: the float or double function, as std:: picks on the CPU --------------

#define GLASSBOX_MATH1(name)                                                     \
  __device__ __forceinline__ float m_##name(float v) { return name##f(v); }    \
  __device__ __forceinline__ double m_##name(double v) { return ::name(v); }
GLASSBOX_MATH1(exp)
GLASSBOX_MATH1(log)
GLASSBOX_MATH1(sqrt)
GLASSBOX_MATH1(tanh)
GLASSBOX_MATH1(erf)
GLASSBOX_MATH1(sin)
GLASSBOX_MATH1(cos)
GLASSBOX_MATH1(log1p)
GLASSBOX_MATH1(expm1)
#undef GLASSBOX_MATH1
__device__ __forceinline__ float m_pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double m_pow(double x, double y) { return ::pow(x, y); }
__device__ __forceinline__ float m_atan2(float x, float y) { return atan2f(x, y); }
__device__ __forceinline__ double m_atan2(double x, double y) { return ::atan2(x, y); }
__device__ __forceinline__ float smallest_normal(float) { return FLT_MIN; }
__device__ __forceinline__ double smallest_normal(double) { return DBL_MIN; }

template <class T>
__device__ __forceinline__ T sigmoid(T x) {
  return x >= 0 ? T(1) / (T(1) + m_exp(-x)) : m_exp(x) / (T(1) + m_exp(x));
}
template <class T>
__device__ __forceinline__ T softplus(T x) {  // log(1 + e^x) without overflow
  return x > T(20) ? x : m_log1p(m_exp(x));
}

// ---- Unary ops ------------------------------------------------------------------------

constexpr bool unary_gives_bool(UnaryOp op) {
  switch (op) {
    case UnaryOp::eq_scalar: case UnaryOp::ne_scalar: case UnaryOp::lt_scalar: case UnaryOp::le_scalar:
    case UnaryOp::gt_scalar: case UnaryOp::ge_scalar: case UnaryOp::logical_not:
      return true;
    default:
      return false;
  }
}

/// Whether the CPU backend defines unary `op` on element type T.
template <class T>
constexpr bool unary_defined(UnaryOp op) {
  if constexpr (is_bool_like<T>) {
    return op == UnaryOp::logical_not;
  } else if constexpr (std::is_floating_point_v<T>) {
    return true;
  } else {
    switch (op) {
      case UnaryOp::neg: case UnaryOp::abs: case UnaryOp::sign: case UnaryOp::relu: case UnaryOp::square:
      case UnaryOp::add_scalar: case UnaryOp::mul_scalar: case UnaryOp::rsub_scalar: case UnaryOp::clamp:
        return true;
      default:
        return unary_gives_bool(op);
    }
  }
}

template <UnaryOp Op, class T>
struct UnaryFn {
  using Out = std::conditional_t<unary_gives_bool(Op), bool, T>;
  T a, b;
  __device__ __forceinline__ Out operator()(T v) const {
    if constexpr (Op == UnaryOp::eq_scalar) return v == a;
    else if constexpr (Op == UnaryOp::ne_scalar) return v != a;
    else if constexpr (Op == UnaryOp::lt_scalar) return v < a;
    else if constexpr (Op == UnaryOp::le_scalar) return v <= a;
    else if constexpr (Op == UnaryOp::gt_scalar) return v > a;
    else if constexpr (Op == UnaryOp::ge_scalar) return v >= a;
    else if constexpr (Op == UnaryOp::logical_not) return !v;
    else if constexpr (Op == UnaryOp::neg) return T(-v);
    else if constexpr (Op == UnaryOp::abs) return v < 0 ? T(-v) : v;
    else if constexpr (Op == UnaryOp::sign) return T((v > 0) - (v < 0));
    else if constexpr (Op == UnaryOp::relu) return v > 0 ? v : T(0);
    else if constexpr (Op == UnaryOp::square) return T(v * v);
    else if constexpr (Op == UnaryOp::add_scalar) return T(v + a);
    else if constexpr (Op == UnaryOp::mul_scalar) return T(v * a);
    else if constexpr (Op == UnaryOp::rsub_scalar) return T(a - v);
    else if constexpr (Op == UnaryOp::clamp) return v < a ? a : (v > b ? b : v);
    else if constexpr (Op == UnaryOp::exp) return m_exp(v);
    else if constexpr (Op == UnaryOp::log) return m_log(v);
    else if constexpr (Op == UnaryOp::sqrt) return m_sqrt(v);
    else if constexpr (Op == UnaryOp::rsqrt) return T(1) / m_sqrt(v);
    else if constexpr (Op == UnaryOp::sigmoid) return sigmoid(v);
    else if constexpr (Op == UnaryOp::tanh) return m_tanh(v);
    else if constexpr (Op == UnaryOp::gelu_erf) return T(0.5) * v * (T(1) + m_erf(v * T(kInvSqrt2)));
    else if constexpr (Op == UnaryOp::gelu_tanh)
      return T(0.5) * v * (T(1) + m_tanh(T(kSqrt2OverPi) * (v + T(0.044715) * v * v * v)));
    else if constexpr (Op == UnaryOp::softplus) return softplus(v);
    else if constexpr (Op == UnaryOp::silu) return v * sigmoid(v);
    else if constexpr (Op == UnaryOp::erf) return m_erf(v);
    else if constexpr (Op == UnaryOp::leaky_relu) return v > 0 ? v : v * a;
    else if constexpr (Op == UnaryOp::reciprocal) return T(1) / v;
    else if constexpr (Op == UnaryOp::sin) return m_sin(v);
    else if constexpr (Op == UnaryOp::cos) return m_cos(v);
    else if constexpr (Op == UnaryOp::log1p) return m_log1p(v);
    else if constexpr (Op == UnaryOp::expm1) return m_expm1(v);
    else if constexpr (Op == UnaryOp::gumbel_from_uniform) {
      const T tiny = smallest_normal(T{});
      return -m_log(-m_log(v < tiny ? tiny : v));  // std::max(v, tiny): NaN passes through
    } else if constexpr (Op == UnaryOp::rdiv_scalar) return a / v;
    else if constexpr (Op == UnaryOp::pow_scalar) return m_pow(v, a);
    else if constexpr (Op == UnaryOp::rpow_scalar) return m_pow(a, v);
    else static_assert(Op != Op, "unhandled unary op");
  }
};

template <UnaryOp Op, class T>
void run_unary(const View& x, const View& out, T a, T b) {
  using F = UnaryFn<Op, T>;
  using Set = Set1<F, T, typename F::Out>;
  launch(Set{F{a, b}, x.ptr<const T>(), out.ptr<typename F::Out>()}, out.shape, {&x.strides, &out.strides});
}

[[noreturn]] void unary_undefined(UnaryOp op, DType t) {
  throw std::invalid_argument(std::string("unary ") + op_name(op) + " is not defined for " + dtype_name(t));
}

template <class T>
void unary_typed(UnaryOp op, const View& x, const View& out, Scalars sc) {
  // Converted on the host, as the CPU does, so integer ops see the same truncated scalars
  // (bool and u8 ops take none).
  T a{}, b{};
  if constexpr (!is_bool_like<T>) {
    a = static_cast<T>(sc.a);
    b = static_cast<T>(sc.b);
  }
  if constexpr (std::is_floating_point_v<T>) {
    // The CPU's exact shortcuts for the two common exponents.
    if (op == UnaryOp::pow_scalar && sc.a == 2) return run_unary<UnaryOp::square, T>(x, out, a, b);
    if (op == UnaryOp::pow_scalar && sc.a == 0.5) return run_unary<UnaryOp::sqrt, T>(x, out, a, b);
  }
  switch (op) {
#define GLASSBOX_UNARY_CASE(name)                                                      \
  case UnaryOp::name:                                                                  \
    if constexpr (unary_defined<T>(UnaryOp::name)) return run_unary<UnaryOp::name, T>(x, out, a, b); \
    break;
    GLASSBOX_UNARY_OPS(GLASSBOX_UNARY_CASE)
#undef GLASSBOX_UNARY_CASE
  }
  unary_undefined(op, x.dtype);
}

// ---- Binary ops ------------------------------------------------------------------------

constexpr bool binary_gives_bool(BinaryOp op) {
  switch (op) {
    case BinaryOp::eq: case BinaryOp::ne: case BinaryOp::lt: case BinaryOp::le: case BinaryOp::gt:
    case BinaryOp::ge: case BinaryOp::logical_and: case BinaryOp::logical_or:
      return true;
    default:
      return false;
  }
}

/// Whether the CPU backend defines binary `op` on element type T.
template <class T>
constexpr bool binary_defined(BinaryOp op) {
  if constexpr (is_bool_like<T>) {
    return op == BinaryOp::logical_and || op == BinaryOp::logical_or || op == BinaryOp::eq || op == BinaryOp::ne;
  } else if constexpr (std::is_floating_point_v<T>) {
    return true;
  } else {
    switch (op) {
      case BinaryOp::add: case BinaryOp::sub: case BinaryOp::mul: case BinaryOp::minimum: case BinaryOp::maximum:
      case BinaryOp::relu_backward:
        return true;
      default:
        return binary_gives_bool(op);
    }
  }
}

template <BinaryOp Op, class T>
struct BinaryFn {
  using Out = std::conditional_t<binary_gives_bool(Op), bool, T>;
  T sa, sb;
  __device__ __forceinline__ Out operator()(T x, T y) const {
    if constexpr (Op == BinaryOp::eq) return x == y;
    else if constexpr (Op == BinaryOp::ne) return x != y;
    else if constexpr (Op == BinaryOp::lt) return x < y;
    else if constexpr (Op == BinaryOp::le) return x <= y;
    else if constexpr (Op == BinaryOp::gt) return x > y;
    else if constexpr (Op == BinaryOp::ge) return x >= y;
    else if constexpr (Op == BinaryOp::logical_and) return x && y;
    else if constexpr (Op == BinaryOp::logical_or) return x || y;
    else if constexpr (Op == BinaryOp::add) return T(x + y);
    else if constexpr (Op == BinaryOp::sub) return T(x - y);
    else if constexpr (Op == BinaryOp::mul) return T(x * y);
    else if constexpr (Op == BinaryOp::minimum) return x < y ? x : y;
    else if constexpr (Op == BinaryOp::maximum) return x > y ? x : y;
    else if constexpr (Op == BinaryOp::relu_backward) return y > 0 ? x : T(0);  // (g, x)
    else if constexpr (Op == BinaryOp::div) return x / y;
    else if constexpr (Op == BinaryOp::pow) return m_pow(x, y);
    else if constexpr (Op == BinaryOp::atan2) return m_atan2(x, y);
    else if constexpr (Op == BinaryOp::leaky_relu_backward) return y > 0 ? x : x * sa;
    else if constexpr (Op == BinaryOp::sigmoid_backward) return x * y * (T(1) - y);  // (g, output)
    else if constexpr (Op == BinaryOp::tanh_backward) return x * (T(1) - y * y);     // (g, output)
    else if constexpr (Op == BinaryOp::gelu_erf_backward) {
      const T cdf = T(0.5) * (T(1) + m_erf(y * T(kInvSqrt2)));
      const T pdf = m_exp(T(-0.5) * y * y) * T(kTwoOverSqrtPi * kInvSqrt2 * 0.5);
      return x * (cdf + y * pdf);
    } else if constexpr (Op == BinaryOp::gelu_tanh_backward) {
      const T inner = T(kSqrt2OverPi) * (y + T(0.044715) * y * y * y);
      const T t = m_tanh(inner);
      const T dinner = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * y * y);
      return x * (T(0.5) * (T(1) + t) + T(0.5) * y * (T(1) - t * t) * dinner);
    } else if constexpr (Op == BinaryOp::softplus_backward) return x * sigmoid(y);
    else if constexpr (Op == BinaryOp::silu_backward) {
      const T s = sigmoid(y);
      return x * s * (T(1) + y * (T(1) - s));
    } else if constexpr (Op == BinaryOp::erf_backward) return x * T(kTwoOverSqrtPi) * m_exp(-y * y);
    else if constexpr (Op == BinaryOp::clamp_backward) return (y >= sa && y <= sb) ? x : T(0);
    else static_assert(Op != Op, "unhandled binary op");
  }
};

template <BinaryOp Op, class T>
void run_binary(const View& a, const View& b, const View& out, T sa, T sb) {
  using F = BinaryFn<Op, T>;
  using Set = Set2<F, T, typename F::Out>;
  launch(Set{F{sa, sb}, a.ptr<const T>(), b.ptr<const T>(), out.ptr<typename F::Out>()}, out.shape,
         {&a.strides, &b.strides, &out.strides});
}

template <class T>
void binary_typed(BinaryOp op, const View& a, const View& b, const View& out, Scalars sc) {
  // The CPU only reads the scalars (and only converts them) for the floating ops.
  T sa{}, sb{};
  if constexpr (std::is_floating_point_v<T>) {
    sa = static_cast<T>(sc.a);
    sb = static_cast<T>(sc.b);
  }
  switch (op) {
#define GLASSBOX_BINARY_CASE(name)                                                            \
  case BinaryOp::name:                                                                        \
    if constexpr (binary_defined<T>(BinaryOp::name)) return run_binary<BinaryOp::name, T>(a, b, out, sa, sb); \
    break;
    GLASSBOX_BINARY_OPS(GLASSBOX_BINARY_CASE)
#undef GLASSBOX_BINARY_CASE
  }
  throw std::invalid_argument(std::string("binary ") + op_name(op) + " is not defined for " + dtype_name(a.dtype));
}

// ---- Copy ------------------------------------------------------------------------------

/// static_cast<O>, with the CPU's (x86) results where C++ leaves a floating -> integer
/// conversion undefined, so both backends agree bit for bit: NaN and out-of-range values
/// become the "integer indefinite" INT_MIN of the target width, and u8 keeps the low
/// byte of the 32-bit conversion (-1.0 -> 255, 300.0 -> 44), where a device conversion
/// would saturate instead.
template <class S, class O>
struct Convert {
  __device__ __forceinline__ O operator()(S v) const {
    if constexpr (std::is_same_v<O, bool>) {
      return v != S(0);
    } else if constexpr (std::is_floating_point_v<S> && (std::is_same_v<O, uint8_t> || std::is_same_v<O, int32_t>)) {
      const int32_t i = (v >= S(-2147483648.0) && v < S(2147483648.0)) ? static_cast<int32_t>(v) : INT32_MIN;
      return static_cast<O>(i);
    } else if constexpr (std::is_floating_point_v<S> && std::is_same_v<O, int64_t>) {
      return (v >= S(-9223372036854775808.0) && v < S(9223372036854775808.0)) ? static_cast<int64_t>(v) : INT64_MIN;
    } else {
      return static_cast<O>(v);
    }
  }
};

}  // namespace

void CudaBackend::copy(const View& src, const View& out) {
  set_device(device_);
  if (out.numel() == 0) return;
  if (src.dtype == out.dtype && src.is_contiguous() && out.is_contiguous()) {
    GLASSBOX_CUDA_CHECK(cudaMemcpyAsync(out.data, src.data, size_t(out.numel()) * dtype_size(out.dtype),
                                        cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  dispatch(src.dtype, [&](auto s) {
    using S = decltype(s);
    dispatch(out.dtype, [&](auto o) {
      using O = decltype(o);
      launch(Set1<Convert<S, O>, S, O>{{}, src.ptr<const S>(), out.ptr<O>()}, out.shape, {&src.strides, &out.strides});
    });
  });
}

void CudaBackend::fill(const View& out, double value) {
  set_device(device_);
  if (out.numel() == 0) return;
  dispatch(out.dtype, [&](auto z) {
    using T = decltype(z);
    const T v = static_cast<T>(value);  // on the host, exactly as the CPU converts
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    bool zero = true;
    for (unsigned char c : bytes) zero = zero && c == 0;
    if (zero && out.is_contiguous()) {  // zeros(), the common case: a plain memset
      GLASSBOX_CUDA_CHECK(cudaMemsetAsync(out.data, 0, size_t(out.numel()) * sizeof(T), stream()));
      return;
    }
    launch(FillSet<T>{v, out.ptr<T>()}, out.shape, {&out.strides});
  });
}

void CudaBackend::unary(UnaryOp op, const View& x, const View& out, Scalars s) {
  set_device(device_);
  dispatch(x.dtype, [&](auto z) { unary_typed<decltype(z)>(op, x, out, s); });
}

void CudaBackend::binary(BinaryOp op, const View& a, const View& b, const View& out, Scalars s) {
  set_device(device_);
  dispatch(a.dtype, [&](auto z) { binary_typed<decltype(z)>(op, a, b, out, s); });
}

void CudaBackend::where(const View& cond, const View& a, const View& b, const View& out) {
  set_device(device_);
  dispatch(out.dtype, [&](auto z) {
    using T = decltype(z);
    launch(WhereSet<T>{cond.ptr<const uint8_t>(), a.ptr<const T>(), b.ptr<const T>(), out.ptr<T>()}, out.shape,
           {&cond.strides, &a.strides, &b.strides, &out.strides});
  });
}

}  // namespace glassbox::kernels::cuda
