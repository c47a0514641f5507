// k-means with k-means++ seeding: hand-checked centres and inertia, separated blobs
// recovered exactly, determinism and argument checks.
#include <gtest/gtest.h>

#include <random>

#include "models/common/kmeans.h"
#include "trainers/metrics/clustering.h"

using namespace glassbox;
using namespace glassbox::models;

TEST(KMeans, TwoPairsOnALine) {
  // Points 0, 1, 10, 11: centres 0.5 and 10.5, inertia 4 * 0.25 = 1.
  KMeansOptions o;
  o.k = 2;
  o.restarts = 3;
  KMeansResult r = kmeans({0, 1, 10, 11}, 4, 1, o);
  EXPECT_DOUBLE_EQ(r.inertia, 1.0);
  std::vector<double> c = r.centres;
  std::sort(c.begin(), c.end());
  EXPECT_EQ(c, (std::vector<double>{0.5, 10.5}));
  EXPECT_EQ(r.assignment[0], r.assignment[1]);
  EXPECT_EQ(r.assignment[2], r.assignment[3]);
  EXPECT_NE(r.assignment[0], r.assignment[2]);
}

TEST(KMeans, RecoversSeparatedBlobsDeterministically) {
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 0.3);
  const int64_t k = 5, per = 40, d = 3, n = k * per;
  std::vector<double> x;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % k;
    labels.push_back(c);
    for (int64_t j = 0; j < d; ++j) x.push_back(10.0 * double((c >> j) & 1) + 7.0 * double(c == 4) + noise(rng));
  }
  KMeansOptions o;
  o.k = k;
  o.seed = 11;
  KMeansResult r = kmeans(x, n, d, o);
  EXPECT_DOUBLE_EQ(metrics::score_clustering(labels, r.assignment).accuracy, 1.0);
  KMeansResult again = kmeans(x, n, d, o);
  EXPECT_EQ(again.assignment, r.assignment);
  EXPECT_EQ(again.inertia, r.inertia);
}

TEST(KMeans, RejectsBadArguments) {
  KMeansOptions o;
  o.k = 3;
  EXPECT_THROW(kmeans({0, 1}, 2, 1, o), std::invalid_argument);
  o.k = 1;
  EXPECT_THROW(kmeans({0, 1, 2}, 2, 1, o), std::invalid_argument);
  o.restarts = 0;
  EXPECT_THROW(kmeans({0, 1}, 2, 1, o), std::invalid_argument);
}
