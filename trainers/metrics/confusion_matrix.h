#pragma once
// Classification results for `glassbox eval`: the confusion matrix, overall and
// per-class accuracy, printed as a table or written as JSON.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace glassbox {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(std::vector<std::string> class_names);

  /// Counts a batch: `predicted` and `labels` are i64 tensors of the same length.
  void add(const Tensor& predicted, const Tensor& labels);
  void add(int64_t predicted, int64_t label);

  int64_t num_classes() const { return static_cast<int64_t>(names_.size()); }
  int64_t total() const { return total_; }
  /// Samples of class `label` predicted as `predicted`.
  int64_t count(int64_t label, int64_t predicted) const { return counts_[label * num_classes() + predicted]; }
  /// Fraction of all samples predicted correctly (0 when empty).
  double accuracy() const;
  /// For each class, the fraction of its samples predicted correctly (0 for an absent class).
  std::vector<double> per_class_accuracy() const;
  /// For each class, its samples (the row sums): says which per-class accuracies rest on few samples, or none.
  std::vector<int64_t> per_class_samples() const;

  /// {"accuracy", "samples", "class_names", "per_class_accuracy": {name: value}, "per_class_samples": {name: n},
  /// "confusion_matrix": rows = true class}.
  nlohmann::json to_json() const;
  /// A text table: per-class accuracy, then the matrix with true classes as rows.
  std::string table() const;

 private:
  std::vector<std::string> names_;
  std::vector<int64_t> counts_;  // row-major [label][predicted]
  int64_t total_ = 0;
};

}  // namespace glassbox
