#pragma once
// The one sample `glassbox explain RUN --index I` looks at, shared by the image models.
#include <cstdint>

#include "trainers/data/image_dataset.h"

namespace glassbox::models {

/// Sample `index` of `dataset` as a batch of one on `device`; an index outside the set is a
/// UsageError naming the set and its size.
data::Batch explained_example(const data::ImageDataset& dataset, int64_t index, Device device);

}  // namespace glassbox::models
