#include <gtest/gtest.h>

#include <cmath>

#include "trainers/data/elastic_deformation.h"

namespace glassbox::data {
namespace {

// A batch of distinct smooth-ish test images: a bright square at a different place each.
Tensor test_images(int64_t n, int64_t channels = 1) {
  Tensor t = Tensor::zeros({n, channels, 28, 28});
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t y = 6 + i; y < 18 + i; ++y)
        for (int64_t x = 8; x < 20; ++x) p[((i * channels + c) * 28 + y) * 28 + x] = 1.0f;
  return t;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  auto va = a.to_vector<float>(), vb = b.to_vector<float>();
  double m = 0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::abs(double(va[i]) - vb[i]));
  return m;
}

TEST(ElasticDeformation, AlphaZeroIsTheIdentity) {
  Tensor x = test_images(3);
  Tensor y = elastic_deform(x, {.alpha = 0.0, .sigma = 4.0}, 1, 0, {0, 1, 2});
  EXPECT_EQ(y.to_vector<float>(), x.to_vector<float>());
  EXPECT_FALSE(y.storage() == x.storage());
}

TEST(ElasticDeformation, DeterministicPerSeedEpochAndSample) {
  Tensor x = test_images(3);
  const ElasticParams p{.alpha = 20.0, .sigma = 4.0};
  Tensor a = elastic_deform(x, p, 11, 2, {5, 6, 7});
  EXPECT_EQ(a.to_vector<float>(), elastic_deform(x, p, 11, 2, {5, 6, 7}).to_vector<float>());
  EXPECT_GT(max_abs_diff(a, x), 0.05);  // it does deform
  EXPECT_GT(max_abs_diff(a, elastic_deform(x, p, 11, 3, {5, 6, 7})), 0.05);
  EXPECT_GT(max_abs_diff(a, elastic_deform(x, p, 12, 2, {5, 6, 7})), 0.05);
  EXPECT_GT(max_abs_diff(a, elastic_deform(x, p, 11, 2, {8, 6, 7})), 0.05);
}

TEST(ElasticDeformation, FieldFollowsTheSampleNotItsPositionInTheBatch) {
  Tensor x = test_images(2);
  const ElasticParams p{.alpha = 20.0, .sigma = 4.0};
  Tensor swapped_in = Tensor::empty({2, 1, 28, 28});
  swapped_in.select(0, 0).copy_(x.select(0, 1));
  swapped_in.select(0, 1).copy_(x.select(0, 0));
  Tensor a = elastic_deform(x, p, 4, 1, {10, 20});
  Tensor b = elastic_deform(swapped_in, p, 4, 1, {20, 10});
  EXPECT_EQ(a.select(0, 0).to_vector<float>(), b.select(0, 1).to_vector<float>());
  EXPECT_EQ(a.select(0, 1).to_vector<float>(), b.select(0, 0).to_vector<float>());
}

TEST(ElasticDeformation, ChannelsShareOneField) {
  Tensor x = test_images(2, 3);
  Tensor y = elastic_deform(x, {.alpha = 20.0, .sigma = 4.0}, 3, 0, {0, 1});
  EXPECT_EQ(y.select(1, 0).to_vector<float>(), y.select(1, 2).to_vector<float>());
}

TEST(ElasticDeformation, SmoothFieldKeepsImagesRecognisable) {
  // With sigma 4 and alpha 20 (Li et al. 2018) displacements are about a pixel, so the
  // deformed square still overlaps the original almost everywhere and stays in [0, 1].
  Tensor x = test_images(4);
  Tensor y = elastic_deform(x, {.alpha = 20.0, .sigma = 4.0}, 9, 0, {0, 1, 2, 3});
  auto vx = x.to_vector<float>(), vy = y.to_vector<float>();
  double diff = 0, mass = 0;
  for (size_t i = 0; i < vx.size(); ++i) {
    ASSERT_GE(vy[i], 0.0f);
    ASSERT_LE(vy[i], 1.0f + 1e-6f);
    diff += std::abs(vx[i] - vy[i]);
    mass += vx[i];
  }
  EXPECT_GT(diff / mass, 0.01);
  EXPECT_LT(diff / mass, 0.6);
}

TEST(ElasticDeformation, AcceptsNonContiguousInput) {
  Tensor x = test_images(2).transpose(2, 3);
  Tensor expected = elastic_deform(x.contiguous(), {.alpha = 20.0, .sigma = 4.0}, 1, 0, {0, 1});
  EXPECT_EQ(elastic_deform(x, {.alpha = 20.0, .sigma = 4.0}, 1, 0, {0, 1}).to_vector<float>(),
            expected.to_vector<float>());
}

TEST(ElasticDeformation, RejectsBadArguments) {
  Tensor x = test_images(2);
  EXPECT_THROW(elastic_deform(x, {}, 0, 0, {0}), std::invalid_argument);
  EXPECT_THROW(elastic_deform(x, {.alpha = 1.0, .sigma = 0.0}, 0, 0, {0, 1}), std::invalid_argument);
  EXPECT_THROW(elastic_deform(Tensor::zeros({2, 28, 28}), {}, 0, 0, {0, 1}), std::invalid_argument);
}

}  // namespace
}  // namespace glassbox::data
