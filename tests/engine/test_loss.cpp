// Softmax family and losses: forward values (hand-computed and a PyTorch fixture for
// cross_entropy), gradients by gradcheck over dims and layouts, and error reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/ops/activation.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/loss.h"
#include "engine/ops/reduce.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradcheck.h"

using namespace glassbox;
using glassbox::testing::grad_input;
using glassbox::testing::grad_input_transposed;
using glassbox::testing::gradcheck;
using glassbox::testing::random_tensor;
using ops::Reduction;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& shape) { return Tensor::from_vector(v, shape, {DType::f64}); }
Tensor i64(const std::vector<int64_t>& v, const Shape& shape) { return Tensor::from_vector(v, shape, {DType::i64}); }

void expect_near_all(const Tensor& t, const std::vector<double>& want, double tol = 1e-12) {
  std::vector<double> got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

Reduction parse_reduction(const std::string& s) {
  return s == "none" ? Reduction::none : s == "sum" ? Reduction::sum : Reduction::mean;
}

}  // namespace

// ---- Softmax family --------------------------------------------------------------------

TEST(Softmax, HandComputedValues) {
  Tensor x = f64({1, 2, 3}, {3});
  const double s = std::exp(1) + std::exp(2) + std::exp(3);
  expect_near_all(ops::softmax(x, 0), {std::exp(1) / s, std::exp(2) / s, std::exp(3) / s});
  expect_near_all(ops::log_softmax(x, -1), {1 - std::log(s), 2 - std::log(s), 3 - std::log(s)});
}

TEST(Softmax, HugeLogitsStayFinite) {
  Tensor x = f64({1000, 1001, -1000}, {3});
  std::vector<double> p = ops::softmax(x, 0).to_vector<double>();
  EXPECT_NEAR(p[0], 1 / (1 + std::exp(1.0)), 1e-12);
  EXPECT_NEAR(p[2], 0.0, 1e-300);
  std::vector<double> lp = ops::log_softmax(x, 0).to_vector<double>();
  EXPECT_NEAR(lp[1], -std::log1p(std::exp(-1.0)), 1e-12);
  EXPECT_NEAR(lp[2], -2001 - std::log1p(std::exp(-1.0)), 1e-9);
  Tensor f = Tensor::from_vector<float>({80, 90, 100}, {3});
  for (float v : ops::softmax(f, 0).to_vector<float>()) EXPECT_TRUE(std::isfinite(v));
}

TEST(Softmax, AnyDimAndStridedInputMatchComposition) {
  Tensor x = random_tensor({3, 4, 5}, 3, -3, 3);
  for (const Tensor& in : {x, x.permute({2, 0, 1})})
    for (int d = 0; d < 3; ++d) {
      Tensor want = ops::exp(ops::sub(in, ops::logsumexp(in, {d}, true)));
      expect_near_all(ops::softmax(in, d), want.to_vector<double>(), 1e-12);
      expect_near_all(ops::log_softmax(in, d), ops::log(want).to_vector<double>(), 1e-12);
    }
}

TEST(Softmax, F32LinesOfEveryLengthMatchDouble) {
  // Contiguous f32 lines run eight lanes at a time (libmvec's expf), a last partial vector
  // padded; check whole vectors, tails and single elements against f64, with masked
  // (-inf) entries, and a fully masked line (NaN, as in f64 and PyTorch).
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t n : {1, 3, 8, 9, 15, 16, 17, 40}) {
    std::vector<float> v = random_tensor({5, n}, 40 + uint64_t(n), -6, 6).to_vector<float>();
    for (int64_t i = 0; i < n; i += 3) v[size_t(n + i)] = -inf;  // row 1: every third masked
    for (int64_t i = 0; i < n; ++i) v[size_t(4 * n + i)] = -inf;  // row 4: all masked
    Tensor x = Tensor::from_vector(v, {5, n});
    for (bool log : {false, true}) {
      std::vector<float> got = (log ? ops::log_softmax(x, 1) : ops::softmax(x, 1)).to_vector<float>();
      std::vector<double> want = (log ? ops::log_softmax(x.to(DType::f64), 1) : ops::softmax(x.to(DType::f64), 1))
                                     .to_vector<double>();
      for (size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(want[i]) || std::isinf(want[i])) {
          EXPECT_EQ(std::isnan(got[i]), std::isnan(want[i])) << "n " << n << " log " << log << " at " << i;
          if (std::isinf(want[i])) {
            EXPECT_EQ(got[i], want[i]) << "n " << n << " log " << log << " at " << i;
          }
        } else {
          EXPECT_NEAR(got[i], want[i], 2e-6 * std::max(1.0, std::abs(want[i]))) << "n " << n << " log " << log << " at " << i;
        }
      }
    }
  }
}

