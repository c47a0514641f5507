#pragma once
// Classification metrics: accuracy, confusion matrix, per-class accuracy, over a
// whole data set evaluated in batches (with a progress bar).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainers/data/image_dataset.h"

namespace glassbox::metrics {

struct ClassificationReport {
  std::string split;
  int64_t samples = 0;
  int64_t correct = 0;
  std::vector<std::vector<int64_t>> confusion;  // [true class][predicted class]
  std::vector<std::string> class_names;

  double accuracy() const { return samples ? double(correct) / double(samples) : 0.0; }
  /// Recall of each class: correct predictions of class c over samples of class c.
  std::vector<double> per_class_accuracy() const;
  nlohmann::json to_json() const;
  /// A readable table: accuracy, then per-class accuracy and the confusion matrix.
  std::string table() const;
};

/// Adds the predictions (i64 [B]) for labels (i64 [B]) to a report.
void accumulate(ClassificationReport& report, const Tensor& predictions, const Tensor& labels);

/// Runs `logits_of` (images [B, C, H, W] -> logits [B, K]) over the data set in batches
/// without recording gradients and reports argmax accuracy.
ClassificationReport evaluate_classifier(const std::function<Tensor(const Tensor&)>& logits_of,
                                         const data::ImageDataset& dataset, const std::string& split,
                                         int64_t batch_size, bool show_progress);

}  // namespace glassbox::metrics
