#pragma once
// A small labelled image set for model tests that need no data files.
#include <random>
#include <string>
#include <vector>

#include "trainers/data/image_dataset.h"

namespace glassbox::testing {

/// n 28x28 images of `classes` classes: class c is a bright 8x8 square at a
/// class-specific place plus noise, so a small network can tell them apart.
inline data::ImageDataset synthetic_images(int64_t n, int64_t classes, uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> noise(0.0f, 0.2f);
  std::vector<float> pixels(size_t(n * 28 * 28));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = i % classes;
    labels[size_t(i)] = c;
    int64_t r0 = 2 + (c % 3) * 8, c0 = 2 + (c / 3) * 8;
    for (int64_t y = 0; y < 28; ++y)
      for (int64_t x = 0; x < 28; ++x) {
        bool on = y >= r0 && y < r0 + 8 && x >= c0 && x < c0 + 8;
        pixels[size_t((i * 28 + y) * 28 + x)] = on ? 0.9f : noise(rng);
      }
  }
  data::ImageDataset d;
  d.name = "synthetic";
  d.images = Tensor::from_vector(pixels, {n, 1, 28, 28});
  d.labels = Tensor::from_vector(labels, {n});
  d.num_classes = classes;
  for (int64_t c = 0; c < classes; ++c) d.class_names.push_back("class" + std::to_string(c));
  return d;
}

}  // namespace glassbox::testing
