#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "trainers/data/batch_sampler.h"

namespace glassbox::data {
namespace {

std::vector<int64_t> flatten(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

TEST(BatchSampler, EpochOrderIsAPermutationThatDependsOnSeedAndEpochOnly) {
  BatchSampler a(1000, 64, 7), b(1000, 64, 7), other_seed(1000, 64, 8);
  std::vector<int64_t> order = a.epoch_order(3);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(order, b.epoch_order(3));  // a fresh sampler (a resumed run) agrees
  EXPECT_NE(order, a.epoch_order(4));
  EXPECT_NE(order, other_seed.epoch_order(3));
  EXPECT_EQ(a.epoch_order(4), a.epoch_order(4));
}

TEST(BatchSampler, ShuffleSpreadsSamples) {
  // Sample 0 should not stay near the front: over 200 epochs its mean position is near n/2.
  BatchSampler s(100, 10, 1);
  double mean_position = 0;
  for (int e = 0; e < 200; ++e) {
    auto order = s.epoch_order(e);
    mean_position += std::find(order.begin(), order.end(), 0) - order.begin();
  }
  mean_position /= 200;
  EXPECT_GT(mean_position, 40);
  EXPECT_LT(mean_position, 59);
}

TEST(BatchSampler, BatchesCoverTheEpochInOrder) {
  BatchSampler s(103, 10, 5);
  EXPECT_EQ(s.num_batches(), 11);
  auto batches = s.epoch_batches(2);
  ASSERT_EQ(batches.size(), 11u);
  EXPECT_EQ(batches.back().size(), 3u);
  EXPECT_EQ(flatten(batches), s.epoch_order(2));
  EXPECT_EQ(s.batch(2, 4), batches[4]);
  EXPECT_THROW(s.batch(2, 11), std::out_of_range);
}

TEST(BatchSampler, DropLastSkipsTheShortBatch) {
  BatchSampler s(103, 10, 5, true, true);
  EXPECT_EQ(s.num_batches(), 10);
  auto batches = s.epoch_batches(0);
  ASSERT_EQ(batches.size(), 10u);
  for (const auto& b : batches) EXPECT_EQ(b.size(), 10u);
}

TEST(BatchSampler, NoShuffleKeepsDataOrder) {
  BatchSampler s(5, 2, 9, false);
  EXPECT_EQ(flatten(s.epoch_batches(3)), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(BatchSampler, RejectsBadSizes) {
  EXPECT_THROW(BatchSampler(10, 0, 1), std::invalid_argument);
  EXPECT_THROW(BatchSampler(-1, 4, 1), std::invalid_argument);
}

TEST(TrainValidationSplit, DisjointCompleteAndSeeded) {
  TrainValSplit s = train_validation_split(1000, 150, 3);
  ASSERT_EQ(s.train.size(), 850u);
  ASSERT_EQ(s.validation.size(), 150u);
  std::set<int64_t> all(s.train.begin(), s.train.end());
  for (int64_t v : s.validation) EXPECT_EQ(all.count(v), 0u) << "sample " << v << " is in both sets";
  all.insert(s.validation.begin(), s.validation.end());
  EXPECT_EQ(all.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
  EXPECT_EQ(train_validation_split(1000, 150, 3).validation, s.validation);
  EXPECT_NE(train_validation_split(1000, 150, 4).validation, s.validation);
  // Not simply the last samples of the file.
  EXPECT_LT(s.validation.front(), 850);
}

TEST(TrainValidationSplit, RejectsImpossibleSizes) {
  EXPECT_THROW(train_validation_split(10, 10, 0), std::invalid_argument);
  EXPECT_THROW(train_validation_split(10, -1, 0), std::invalid_argument);
  EXPECT_EQ(train_validation_split(10, 0, 0).train.size(), 10u);
}

}  // namespace
}  // namespace glassbox::data
