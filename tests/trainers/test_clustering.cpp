// Clustering metrics: the assignment solver against brute force, and ACC / NMI / ARI /
// AMI against values worked out by hand (the derivations are in the comments).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "trainers/metrics/clustering.h"

namespace glassbox::metrics {
namespace {

double assignment_cost(const std::vector<double>& cost, int64_t cols, const std::vector<int64_t>& column) {
  double c = 0;
  for (size_t i = 0; i < column.size(); ++i) c += cost[i * size_t(cols) + size_t(column[i])];
  return c;
}

TEST(MinCostAssignment, SolvesAHandCase) {
  // Row 0 -> col 1 (1), row 1 -> col 0 (2), row 2 -> col 2 (2): total 5, the only optimum.
  std::vector<double> cost = {4, 1, 3, 2, 0, 5, 3, 2, 2};
  EXPECT_EQ(min_cost_assignment(cost, 3, 3), (std::vector<int64_t>{1, 0, 2}));
  // Rectangular: two rows, three columns.
  EXPECT_EQ(min_cost_assignment({1, 2, 3, 3, 1, 2}, 2, 3), (std::vector<int64_t>{0, 1}));
  EXPECT_TRUE(min_cost_assignment({}, 0, 0).empty());
  EXPECT_THROW(min_cost_assignment({1, 2}, 2, 1), std::invalid_argument);
  EXPECT_THROW(min_cost_assignment({1, 2, 3}, 2, 2), std::invalid_argument);
}

TEST(MinCostAssignment, MatchesBruteForceOverPermutations) {
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> value(-5.0, 10.0);
  std::uniform_int_distribution<int> small(0, 4);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t cols = 1 + trial % 6;
    const int64_t rows = 1 + (trial / 6) % cols;
    std::vector<double> cost(size_t(rows * cols));
    // Half the trials use small integers, which have many ties.
    for (double& c : cost) c = trial % 2 ? value(rng) : double(small(rng));
    std::vector<int64_t> got = min_cost_assignment(cost, rows, cols);
    ASSERT_EQ(int64_t(got.size()), rows);
    std::vector<int64_t> sorted = got;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_TRUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()) << "columns reused";
    // Every injection of rows into columns is a prefix of some permutation of the columns.
    std::vector<int64_t> perm(static_cast<size_t>(cols));
    std::iota(perm.begin(), perm.end(), 0);
    double best = std::numeric_limits<double>::infinity();
    do {
      best = std::min(best, assignment_cost(cost, cols, std::vector<int64_t>(perm.begin(), perm.begin() + rows)));
    } while (std::next_permutation(perm.begin(), perm.end()));
    EXPECT_NEAR(assignment_cost(cost, cols, got), best, 1e-9) << "trial " << trial;
  }
}

