// Reductions: forward values (hand-computed and PyTorch fixtures), keepdim shapes,
// gradients by gradcheck over shapes, axes and non-contiguous inputs, and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

using namespace glassbox;
using glassbox::testing::grad_input;
using glassbox::testing::gradcheck;
using glassbox::testing::random_tensor;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& shape) { return Tensor::from_vector(v, shape, {DType::f64}); }

/// A non-contiguous leaf of `shape`: a permuted view of a tensor with reversed dims.
Tensor permuted_input(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Shape reversed;
  std::vector<int> perm;
  for (int d = shape.size() - 1; d >= 0; --d) {
    reversed.push_back(shape[d]);
    perm.push_back(d);
  }
  Tensor t = random_tensor(reversed, seed, lo, hi).permute(perm);
  t.set_requires_grad();
  return t;
}

/// Contiguous and non-contiguous leaves of each test shape.
std::vector<Tensor> test_inputs(uint64_t seed, double lo = -1.0, double hi = 1.0) {
  return {grad_input({5}, seed, lo, hi), grad_input({3, 4}, seed + 1, lo, hi),
          permuted_input({3, 4}, seed + 2, lo, hi), grad_input({2, 3, 4}, seed + 3, lo, hi),
          permuted_input({2, 3, 4}, seed + 4, lo, hi)};
}

/// Every single axis, every pair of axes and "all dims" for a tensor of rank r.
std::vector<std::vector<int>> axis_sets(int rank) {
  std::vector<std::vector<int>> sets = {{}};
  for (int d = 0; d < rank; ++d) sets.push_back({d});
  for (int a = 0; a < rank; ++a)
    for (int b = a + 1; b < rank; ++b) sets.push_back({a, -rank + b});
  return sets;
}

void expect_near_all(const Tensor& t, const std::vector<double>& want, double tol = 1e-12) {
  std::vector<double> got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

TEST(Reduce, EmptyReducedDimsGiveTheIdentity) {
  // A reduced dim of size 0 ahead of a non-empty one once read past the buffer.
  for (const Shape& shape : {Shape{0, 3}, Shape{3, 0}, Shape{2, 0, 4}}) {
    Tensor e = Tensor::zeros(shape, {DType::f64});
    EXPECT_EQ(ops::sum(e).item(), 0.0) << shape.str();
    EXPECT_EQ(ops::prod(e).item(), 1.0) << shape.str();
    Tensor ei = Tensor::zeros(shape, {DType::i64});
    EXPECT_EQ(ops::sum(ei).item(), 0.0) << shape.str();
  }
  Tensor rows = ops::sum(Tensor::zeros({0, 3}, {DType::f32}), {0});
  EXPECT_EQ(rows.to_vector<double>(), std::vector<double>(3, 0.0));
}

}  // namespace

// ---- Forward values -----------------------------------------------------------------

