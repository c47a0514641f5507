#include "trainers/data/data_loader.h"

#include <stdexcept>
#include <string>

namespace glassbox::data {

DataLoader::DataLoader(const ImageDataset& data, LoaderOptions options)
    : data_(data),
      options_(options),
      sampler_(data.size(), options.batch_size, options.seed, options.shuffle, options.drop_last) {}

Batch DataLoader::batch(int64_t epoch, int64_t b) {
  if (epoch != cached_epoch_) {
    cached_batches_ = sampler_.epoch_batches(epoch);
    cached_epoch_ = epoch;
  }
  if (b < 0 || b >= num_batches()) {
    throw std::out_of_range(data_.name + ": batch " + std::to_string(b) + " out of range [0, " +
                            std::to_string(num_batches()) + ")");
  }
  const std::vector<int64_t>& indices = cached_batches_[static_cast<size_t>(b)];
  Batch out = data_.gather(indices);
  if (options_.elastic) out.images = elastic_deform(out.images, *options_.elastic, options_.seed, epoch, indices);
  return out;
}

}  // namespace glassbox::data
