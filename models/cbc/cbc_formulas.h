#pragma once
// The formulas of the shallow prototype classifiers in Saralajew, Rana, Villmann &
// Shaker, "A Robust Prototype-Based Network with Interpretable RBF Classifier
// Foundations" (AAAI 2025; shallow code nec-research/enlaight) and of the original
// Classification-by-Components network (Saralajew et al., NeurIPS 2019), one function
// per equation so that each can be tested against hand-computed values.
//
// Notation: x [B, D] inputs, w [K, D] components, d [B, K] detection probabilities,
// C' reasoning concepts (concept c belongs to class c / concepts_per_class), R+ and R-
// [K, C'] positive and negative reasoning, s [B, C] class scores.
#include <cstdint>

#include "engine/tensor.h"

namespace glassbox::models::cbc {

/// Component distances [B, K]. Euclidean: sqrt(clamp(|x|^2 + |w|^2 - 2 x.w, 0) + 1e-7)
/// (the 1e-7 keeps the gradient finite at a component and leaves the distance
/// 1-Lipschitz in x); squared: clamp(|x|^2 + |w|^2 - 2 x.w, 0).
Tensor component_distances(const Tensor& x, const Tensor& components, bool squared);

/// |sigma| + 1e-7: the temperature actually used for each component [K].
Tensor effective_sigma(const Tensor& sigma);

/// Detection probability d_k(x) = exp(-dist(x, w_k) / (|sigma_k| + 1e-7)) in (0, 1]
/// (the paper's RBF kernel, ExponentiallySquashedNegativeDistance).
Tensor detection_probability(const Tensor& distances, const Tensor& sigma);

/// Positive and negative reasoning [K, C'] each.
struct Reasoning {
  Tensor positive;  // R+
  Tensor negative;  // R-
};

/// Stable CBC (AAAI 2025): softmax of the logits theta [2K, C'] over the 2K axis; the
/// first K rows are R+ = pi r, the last K rows R- = pi (1 - r).
Reasoning stable_cbc_reasoning(const Tensor& theta);

/// Original CBC (NeurIPS 2019), "breaking chopstick" q [2, K, C'] in [0, 1]:
/// r+ = q_0, r- = (1 - q_0) q_1 (so r+ + r- <= 1, the rest is indefinite).
Reasoning breaking_chopstick_reasoning(const Tensor& q);

/// Divides each concept's column by sum_k (R+ + R-) + 1e-7, the original CBC's
/// normaliser; the result has the stable form p = d (R+ - R-) + 1^T R-.
Reasoning normalize_reasoning(const Reasoning& r);

/// Reasoning probability of every concept [B, C']: p = d (R+ - R-) + 1^T R- (AAAI 2025,
/// stable CBC; with normalized reasoning this is the original CBC's
/// (d (R+ - R-) + 1^T R-) / (1^T (R+ + R-) + eps)).
Tensor reasoning_probability(const Tensor& detections, const Reasoning& r);

/// Class c's score is the max over its concepts: [B, C'] -> [B, C'/concepts_per_class].
Tensor class_scores(const Tensor& concept_scores, int64_t concepts_per_class);

/// Score of the true class [B].
Tensor true_class_score(const Tensor& scores, const Tensor& labels);
/// max_{c != y} s_c [B].
Tensor best_wrong_score(const Tensor& scores, const Tensor& labels);

/// Margin loss per sample [B]: relu(max_{c != y} s_c - s_y + margin) (CBC, NeurIPS 2019).
Tensor margin_loss(const Tensor& scores, const Tensor& labels, double margin);

/// Robust stable CBC (AAAI 2025): the certified value in distance units [B],
/// sigma_min * ln(min_{j wrong} max_{i right} t*_ij) with
///   t*_ij = (gamma + sqrt(gamma^2 + 4 alpha beta)) / (2 alpha),
///   alpha_ij = sum_k d_k (R-_ki + R+_kj), beta_ij = sum_k d_k (R+_ki + R-_kj),
///   gamma_ij = sum_k (R-_ki - R-_kj),
/// with alpha >= 1e-8 and the sqrt and log arguments >= 1e-8 (the code's guards).
/// Negative when the sample is misclassified.
Tensor stable_cbc_certified_value(const Tensor& detections, const Reasoning& r, const Tensor& labels,
                                  int64_t concepts_per_class, const Tensor& sigma_min);

/// Certified value of an RBF network with arbitrary weights W [C, K] [B]: for each pair
/// (y, j), out_y - out_j = sum_k d_k (W_yk - W_jk) is smallest when the detections with
/// positive coefficient shrink by 1/t and the others grow by t, so t* = sqrt(beta/alpha)
/// with beta = sum_k d_k relu(W_yk - W_jk), alpha = sum_k d_k relu(W_jk - W_yk) (the
/// t* formula above with gamma = 0); value = sigma_min * min_j ln t*_yj.
Tensor rbf_pairwise_certified_value(const Tensor& detections, const Tensor& weights, const Tensor& labels,
                                    const Tensor& sigma_min);

/// Robust RBF (AAAI 2025) with non-negative row-normalized weights:
/// (sigma_min / 2) ln(out_y / max_{c != y} out_c) [B].
Tensor robust_rbf_certified_value(const Tensor& out, const Tensor& labels, const Tensor& sigma_min);

/// Converts a certified value r in squared-distance units to an L2 radius (AAAI 2025,
/// squared Euclidean): eps = -sqrt(M)/3 + sqrt(M/9 + r/3) for r > 0, r otherwise, with M
/// the largest squared distance from x to a component ([B] each).
Tensor squared_value_to_radius(const Tensor& value, const Tensor& max_sq_distance);

/// Smallest distance to a component of each class [B, C] (components of class c are
/// c * per_class ... (c + 1) * per_class - 1).
Tensor class_min_distance(const Tensor& distances, int64_t per_class);

/// GLVQ loss per sample [B]: (d+ - d-) / (d+ + d-), d+ (d-) the distance to the nearest
/// component of the right (a wrong) class (Sato & Yamada 1996).
Tensor glvq_loss(const Tensor& class_distances, const Tensor& labels);

/// GLVQ certificate [B]: (d- - d+) / 2 with Euclidean d (the nearest-prototype rule
/// cannot change within half the gap; negative when misclassified).
Tensor glvq_certified_radius(const Tensor& class_euclidean_distances, const Tensor& labels);

}  // namespace glassbox::models::cbc
