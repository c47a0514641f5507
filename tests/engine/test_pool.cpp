#include <gtest/gtest.h>

#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "tests/support/fixture_compare.h"
#include "tests/support/gradcheck.h"

using namespace glassbox;
using glassbox::testing::fixture_tensor;
using glassbox::testing::grad_input;
using glassbox::testing::gradcheck;
using glassbox::testing::matches_fixture;
using glassbox::testing::random_tensor;

namespace {

ops::Pool2dOptions window(int64_t k, int64_t s, int64_t pad, bool include_pad = true) {
  return {k, k, s, s, pad, pad, include_pad};
}

/// A non-contiguous leaf [N, C, H, W]: the W/H transpose of a [N, C, W, H] tensor.
Tensor grad_input_hw_transposed(const Shape& shape, uint64_t seed) {
  Tensor t = random_tensor({shape[0], shape[1], shape[3], shape[2]}, seed).transpose(2, 3);
  t.set_requires_grad();
  return t;
}

/// Runs op forward and backward on the fixture case's x and gy, comparing with PyTorch.
template <class Op>
void expect_matches_fixture_case(const char* name, Op op) {
  SCOPED_TRACE(name);
  const auto c = glassbox::testing::load_fixture("conv_fixtures.json").at("cases").at(name);
  Tensor x = fixture_tensor(c.at("x")).set_requires_grad();
  Tensor y = op(x);
  EXPECT_TRUE(matches_fixture(y, c.at("out")));
  ops::sum(ops::mul(y, fixture_tensor(c.at("gy")))).backward();
  EXPECT_TRUE(matches_fixture(x.grad(), c.at("grad_x")));
}

}  // namespace

TEST(MaxPool2d, ForwardAndBackwardByHand) {
  Tensor x = Tensor::from_vector<double>({1, 5, 2, 0, 3, 4, 8, 7, 9, 1, 6, 2, 0, 2, 3, 4}, {1, 1, 4, 4}, {DType::f64});
  x.set_requires_grad();
  Tensor y = ops::max_pool2d(x, window(2, 2, 0));
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{5, 8, 9, 6}));
  ops::sum(y).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0}));
}

TEST(MaxPool2d, OverlappingWindowsAccumulateGradient) {
  // 3x3 windows with stride 1 over a 4x4 plane whose maximum (at the centre) is in all four.
  std::vector<double> v(16, 0.0);
  v[5] = 10;
  Tensor x = Tensor::from_vector(v, {1, 1, 4, 4}, {DType::f64});
  x.set_requires_grad();
  ops::sum(ops::max_pool2d(x, window(3, 1, 0))).backward();
  EXPECT_EQ(x.grad().to_vector<double>()[5], 4.0);
}

TEST(MaxPool2d, Gradcheck) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], window(3, 2, 1)); },
                        {grad_input({2, 3, 7, 6}, 1)}));
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        return ops::max_pool2d(in[0], {2, 3, 2, 1, 1, 1});
      },
      {grad_input_hw_transposed({1, 2, 5, 6}, 2)}));
}

TEST(MaxPool2d, MatchesPyTorchFixture) {
  expect_matches_fixture_case("max_pool2d", [](const Tensor& x) { return ops::max_pool2d(x, window(3, 2, 1)); });
}

TEST(AvgPool2d, CountIncludePadChangesTheBorderDivisor) {
  // 2x2 ones, 2x2 window, stride 2, padding 1: each window holds one real cell.
  Tensor x = Tensor::ones({1, 1, 2, 2}, {DType::f64});
  EXPECT_EQ(ops::avg_pool2d(x, window(2, 2, 1, true)).to_vector<double>(), (std::vector<double>(4, 0.25)));
  EXPECT_EQ(ops::avg_pool2d(x, window(2, 2, 1, false)).to_vector<double>(), (std::vector<double>(4, 1.0)));
}

TEST(AvgPool2d, Gradcheck) {
  for (bool include_pad : {true, false}) {
    EXPECT_TRUE(
        gradcheck([&](const std::vector<Tensor>& in) { return ops::avg_pool2d(in[0], window(3, 2, 1, include_pad)); },
                  {grad_input({2, 2, 7, 6}, 3)}));
  }
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        return ops::avg_pool2d(in[0], {2, 3, 1, 2, 0, 1});
      },
      {grad_input_hw_transposed({1, 2, 5, 7}, 4)}));
}

TEST(AvgPool2d, MatchesPyTorchFixtureExcludingPad) {
  expect_matches_fixture_case("avg_pool2d_exclude_pad",
                              [](const Tensor& x) { return ops::avg_pool2d(x, window(3, 2, 1, false)); });
}

