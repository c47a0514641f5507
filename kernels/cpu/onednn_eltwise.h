#pragma once
// Elementwise activations on oneDNN's JIT eltwise primitives (vectorised sigmoid,
// tanh, exp, GELU; not log, whose oneDNN 2.6 version is ~16 ulp off), for dense f32
// views large enough that the call pays off; the scalar loops in elementwise.cpp
// handle everything else.
#include "kernels/backend.h"

namespace glassbox::kernels::cpu {

/// Runs op on oneDNN over the leading whole chunks of dense f32 views; returns how many
/// elements it did (0 when the op, dtype, layout or size does not fit), leaving the
/// rest (see onednn_tail) to the caller's loop.
int64_t onednn_unary(UnaryOp op, const View& x, const View& out);
/// The backward ops that read the forward's output (sigmoid, tanh): g = grad, y = output.
int64_t onednn_binary(BinaryOp op, const View& g, const View& y, const View& out);
/// The flat dense view of the elements of `v` from `done` on.
View onednn_tail(const View& v, int64_t done);

}  // namespace glassbox::kernels::cpu
