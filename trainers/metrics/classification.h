#pragma once
// Evaluates a classifier over a whole data set in batches (with a progress bar)
// and counts its predictions in a confusion matrix.
#include <cstdint>
#include <functional>
#include <string>

#include "trainers/data/image_dataset.h"
#include "trainers/metrics/confusion_matrix.h"

namespace glassbox::metrics {

/// Runs `logits_of` (images [B, C, H, W] -> logits [B, K]) over `dataset` without
/// recording gradients and counts the argmax predictions.
ConfusionMatrix evaluate_classifier(const std::function<Tensor(const Tensor&)>& logits_of,
                                    const data::ImageDataset& dataset, const std::string& label, int64_t batch_size,
                                    bool show_progress);

}  // namespace glassbox::metrics