TEST(Reduce, ProdValuesAndKeepdim) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  expect_near_all(ops::prod(x, {1}), {6, 120});
  expect_near_all(ops::prod(x, {0}), {4, 10, 18});
  expect_near_all(ops::prod(x), {720});
  EXPECT_EQ(ops::prod(x, {1}, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(ops::prod(x).shape(), (Shape{}));
}

TEST(Reduce, VarHandComputed) {
  Tensor x = f64({1, 2, 3, 4}, {4});
  // mean 2.5, squared deviations sum to 5.
  EXPECT_NEAR(ops::var(x).item(), 5.0 / 3.0, 1e-12);
  EXPECT_NEAR(ops::var(x, {}, 0).item(), 5.0 / 4.0, 1e-12);
  EXPECT_TRUE(std::isnan(ops::var(f64({2}, {1})).item()));
}

TEST(Reduce, VarMatchesPyTorch) {
  auto fixture = glassbox::testing::load_fixture("reduce_loss.json");
  for (const auto& c : fixture["var"]) {
    Tensor x = glassbox::testing::json_tensor(c["x"], glassbox::testing::json_shape(c["shape"]));
    Tensor v = ops::var(x, c["dims"].get<std::vector<int>>(), c["correction"].get<int64_t>());
    EXPECT_EQ(v.shape(), glassbox::testing::json_shape(c["out_shape"]));
    expect_near_all(v, c["out"].get<std::vector<double>>(), 1e-12);
  }
}

TEST(Reduce, LogsumexpMatchesPyTorchIncludingHugeValues) {
  auto fixture = glassbox::testing::load_fixture("reduce_loss.json");
  for (const auto& c : fixture["logsumexp"]) {
    Tensor x = glassbox::testing::json_tensor(c["x"], glassbox::testing::json_shape(c["shape"]));
    Tensor v = ops::logsumexp(x, c["dims"].get<std::vector<int>>());
    EXPECT_EQ(v.shape(), glassbox::testing::json_shape(c["out_shape"]));
    expect_near_all(v, c["out"].get<std::vector<double>>(), 1e-10);
  }
  EXPECT_NEAR(ops::logsumexp(f64({0, std::log(3.0)}, {2}), {0}).item(), std::log(4.0), 1e-12);
}

TEST(Reduce, AmaxAminOverSeveralDims) {
  Tensor x = f64({1, 9, 3, 4, -5, 6, 7, 8, 2, 0, -1, 5}, {2, 3, 2});
  expect_near_all(ops::amax(x, {1, 2}), {9, 8});
  expect_near_all(ops::amin(x, {0, 2}), {1, 0, -5});
  expect_near_all(ops::amax(x), {9});
  EXPECT_EQ(ops::amax(x, {0, 2}, true).shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(ops::amin(x, {-1}).shape(), (Shape{2, 3}));
}

TEST(Reduce, MaxMinAlongDimGiveFirstIndexOfTies) {
  Tensor x = f64({1, 3, 3, 2, 5, 0, 5, 0}, {2, 4});
  ops::ValuesIndices mx = ops::max(x, 1);
  expect_near_all(mx.values, {3, 5});
  EXPECT_EQ(mx.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(mx.indices.dtype(), DType::i64);
  ops::ValuesIndices mn = ops::min(x, -1, true);
  EXPECT_EQ(mn.values.shape(), (Shape{2, 1}));
  EXPECT_EQ(mn.indices.to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(ops::argmax(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 1, 0}));
  EXPECT_EQ(ops::argmin(x, 1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(ops::argmin(x.transpose(0, 1), 1).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0, 1}));
}

TEST(Reduce, MaxGradientGoesToFirstWinner) {
  Tensor x = f64({1, 3, 3, 2}, {4});
  x.set_requires_grad();
  ops::max(x, 0).values.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 0}));

  Tensor y = f64({4, 1, 2, 4, 0, 4}, {2, 3});
  y.set_requires_grad();
  ops::amax(y).backward();
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{1, 0, 0, 0, 0, 0}));
}

TEST(Reduce, NanWinsMaxArgmaxAndTopk) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = f64({1, nan, 3, nan}, {4});
  ops::ValuesIndices mx = ops::max(x, 0);
  EXPECT_TRUE(std::isnan(mx.values.item()));
  EXPECT_EQ(mx.indices.item(), 1);
  EXPECT_EQ(ops::argmin(x, 0).item(), 1);
  ops::ValuesIndices top = ops::topk(x, 3);
  EXPECT_EQ(top.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 2}));
  EXPECT_EQ(ops::topk(x, 2, 0, false).indices.to_vector<int64_t>(), (std::vector<int64_t>{0, 2}));
}

TEST(Reduce, NormValuesAndZeroGradientAtOrigin) {
  expect_near_all(ops::norm(f64({3, 4, 0, 0}, {2, 2}), {1}), {5, 0});
  Tensor z = Tensor::zeros({3}, {DType::f64});
  z.set_requires_grad();
  ops::norm(z).backward();
  EXPECT_EQ(z.grad().to_vector<double>(), (std::vector<double>{0, 0, 0}));
}

