#include <gtest/gtest.h>

#include "trainers/data/data_loader.h"

namespace glassbox::data {
namespace {

// 10 images of 1x4x4 whose pixels encode the sample index, labels = index % 3.
ImageDataset numbered_images() {
  ImageDataset d{
      "numbered", Tensor::empty({10, 1, 4, 4}), Tensor::empty({10}, {.dtype = DType::i64}), 3, {"a", "b", "c"}};
  float* p = d.images.data_ptr<float>();
  int64_t* y = d.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < 10; ++i) {
    for (int64_t k = 0; k < 16; ++k) p[i * 16 + k] = static_cast<float>(i) / 10.0f;
    y[i] = i % 3;
  }
  return d;
}

TEST(DataLoader, BatchesFollowTheSamplerOrder) {
  ImageDataset d = numbered_images();
  DataLoader loader(d, {.batch_size = 4, .seed = 3});
  BatchSampler sampler(10, 4, 3);
  ASSERT_EQ(loader.num_batches(), 3);
  for (int64_t epoch : {0, 1, 0}) {
    for (int64_t b = 0; b < 3; ++b) {
      Batch batch = loader.batch(epoch, b);
      std::vector<int64_t> expected = sampler.batch(epoch, b);
      ASSERT_EQ(batch.labels.numel(), static_cast<int64_t>(expected.size()));
      std::vector<float> pixels = batch.images.to_vector<float>();
      std::vector<int64_t> labels = batch.labels.to_vector<int64_t>();
      for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_FLOAT_EQ(pixels[i * 16], expected[i] / 10.0f);
        EXPECT_EQ(labels[i], expected[i] % 3);
      }
    }
  }
  EXPECT_THROW(loader.batch(0, 3), std::out_of_range);
}

TEST(DataLoader, ElasticDeformationIsReproducibleAcrossLoaders) {
  ImageDataset d = numbered_images();
  const LoaderOptions options{.batch_size = 5, .seed = 1, .elastic = ElasticParams{.alpha = 8.0, .sigma = 1.0}};
  DataLoader a(d, options), b(d, options);
  a.batch(0, 0);  // a different history must not change what batch (1, 1) holds
  EXPECT_EQ(a.batch(1, 1).images.to_vector<float>(), b.batch(1, 1).images.to_vector<float>());
  DataLoader plain(d, {.batch_size = 5, .seed = 1});
  EXPECT_NE(a.batch(1, 1).images.to_vector<float>(), plain.batch(1, 1).images.to_vector<float>());
  EXPECT_EQ(a.batch(1, 1).labels.to_vector<int64_t>(), plain.batch(1, 1).labels.to_vector<int64_t>());
}

}  // namespace
}  // namespace glassbox::data
