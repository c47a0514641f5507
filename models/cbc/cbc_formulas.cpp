#include "models/cbc/cbc_formulas.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/ops/ops.h"

namespace glassbox::models::cbc {

namespace {

constexpr double kDistanceEps = 1e-7;  // inside the Euclidean sqrt (enlaight's value)
constexpr double kSigmaEps = 1e-7;     // |sigma| + eps
constexpr double kReasoningEps = 1e-7; // the original CBC's normaliser
constexpr double kCertEps = 1e-8;      // guards of robust_stable_cbc_loss
// Masks out invalid (i, j) pairs before a max / min; far beyond any log ratio.
constexpr double kMaskValue = 1e30;

/// [B, C'] true where concept c belongs to the sample's class.
Tensor right_concepts(const Tensor& labels, int64_t concepts, int64_t per_class) {
  if (labels.dtype() != DType::i64) throw std::invalid_argument("cbc: labels must be i64");
  if (per_class < 1 || concepts % per_class != 0)
    throw std::invalid_argument("cbc: " + std::to_string(concepts) + " concepts cannot be split into classes of " +
                                std::to_string(per_class));
  std::vector<int64_t> cls(static_cast<size_t>(concepts));
  for (int64_t c = 0; c < concepts; ++c) cls[size_t(c)] = c / per_class;
  Tensor concept_class = Tensor::from_vector(cls, {concepts}).to(labels.device());
  return ops::eq(concept_class.unsqueeze(0), labels.unsqueeze(1));
}

/// min over wrong j of max over right i of v[b, i, j] ([B, C', C'] -> [B]).
Tensor min_wrong_max_right(const Tensor& v, const Tensor& right) {
  Tensor over_i = ops::amax(ops::masked_fill(v, ops::logical_not(right).unsqueeze(2), -kMaskValue), {1});
  return ops::amin(ops::masked_fill(over_i, right, kMaskValue), {1});
}

/// ln t*_ij = ln((gamma + sqrt(gamma^2 + 4 alpha beta)) / (2 alpha)) with the guards.
Tensor log_t_star(const Tensor& alpha, const Tensor& beta, const Tensor& gamma) {
  Tensor a = ops::clamp_min(alpha, kCertEps);
  Tensor root = ops::sqrt(ops::clamp_min(ops::square(gamma) + 4.0 * a * beta, kCertEps));
  return ops::log(ops::clamp_min((gamma + root) / (2.0 * a), kCertEps));
}

}  // namespace

Tensor component_distances(const Tensor& x, const Tensor& components, bool squared) {
  if (x.dim() != 2 || components.dim() != 2 || x.size(1) != components.size(1))
    throw std::invalid_argument("cbc: distances need inputs [B, D] and components [K, D], got " + x.shape().str() +
                                " and " + components.shape().str());
  Tensor sq = ops::pairwise_sq_distance(x, components);  // already clamped at 0
  return squared ? sq : ops::sqrt(sq + kDistanceEps);
}

Tensor effective_sigma(const Tensor& sigma) { return ops::abs(sigma) + kSigmaEps; }

Tensor detection_probability(const Tensor& distances, const Tensor& sigma) {
  return ops::exp(ops::neg(distances / effective_sigma(sigma)));
}

Reasoning stable_cbc_reasoning(const Tensor& theta) {
  if (theta.dim() != 2 || theta.size(0) % 2 != 0)
    throw std::invalid_argument("stable CBC: reasoning logits must be [2K, C'], got " + theta.shape().str());
  const int64_t k = theta.size(0) / 2;
  Tensor r = ops::softmax(theta, 0);
  return {r.narrow(0, 0, k), r.narrow(0, k, k)};
}

Reasoning breaking_chopstick_reasoning(const Tensor& q) {
  if (q.dim() != 3 || q.size(0) != 2)
    throw std::invalid_argument("CBC: requiredness must be [2, K, C'], got " + q.shape().str());
  Tensor q0 = q.select(0, 0), q1 = q.select(0, 1);
  return {q0, (1.0 - q0) * q1};
}

Reasoning normalize_reasoning(const Reasoning& r) {
  Tensor z = ops::sum(r.positive + r.negative, {0}, true) + kReasoningEps;
  return {r.positive / z, r.negative / z};
}

Tensor reasoning_probability(const Tensor& detections, const Reasoning& r) {
  return ops::matmul(detections, r.positive - r.negative) + ops::sum(r.negative, {0}, true);
}

Tensor class_scores(const Tensor& concept_scores, int64_t concepts_per_class) {
  const int64_t concepts = concept_scores.size(1);
  if (concepts_per_class < 1 || concepts % concepts_per_class != 0)
    throw std::invalid_argument("cbc: " + std::to_string(concepts) + " concepts cannot be split into classes of " +
                                std::to_string(concepts_per_class));
  if (concepts_per_class == 1) return concept_scores;
  return ops::amax(concept_scores.reshape({concept_scores.size(0), concepts / concepts_per_class, concepts_per_class}),
                   {2});
}

Tensor true_class_score(const Tensor& scores, const Tensor& labels) {
  return ops::gather(scores, 1, labels.unsqueeze(1)).squeeze(1);
}

Tensor best_wrong_score(const Tensor& scores, const Tensor& labels) {
  Tensor right = right_concepts(labels, scores.size(1), 1);
  return ops::amax(ops::masked_fill(scores, right, -kMaskValue), {1});
}

Tensor margin_loss(const Tensor& scores, const Tensor& labels, double margin) {
  return ops::relu(best_wrong_score(scores, labels) - true_class_score(scores, labels) + margin);
}

Tensor stable_cbc_certified_value(const Tensor& detections, const Reasoning& r, const Tensor& labels,
                                  int64_t concepts_per_class, const Tensor& sigma_min) {
  Tensor pos = ops::matmul(detections, r.positive);  // [B, C'] sum_k d_k R+_kc
  Tensor neg = ops::matmul(detections, r.negative);  // [B, C'] sum_k d_k R-_kc
  Tensor bias = ops::sum(r.negative, {0});           // [C'] sum_k R-_kc
  // Index [b, i, j]: i the (candidate right) concept, j the (candidate wrong) one.
  Tensor alpha = neg.unsqueeze(2) + pos.unsqueeze(1);
  Tensor beta = pos.unsqueeze(2) + neg.unsqueeze(1);
  Tensor gamma = bias.unsqueeze(1) - bias.unsqueeze(0);
  Tensor right = right_concepts(labels, r.positive.size(1), concepts_per_class);
  return sigma_min * min_wrong_max_right(log_t_star(alpha, beta, gamma), right);
}

Tensor rbf_pairwise_certified_value(const Tensor& detections, const Tensor& weights, const Tensor& labels,
                                    const Tensor& sigma_min) {
  const int64_t c = weights.size(0), k = weights.size(1), b = detections.size(0);
  Tensor diff = weights.unsqueeze(1) - weights.unsqueeze(0);  // [C(i), C(j), K]: W_ik - W_jk
  Tensor beta = ops::matmul(detections, ops::relu(diff).reshape({c * c, k}).mT()).reshape({b, c, c});
  Tensor alpha = ops::matmul(detections, ops::relu(ops::neg(diff)).reshape({c * c, k}).mT()).reshape({b, c, c});
  Tensor gamma = Tensor::zeros({}, {detections.dtype(), detections.device()});
  return sigma_min * min_wrong_max_right(log_t_star(alpha, beta, gamma), right_concepts(labels, c, 1));
}

Tensor robust_rbf_certified_value(const Tensor& out, const Tensor& labels, const Tensor& sigma_min) {
  return sigma_min * 0.5 * ops::log(true_class_score(out, labels) / best_wrong_score(out, labels));
}

Tensor squared_value_to_radius(const Tensor& value, const Tensor& max_sq_distance) {
  // Clamping r inside the root keeps the unused branch (r <= 0) free of NaN gradients.
  Tensor radius = ops::sqrt(max_sq_distance / 9.0 + ops::clamp_min(value, 0.0) / 3.0) -
                  ops::sqrt(max_sq_distance) / 3.0;
  return ops::where(ops::gt(value, 0.0), radius, value);
}

Tensor class_min_distance(const Tensor& distances, int64_t per_class) {
  const int64_t k = distances.size(1);
  if (per_class < 1 || k % per_class != 0)
    throw std::invalid_argument("GLVQ: " + std::to_string(k) + " components cannot be split into classes of " +
                                std::to_string(per_class));
  return ops::amin(distances.reshape({distances.size(0), k / per_class, per_class}), {2});
}

Tensor glvq_loss(const Tensor& class_distances, const Tensor& labels) {
  // d- is the smallest wrong distance: the best wrong score of the negated distances.
  Tensor d_plus = true_class_score(class_distances, labels);
  Tensor d_minus = ops::neg(best_wrong_score(ops::neg(class_distances), labels));
  return (d_plus - d_minus) / (d_plus + d_minus);
}

Tensor glvq_certified_radius(const Tensor& class_euclidean_distances, const Tensor& labels) {
  Tensor d_plus = true_class_score(class_euclidean_distances, labels);
  Tensor d_minus = ops::neg(best_wrong_score(ops::neg(class_euclidean_distances), labels));
  return (d_minus - d_plus) / 2.0;
}

}  // namespace glassbox::models::cbc
