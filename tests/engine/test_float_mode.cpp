// The CPU's floating-point mode: subnormal results flush to zero by default (they cost x86
// about a hundred cycles an operation; see kernels/cpu/cpu_backend.h), and
// set_flush_denormals(false) (or GLASSBOX_DENORMALS=keep) keeps IEEE subnormals.
#include <gtest/gtest.h>

#include "engine/ops/elementwise.h"
#include "engine/tensor.h"
#include "kernels/cpu/cpu_backend.h"

namespace glassbox {
namespace {

TEST(FloatMode, SubnormalResultsFlushToZeroUnlessKept) {
  const Tensor a = Tensor::from_vector<float>({1e-20f, 3.0f}, {2});
  // 1e-20^2 = 1e-40 lies below f32's smallest normal number (1.18e-38).
  std::vector<float> squares = ops::mul(a, a).to_vector<float>();
  EXPECT_EQ(squares[0], 0.0f);
  EXPECT_EQ(squares[1], 9.0f);
  kernels::set_flush_denormals(false);
  squares = ops::mul(a, a).to_vector<float>();
  // Compared before the mode comes back: with it on, a subnormal also compares as zero.
  EXPECT_GT(squares[0], 0.0f);
  EXPECT_LT(squares[0], 1.2e-38f);
  kernels::set_flush_denormals(true);
  // Subnormal inputs also read as zero while flushing.
  const Tensor tiny = Tensor::from_vector<float>({1e-40f}, {1});
  EXPECT_EQ(ops::mul(tiny, 1.0e10).to_vector<float>()[0], 0.0f);
}

}  // namespace
}  // namespace glassbox
