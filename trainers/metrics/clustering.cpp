#include "trainers/metrics/clustering.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace glassbox::metrics {

std::vector<int64_t> min_cost_assignment(const std::vector<double>& cost, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < rows)
    throw std::invalid_argument("min_cost_assignment: need 0 <= rows <= cols, got " + std::to_string(rows) + " x " +
                                std::to_string(cols));
  if (int64_t(cost.size()) != rows * cols)
    throw std::invalid_argument("min_cost_assignment: " + std::to_string(cost.size()) + " costs for a " +
                                std::to_string(rows) + " x " + std::to_string(cols) + " matrix");
  const double inf = std::numeric_limits<double>::infinity();
  // 1-based rows and columns; column 0 is a virtual start column that holds the row being
  // inserted. Invariant: u[i] + v[j] <= cost(i, j) everywhere, with equality on the
  // matching, so the matching is optimal once every row is matched (LP duality).
  const size_t n = size_t(rows), m = size_t(cols);
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0);
  std::vector<size_t> row_of(m + 1, 0);  // row matched to column j (0: free)
  for (size_t i = 1; i <= n; ++i) {
    // Dijkstra over columns with reduced costs: grow a tree of tight edges from row i
    // until it reaches a free column, then flip the matching along that path.
    row_of[0] = i;
    size_t j0 = 0;
    std::vector<double> slack(m + 1, inf);
    std::vector<size_t> previous(m + 1, 0);
    std::vector<bool> in_tree(m + 1, false);
    do {
      in_tree[j0] = true;
      const size_t i0 = row_of[j0];
      double delta = inf;
      size_t j1 = 0;
      for (size_t j = 1; j <= m; ++j) {
        if (in_tree[j]) continue;
        const double reduced = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
        if (reduced < slack[j]) {
          slack[j] = reduced;
          previous[j] = j0;
        }
        if (slack[j] < delta) {
          delta = slack[j];
          j1 = j;
        }
      }
      // Shift the potentials by the smallest slack so at least one more edge becomes tight.
      for (size_t j = 0; j <= m; ++j) {
        if (in_tree[j]) {
          u[row_of[j]] += delta;
          v[j] -= delta;
        } else {
          slack[j] -= delta;
        }
      }
      j0 = j1;
    } while (row_of[j0] != 0);
    do {
      const size_t j1 = previous[j0];
      row_of[j0] = row_of[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int64_t> column(n, -1);
  for (size_t j = 1; j <= m; ++j)
    if (row_of[j] != 0) column[row_of[j] - 1] = int64_t(j - 1);
  return column;
}

std::vector<int64_t> Contingency::label_sizes() const {
  std::vector<int64_t> a(size_t(num_labels), 0);
  for (int64_t i = 0; i < num_labels; ++i)
    for (int64_t j = 0; j < num_clusters; ++j) a[size_t(i)] += at(i, j);
  return a;
}

std::vector<int64_t> Contingency::cluster_sizes() const {
  std::vector<int64_t> b(size_t(num_clusters), 0);
  for (int64_t i = 0; i < num_labels; ++i)
    for (int64_t j = 0; j < num_clusters; ++j) b[size_t(j)] += at(i, j);
  return b;
}

Contingency contingency(const std::vector<int64_t>& labels, const std::vector<int64_t>& clusters) {
  if (labels.size() != clusters.size())
    throw std::invalid_argument("clustering metrics: " + std::to_string(labels.size()) + " labels but " +
                                std::to_string(clusters.size()) + " cluster assignments");
  Contingency t;
  for (size_t s = 0; s < labels.size(); ++s) {
    if (labels[s] < 0 || clusters[s] < 0)
      throw std::invalid_argument("clustering metrics: labels and cluster ids must be >= 0 (sample " +
                                  std::to_string(s) + ")");
    t.num_labels = std::max(t.num_labels, labels[s] + 1);
    t.num_clusters = std::max(t.num_clusters, clusters[s] + 1);
  }
  t.counts.assign(size_t(t.num_labels * t.num_clusters), 0);
  for (size_t s = 0; s < labels.size(); ++s) ++t.counts[size_t(labels[s] * t.num_clusters + clusters[s])];
  t.total = int64_t(labels.size());
  return t;
}

std::vector<int64_t> match_clusters_to_labels(const Contingency& t) {
  // Maximising matched samples = minimising their negation; a square matrix padded with
  // zero-count dummies lets the counts of clusters and labels differ.
  const int64_t s = std::max(t.num_labels, t.num_clusters);
  std::vector<double> cost(size_t(s * s), 0.0);
  for (int64_t j = 0; j < t.num_clusters; ++j)
    for (int64_t i = 0; i < t.num_labels; ++i) cost[size_t(j * s + i)] = -double(t.at(i, j));
  std::vector<int64_t> label_of = min_cost_assignment(cost, s, s);
  label_of.resize(size_t(t.num_clusters));
  for (int64_t& l : label_of)
    if (l >= t.num_labels) l = -1;
  return label_of;
}

double clustering_accuracy(const Contingency& t) {
  if (t.total == 0) return 0.0;
  std::vector<int64_t> label_of = match_clusters_to_labels(t);
  int64_t matched = 0;
  for (int64_t j = 0; j < t.num_clusters; ++j)
    if (label_of[size_t(j)] >= 0) matched += t.at(label_of[size_t(j)], j);
  return double(matched) / double(t.total);
}

namespace {

double entropy(const std::vector<int64_t>& sizes, int64_t total) {
  double h = 0;
  for (int64_t a : sizes)
    if (a > 0) {
      const double p = double(a) / double(total);
      h -= p * std::log(p);
    }
  return h;
}

int64_t nonzero(const std::vector<int64_t>& sizes) {
  return std::count_if(sizes.begin(), sizes.end(), [](int64_t a) { return a > 0; });
}

/// Both labelings put every sample in one group (or there are no samples): they agree
/// perfectly but carry no information, which scikit-learn scores 1.
bool trivially_equal(const Contingency& t) {
  const int64_t k = nonzero(t.label_sizes()), c = nonzero(t.cluster_sizes());
  return k == c && k <= 1;
}

double pairs(int64_t n) { return 0.5 * double(n) * double(n - 1); }

}  // namespace

double mutual_information(const Contingency& t) {
  const std::vector<int64_t> a = t.label_sizes(), b = t.cluster_sizes();
  const double n = double(t.total);
  double mi = 0;
  for (int64_t i = 0; i < t.num_labels; ++i)
    for (int64_t j = 0; j < t.num_clusters; ++j) {
      const double nij = double(t.at(i, j));
      if (nij > 0) mi += nij / n * std::log(n * nij / (double(a[size_t(i)]) * double(b[size_t(j)])));
    }
  return std::max(mi, 0.0);
}

double normalized_mutual_info(const Contingency& t) {
  if (trivially_equal(t)) return 1.0;
  const double mi = mutual_information(t);
  // MI = 0 cannot be a perfect match once the trivial case is excluded.
  if (mi == 0.0) return 0.0;
  const double norm = 0.5 * (entropy(t.label_sizes(), t.total) + entropy(t.cluster_sizes(), t.total));
  return mi / norm;
}

double adjusted_rand_index(const Contingency& t) {
  // Pair counts: same label and same cluster (s_ij), same label (s_a), same cluster (s_b).
  double s_ij = 0, s_a = 0, s_b = 0;
  for (int64_t c : t.counts) s_ij += pairs(c);
  for (int64_t a : t.label_sizes()) s_a += pairs(a);
  for (int64_t b : t.cluster_sizes()) s_b += pairs(b);
  // No pair split by one labeling and joined by the other: full agreement.
  if (s_a == s_ij && s_b == s_ij) return 1.0;
  const double expected = s_a * s_b / pairs(t.total);
  return (s_ij - expected) / (0.5 * (s_a + s_b) - expected);
}

double expected_mutual_information(const Contingency& t) {
  const std::vector<int64_t> a = t.label_sizes(), b = t.cluster_sizes();
  const int64_t n = t.total;
  const double dn = double(n);
  // log k! via lgamma(k + 1); the hypergeometric probability of n_ij given a_i, b_j, N is
  // a! b! (N-a)! (N-b)! / (N! n_ij! (a-n_ij)! (b-n_ij)! (N-a-b+n_ij)!).
  auto lf = [](int64_t k) { return std::lgamma(double(k) + 1.0); };
  double emi = 0;
  for (int64_t ai : a) {
    if (ai == 0) continue;
    for (int64_t bj : b) {
      if (bj == 0) continue;
      const double common = lf(ai) + lf(bj) + lf(n - ai) + lf(n - bj) - lf(n);
      for (int64_t k = std::max<int64_t>(1, ai + bj - n); k <= std::min(ai, bj); ++k) {
        const double log_p = common - lf(k) - lf(ai - k) - lf(bj - k) - lf(n - ai - bj + k);
        emi += double(k) / dn * std::log(dn * double(k) / (double(ai) * double(bj))) * std::exp(log_p);
      }
    }
  }
  return emi;
}

double adjusted_mutual_info(const Contingency& t) {
  if (trivially_equal(t)) return 1.0;
  const double mi = mutual_information(t);
  const double emi = expected_mutual_information(t);
  const double norm = 0.5 * (entropy(t.label_sizes(), t.total) + entropy(t.cluster_sizes(), t.total));
  // Keep the sign of the denominator but away from zero (as scikit-learn does).
  const double eps = std::numeric_limits<double>::epsilon();
  double denominator = norm - emi;
  denominator = denominator < 0 ? std::min(denominator, -eps) : std::max(denominator, eps);
  return (mi - emi) / denominator;
}

nlohmann::json ClusteringScores::to_json() const {
  return {{"accuracy", accuracy}, {"nmi", nmi}, {"ari", ari}, {"ami", ami}, {"samples", samples}};
}

std::string ClusteringScores::table() const {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << "ACC  " << std::setw(6) << 100.0 * accuracy << " %\n"
    << "NMI  " << std::setw(6) << 100.0 * nmi << " %\n"
    << "ARI  " << std::setw(6) << 100.0 * ari << " %\n"
    << "AMI  " << std::setw(6) << 100.0 * ami << " %\n"
    << "(" << samples << " samples)\n";
  return s.str();
}

ClusteringScores score_clustering(const std::vector<int64_t>& labels, const std::vector<int64_t>& clusters) {
  const Contingency t = contingency(labels, clusters);
  ClusteringScores s;
  s.accuracy = clustering_accuracy(t);
  s.nmi = normalized_mutual_info(t);
  s.ari = adjusted_rand_index(t);
  s.ami = adjusted_mutual_info(t);
  s.samples = t.total;
  return s;
}

}  // namespace glassbox::metrics
