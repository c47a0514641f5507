#pragma once
// The one interface a compute backend implements. Kernels see strided views of
// device memory and do arithmetic; they know nothing of autograd, broadcasting
// rules or shape checks, which live in engine/ops.
#include <cstdint>
#include <vector>

#include "kernels/types.h"

namespace glassbox::kernels {

/// A strided window onto device memory. `data` points at element 0 (offset applied).
struct View {
  void* data = nullptr;
  DType dtype = DType::f32;
  Shape shape;
  Strides strides;  // in elements
  int64_t numel() const { return shape.product(); }
  bool is_contiguous() const {
    int64_t expected = 1;
    for (int i = shape.size() - 1; i >= 0; --i) {
      if (shape[i] != 1 && strides[i] != expected) return false;
      expected *= shape[i];
    }
    return true;
  }
  template <class T>
  T* ptr() const { return static_cast<T*>(data); }
};

// Elementwise op lists. Each X(name) becomes an enum entry; backends switch on them.
// Unary ops may read the scalar parameters `a` and `b` (e.g. leaky_relu slope, clamp bounds).
#define GLASSBOX_UNARY_OPS(X)                                                          \
  X(neg) X(exp) X(log) X(sqrt) X(rsqrt) X(abs) X(sign) X(relu) X(sigmoid) X(tanh)      \
  X(gelu_erf) X(gelu_tanh) X(softplus) X(silu) X(erf) X(leaky_relu) X(reciprocal)      \
  X(square) X(sin) X(cos) X(log1p) X(expm1)                                            \
  X(add_scalar)   /* x + a */                                                          \
  X(mul_scalar)   /* x * a */                                                          \
  X(rsub_scalar)  /* a - x */                                                          \
  X(rdiv_scalar)  /* a / x */                                                          \
  X(pow_scalar)   /* x ^ a */                                                          \
  X(rpow_scalar)  /* a ^ x */                                                          \
  X(clamp)        /* min(max(x, a), b) */                                              \
  X(gumbel_from_uniform) /* -log(-log(max(x, tiny))): Gumbel(0, 1) noise from U[0, 1) */ \
  X(eq_scalar) X(ne_scalar) X(lt_scalar) X(le_scalar) X(gt_scalar) X(ge_scalar)        \
  X(logical_not)

// Binary ops take two views already broadcast to the output's shape (stride 0 where
// broadcast). The *_backward entries take (grad, saved) and give the input gradient.
#define GLASSBOX_BINARY_OPS(X)                                                         \
  X(add) X(sub) X(mul) X(div) X(pow) X(minimum) X(maximum) X(atan2)                    \
  X(eq) X(ne) X(lt) X(le) X(gt) X(ge) X(logical_and) X(logical_or)                     \
  X(relu_backward)       /* (g, x): g * (x > 0) */                                     \
  X(leaky_relu_backward) /* (g, x): g * (x > 0 ? 1 : a) */                             \
  X(sigmoid_backward)    /* (g, y): g * y * (1 - y) */                                 \
  X(tanh_backward)       /* (g, y): g * (1 - y^2) */                                   \
  X(gelu_erf_backward)   /* (g, x) */                                                  \
  X(gelu_tanh_backward)  /* (g, x) */                                                  \
  X(softplus_backward)   /* (g, x): g * sigmoid(x) */                                  \
  X(silu_backward)       /* (g, x) */                                                  \
  X(erf_backward)        /* (g, x): g * 2/sqrt(pi) * exp(-x^2) */                      \
  X(clamp_backward)      /* (g, x): g where a <= x <= b */

#define GLASSBOX_REDUCE_OPS(X) X(sum) X(prod) X(max) X(min) X(sum_sq) X(logsumexp)

#define GLASSBOX_ENUM_ENTRY(name) name,
enum class UnaryOp : uint8_t { GLASSBOX_UNARY_OPS(GLASSBOX_ENUM_ENTRY) };
enum class BinaryOp : uint8_t { GLASSBOX_BINARY_OPS(GLASSBOX_ENUM_ENTRY) };
enum class ReduceOp : uint8_t { GLASSBOX_REDUCE_OPS(GLASSBOX_ENUM_ENTRY) };
#undef GLASSBOX_ENUM_ENTRY

#define GLASSBOX_NAME_CASE(name) \
  case Enum::name: return #name;
inline const char* op_name(UnaryOp op) {
  using Enum = UnaryOp;
  switch (op) { GLASSBOX_UNARY_OPS(GLASSBOX_NAME_CASE) }
  return "?";
}
inline const char* op_name(BinaryOp op) {
  using Enum = BinaryOp;
  switch (op) { GLASSBOX_BINARY_OPS(GLASSBOX_NAME_CASE) }
  return "?";
}
inline const char* op_name(ReduceOp op) {
  using Enum = ReduceOp;
  switch (op) { GLASSBOX_REDUCE_OPS(GLASSBOX_NAME_CASE) }
  return "?";
}
#undef GLASSBOX_NAME_CASE

/// Scalar parameters of an elementwise op (meaning given per op above).
struct Scalars {
  double a = 0;
  double b = 0;
};

/// Parameters of a 2-d convolution; pads may be asymmetric ("SAME").
struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
};

