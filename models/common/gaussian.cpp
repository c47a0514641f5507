#include "models/common/gaussian.h"

#include <cmath>
#include <numbers>
#include <stdexcept>

#include "engine/ops/ops.h"

namespace glassbox::models {

namespace {

double half_log_two_pi() { return 0.5 * std::log(2.0 * std::numbers::pi); }

void check_rows(const Tensor& x, const Tensor& mean, const char* what) {
  if (x.dim() != 2 || mean.shape() != x.shape())
    throw std::invalid_argument(std::string(what) + ": expected x and mean [B, d] of one shape, got " +
                                x.shape().str() + " and " + mean.shape().str());
}

}  // namespace

Tensor identity_matrix(int64_t n, DType dtype, Device device) {
  std::vector<double> v(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) v[size_t(i * n + i)] = 1.0;
  return Tensor::from_vector(v, {n, n}, {dtype}).to(device);
}

Tensor fill_scale_tril(const Tensor& raw) {
  if (raw.dim() < 2 || raw.size(-1) != raw.size(-2))
    throw std::invalid_argument("fill_scale_tril: expected square matrices [.., d, d], got " + raw.shape().str());
  Tensor eye = identity_matrix(raw.size(-1), raw.dtype(), raw.device());
  // The identity mask keeps softplus only on the diagonal; tril(-1) keeps the rest below it.
  return ops::tril(raw, -1) + eye * positive_scale(raw);
}

Tensor positive_scale(const Tensor& raw) { return ops::softplus(raw) + kMinScale; }

double inverse_positive_scale(double scale) {
  const double v = scale - kMinScale;
  if (!(v > 0))
    throw std::invalid_argument("inverse_positive_scale: scale must exceed 1e-5, got " + std::to_string(scale));
  // softplus^-1(v) = log(exp(v) - 1) = v + log(1 - exp(-v)), the second form for large v.
  return v > 20 ? v + std::log1p(-std::exp(-v)) : std::log(std::expm1(v));
}

Tensor sample_tril_gaussian(const Tensor& mean, const Tensor& scale_tril, const Tensor& eps) {
  if (eps.dim() != 3 || eps.size(1) != mean.size(0) || eps.size(2) != mean.size(1))
    throw std::invalid_argument("sample_tril_gaussian: eps must be [S, K, d] for mean " + mean.shape().str() +
                                ", got " + eps.shape().str());
  // [K, d, d] @ [S, K, d, 1] broadcasts over S: one L eps per sample and prototype.
  return mean + ops::matmul(scale_tril, eps.unsqueeze(-1)).squeeze(-1);
}

Tensor sample_diag_gaussian(const Tensor& mean, const Tensor& scale, const Tensor& eps) {
  if (eps.dim() != 3 || eps.size(1) != mean.size(0) || eps.size(2) != mean.size(1))
    throw std::invalid_argument("sample_diag_gaussian: eps must be [S, K, d] for mean " + mean.shape().str() +
                                ", got " + eps.shape().str());
  return mean + scale * eps;
}

Tensor tril_gaussian_negative_log_density(const Tensor& x, const Tensor& mean, const Tensor& scale_tril) {
  check_rows(x, mean, "tril_gaussian_negative_log_density");
  const int64_t d = x.size(1);
  if (scale_tril.dim() != 3 || scale_tril.size(0) != x.size(0) || scale_tril.size(1) != d || scale_tril.size(2) != d)
    throw std::invalid_argument("tril_gaussian_negative_log_density: scale_tril must be [B, d, d] = [" +
                                std::to_string(x.size(0)) + ", " + std::to_string(d) + ", " + std::to_string(d) +
                                "], got " + scale_tril.shape().str());
  // Mahalanobis term through a triangular solve L u = x - mu, so |u|^2 = (x-mu)^T Sigma^-1 (x-mu);
  // log det Sigma^(1/2) = sum_i log L_ii.
  Tensor u = ops::triangular_solve(scale_tril, (x - mean).unsqueeze(-1), true).squeeze(-1);
  return 0.5 * ops::sum(ops::square(u), {1}) + ops::triangular_logdet(scale_tril) + double(d) * half_log_two_pi();
}

Tensor diag_gaussian_negative_log_density(const Tensor& x, const Tensor& mean, const Tensor& scale) {
  check_rows(x, mean, "diag_gaussian_negative_log_density");
  if (scale.shape() != x.shape())
    throw std::invalid_argument("diag_gaussian_negative_log_density: scale must be " + x.shape().str() + ", got " +
                                scale.shape().str());
  return ops::sum(0.5 * ops::square((x - mean) / scale) + ops::log(scale), {1}) + double(x.size(1)) * half_log_two_pi();
}

}  // namespace glassbox::models