TEST(Pool2d, RejectsPaddingOverHalfTheKernel) {
  EXPECT_THROW(ops::max_pool2d(Tensor::ones({1, 1, 4, 4}), window(2, 2, 2)), std::invalid_argument);
  EXPECT_THROW(ops::avg_pool2d(Tensor::ones({1, 4, 4}), window(2, 2, 0)), std::invalid_argument);
}

TEST(Upsample2d, NearestDoublesEachPixel) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2}, {DType::f64});
  Tensor y = ops::upsample2d(x, 4, 4);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(Upsample2d, BilinearAlignCornersKeepsTheCorners) {
  // 1x2 -> 1x3 with align_corners: the ends map onto the ends, the middle is the mean.
  Tensor x = Tensor::from_vector<double>({2, 4}, {1, 1, 1, 2}, {DType::f64});
  EXPECT_EQ(ops::upsample2d(x, 1, 3, ops::UpsampleMode::bilinear, true).to_vector<double>(),
            (std::vector<double>{2, 3, 4}));
  // Without align_corners, src = (dst + 0.5) * 2/4 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25.
  EXPECT_EQ(ops::upsample2d(x, 1, 4, ops::UpsampleMode::bilinear, false).to_vector<double>(),
            (std::vector<double>{2, 2.5, 3.5, 4}));
}

TEST(Upsample2d, Gradcheck) {
  for (auto [mode, align] :
       {std::pair{ops::UpsampleMode::nearest, false}, std::pair{ops::UpsampleMode::bilinear, false},
        std::pair{ops::UpsampleMode::bilinear, true}}) {
    for (auto [h, w] : {std::pair<int64_t, int64_t>{7, 4}, std::pair<int64_t, int64_t>{2, 9}}) {
      EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::upsample2d(in[0], h, w, mode, align); },
                            {grad_input_hw_transposed({2, 2, 3, 5}, 5)}));
    }
  }
}

// Exact 2x nearest upsampling has a path of its own on the CPU (unit-stride rows). Its forward
// must equal the general path's (taken by a column-strided view of the same values) to the bit,
// its gradient must be each 2x2 block's sum added in the general path's order (row 2i then
// 2i + 1, column 2k then 2k + 1), and it passes gradcheck.
TEST(Upsample2d, ExactDoublingMatchesTheGeneralPathToTheBit) {
  const int64_t n = 2, c = 3, h = 5, w = 7;
  Tensor x = random_tensor({n, c, h, w}, 11).to(DType::f32);
  Tensor strided = x.transpose(2, 3).contiguous().transpose(2, 3);  // same values, column stride 5
  ASSERT_FALSE(strided.is_contiguous());
  x.set_requires_grad();
  Tensor fast = ops::upsample2d(x, 2 * h, 2 * w);
  EXPECT_EQ(fast.to_vector<float>(), ops::upsample2d(strided, 2 * h, 2 * w).to_vector<float>());

  Tensor upstream = random_tensor({n, c, 2 * h, 2 * w}, 12).to(DType::f32);
  ops::sum(ops::mul(fast, upstream)).backward();
  const std::vector<float> g = upstream.to_vector<float>();
  std::vector<float> expected;
  for (int64_t plane = 0; plane < n * c; ++plane)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t k = 0; k < w; ++k) {
        auto at = [&](int64_t row, int64_t col) { return g[size_t((plane * 2 * h + row) * 2 * w + col)]; };
        expected.push_back(((at(2 * i, 2 * k) + at(2 * i, 2 * k + 1)) + at(2 * i + 1, 2 * k)) +
                           at(2 * i + 1, 2 * k + 1));
      }
  EXPECT_EQ(x.grad().to_vector<float>(), expected);
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::upsample2d(in[0], 6, 10); },
                        {grad_input({2, 2, 3, 5}, 13)}));
}

TEST(Upsample2d, MatchesPyTorchFixtures) {
  expect_matches_fixture_case("upsample_bilinear", [](const Tensor& x) {
    return ops::upsample2d(x, 7, 4, ops::UpsampleMode::bilinear, false);
  });
  expect_matches_fixture_case("upsample_bilinear_align", [](const Tensor& x) {
    return ops::upsample2d(x, 7, 4, ops::UpsampleMode::bilinear, true);
  });
  expect_matches_fixture_case("upsample_nearest", [](const Tensor& x) { return ops::upsample2d(x, 7, 4); });
}

TEST(Upsample2d, RejectsAlignCornersWithNearest) {
  EXPECT_THROW(ops::upsample2d(Tensor::ones({1, 1, 2, 2}), 4, 4, ops::UpsampleMode::nearest, true),
               std::invalid_argument);
}
