#pragma once
// Certified robust accuracy (e.g. Saralajew et al., AAAI 2025; Cohen et al. 2019): the
// fraction of samples that are classified correctly AND carry a certified radius of at
// least eps, for a list of radii eps. A classifier that certifies its predictions
// reports, per sample, whether it is correct and its certified radius (any norm; the
// metric does not care which); this accumulates them over a data set.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace glassbox::metrics {

class CertifiedAccuracy {
 public:
  /// `radii`: the eps at which certified accuracy is reported (each >= 0).
  explicit CertifiedAccuracy(std::vector<double> radii);

  /// Counts a batch: `correct` (bool or integer [B]) and `radius` (floating [B]).
  void add(const Tensor& correct, const Tensor& radius);
  void add(bool correct, double radius);

  const std::vector<double>& radii() const { return radii_; }
  int64_t total() const { return total_; }
  /// Fraction of samples classified correctly (eps = 0 without a certificate).
  double clean_accuracy() const;
  /// Fraction correct with radius >= radii()[i], one per radius.
  std::vector<double> certified_accuracy() const;
  /// Mean certified radius of the correctly classified samples (0 when none).
  double mean_correct_radius() const;

  /// Counts a batch's empirical robustness at radii()[i]: `robust` (bool [B]) is true
  /// where an attack within radius i left the prediction correct. An attack may cover
  /// only some of the samples (an expensive attack on a subset); it is reported when
  /// every radius saw the same number of samples.
  void add_empirical(size_t i, const Tensor& robust);
  bool has_empirical() const;
  /// Samples the attack covered (0 without add_empirical).
  int64_t empirical_samples() const;
  /// Fraction of the attacked samples robust at each radius (empty without add_empirical).
  std::vector<double> empirical_accuracy() const;

  /// {"samples", "clean_accuracy", "mean_correct_radius", "certified_accuracy": [{"eps", "accuracy"}]},
  /// plus "empirical_accuracy": [{"eps", "accuracy"}] and "empirical_samples" when attacked.
  nlohmann::json to_json() const;
  /// A text table of eps against certified (and empirical) robust accuracy.
  std::string table() const;

 private:
  std::vector<double> radii_;
  std::vector<int64_t> certified_;  // per radius
  std::vector<int64_t> empirical_, empirical_seen_;  // per radius: robust under attack, samples attacked
  int64_t correct_ = 0, total_ = 0;
  double radius_sum_ = 0;
};

/// Parses a comma-separated list of radii ("0.5,1,1.58"); throws std::invalid_argument
/// naming the bad entry.
std::vector<double> parse_radii(const std::string& text);

}  // namespace glassbox::metrics
