#pragma once
// The data of a training run, shared by the image-classifier tasks: the training set
// minus a seeded held-out validation set (optionally only its first N samples), and the
// test set, read from the common training keys (dataset, data_dir, validation_size,
// seed) and the model's `train_subset` key.
#include <string>

#include "trainers/config.h"
#include "trainers/data/image_dataset.h"

namespace glassbox::models {

struct RunData {
  data::ImageDataset train, validation, test;
  /// The split called "train", "val" or "test" (a UsageError otherwise).
  const data::ImageDataset& split(const std::string& name) const;
};

/// Loads the run's data; ConfigErrors name the bad key and where it was set.
RunData load_run_data(const Config& config);

}  // namespace glassbox::models
