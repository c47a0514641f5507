#pragma once
// Scores for predictive uncertainty: the entropy decomposition of a Monte Carlo
// predictive into aleatoric and epistemic parts, how well a score separates
// in-distribution from out-of-distribution inputs (AUROC), calibration (ECE), and how
// much two sets of samples overlap (a KDE overlap coefficient).
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace glassbox::metrics {

/// Per-input entropies (nats), each [N].
struct EntropyDecomposition {
  Tensor total;      // H[mean_s p_s]: predictive entropy
  Tensor aleatoric;  // mean_s H[p_s]: expected entropy
  Tensor epistemic;  // total - aleatoric: mutual information between y and the sampled parameters
};

/// Decomposes per-sample class probabilities [N, S, K] as Prob-PSENN's uncertainty_metrics.py
/// (and Depeweg et al. 2018): H = -sum_k p log(p + 1e-8), the 1e-8 keeping log finite.
EntropyDecomposition decompose_predictive_entropy(const Tensor& sample_probs);

/// The area under the ROC curve of a score that should be larger on `positives` than on
/// `negatives`: P(score_pos > score_neg) + 1/2 P(tie) (the Mann-Whitney U statistic / n_pos n_neg).
double auroc(const std::vector<double>& negatives, const std::vector<double>& positives);

/// Expected calibration error over `bins` equal-width confidence bins on [0, 1] (Guo et al.
/// 2017): sum_b |B_b| / N * |accuracy(B_b) - mean confidence(B_b)|; a confidence of 0 falls in
/// the first bin.
double expected_calibration_error(const std::vector<double>& confidences, const std::vector<bool>& correct,
                                  int64_t bins = 15);

/// The overlap coefficient integral min(f_a, f_b) of Gaussian kernel density estimates of two
/// sample sets (Scott's bandwidth n^(-1/5) std, as scipy's gaussian_kde), by a Riemann sum
/// on `points` grid points spanning both densities. In [0, 1]: 1 when the sets coincide.
double kde_overlap(const std::vector<double>& a, const std::vector<double>& b, int64_t points = 512);

}  // namespace glassbox::metrics