TEST(SoftmaxGrad, F32LinesOfEveryLengthMatchDouble) {
  // The f32 gradients, y (g - sum(g y)) and g - exp(y) sum(g), run eight lanes at a time too.
  for (bool log : {false, true}) {
    for (int64_t n : {1, 3, 8, 9, 16, 17, 40}) {
      Tensor x = random_tensor({3, n}, 60 + uint64_t(n), -6, 6).to(DType::f32);
      Tensor g = random_tensor({3, n}, 80 + uint64_t(n), -1, 1);
      Tensor x32 = x.clone(), x64 = x.to(DType::f64);
      x32.set_requires_grad();
      x64.set_requires_grad();
      (log ? ops::log_softmax(x32, 1) : ops::softmax(x32, 1)).backward(g.to(DType::f32));
      (log ? ops::log_softmax(x64, 1) : ops::softmax(x64, 1)).backward(g);
      std::vector<double> got = x32.grad().to_vector<double>(), want = x64.grad().to_vector<double>();
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_NEAR(got[i], want[i], 2e-6 * std::max(1.0, std::abs(want[i]))) << "log " << log << " n " << n << " at " << i;
    }
  }
}

TEST(Softmax, LargeInputParallelRowsMatchSingleRow) {
  // 300 x 200 is above the OpenMP grain; dim 0 makes every line strided.
  Tensor x = random_tensor({300, 200}, 5, -4, 4);
  Tensor all = ops::softmax(x, 0);
  Tensor one = ops::softmax(x.select(1, 17).contiguous(), 0);
  expect_near_all(all.select(1, 17), one.to_vector<double>(), 0);
  Tensor g = random_tensor({300, 200}, 6);
  Tensor xs = x.clone();
  xs.set_requires_grad();
  ops::log_softmax(xs, 1).backward(g);
  Tensor row = x.select(0, 42).contiguous();
  row.set_requires_grad();
  ops::log_softmax(row, 0).backward(g.select(0, 42).contiguous());
  expect_near_all(xs.grad().select(0, 42), row.grad().to_vector<double>(), 1e-15);
}

TEST(SoftmaxGrad, EveryDimAndLayout) {
  std::vector<Tensor> inputs = {grad_input({5}, 10, -2, 2), grad_input({3, 4}, 11, -2, 2),
                                grad_input_transposed({3, 4}, 12, -2, 2), grad_input({2, 3, 4}, 13, -2, 2)};
  for (const Tensor& x : inputs)
    for (int d = 0; d < x.dim(); ++d) {
      EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::softmax(in[0], d); }, {x}));
      EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::log_softmax(in[0], d); }, {x}));
    }
}

// ---- Cross-entropy and NLL -------------------------------------------------------------

TEST(CrossEntropy, MatchesPyTorchWithIgnoreIndexAndLabelSmoothing) {
  auto fixture = glassbox::testing::load_fixture("reduce_loss.json");
  for (const auto& c : fixture["cross_entropy"]) {
    const Shape shape = glassbox::testing::json_shape(c["shape"]);
    Tensor logits = glassbox::testing::json_tensor(c["logits"], shape);
    logits.set_requires_grad();
    Shape target_shape = shape;
    target_shape.erase(1);
    std::vector<int64_t> target;
    for (double t : c["target"].get<std::vector<double>>()) target.push_back(int64_t(t));
    Tensor loss = ops::cross_entropy(logits, i64(target, target_shape), parse_reduction(c["reduction"]),
                                     c["ignore_index"].get<int64_t>(), c["label_smoothing"].get<double>());
    EXPECT_EQ(loss.shape(), glassbox::testing::json_shape(c["loss_shape"]));
    expect_near_all(loss, c["loss"].get<std::vector<double>>(), 1e-12);
    ops::sum(loss).backward();
    expect_near_all(logits.grad(), c["grad"].get<std::vector<double>>(), 1e-12);
  }
}

