// Uncertainty scores against hand-computed values: the entropy decomposition, AUROC,
// expected calibration error and the KDE overlap coefficient.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "trainers/metrics/uncertainty.h"

using namespace glassbox;
using namespace glassbox::metrics;

namespace {

double entropy_of(const std::vector<double>& p) {
  double h = 0;
  for (double v : p) h -= v * std::log(v + 1e-8);
  return h;
}

}  // namespace

TEST(EntropyDecomposition, IdenticalSamplesHaveNoEpistemicUncertainty) {
  // Three identical samples of p = (0.7, 0.2, 0.1): the prototypes agree, so all the
  // uncertainty is aleatoric and the mutual information is 0.
  std::vector<double> p = {0.7, 0.2, 0.1};
  std::vector<double> v;
  for (int s = 0; s < 3; ++s) v.insert(v.end(), p.begin(), p.end());
  EntropyDecomposition e = decompose_predictive_entropy(Tensor::from_vector(v, {1, 3, 3}, {DType::f64}));
  EXPECT_NEAR(e.total.item(), entropy_of(p), 1e-12);
  EXPECT_NEAR(e.aleatoric.item(), entropy_of(p), 1e-12);
  EXPECT_NEAR(e.epistemic.item(), 0.0, 1e-12);
}

TEST(EntropyDecomposition, ConfidentDisagreementIsEpistemic) {
  // Input 0: two confident samples that disagree -> total log 2, aleatoric ~0, epistemic log 2.
  // Input 1: two samples (0.5, 0.5) and (0.9, 0.1): total H(0.7, 0.3), aleatoric the mean entropy.
  std::vector<double> v = {1, 0, 0, 1, 0.5, 0.5, 0.9, 0.1};
  EntropyDecomposition e = decompose_predictive_entropy(Tensor::from_vector(v, {2, 2, 2}, {DType::f64}));
  std::vector<double> total = e.total.to_vector<double>(), ale = e.aleatoric.to_vector<double>(),
                      epi = e.epistemic.to_vector<double>();
  EXPECT_NEAR(total[0], std::log(2.0), 1e-7);
  EXPECT_NEAR(ale[0], 0.0, 1e-7);
  EXPECT_NEAR(epi[0], std::log(2.0), 1e-7);
  const double h_mix = entropy_of({0.7, 0.3}), h_mean = 0.5 * (entropy_of({0.5, 0.5}) + entropy_of({0.9, 0.1}));
  EXPECT_NEAR(total[1], h_mix, 1e-12);
  EXPECT_NEAR(ale[1], h_mean, 1e-12);
  EXPECT_NEAR(epi[1], h_mix - h_mean, 1e-12);
  EXPECT_GT(epi[1], 0.0);
  EXPECT_THROW(decompose_predictive_entropy(Tensor::zeros({2, 3})), std::invalid_argument);
}

TEST(Auroc, HandValues) {
  EXPECT_DOUBLE_EQ(auroc({0.1, 0.2, 0.3}, {0.4, 0.5}), 1.0);
  EXPECT_DOUBLE_EQ(auroc({0.4, 0.5}, {0.1, 0.2, 0.3}), 0.0);
  // Pairs (neg, pos): 0.1<0.2 yes, 0.1<0.4 yes, 0.3>0.2 no, 0.3<0.4 yes -> 3/4.
  EXPECT_DOUBLE_EQ(auroc({0.1, 0.3}, {0.2, 0.4}), 0.75);
  // A tie counts one half: pairs (1,1) tie, (1,2) win, (0,1) win, (0,2) win -> 3.5/4.
  EXPECT_DOUBLE_EQ(auroc({0.0, 1.0}, {1.0, 2.0}), 0.875);
  EXPECT_DOUBLE_EQ(auroc({1.0, 1.0}, {1.0}), 0.5);
  EXPECT_THROW(auroc({}, {1.0}), std::invalid_argument);
}

TEST(Auroc, MatchesPairCountingOnRandomScores) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> dist(0, 9);  // few values: many ties
  std::vector<double> neg(40), pos(30);
  for (double& v : neg) v = dist(rng);
  for (double& v : pos) v = dist(rng) + 2;
  double wins = 0;
  for (double n : neg)
    for (double p : pos) wins += p > n ? 1.0 : p == n ? 0.5 : 0.0;
  EXPECT_NEAR(auroc(neg, pos), wins / (40.0 * 30.0), 1e-12);
}

TEST(ExpectedCalibrationError, HandValues) {
  // Two bins: (0, 0.5] holds 0.3 (wrong) and 0.5 (right): |0.5 - 0.4| = 0.1, weight 2/4;
  // (0.5, 1] holds 0.8 and 1.0, both right: |1 - 0.9| = 0.1, weight 2/4 -> ECE 0.1.
  EXPECT_NEAR(expected_calibration_error({0.3, 0.5, 0.8, 1.0}, {false, true, true, true}, 2), 0.1, 1e-12);
  // Perfectly calibrated: confidence 1 and always right.
  EXPECT_NEAR(expected_calibration_error({1.0, 1.0}, {true, true}), 0.0, 1e-12);
  // One bin: |accuracy - mean confidence| = |0.5 - 0.75|.
  EXPECT_NEAR(expected_calibration_error({0.5, 1.0}, {true, false}, 1), 0.25, 1e-12);
  // A confidence of 0 joins the first bin.
  EXPECT_NEAR(expected_calibration_error({0.0}, {true}, 10), 1.0, 1e-12);
  EXPECT_THROW(expected_calibration_error({0.5}, {true, false}), std::invalid_argument);
  EXPECT_THROW(expected_calibration_error({1.5}, {true}), std::invalid_argument);
}

TEST(KdeOverlap, SameSetsOverlapFullyAndDistantSetsNotAtAll) {
  std::mt19937 rng(5);
  std::normal_distribution<double> n01(0.0, 1.0);
  std::vector<double> a(200), far(200), shifted(200);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = n01(rng);
    far[i] = 50.0 + n01(rng);
  }
  EXPECT_NEAR(kde_overlap(a, a), 1.0, 1e-3);
  EXPECT_NEAR(kde_overlap(a, far), 0.0, 1e-6);
  // Two unit Gaussians one standard deviation apart overlap by 2 Phi(-1/2) = 0.617.
  for (size_t i = 0; i < a.size(); ++i) shifted[i] = a[i] + 1.0;
  EXPECT_NEAR(kde_overlap(a, shifted), 0.617, 0.08);
  EXPECT_THROW(kde_overlap({}, a), std::invalid_argument);
}
