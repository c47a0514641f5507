#pragma once
// Linear algebra. Batched ops broadcast their leading (batch) dims.
#include "engine/tensor.h"

namespace glassbox::ops {

/// Matrix product with torch.matmul semantics: 1-d operands are promoted (and the
/// added dim removed), leading dims broadcast. [.., M, K] @ [.., K, N] -> [.., M, N].
Tensor matmul(const Tensor& a, const Tensor& b);
/// x [.., N, D], y [.., M, D] -> [.., N, M] squared euclidean distances
/// ||x||^2 + ||y||^2 - 2 x.y, clamped at 0 (one GEMM plus norms).
Tensor pairwise_sq_distance(const Tensor& x, const Tensor& y);
/// Outer product of vectors a [N] and b [M] -> [N, M].
Tensor outer(const Tensor& a, const Tensor& b);
/// Solves A X = B (or A^T X = B) with A [.., n, n] lower (or upper) triangular, B [.., n, m].
Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower = true, bool transpose_a = false,
                        bool unit_diagonal = false);
/// Lower Cholesky factor of symmetric positive-definite [.., n, n]; differentiable.
Tensor cholesky(const Tensor& a);
/// Lower (diagonal offset k) / upper triangular part, the rest zero; differentiable.
Tensor tril(const Tensor& x, int64_t k = 0);
Tensor triu(const Tensor& x, int64_t k = 0);
/// log|det A| of a triangular [.., n, n]: sum of log|diag|.
Tensor triangular_logdet(const Tensor& a);
/// The diagonal [.., n] of [.., n, n].
Tensor diagonal(const Tensor& a);

}  // namespace glassbox::ops
