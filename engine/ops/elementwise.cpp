// Elementwise arithmetic: each op's forward kernel call and its gradient side by side.
#include "engine/ops/elementwise.h"

#include <cmath>

#include "engine/autograd/node.h"
#include "engine/ops/activation.h"
#include "engine/ops/op_utils.h"

namespace glassbox::ops {

using kernels::BinaryOp;
using kernels::UnaryOp;
using Grads = std::vector<Tensor>;

namespace {

/// Runs a binary kernel over the broadcast shape of a and b.
Tensor binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, const char* name, bool boolean_out = false,
                     kernels::Scalars s = {}) {
  check_same_dtype(a, b, name);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty_like_shape(a, shape, boolean_out ? DType::boolean : a.dtype());
  Tensor ea = a.detach().expand(shape), eb = b.detach().expand(shape);
  backend_of(a).binary(op, ea.view(), eb.view(), out.view(), s);
  return out;
}

Tensor unary_kernel(UnaryOp op, const Tensor& x, kernels::Scalars s = {}, bool boolean_out = false) {
  Tensor out = empty_like_shape(x, x.shape(), boolean_out ? DType::boolean : x.dtype());
  backend_of(x).unary(op, x.view(), out.view(), s);
  return out;
}

}  // namespace

// ---- Binary arithmetic --------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::add, a, b, "add");
  return record(OpKind::add, {&a, &b}, out, [](const Tensor& g) -> Grads { return {g, g}; });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::sub, a, b, "sub");
  return record(OpKind::sub, {&a, &b}, out, [](const Tensor& g) -> Grads { return {g, neg(g)}; });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::mul, a, b, "mul");
  if (!any_requires_grad({&a, &b})) return out;
  bool ga = a.requires_grad(), gb = b.requires_grad();
  return record(OpKind::mul, {&a, &b}, out,
                [sa = SavedTensor(gb ? a : Tensor()), sb = SavedTensor(ga ? b : Tensor()), ga, gb](const Tensor& g) -> Grads {
                  return {ga ? mul(g, sb.get()) : Tensor(), gb ? mul(g, sa.get()) : Tensor()};
                });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::div, a, b, "div");
  if (!any_requires_grad({&a, &b})) return out;
  bool gb = b.requires_grad();
  return record(OpKind::div, {&a, &b}, out,
                [sb = SavedTensor(b), so = SavedTensor(gb ? out.detach() : Tensor()), gb](const Tensor& g) -> Grads {
                  Tensor ga = div(g, sb.get());
                  // d(a/b)/db = -(a/b)/b
                  return {ga, gb ? neg(mul(ga, so.get())) : Tensor()};
                });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::pow, a, b, "pow");
  if (!any_requires_grad({&a, &b})) return out;
  bool gb = b.requires_grad();
  return record(OpKind::pow, {&a, &b}, out,
                [sa = SavedTensor(a), sb = SavedTensor(b), so = SavedTensor(out.detach()), gb](const Tensor& g) -> Grads {
                  const Tensor& x = sa.get();
                  const Tensor& y = sb.get();
                  // d/da = y * a^(y-1); d/db = a^y * log(a) (taken as 0 where a == 0).
                  Tensor da = mul(g, mul(y, pow(x, sub(y, Tensor::ones_like(y)))));
                  Tensor db;
                  if (gb) {
                    Tensor safe_log = where(eq(x, 0.0), Tensor::zeros_like(x), log(x));
                    db = mul(g, mul(so.get(), safe_log));
                  }
                  return {da, db};
                });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::minimum, a, b, "minimum");
  if (!any_requires_grad({&a, &b})) return out;
  // Ties send the gradient to a (as torch.minimum's subgradient convention of halves is avoided).
  return record(OpKind::minimum, {&a, &b}, out, [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g) -> Grads {
    Tensor pick_a = le(sa.get(), sb.get());
    Tensor zero = Tensor::zeros({}, {g.dtype(), g.device()});
    return {where(pick_a, g, zero), where(pick_a, zero, g)};
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::maximum, a, b, "maximum");
  if (!any_requires_grad({&a, &b})) return out;
  return record(OpKind::maximum, {&a, &b}, out, [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g) -> Grads {
    Tensor pick_a = ge(sa.get(), sb.get());
    Tensor zero = Tensor::zeros({}, {g.dtype(), g.device()});
    return {where(pick_a, g, zero), where(pick_a, zero, g)};
  });
}

// ---- Scalar arithmetic -----------------------------------------------------------------

Tensor add(const Tensor& a, double b) {
  Tensor out = unary_kernel(UnaryOp::add_scalar, a, {b, 0});
  return record(OpKind::add_scalar, {&a}, out, [](const Tensor& g) -> Grads { return {g}; });
}

Tensor mul(const Tensor& a, double b) {
  Tensor out = unary_kernel(UnaryOp::mul_scalar, a, {b, 0});
  return record(OpKind::mul_scalar, {&a}, out, [b](const Tensor& g) -> Grads { return {mul(g, b)}; });
}