TEST(ClusteringMetrics, IdenticalAndPermutedLabelingsScoreOne) {
  std::vector<int64_t> labels = {0, 0, 1, 1, 2, 2, 2};
  for (const std::vector<int64_t>& clusters : {labels, std::vector<int64_t>{2, 2, 0, 0, 1, 1, 1}}) {
    ClusteringScores s = score_clustering(labels, clusters);
    EXPECT_DOUBLE_EQ(s.accuracy, 1.0);
    EXPECT_NEAR(s.nmi, 1.0, 1e-12);
    EXPECT_NEAR(s.ari, 1.0, 1e-12);
    EXPECT_NEAR(s.ami, 1.0, 1e-12);
    EXPECT_EQ(s.samples, 7);
  }
  // One group on both sides: a perfect, uninformative match (scikit-learn scores 1).
  ClusteringScores one = score_clustering({3, 3, 3}, {0, 0, 0});
  EXPECT_DOUBLE_EQ(one.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(one.nmi, 1.0);
  EXPECT_DOUBLE_EQ(one.ari, 1.0);
  EXPECT_DOUBLE_EQ(one.ami, 1.0);
}

TEST(ClusteringMetrics, OneClassSplitInTwo) {
  // labels 0 0 1 1, clusters 0 0 1 2 (scikit-learn's ARI example, 0.57).
  // MI = 1/2 log(1/2 / (1/2 * 1/2)) + 2 * 1/4 log(1/4 / (1/2 * 1/4)) = log 2;
  // H(labels) = log 2, H(clusters) = 3/2 log 2, so NMI = log 2 / (5/4 log 2) = 0.8.
  // Pairs: together in both 1, same label 2, same cluster 1, of 6: expected 1/3,
  // ARI = (1 - 1/3) / (3/2 - 1/3) = 4/7.
  // E[MI]: each (label, size-2 cluster) pair gives P(n=2) = 1/6 times 1/2 log 2; each
  // (label, size-1 cluster) pair gives P(n=1) = 1/2 times 1/4 log 2: 2/3 log 2 in all,
  // so AMI = (1 - 2/3) / (5/4 - 2/3) = 4/7.
  const std::vector<int64_t> labels = {0, 0, 1, 1}, clusters = {0, 0, 1, 2};
  Contingency t = contingency(labels, clusters);
  EXPECT_NEAR(mutual_information(t), std::log(2.0), 1e-12);
  EXPECT_NEAR(expected_mutual_information(t), 2.0 / 3.0 * std::log(2.0), 1e-12);
  ClusteringScores s = score_clustering(labels, clusters);
  EXPECT_DOUBLE_EQ(s.accuracy, 0.75);
  EXPECT_NEAR(s.nmi, 0.8, 1e-12);
  EXPECT_NEAR(s.ari, 4.0 / 7.0, 1e-12);
  EXPECT_NEAR(s.ami, 4.0 / 7.0, 1e-12);
  // Cluster 2 has no label left: it is unmatched.
  EXPECT_EQ(match_clusters_to_labels(t), (std::vector<int64_t>{0, 1, -1}));
}

TEST(ClusteringMetrics, IndependentLabelingsScoreBelowChance) {
  // labels 0 0 1 1, clusters 0 1 0 1: MI = 0, NMI = 0.
  // Pairs: none together in both, 2 same label, 2 same cluster, of 6: expected 2/3,
  // ARI = (0 - 2/3) / (2 - 2/3) = -1/2.
  // E[MI] = 4 pairs * P(n=2) = 1/6 * 1/2 log 2 = 1/3 log 2, so
  // AMI = (0 - 1/3 log 2) / (log 2 - 1/3 log 2) = -1/2.
  ClusteringScores s = score_clustering({0, 0, 1, 1}, {0, 1, 0, 1});
  EXPECT_DOUBLE_EQ(s.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(s.nmi, 0.0);
  EXPECT_NEAR(s.ari, -0.5, 1e-12);
  EXPECT_NEAR(s.ami, -0.5, 1e-12);
}

TEST(ClusteringMetrics, EverySampleItsOwnCluster) {
  // labels all 0, clusters 0 1 2 3: MI = 0 and E[MI] = 0, ARI = 0 / (3 - 0) = 0;
  // the best single match covers one sample.
  ClusteringScores s = score_clustering({0, 0, 0, 0}, {0, 1, 2, 3});
  EXPECT_DOUBLE_EQ(s.accuracy, 0.25);
  EXPECT_DOUBLE_EQ(s.nmi, 0.0);
  EXPECT_NEAR(s.ari, 0.0, 1e-12);
  EXPECT_NEAR(s.ami, 0.0, 1e-12);
}

TEST(ClusteringMetrics, FewerClustersThanLabels) {
  // One cluster holding labels 0, 1, 2, 2: it is matched to label 2 (2 samples).
  Contingency t = contingency({0, 1, 2, 2}, {0, 0, 0, 0});
  EXPECT_DOUBLE_EQ(clustering_accuracy(t), 0.5);
  EXPECT_EQ(match_clusters_to_labels(t), (std::vector<int64_t>{2}));
}

TEST(ClusteringMetrics, ExpectedMutualInformationIsTheAverageOverPermutations) {
  // E[MI] under the hypergeometric model is the mean MI over every permutation of one
  // labeling with the other held fixed: enumerate all 7! of them.
  const std::vector<int64_t> labels = {0, 0, 1, 1, 1, 2, 2};
  std::vector<int64_t> clusters = {0, 1, 1, 2, 2, 2, 3};
  std::vector<size_t> order(clusters.size());
  std::iota(order.begin(), order.end(), 0);
  double sum = 0;
  int64_t count = 0;
  do {
    std::vector<int64_t> shuffled;
    for (size_t i : order) shuffled.push_back(clusters[i]);
    sum += mutual_information(contingency(labels, shuffled));
    ++count;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_NEAR(expected_mutual_information(contingency(labels, clusters)), sum / double(count), 1e-12);
}

TEST(ClusteringMetrics, RejectsBadInput) {
  EXPECT_THROW(score_clustering({0, 1}, {0}), std::invalid_argument);
  EXPECT_THROW(score_clustering({0, -1}, {0, 1}), std::invalid_argument);
}

TEST(ClusteringMetrics, JsonAndTable) {
  ClusteringScores s = score_clustering({0, 0, 1, 1}, {0, 0, 1, 2});
  nlohmann::json j = s.to_json();
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.75);
  EXPECT_NEAR(j["nmi"].get<double>(), 0.8, 1e-12);
  EXPECT_EQ(j["samples"], 4);
  EXPECT_NE(s.table().find("ACC   75.00 %"), std::string::npos) << s.table();
}

}  // namespace
}  // namespace glassbox::metrics
