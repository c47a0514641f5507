#include "models/common/explained_example.h"

#include <string>

#include "trainers/usage_error.h"

namespace glassbox::models {

data::Batch explained_example(const data::ImageDataset& dataset, int64_t index, Device device) {
  if (index < 0 || index >= dataset.size())
    throw UsageError("--index " + std::to_string(index) + " is outside " + dataset.name + " (" +
                     std::to_string(dataset.size()) + " images)");
  return dataset.gather({index}).to(device);
}

}  // namespace glassbox::models