struct SgdHyper {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  bool first_step = true;  // the momentum buffer is initialised to the gradient
};
struct AdamHyper {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled_weight_decay = false;  // AdamW
  int64_t step = 1;
};
struct AdadeltaHyper {
  double lr = 1.0, rho = 0.9, eps = 1e-6, weight_decay = 0;
};
/// The activation a fused batch-norm kernel applies to its output: ReLU, or LeakyReLU with a
/// negative slope > 0.
struct NormActivation {
  bool leaky = false;
  double negative_slope = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  /// Blocks until the work queued so far has finished (asynchronous backends only).
  virtual void synchronize() {}

  // Memory.
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p, size_t nbytes) = 0;
  /// Copies host bytes into (to_device) or out of device memory; contiguous.
  virtual void copy_from_host(void* dst, const void* src, size_t nbytes) = 0;
  virtual void copy_to_host(void* dst, const void* src, size_t nbytes) = 0;

  // Elementwise. `out` has the output shape; inputs are broadcast views of it.
  /// out = src (strided), converting dtype when they differ.
  virtual void copy(const View& src, const View& out) = 0;
  virtual void fill(const View& out, double value) = 0;
  virtual void unary(UnaryOp op, const View& x, const View& out, Scalars s) = 0;
  virtual void binary(BinaryOp op, const View& a, const View& b, const View& out, Scalars s) = 0;
  /// out = cond ? a : b (cond is boolean).
  virtual void where(const View& cond, const View& a, const View& b, const View& out) = 0;

  /// Reduces `x` into `out`, which has x's rank with size 1 on every reduced dim.
  virtual void reduce(ReduceOp op, const View& x, const View& out) = 0;
  /// Index of the max (or min) along `dim`; `out` (i64) has size 1 on `dim`.
  virtual void arg_reduce(bool is_max, const View& x, int dim, const View& out) = 0;

  /// out[..., i, ...] = sum_{j<=i} x[..., j, ...] along dim.
  virtual void cumsum(const View& x, int dim, const View& out) = 0;
  /// Softmax or log-softmax along dim; and their input gradients from (grad, y).
  virtual void softmax(const View& x, int dim, bool log, const View& out) = 0;
  virtual void softmax_backward(const View& grad, const View& y, int dim, bool log, const View& out) = 0;

  /// C = alpha * op(A) @ op(B) + beta * C for a batch (leading dims equal, already broadcast).
  /// A: [..., M, K] (or [..., K, M] when trans_a), B: [..., K, N] (or [..., N, K]).
  virtual void matmul(const View& a, const View& b, const View& c, bool trans_a, bool trans_b,
                      double alpha, double beta) = 0;

  /// Convolution, NCHW activations, OIHW weights (grouped: [O, I/groups, kh, kw]).
  virtual void conv2d_forward(const View& x, const View& w, const View* bias, const View& y,
                              const Conv2dParams& p) = 0;
  virtual void conv2d_backward_data(const View& gy, const View& w, const View& gx,
                                    const Conv2dParams& p) = 0;
  virtual void conv2d_backward_weights(const View& x, const View& gy, const View& gw,
                                       const View* gbias, const Conv2dParams& p) = 0;

  /// Largest (or smallest) k along dim: values and their i64 indices, sorted.
  virtual void topk(const View& x, int64_t k, int dim, bool largest, const View& values,
                    const View& indices) = 0;

  // ---- Linear algebra -------------------------------------------------------------
  /// Lower Cholesky factor of each [..., n, n] symmetric positive-definite matrix.
  /// Throws std::domain_error when a matrix is not positive definite.
  virtual void cholesky(const View& a, const View& out) = 0;
  /// Solves op(A) X = B for X, A [..., n, n] triangular, B and X [..., n, m].
  virtual void triangular_solve(const View& a, const View& b, const View& x, bool lower,
                                bool transpose_a, bool unit_diagonal) = 0;

  // ---- Indexing ---------------------------------------------------------------------
  /// out = x.index_select(dim, index); index is i64 of length out.shape[dim].
  virtual void index_select(const View& x, int dim, const View& index, const View& out) = 0;
  /// out.index_select(dim, index) += src (duplicates accumulate).
  virtual void index_add(const View& out, int dim, const View& index, const View& src) = 0;
  /// out[i][j] = x[i][index[i][j]] along dim (index has out's shape).
  virtual void gather(const View& x, int dim, const View& index, const View& out) = 0;
  /// out[i][index[i][j]] += src[i][j] along dim.
  virtual void scatter_add(const View& out, int dim, const View& index, const View& src) = 0;

  // ---- Pooling and resampling (NCHW) ---------------------------------------------
  /// Max pooling; `indices` (i64) records the flat h*W+w argmax within each plane.
  virtual void max_pool2d(const View& x, const View& out, const View& indices, const Conv2dParams& p,
                          int64_t kernel_h, int64_t kernel_w) = 0;
  virtual void max_pool2d_backward(const View& grad, const View& indices, const View& grad_x) = 0;
  /// Average pooling, padded cells excluded from the count when !count_include_pad.
  virtual void avg_pool2d(const View& x, const View& out, const Conv2dParams& p, int64_t kernel_h,
                          int64_t kernel_w, bool count_include_pad) = 0;
  virtual void avg_pool2d_backward(const View& grad, const View& grad_x, const Conv2dParams& p,
                                   int64_t kernel_h, int64_t kernel_w, bool count_include_pad) = 0;
  /// Nearest or bilinear resampling of x into out's spatial size (align_corners as in PyTorch).
  virtual void upsample2d(const View& x, const View& out, bool bilinear, bool align_corners) = 0;
  virtual void upsample2d_backward(const View& grad, const View& grad_x, bool bilinear,
                                   bool align_corners) = 0;

  // ---- Random numbers -------------------------------------------------------------
  /// Counter-based random numbers (Philox4x32-10): element i of `out` uses counter
  /// offset + i under key `seed`, so every backend produces the same stream.
  virtual void random_uniform(const View& out, uint64_t seed, uint64_t offset, double lo, double hi) = 0;
  virtual void random_normal(const View& out, uint64_t seed, uint64_t offset, double mean, double std) = 0;
  /// Draws `out.shape[-1]` category indices (i64) per row of `probs` [rows, categories]
  /// (non-negative weights, not necessarily normalised). Uses rows * S counters with
  /// replacement (sample s of row r: offset + r * S + s) and rows * C without
  /// (category c of row r: offset + r * C + c); the caller reserves them.
  virtual void multinomial(const View& probs, bool replacement, uint64_t seed, uint64_t offset,
                           const View& out) = 0;

  // ---- Fused optimiser updates (contiguous, same dtype; step counts from 1) -------
  virtual void sgd_update(const View& param, const View& grad, const View* momentum_buffer,
                          const SgdHyper& h) = 0;
  virtual void adam_update(const View& param, const View& grad, const View& exp_avg,
                           const View& exp_avg_sq, const AdamHyper& h) = 0;
  virtual void adadelta_update(const View& param, const View& grad, const View& square_avg,
                               const View& acc_delta, const AdadeltaHyper& h) = 0;

  // ---- Optional fused kernels ---------------------------------------------------------
  // A backend without one returns false, and the op composes the kernels above instead.
  /// Batch normalisation in training over contiguous x [N, C, S] (f32 or f64): writes the
  /// per-channel mean and biased variance ([C], x's dtype) and y = (x - mean) / sqrt(var + eps)
  /// * weight + bias (weight and bias [C] or null).
  virtual bool batch_norm_forward(const View& /*x*/, const View* /*weight*/, const View* /*bias*/, double /*eps*/,
                                  const View& /*y*/, const View& /*mean*/, const View& /*var*/) {
    return false;
  }
  /// Its backward from contiguous g and x [N, C, S] and the saved mean and rstd = 1/sqrt(var + eps)
  /// [C]: with xhat = (x - mean) * rstd and n = N * S, gb = sum(g), gw = sum(g * xhat) and
  /// gx = rstd * weight * (g - gb / n - xhat * gw / n) (weight 1 where null); each output
  /// may be null when not wanted.
  virtual bool batch_norm_backward(const View& /*g*/, const View& /*x*/, const View& /*mean*/, const View& /*rstd*/,
                                   const View* /*weight*/, const View* /*gx*/, const View* /*gw*/,
                                   const View* /*gb*/) {
    return false;
  }
  /// batch_norm_forward followed by `act` in the same pass: y = act(normalised x), bit for bit
  /// what the unary relu / leaky_relu kernel would give on batch_norm_forward's output.
  virtual bool batch_norm_act_forward(const View& /*x*/, const View* /*weight*/, const View* /*bias*/, double /*eps*/,
                                      const NormActivation& /*act*/, const View& /*y*/, const View& /*mean*/,
                                      const View& /*var*/) {
    return false;
  }
  /// Its backward: batch_norm_backward of the activation's input gradient, which is taken from g
  /// and the saved output y (y > 0 exactly where the activation's input was) as the
  /// relu_backward / leaky_relu_backward kernels do, without writing it out.
  virtual bool batch_norm_act_backward(const View& /*g*/, const View& /*y*/, const View& /*x*/, const View& /*mean*/,
                                       const View& /*rstd*/, const View* /*weight*/, const NormActivation& /*act*/,
                                       const View* /*gx*/, const View* /*gw*/, const View* /*gb*/) {
    return false;
  }
};

}  // namespace glassbox::kernels
