// The CPU caching allocator: freed blocks are reused by size, and the cache
// never holds more than its limit.
#include <gtest/gtest.h>

#include <vector>

#include "engine/storage.h"
#include "engine/tensor.h"

namespace glassbox {
namespace {

class CachingAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override { release_cached_memory(); }
  void TearDown() override { set_cached_memory_limit(kDefaultCpuCacheLimit); }
};

TEST_F(CachingAllocatorTest, FreedBlockIsReusedForTheSameSize) {
  const void* first;
  {
    Tensor t = Tensor::empty({1000, 100});
    first = t.storage()->data();
  }
  size_t cached = cached_memory_bytes();
  EXPECT_GE(cached, 1000u * 100 * sizeof(float));
  Tensor again = Tensor::empty({100, 1000});  // same byte count, other shape
  EXPECT_EQ(again.storage()->data(), first);
  EXPECT_EQ(cached_memory_bytes(), cached - again.storage()->nbytes());
}

TEST_F(CachingAllocatorTest, CacheStaysWithinItsLimit) {
  const size_t limit = size_t{1} << 20;
  set_cached_memory_limit(limit);
  {
    std::vector<Tensor> distinct_sizes;
    for (int64_t i = 1; i <= 16; ++i) distinct_sizes.push_back(Tensor::empty({i * 20000}));  // 80 KB .. 1.28 MB
  }
  EXPECT_LE(cached_memory_bytes(), limit);
  EXPECT_GT(cached_memory_bytes(), 0u);  // the blocks that fit were kept
}

TEST_F(CachingAllocatorTest, LoweringTheLimitReleasesTheCache) {
  { Tensor t = Tensor::empty({1 << 18}); }
  ASSERT_GT(cached_memory_bytes(), 0u);
  set_cached_memory_limit(1024);
  EXPECT_EQ(cached_memory_bytes(), 0u);
  { Tensor t = Tensor::empty({1 << 18}); }  // 1 MB: over the limit, goes straight back
  EXPECT_EQ(cached_memory_bytes(), 0u);
}

}  // namespace
}  // namespace glassbox
