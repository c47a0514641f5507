#pragma once
// Reparameterised Gaussians in latent space, with gradients through every parameter:
// the scale parameterisation, sampling and the negative log-density that probabilistic
// prototype models (Prob-PSENN) and VAE-style latents use.
#include "engine/tensor.h"

namespace glassbox::models {

/// The smallest scale a softplus-parameterised scale can take (TFP's FillScaleTriL shift).
inline constexpr double kMinScale = 1e-5;

/// TFP's FillScaleTriL on square raw matrices [.., d, d]: the strictly lower triangle as is,
/// softplus(raw_ii) + 1e-5 on the diagonal, zeros above. The result is a valid Cholesky
/// factor L of the covariance L L^T.
Tensor fill_scale_tril(const Tensor& raw);
/// softplus(raw) + 1e-5 elementwise: the diagonal-Gaussian scales.
Tensor positive_scale(const Tensor& raw);
/// The raw value whose positive_scale is `scale` (> 1e-5): the inverse softplus, overflow-safe.
double inverse_positive_scale(double scale);

/// Reparameterised draws p = mu + L eps. mean [K, d], scale_tril [K, d, d], eps [S, K, d]
/// -> [S, K, d].
Tensor sample_tril_gaussian(const Tensor& mean, const Tensor& scale_tril, const Tensor& eps);
/// p = mu + sigma * eps with scale [K, d] (diagonal covariance sigma^2).
Tensor sample_diag_gaussian(const Tensor& mean, const Tensor& scale, const Tensor& eps);

/// -log N(x; mu, L L^T) = 1/2 |L^-1 (x - mu)|^2 + sum_i log L_ii + d/2 log(2 pi), one value per
/// row. x, mean [B, d], scale_tril [B, d, d] (lower triangular, positive diagonal) -> [B].
Tensor tril_gaussian_negative_log_density(const Tensor& x, const Tensor& mean, const Tensor& scale_tril);
/// -log N(x; mu, diag(sigma^2)) per row: x, mean, scale [B, d] -> [B].
Tensor diag_gaussian_negative_log_density(const Tensor& x, const Tensor& mean, const Tensor& scale);

/// The identity matrix [n, n] in `dtype`.
Tensor identity_matrix(int64_t n, DType dtype = DType::f32, Device device = Device::cpu());

}  // namespace glassbox::models