TEST(Reduce, TopkValuesIndicesAndTies) {
  Tensor x = f64({5, 1, 5, 3, 2, 8, -1, 0}, {2, 4});
  ops::ValuesIndices top = ops::topk(x, 2);
  expect_near_all(top.values, {5, 5, 8, 2});
  EXPECT_EQ(top.indices.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 1, 0}));
  ops::ValuesIndices low = ops::topk(x, 3, 1, false);
  expect_near_all(low.values, {1, 3, 5, -1, 0, 2});
  EXPECT_EQ(low.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 0, 2, 3, 0}));
  ops::ValuesIndices col = ops::topk(x.transpose(0, 1), 1, 1);
  EXPECT_EQ(col.values.shape(), (Shape{4, 1}));
  expect_near_all(col.values, {5, 8, 5, 3});
  EXPECT_EQ(ops::topk(x, 0).values.shape(), (Shape{2, 0}));
}

TEST(Reduce, CumsumFloatAndInteger) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  expect_near_all(ops::cumsum(x, 1), {1, 3, 6, 4, 9, 15});
  expect_near_all(ops::cumsum(x, 0), {1, 2, 3, 5, 7, 9});
  expect_near_all(ops::cumsum(x.transpose(0, 1), 1), {1, 5, 2, 7, 3, 9});
  Tensor b = Tensor::from_vector<int32_t>({1, 0, 1, 1}, {4}, {DType::i32});
  Tensor c = ops::cumsum(b, 0);
  EXPECT_EQ(c.dtype(), DType::i64);
  EXPECT_EQ(c.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 2, 3}));
}

TEST(Reduce, LargeInputsUseTheParallelPathConsistently) {
  // Above the OpenMP grain: each line's result must equal the same line reduced alone.
  Tensor x = random_tensor({400, 200}, 11);
  Tensor c = ops::cumsum(x, 1);
  Tensor row = ops::cumsum(x.select(0, 123), 0);
  expect_near_all(c.select(0, 123), row.to_vector<double>(), 0);
  ops::ValuesIndices top = ops::topk(x.transpose(0, 1), 3, 1);
  ops::ValuesIndices col = ops::topk(x.select(1, 77), 3, 0);
  expect_near_all(top.values.select(0, 77), col.values.to_vector<double>(), 0);
  EXPECT_EQ(top.indices.select(0, 77).to_vector<int64_t>(), col.indices.to_vector<int64_t>());
}

TEST(Reduce, SumsOverOuterAndInnerDimsMatchANaiveSum) {
  // Channel sums of NCHW (the bias gradients of convolutions) and column sums take a
  // memory-order walk with partial sums; check them, and the strided fallback, against
  // a sequential sum in long double, for short and long inner runs.
  // [3, 1100] and [70, 1100]: column sums over more than one 512-output chunk, with a tail,
  // serial and split across threads.
  for (Shape shape : {Shape{7, 3, 5, 6}, Shape{9, 4, 2, 3}, Shape{300, 5}, Shape{4, 2, 40}, Shape{3, 1100},
                      Shape{70, 1100}}) {
    for (bool permuted : {false, true}) {
      Tensor x = permuted ? permuted_input(shape, 3).detach() : random_tensor(shape, 3);
      std::vector<int> dims;
      for (int d = 0; d < shape.size(); ++d)
        if (d != 1) dims.push_back(d);
      std::vector<double> xs = x.to_vector<double>();
      const int64_t k = shape[1], b = shape.product() / shape[0] / k;
      std::vector<double> want(static_cast<size_t>(k)), want_sq(static_cast<size_t>(k));
      for (int64_t c = 0; c < k; ++c) {
        long double s = 0, sq = 0;
        for (int64_t a = 0; a < shape[0]; ++a)
          for (int64_t i = 0; i < b; ++i) {
            long double v = xs[size_t((a * k + c) * b + i)];
            s += v;
            sq += v * v;
          }
        want[size_t(c)] = double(s);
        want_sq[size_t(c)] = double(sq);
      }
      expect_near_all(ops::sum(x, dims), want, 1e-12);
      std::vector<double> want_norm;
      for (double v : want_sq) want_norm.push_back(std::sqrt(v));
      expect_near_all(ops::norm(x, dims), want_norm, 1e-12);
      expect_near_all(ops::sum(x.to(DType::f32), dims), want, 1e-5);
    }
  }
}

// ---- Gradients ---------------------------------------------------------------------