Tensor rsub(const Tensor& a, double b) {
  Tensor out = unary_kernel(UnaryOp::rsub_scalar, a, {b, 0});
  return record(OpKind::rsub_scalar, {&a}, out, [](const Tensor& g) -> Grads { return {neg(g)}; });
}

Tensor rdiv(const Tensor& a, double b) {
  Tensor out = unary_kernel(UnaryOp::rdiv_scalar, a, {b, 0});
  if (!any_requires_grad({&a})) return out;
  // d(b/a)/da = -(b/a)/a
  return record(OpKind::rdiv_scalar, {&a}, out, [sa = SavedTensor(a), so = SavedTensor(out.detach())](const Tensor& g) -> Grads {
    return {neg(div(mul(g, so.get()), sa.get()))};
  });
}

Tensor pow(const Tensor& a, double exponent) {
  Tensor out = unary_kernel(UnaryOp::pow_scalar, a, {exponent, 0});
  if (!any_requires_grad({&a})) return out;
  return record(OpKind::pow_scalar, {&a}, out, [sa = SavedTensor(a), exponent](const Tensor& g) -> Grads {
    if (exponent == 0) return {Tensor::zeros_like(g)};
    if (exponent == 2) return {mul(g, mul(sa.get(), 2.0))};
    return {mul(g, mul(pow(sa.get(), exponent - 1), exponent))};
  });
}

Tensor pow(double base, const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::rpow_scalar, x, {base, 0});
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::rpow_scalar, {&x}, out, [so = SavedTensor(out.detach()), base](const Tensor& g) -> Grads {
    return {mul(g, mul(so.get(), std::log(base)))};
  });
}

// ---- Unary math ----------------------------------------------------------------------

Tensor neg(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::neg, x);
  return record(OpKind::neg, {&x}, out, [](const Tensor& g) -> Grads { return {neg(g)}; });
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::exp, x);
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::exp, {&x}, out, [so = SavedTensor(out.detach())](const Tensor& g) -> Grads {
    return {mul(g, so.get())};
  });
}

Tensor log(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::log, x);
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::log, {&x}, out, [sx = SavedTensor(x)](const Tensor& g) -> Grads { return {div(g, sx.get())}; });
}

Tensor log1p(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::log1p, x);
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::log1p, {&x}, out, [sx = SavedTensor(x)](const Tensor& g) -> Grads {
    return {div(g, add(sx.get(), 1.0))};
  });
}

Tensor expm1(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::expm1, x);
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::expm1, {&x}, out, [so = SavedTensor(out.detach())](const Tensor& g) -> Grads {
    return {mul(g, add(so.get(), 1.0))};
  });
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::sqrt, x);
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::sqrt, {&x}, out, [so = SavedTensor(out.detach())](const Tensor& g) -> Grads {
    return {div(mul(g, 0.5), so.get())};
  });
}

Tensor rsqrt(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::rsqrt, x);
  if (!any_requires_grad({&x})) return out;
  // d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
  return record(OpKind::rsqrt, {&x}, out, [so = SavedTensor(out.detach())](const Tensor& g) -> Grads {
    return {mul(g, mul(pow(so.get(), 3.0), -0.5))};
  });
}

Tensor square(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::square, x);
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::square, {&x}, out, [sx = SavedTensor(x)](const Tensor& g) -> Grads {
    return {mul(g, mul(sx.get(), 2.0))};
  });
}

Tensor reciprocal(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::reciprocal, x);
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::reciprocal, {&x}, out, [so = SavedTensor(out.detach())](const Tensor& g) -> Grads {
    return {neg(mul(g, square(so.get())))};
  });
}

Tensor abs(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::abs, x);
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::abs, {&x}, out, [sx = SavedTensor(x)](const Tensor& g) -> Grads {
    return {mul(g, sign(sx.get()))};
  });
}

Tensor sin(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::sin, x);
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::sin, {&x}, out, [sx = SavedTensor(x)](const Tensor& g) -> Grads { return {mul(g, cos(sx.get()))}; });
}

Tensor cos(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::cos, x);
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::cos, {&x}, out, [sx = SavedTensor(x)](const Tensor& g) -> Grads {
    return {neg(mul(g, sin(sx.get())))};
  });
}

Tensor sign(const Tensor& x) { return unary_kernel(UnaryOp::sign, x.detach()); }

Tensor clamp(const Tensor& x, double lo, double hi) {
  Tensor out = unary_kernel(UnaryOp::clamp, x, {lo, hi});
  if (!any_requires_grad({&x})) return out;
  return record(OpKind::clamp, {&x}, out, [sx = SavedTensor(x), lo, hi](const Tensor& g) -> Grads {
    Tensor gx = empty_like_shape(g, g.shape());
    backend_of(g).binary(BinaryOp::clamp_backward, g.view(), sx.get().view(), gx.view(), {lo, hi});
    return {gx};
  });
}
Tensor clamp_min(const Tensor& x, double lo) { return clamp(x, lo, HUGE_VAL); }
Tensor clamp_max(const Tensor& x, double hi) { return clamp(x, -HUGE_VAL, hi); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  if (cond.dtype() != DType::boolean)
    throw std::invalid_argument(std::string("where: condition must be bool, got ") + dtype_name(cond.dtype()));
  check_same_dtype(a, b, "where");
  check_same_device(cond, a, "where");
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty_like_shape(a, shape);
  backend_of(a).where(cond.expand(shape).view(), a.detach().expand(shape).view(), b.detach().expand(shape).view(),
                      out.view());
  if (!any_requires_grad({&a, &b})) return out;
  return record(OpKind::where, {&a, &b}, out, [c = SavedTensor(cond.detach())](const Tensor& g) -> Grads {
    Tensor zero = Tensor::zeros({}, {g.dtype(), g.device()});
    return {where(c.get(), g, zero), where(c.get(), zero, g)};
  });
}

