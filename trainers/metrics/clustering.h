#pragma once
// External clustering metrics: a partition of n samples into clusters compared with
// their true labels. The cluster ids need not match the label ids, nor must there be
// as many clusters as classes.
//   - accuracy: the best one-to-one matching of clusters to labels (Hungarian algorithm);
//   - NMI: I(U;V) / ((H(U) + H(V)) / 2), scikit-learn's default "arithmetic" normaliser;
//   - ARI: Hubert & Arabie (1985), the Rand index corrected for chance;
//   - AMI: Vinh, Epps & Bailey (JMLR 2010), mutual information corrected by its
//     expectation under the hypergeometric model, arithmetic normaliser.
// Logarithms are natural; NMI, ARI and AMI do not depend on the base.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace glassbox::metrics {

/// Minimum-cost assignment of `rows` rows to distinct columns of a rows x cols cost
/// matrix (row-major, rows <= cols), in O(rows^2 cols): the shortest augmenting path
/// method with row/column potentials (Kuhn-Munkres in Jonker & Volgenant's form).
/// Returns the column assigned to each row.
std::vector<int64_t> min_cost_assignment(const std::vector<double>& cost, int64_t rows, int64_t cols);

/// Counts n_ij of samples with label i in cluster j; labels and clusters are >= 0.
struct Contingency {
  int64_t num_labels = 0, num_clusters = 0, total = 0;
  std::vector<int64_t> counts;  // row-major [label][cluster]
  int64_t at(int64_t label, int64_t cluster) const { return counts[size_t(label * num_clusters + cluster)]; }
  std::vector<int64_t> label_sizes() const;    // a_i
  std::vector<int64_t> cluster_sizes() const;  // b_j
};
Contingency contingency(const std::vector<int64_t>& labels, const std::vector<int64_t>& clusters);

/// For each cluster, the label it is matched to by the accuracy-maximising one-to-one
/// assignment; -1 for clusters left unmatched (more clusters than labels).
std::vector<int64_t> match_clusters_to_labels(const Contingency& table);

double clustering_accuracy(const Contingency& table);
double mutual_information(const Contingency& table);
double normalized_mutual_info(const Contingency& table);
double adjusted_rand_index(const Contingency& table);
/// E[I(U;V)] over all labelings with the same cluster and class sizes (Vinh et al. 2010, eq. 24a).
double expected_mutual_information(const Contingency& table);
double adjusted_mutual_info(const Contingency& table);

struct ClusteringScores {
  double accuracy = 0, nmi = 0, ari = 0, ami = 0;
  int64_t samples = 0;
  /// {"accuracy", "nmi", "ari", "ami", "samples"}.
  nlohmann::json to_json() const;
  /// The four scores in percent, one per line.
  std::string table() const;
};
ClusteringScores score_clustering(const std::vector<int64_t>& labels, const std::vector<int64_t>& clusters);

}  // namespace glassbox::metrics