TEST(ReduceGrad, ProdIncludingZeros) {
  for (const Tensor& x : test_inputs(100))
    for (const auto& dims : axis_sets(x.dim()))
      for (bool keepdim : {false, true})
        EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::prod(in[0], dims, keepdim); }, {x}))
            << x.shape().str() << " dims " << dims.size();
  // One zero in the first row, two in the second: prod is multilinear, so central
  // differences are exact there too.
  Tensor z = f64({0.5, 0, 2, 0, 3, 0}, {2, 3});
  z.set_requires_grad();
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::prod(in[0], {1}); }, {z}));
  z.set_grad(Tensor());
  ops::sum(ops::prod(z, {1})).backward();
  EXPECT_EQ(z.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 0, 0, 0}));
}

TEST(ReduceGrad, Var) {
  for (const Tensor& x : test_inputs(200))
    for (const auto& dims : axis_sets(x.dim()))
      for (int64_t correction : {0, 1})
        for (bool keepdim : {false, true})
          EXPECT_TRUE(gradcheck(
              [&](const std::vector<Tensor>& in) { return ops::var(in[0], dims, correction, keepdim); }, {x}))
              << x.shape().str();
}

TEST(ReduceGrad, AmaxAminMaxMin) {
  for (const Tensor& x : test_inputs(300))
    for (const auto& dims : axis_sets(x.dim()))
      for (bool keepdim : {false, true}) {
        EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::amax(in[0], dims, keepdim); }, {x}));
        EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::amin(in[0], dims, keepdim); }, {x}));
        if (dims.size() != 1) continue;
        EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::max(in[0], dims[0], keepdim).values; },
                              {x}));
        EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::min(in[0], dims[0], keepdim).values; },
                              {x}));
      }
}

TEST(ReduceGrad, LogsumexpAndNorm) {
  for (const Tensor& x : test_inputs(400))
    for (const auto& dims : axis_sets(x.dim()))
      for (bool keepdim : {false, true}) {
        EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::logsumexp(in[0], dims, keepdim); }, {x}));
        EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::norm(in[0], dims, keepdim); }, {x}));
      }
}

TEST(ReduceGrad, TopkAndCumsum) {
  for (const Tensor& x : test_inputs(500))
    for (int d = 0; d < x.dim(); ++d) {
      for (bool largest : {true, false})
        for (int64_t k : {int64_t(1), x.shape()[d]})
          EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::topk(in[0], k, d, largest).values; },
                                {x}));
      EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::cumsum(in[0], d); }, {x}));
    }
}

TEST(ReduceGrad, ReductionsUnderBroadcastingProducers) {
  // The reduced input comes from a broadcast add, so the gradient is also summed back.
  Tensor a = grad_input({3, 1}, 600), b = grad_input({4}, 601);
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return ops::logsumexp(ops::add(in[0], in[1]), {0}); }, {a, b}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::var(ops::mul(in[0], in[1]), {1}); }, {a, b}));
}

// ---- Errors --------------------------------------------------------------------------

TEST(ReduceErrors, BadArgumentsAreReported) {
  Tensor x = random_tensor({2, 3}, 1);
  EXPECT_THROW(ops::prod(x, {2}), std::invalid_argument);
  EXPECT_THROW(ops::var(x, {0, 0}), std::invalid_argument);
  EXPECT_THROW(ops::var(x, {0}, -1), std::invalid_argument);
  EXPECT_THROW(ops::max(x, -3), std::invalid_argument);
  EXPECT_THROW(ops::amax(Tensor::zeros({0, 3}, {DType::f64})), std::invalid_argument);
  EXPECT_THROW(ops::topk(x, 4, 1), std::invalid_argument);
  EXPECT_THROW(ops::topk(x, -1, 1), std::invalid_argument);
  EXPECT_THROW(ops::cumsum(x, 5), std::invalid_argument);
  EXPECT_THROW(ops::logsumexp(Tensor::zeros({3}, {DType::i64}), {0}), std::invalid_argument);
  try {
    ops::topk(x, 4, 1);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("size 3"), std::string::npos) << e.what();
  }
}
