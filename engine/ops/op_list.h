#pragma once
// The op catalog's one list: every recorded op has an entry here, which gives the
// OpKind enum and the names shown in errors and profiles. One macro per family;
// adding an op is one entry in its family.
#include <cstdint>

// Views and layout (engine/ops/view.cpp).
#define GLASSBOX_OPS_VIEW(X) \
  X(view) X(permute) X(narrow) X(slice) X(select) X(expand) X(contiguous) X(to_dtype) X(to_device) X(clone)

// Elementwise arithmetic and activations (engine/ops/elementwise.cpp, activation.cpp).
#define GLASSBOX_OPS_ELEMENTWISE(X)                                                            \
  X(add) X(sub) X(mul) X(div) X(neg) X(pow) X(pow_scalar) X(rpow_scalar) X(exp) X(log) X(sqrt) \
  X(rsqrt) X(abs) X(clamp) X(minimum) X(maximum) X(where) X(add_scalar) X(mul_scalar)          \
  X(rsub_scalar) X(rdiv_scalar) X(square) X(reciprocal) X(sin) X(cos) X(log1p) X(expm1)

#define GLASSBOX_OPS_ACTIVATION(X) \
  X(relu) X(leaky_relu) X(sigmoid) X(tanh) X(gelu) X(softplus) X(silu) X(erf)

// Reductions, softmax and losses (engine/ops/reduce.cpp, loss.cpp).
#define GLASSBOX_OPS_REDUCE(X) \
  X(sum) X(mean) X(var) X(max) X(min) X(logsumexp) X(norm) X(topk) X(cumsum) X(prod)

#define GLASSBOX_OPS_SOFTMAX_LOSS(X) \
  X(softmax) X(log_softmax) X(cross_entropy) X(nll_loss) X(mse_loss) X(bce_loss)

// Linear algebra (engine/ops/linalg.cpp).
#define GLASSBOX_OPS_LINALG(X) \
  X(matmul) X(pairwise_sq_distance) X(triangular_solve) X(cholesky) X(diagonal)

// Convolution, normalisation, pooling, resampling (engine/ops/conv.cpp, norm.cpp, pool.cpp).
#define GLASSBOX_OPS_CONV(X) \
  X(conv2d) X(conv_transpose2d) X(batch_norm) X(layer_norm) X(max_pool2d) X(avg_pool2d) X(upsample2d)

// Indexing and shaping (engine/ops/index.cpp).
#define GLASSBOX_OPS_INDEX(X)                                                                  \
  X(concat) X(stack) X(pad) X(index_select) X(gather) X(scatter_add) X(embedding) X(masked_fill) \
  X(repeat)

// Random ops with a gradient (engine/ops/random.cpp).
#define GLASSBOX_OPS_RANDOM(X) X(dropout) X(gumbel_softmax)

// User-defined forward/backward pairs (engine/autograd/function.h).
#define GLASSBOX_OPS_CUSTOM(X) X(custom_function)

#define GLASSBOX_ALL_OPS(X)                                                                   \
  GLASSBOX_OPS_VIEW(X) GLASSBOX_OPS_ELEMENTWISE(X) GLASSBOX_OPS_ACTIVATION(X)                 \
  GLASSBOX_OPS_REDUCE(X) GLASSBOX_OPS_SOFTMAX_LOSS(X) GLASSBOX_OPS_LINALG(X) GLASSBOX_OPS_CONV(X) \
  GLASSBOX_OPS_INDEX(X) GLASSBOX_OPS_RANDOM(X) GLASSBOX_OPS_CUSTOM(X)

namespace glassbox {

#define GLASSBOX_OP_ENUM(name) name,
enum class OpKind : uint16_t { GLASSBOX_ALL_OPS(GLASSBOX_OP_ENUM) count };
#undef GLASSBOX_OP_ENUM

const char* op_kind_name(OpKind kind);

}  // namespace glassbox
