// Tensor creation: fills write every element without reading the old contents.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "engine/tensor.h"

using namespace glassbox;

TEST(Creation, FillsOverRecycledMemoryNeverReadIt) {
  // Leave bytes that are not valid bools in a block the caching allocator will hand out
  // again; a fill that read them as bool would be undefined behaviour (the sanitizer
  // build's UBSan run of this test catches it).
  { Tensor junk = Tensor::full({4096}, 215.0, {DType::u8}); }
  Tensor zeros = Tensor::zeros({4096}, {DType::boolean});
  for (int64_t v : zeros.to_vector<int64_t>()) ASSERT_EQ(v, 0);
  { Tensor junk = Tensor::full({4096}, 215.0, {DType::u8}); }
  Tensor ones = Tensor::full({64, 64}, 1.0, {DType::boolean}).transpose(0, 1);
  for (int64_t v : ones.to_vector<int64_t>()) ASSERT_EQ(v, 1);
  Tensor strided = Tensor::zeros({8, 8}).transpose(0, 1);
  strided.fill_(2.5);
  for (double v : strided.to_vector<double>()) ASSERT_EQ(v, 2.5);
}