// ---- Comparisons (no gradient) -------------------------------------------------------

#define GLASSBOX_COMPARISON(name)                                                     \
  Tensor name(const Tensor& a, const Tensor& b) {                                     \
    return binary_kernel(BinaryOp::name, a, b, #name, true);                          \
  }                                                                                   \
  Tensor name(const Tensor& a, double b) { return unary_kernel(UnaryOp::name##_scalar, a, {b, 0}, true); }
GLASSBOX_COMPARISON(eq)
GLASSBOX_COMPARISON(ne)
GLASSBOX_COMPARISON(lt)
GLASSBOX_COMPARISON(le)
GLASSBOX_COMPARISON(gt)
GLASSBOX_COMPARISON(ge)
#undef GLASSBOX_COMPARISON

Tensor logical_and(const Tensor& a, const Tensor& b) { return binary_kernel(BinaryOp::logical_and, a, b, "logical_and", true); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return binary_kernel(BinaryOp::logical_or, a, b, "logical_or", true); }
Tensor logical_not(const Tensor& a) { return unary_kernel(UnaryOp::logical_not, a, {}, true); }

// ---- Activations -------------------------------------------------------------------

namespace {
/// An activation whose gradient is a `*_backward` kernel of (grad, saved input or output).
Tensor activation(OpKind kind, UnaryOp fwd, BinaryOp bwd, const Tensor& x, bool save_output, kernels::Scalars s = {}) {
  check_floating(x, op_kind_name(kind));
  Tensor out = unary_kernel(fwd, x, s);
  if (!any_requires_grad({&x})) return out;
  SavedTensor saved(save_output ? out.detach() : x);
  return record(kind, {&x}, out, [saved, bwd, s](const Tensor& g) -> Grads {
    Tensor gx = empty_like_shape(g, g.shape());
    const Tensor& v = saved.get();
    backend_of(g).binary(bwd, g.view(), v.expand(g.shape()).view(), gx.view(), s);
    return {gx};
  });
}
}  // namespace

Tensor relu(const Tensor& x) { return activation(OpKind::relu, UnaryOp::relu, BinaryOp::relu_backward, x, false); }
Tensor leaky_relu(const Tensor& x, double slope) {
  return activation(OpKind::leaky_relu, UnaryOp::leaky_relu, BinaryOp::leaky_relu_backward, x, false, {slope, 0});
}
Tensor sigmoid(const Tensor& x) {
  return activation(OpKind::sigmoid, UnaryOp::sigmoid, BinaryOp::sigmoid_backward, x, true);
}
Tensor tanh(const Tensor& x) { return activation(OpKind::tanh, UnaryOp::tanh, BinaryOp::tanh_backward, x, true); }
Tensor gelu(const Tensor& x, bool tanh_approximation) {
  return tanh_approximation
             ? activation(OpKind::gelu, UnaryOp::gelu_tanh, BinaryOp::gelu_tanh_backward, x, false)
             : activation(OpKind::gelu, UnaryOp::gelu_erf, BinaryOp::gelu_erf_backward, x, false);
}
Tensor softplus(const Tensor& x) {
  return activation(OpKind::softplus, UnaryOp::softplus, BinaryOp::softplus_backward, x, false);
}
Tensor silu(const Tensor& x) { return activation(OpKind::silu, UnaryOp::silu, BinaryOp::silu_backward, x, false); }
Tensor erf(const Tensor& x) { return activation(OpKind::erf, UnaryOp::erf, BinaryOp::erf_backward, x, false); }

}  // namespace glassbox::ops

// ---- Operators ---------------------------------------------------------------------

namespace glassbox {
Tensor operator+(const Tensor& a, const Tensor& b) { return ops::add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return ops::sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return ops::mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return ops::div(a, b); }
Tensor operator-(const Tensor& a) { return ops::neg(a); }
Tensor operator+(const Tensor& a, double b) { return ops::add(a, b); }
Tensor operator-(const Tensor& a, double b) { return ops::add(a, -b); }
Tensor operator*(const Tensor& a, double b) { return ops::mul(a, b); }
Tensor operator/(const Tensor& a, double b) { return ops::mul(a, 1.0 / b); }
Tensor operator+(double a, const Tensor& b) { return ops::add(b, a); }
Tensor operator-(double a, const Tensor& b) { return ops::rsub(b, a); }
Tensor operator*(double a, const Tensor& b) { return ops::mul(b, a); }
Tensor operator/(double a, const Tensor& b) { return ops::rdiv(b, a); }
}  // namespace glassbox
