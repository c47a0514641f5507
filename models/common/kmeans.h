#pragma once
// k-means (Lloyd's algorithm) with k-means++ seeding (Arthur & Vassilvitskii 2007) and
// several restarts, on points held in host memory: the clustering baseline TELL is
// compared with (k-means on the features of the same autoencoder, TELL paper Table 4).
#include <cstdint>
#include <vector>

namespace glassbox::models {

struct KMeansOptions {
  int64_t k = 10;
  int64_t restarts = 10;         // independent seedings; the lowest inertia wins
  int64_t max_iterations = 300;  // Lloyd iterations per restart
  uint64_t seed = 0;
};

struct KMeansResult {
  std::vector<double> centres;      // [k, d] row-major
  std::vector<int64_t> assignment;  // nearest centre of each point
  double inertia = 0;               // sum of squared distances to the assigned centres
  int64_t iterations = 0;           // Lloyd iterations of the kept restart
};

/// Clusters n points of dimension d (row-major `points`, n >= k >= 1).
KMeansResult kmeans(const std::vector<double>& points, int64_t n, int64_t d, const KMeansOptions& options);

}  // namespace glassbox::models
