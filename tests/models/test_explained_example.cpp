#include <gtest/gtest.h>

#include <string>

#include "models/common/explained_example.h"
#include "trainers/usage_error.h"

namespace glassbox::models {
namespace {

data::ImageDataset three_images() {
  data::ImageDataset d;
  d.name = "toy/test";
  d.images = Tensor::from_vector(std::vector<float>{0.f, 1.f, 2.f}, {3, 1, 1, 1});
  d.labels = Tensor::from_vector(std::vector<int64_t>{5, 6, 7}, {3});
  d.num_classes = 8;
  return d;
}

TEST(ExplainedExample, IsTheIndexedSampleAsABatchOfOne) {
  const data::Batch b = explained_example(three_images(), 2, Device::cpu());
  EXPECT_EQ(b.images.shape(), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(b.images.to_vector<float>(), std::vector<float>{2.f});
  EXPECT_EQ(b.labels.to_vector<int64_t>(), std::vector<int64_t>{7});
}

TEST(ExplainedExample, AnIndexOutsideTheSetNamesTheSetAndItsSize) {
  for (int64_t index : {-1, 3}) {
    try {
      explained_example(three_images(), index, Device::cpu());
      ADD_FAILURE() << "no error for index " << index;
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), "--index " + std::to_string(index) + " is outside toy/test (3 images)");
    }
  }
}

}  // namespace
}  // namespace glassbox::models