TEST(CrossEntropy, HandComputedAndUnbatched) {
  Tensor logits = f64({0, 0, std::log(2.0), 1, 1, 1}, {2, 3});
  Tensor target = i64({2, 0}, {2});
  // Row 0: p(2) = 2/4; row 1: p(0) = 1/3.
  expect_near_all(ops::cross_entropy(logits, target, Reduction::none), {std::log(2.0), std::log(3.0)});
  EXPECT_NEAR(ops::cross_entropy(logits, target).item(), (std::log(2.0) + std::log(3.0)) / 2, 1e-12);
  EXPECT_NEAR(ops::cross_entropy(logits, target, Reduction::sum).item(), std::log(2.0) + std::log(3.0), 1e-12);
  Tensor single = ops::cross_entropy(logits.select(0, 1), i64({0}, {}), Reduction::none);
  EXPECT_EQ(single.shape(), (Shape{}));
  EXPECT_NEAR(single.item(), std::log(3.0), 1e-12);
  // Every target ignored: the mean is 0 / 0, as in PyTorch.
  EXPECT_TRUE(std::isnan(ops::cross_entropy(logits, i64({-100, -100}, {2})).item()));
}

TEST(CrossEntropy, NllLossPicksTheTargetLogProbability) {
  Tensor lp = f64({-1, -2, -3, -4, -5, -6}, {3, 2});
  Tensor t = i64({1, 0, -100}, {3});
  expect_near_all(ops::nll_loss(lp, t, Reduction::none), {2, 3, 0});
  EXPECT_NEAR(ops::nll_loss(lp, t).item(), 2.5, 1e-12);
  EXPECT_NEAR(ops::nll_loss(lp, i64({1, 0, 1}, {3}), Reduction::sum, 1).item(), 3, 1e-12);
}

TEST(CrossEntropyGrad, ReductionsIgnoreIndexSmoothingAndSpatialDims) {
  Tensor target2 = i64({1, -100, 4, 0}, {4});
  Tensor target4 = i64({0, 2, 1, 1, 2, 0, -100, 1}, {2, 2, 2});
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum})
    for (double eps : {0.0, 0.3}) {
      for (const Tensor& x : {grad_input({4, 5}, 20, -2, 2), grad_input_transposed({4, 5}, 21, -2, 2)})
        EXPECT_TRUE(gradcheck(
            [&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], target2, r, -100, eps); }, {x}));
      EXPECT_TRUE(gradcheck(
          [&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], target4, r, -100, eps); },
          {grad_input({2, 3, 2, 2}, 22, -2, 2)}));
      EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::nll_loss(in[0], target2, r); },
                            {grad_input({4, 5}, 23, -3, 0)}));
    }
}

TEST(CrossEntropyErrors, TargetsAreChecked) {
  Tensor logits = random_tensor({3, 4}, 30);
  EXPECT_THROW(ops::cross_entropy(logits, Tensor::zeros({3}, {DType::f64})), std::invalid_argument);
  EXPECT_THROW(ops::cross_entropy(logits, i64({0, 4, 1}, {3})), std::out_of_range);
  EXPECT_THROW(ops::cross_entropy(logits, i64({0, -1, 1}, {3})), std::out_of_range);
  EXPECT_NO_THROW(ops::cross_entropy(logits, i64({0, -1, 1}, {3}), Reduction::mean, -1));
  EXPECT_THROW(ops::cross_entropy(logits, i64({0, 1}, {2})), std::invalid_argument);
  EXPECT_THROW(ops::cross_entropy(logits, i64({0, 1, 2}, {3}), Reduction::mean, -100, 1.5), std::invalid_argument);
  EXPECT_THROW(ops::nll_loss(Tensor::zeros({3, 4}, {DType::i64}), i64({0, 1, 2}, {3})), std::invalid_argument);
  try {
    ops::cross_entropy(logits, i64({0, 7, 1}, {3}));
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("target 7"), std::string::npos) << e.what();
  }
}

