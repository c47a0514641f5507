#include "models/common/kmeans.h"

#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

namespace glassbox::models {

namespace {

double sq_distance(const double* a, const double* b, int64_t d) {
  double s = 0;
  for (int64_t j = 0; j < d; ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
  return s;
}

/// k-means++: the first centre uniformly, each further one with probability proportional
/// to its squared distance from the nearest centre chosen so far.
std::vector<double> seed_centres(const std::vector<double>& x, int64_t n, int64_t d, int64_t k, std::mt19937_64& rng) {
  std::vector<double> c(size_t(k * d));
  std::vector<double> nearest(size_t(n), std::numeric_limits<double>::infinity());
  int64_t pick = std::uniform_int_distribution<int64_t>(0, n - 1)(rng);
  for (int64_t m = 0; m < k; ++m) {
    std::copy_n(x.begin() + pick * d, d, c.begin() + m * d);
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      nearest[size_t(i)] = std::min(nearest[size_t(i)], sq_distance(&x[size_t(i * d)], &c[size_t(m * d)], d));
      total += nearest[size_t(i)];
    }
    if (m + 1 == k) break;
    if (total <= 0) {  // fewer distinct points than k: any point will do
      pick = std::uniform_int_distribution<int64_t>(0, n - 1)(rng);
      continue;
    }
    double r = std::uniform_real_distribution<double>(0.0, total)(rng);
    pick = n - 1;
    for (int64_t i = 0; i < n; ++i) {
      r -= nearest[size_t(i)];
      if (r < 0) {
        pick = i;
        break;
      }
    }
  }
  return c;
}

/// Assigns every point to its nearest centre; returns the inertia.
double assign(const std::vector<double>& x, int64_t n, int64_t d, const std::vector<double>& c, int64_t k,
              std::vector<int64_t>& a, std::vector<double>& dist) {
  double inertia = 0;
  for (int64_t i = 0; i < n; ++i) {
    double best = std::numeric_limits<double>::infinity();
    int64_t arg = 0;
    for (int64_t m = 0; m < k; ++m) {
      const double s = sq_distance(&x[size_t(i * d)], &c[size_t(m * d)], d);
      if (s < best) {
        best = s;
        arg = m;
      }
    }
    a[size_t(i)] = arg;
    dist[size_t(i)] = best;
    inertia += best;
  }
  return inertia;
}

}  // namespace

KMeansResult kmeans(const std::vector<double>& x, int64_t n, int64_t d, const KMeansOptions& o) {
  if (o.k < 1 || n < o.k || d < 1 || int64_t(x.size()) != n * d)
    throw std::invalid_argument("kmeans: need n >= k >= 1, d >= 1 and n * d values; got n=" + std::to_string(n) +
                                " d=" + std::to_string(d) + " k=" + std::to_string(o.k) + " with " +
                                std::to_string(x.size()) + " values");
  if (o.restarts < 1 || o.max_iterations < 1)
    throw std::invalid_argument("kmeans: restarts and max_iterations must be >= 1");
  std::mt19937_64 rng(o.seed);
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  std::vector<int64_t> a(size_t(n), -1);
  std::vector<double> dist(static_cast<size_t>(n));
  for (int64_t r = 0; r < o.restarts; ++r) {
    std::vector<double> c = seed_centres(x, n, d, o.k, rng);
    std::fill(a.begin(), a.end(), -1);
    double inertia = 0;
    int64_t it = 0;
    for (; it < o.max_iterations; ++it) {
      std::vector<int64_t> previous = a;
      inertia = assign(x, n, d, c, o.k, a, dist);
      if (a == previous) break;
      // Each centre moves to the mean of its points (Lloyd's update step).
      std::vector<double> sum(size_t(o.k * d), 0.0);
      std::vector<int64_t> count(size_t(o.k), 0);
      for (int64_t i = 0; i < n; ++i) {
        ++count[size_t(a[size_t(i)])];
        for (int64_t j = 0; j < d; ++j) sum[size_t(a[size_t(i)] * d + j)] += x[size_t(i * d + j)];
      }
      for (int64_t m = 0; m < o.k; ++m) {
        if (count[size_t(m)] == 0) {
          // An emptied cluster restarts at the point worst served by its centre.
          const int64_t far = std::max_element(dist.begin(), dist.end()) - dist.begin();
          std::copy_n(x.begin() + far * d, d, c.begin() + m * d);
          dist[size_t(far)] = 0;
          continue;
        }
        for (int64_t j = 0; j < d; ++j) c[size_t(m * d + j)] = sum[size_t(m * d + j)] / double(count[size_t(m)]);
      }
    }
    // Out of iterations: the assignment must still be the one of the final centres.
    if (it == o.max_iterations) inertia = assign(x, n, d, c, o.k, a, dist);
    if (inertia < best.inertia) {
      best.centres = c;
      best.assignment = a;
      best.inertia = inertia;
      best.iterations = it;
    }
  }
  return best;
}

}  // namespace glassbox::models
