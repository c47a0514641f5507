#pragma once
// Mini-batches of an image data set for training and evaluation: seeded order
// (BatchSampler), optional elastic deformation, all recomputable from
// (seed, epoch, batch) so a resumed run continues with exactly the same batches.
#include <cstdint>
#include <optional>
#include <vector>

#include "trainers/data/batch_sampler.h"
#include "trainers/data/elastic_deformation.h"
#include "trainers/data/image_dataset.h"

namespace glassbox::data {

struct LoaderOptions {
  int64_t batch_size = 250;
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = false;
  std::optional<ElasticParams> elastic{};  // deform training images when set
};

class DataLoader {
 public:
  /// Keeps a reference to `data`, which must outlive the loader.
  DataLoader(const ImageDataset& data, LoaderOptions options);

  int64_t num_batches() const { return sampler_.num_batches(); }
  const ImageDataset& dataset() const { return data_; }
  /// Batch `b` of epoch `epoch`. Deformation fields are keyed by the dataset index of
  /// each sample, so a sample's deformation does not depend on which batch it lands in.
  Batch batch(int64_t epoch, int64_t b);

 private:
  const ImageDataset& data_;
  LoaderOptions options_;
  BatchSampler sampler_;
  int64_t cached_epoch_ = -1;  // the epoch whose batches are in cached_batches_
  std::vector<std::vector<int64_t>> cached_batches_;
};

}  // namespace glassbox::data