TEST(SoftmaxErrors, BadDimsAndDtypes) {
  Tensor x = random_tensor({2, 3}, 31);
  EXPECT_THROW(ops::softmax(x, 2), std::invalid_argument);
  EXPECT_THROW(ops::log_softmax(x, -3), std::invalid_argument);
  EXPECT_THROW(ops::softmax(Tensor::zeros({3}, {DType::i64}), 0), std::invalid_argument);
}

// ---- Regression and binary losses -----------------------------------------------------

TEST(MseLoss, ValuesReductionsAndGradients) {
  Tensor a = f64({1, 2, 3, 4}, {2, 2}), b = f64({1, 0, 0, 4}, {2, 2});
  expect_near_all(ops::mse_loss(a, b, Reduction::none), {0, 4, 9, 0});
  EXPECT_NEAR(ops::mse_loss(a, b).item(), 13.0 / 4, 1e-12);
  EXPECT_NEAR(ops::mse_loss(a, b, Reduction::sum).item(), 13.0, 1e-12);
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum}) {
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::mse_loss(in[0], in[1], r); },
                          {grad_input_transposed({3, 4}, 40), grad_input({3, 4}, 41)}));
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::mse_loss(in[0], in[1], r); },
                          {grad_input({3, 4}, 42), grad_input({4}, 43)}));
  }
}

TEST(BceLoss, ValuesAndTheMinus100Clamp) {
  Tensor p = f64({0.5, 0.25, 0, 1}, {4}), t = f64({1, 0, 1, 1}, {4});
  expect_near_all(ops::bce_loss(p, t, Reduction::none), {std::log(2.0), -std::log(0.75), 100, 0});
  EXPECT_NEAR(ops::bce_loss(p, t).item(), (std::log(2.0) - std::log(0.75) + 100) / 4, 1e-12);
  Tensor pg = p.clone().detach();
  pg.set_requires_grad();
  ops::bce_loss(pg, t, Reduction::sum).backward();
  for (double g : pg.grad().to_vector<double>()) EXPECT_TRUE(std::isfinite(g));
  EXPECT_NEAR(pg.grad().to_vector<double>()[0], -2.0, 1e-12);  // (p - t) / (p (1 - p))
}

TEST(BceLoss, GradientsForProbabilitiesAndTargets) {
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum})
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::bce_loss(in[0], in[1], r); },
                          {grad_input_transposed({3, 4}, 50, 0.05, 0.95), grad_input({3, 4}, 51, 0, 1)}));
}

TEST(BceWithLogits, MatchesBceOfSigmoidAndStaysFiniteForHugeLogits) {
  Tensor x = random_tensor({3, 4}, 60, -4, 4), t = random_tensor({3, 4}, 61, 0, 1);
  expect_near_all(ops::bce_with_logits(x, t, Reduction::none),
                  ops::bce_loss(ops::sigmoid(x), t, Reduction::none).to_vector<double>(), 1e-12);
  Tensor big = f64({800, -800}, {2});
  expect_near_all(ops::bce_with_logits(big, f64({0, 1}, {2}), Reduction::none), {800, 800});
  expect_near_all(ops::bce_with_logits(big, f64({1, 0}, {2}), Reduction::none), {0, 0});
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum})
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::bce_with_logits(in[0], in[1], r); },
                          {grad_input_transposed({3, 4}, 62, -3, 3), grad_input({3, 4}, 63, 0, 1)}));
}

TEST(BinaryLossErrors, BadInputsAreReported) {
  Tensor p = f64({0.5, 1.5}, {2}), t = f64({1, 0}, {2});
  EXPECT_THROW(ops::bce_loss(p, t), std::invalid_argument);
  EXPECT_THROW(ops::bce_loss(f64({0.5, 0.5, 0.5}, {3}), t), std::invalid_argument);
  EXPECT_THROW(ops::bce_with_logits(p, Tensor::zeros({2}, {DType::f32})), std::invalid_argument);
  EXPECT_THROW(ops::mse_loss(p, f64({1, 2, 3}, {3})), std::invalid_argument);
}
