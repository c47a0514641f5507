#include "models/common/run_data.h"

#include <filesystem>

#include "trainers/data/batch_sampler.h"
#include "trainers/usage_error.h"

namespace glassbox::models {

const data::ImageDataset& RunData::split(const std::string& name) const {
  if (name == "train") return train;
  if (name == "val") return validation;
  if (name == "test") return test;
  throw UsageError("unknown split '" + name + "' (expected train, val or test)");
}

RunData load_run_data(const Config& config) {
  const std::string name = config.get_string("dataset");
  const std::filesystem::path dir = config.get_string("data_dir");
  data::ImageDataset full = data::load_dataset(name, data::Split::train, dir);
  const int64_t val_size = config.get_int("validation_size");
  if (val_size < 0 || val_size >= full.size())
    throw ConfigError(config.origin("validation_size") + ": validation_size must be in [0, " +
                      std::to_string(full.size()) + ")");
  data::TrainValSplit split = data::train_validation_split(full.size(), val_size, uint64_t(config.get_int("seed")));
  std::vector<int64_t> train_ids = split.train;
  const int64_t subset = config.get_int("train_subset");
  if (subset < 0) throw ConfigError(config.origin("train_subset") + ": train_subset must be >= 0");
  if (subset > 0 && subset < int64_t(train_ids.size())) train_ids.resize(size_t(subset));
  // In place: the training images are not held twice while the validation set is split off.
  auto [train, validation] = full.partition(train_ids, "[train]", split.validation, "[val]");
  return {std::move(train), std::move(validation), data::load_dataset(name, data::Split::test, dir)};
}

}  // namespace glassbox::models
