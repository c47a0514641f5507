#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/activation.h"
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

TEST(BatchNorm, RunningStatsAfterOneStepByHand) {
  // Two channels, batch of 4 (rank 2). Channel 0: 1, 2, 3, 6 (mean 3, biased var 3.5,
  // unbiased 14/3). Channel 1: 2, 2, 2, 2 (mean 2, var 0).
  Tensor x = Tensor::from_vector<double>({1, 2, 2, 2, 3, 2, 6, 2}, {4, 2}, {DType::f64});
  Tensor rm = Tensor::from_vector<double>({1, -1}, {2}, {DType::f64});
  Tensor rv = Tensor::from_vector<double>({2, 0.5}, {2}, {DType::f64});
  Tensor y = ops::batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.25, 1e-5);
  std::vector<double> m = rm.to_vector<double>(), v = rv.to_vector<double>();
  EXPECT_NEAR(m[0], 0.75 * 1 + 0.25 * 3, 1e-12);
  EXPECT_NEAR(m[1], 0.75 * -1 + 0.25 * 2, 1e-12);
  EXPECT_NEAR(v[0], 0.75 * 2 + 0.25 * 14.0 / 3.0, 1e-12);
  EXPECT_NEAR(v[1], 0.75 * 0.5 + 0.25 * 0, 1e-12);
  // The output uses the batch's biased variance.
  std::vector<double> out = y.to_vector<double>();
  EXPECT_NEAR(out[0], (1 - 3) / std::sqrt(3.5 + 1e-5), 1e-12);
  EXPECT_NEAR(out[6], (6 - 3) / std::sqrt(3.5 + 1e-5), 1e-12);
  EXPECT_NEAR(out[1], 0.0, 1e-12);
}

TEST(BatchNorm, EvalUsesRunningStatsAndLeavesThemAlone) {
  Tensor x = Tensor::from_vector<double>({1, 4, 3, 8}, {2, 2}, {DType::f64});
  Tensor rm = Tensor::from_vector<double>({1, 2}, {2}, {DType::f64});
  Tensor rv = Tensor::from_vector<double>({4, 9}, {2}, {DType::f64});
  Tensor w = Tensor::from_vector<double>({2, 3}, {2}, {DType::f64});
  Tensor b = Tensor::from_vector<double>({1, -1}, {2}, {DType::f64});
  std::vector<double> y = ops::batch_norm(x, rm, rv, w, b, false, 0.1, 0.0).to_vector<double>();
  EXPECT_NEAR(y[0], (1 - 1) / 2.0 * 2 + 1, 1e-12);
  EXPECT_NEAR(y[1], (4 - 2) / 3.0 * 3 - 1, 1e-12);
  EXPECT_NEAR(y[3], (8 - 2) / 3.0 * 3 - 1, 1e-12);
  EXPECT_EQ(rm.to_vector<double>(), (std::vector<double>{1, 2}));
  EXPECT_EQ(rv.to_vector<double>(), (std::vector<double>{4, 9}));
}

TEST(BatchNorm, MatchesPyTorchTrainingStep) {
  const auto c = glassbox::testing::load_fixture("conv_fixtures.json").at("cases").at("batch_norm_train");
  Tensor x = fixture_tensor(c.at("x")).set_requires_grad();
  Tensor w = fixture_tensor(c.at("w")).set_requires_grad();
  Tensor b = fixture_tensor(c.at("b")).set_requires_grad();
  Tensor rm = fixture_tensor(c.at("running_mean_before")), rv = fixture_tensor(c.at("running_var_before"));
  Tensor y = ops::batch_norm(x, rm, rv, w, b, true, 0.2, 1e-5);
  EXPECT_TRUE(matches_fixture(y, c.at("out")));
  EXPECT_TRUE(matches_fixture(rm, c.at("running_mean_after")));
  EXPECT_TRUE(matches_fixture(rv, c.at("running_var_after")));
  ops::sum(ops::mul(y, fixture_tensor(c.at("gy")))).backward();
  EXPECT_TRUE(matches_fixture(x.grad(), c.at("grad_x")));
  EXPECT_TRUE(matches_fixture(w.grad(), c.at("grad_w")));
  EXPECT_TRUE(matches_fixture(b.grad(), c.at("grad_b")));
}

TEST(BatchNorm, GradcheckTrainingRank4WithAffine) {
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return ops::batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true); },
      {grad_input({3, 2, 3, 2}, 1), grad_input({2}, 2), grad_input({2}, 3)}));
}

TEST(BatchNorm, GradcheckTrainingWeightWithoutBias) {
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return ops::batch_norm(in[0], Tensor(), Tensor(), in[1], Tensor(), true); },
      {grad_input({4, 3, 2}, 11), grad_input({3}, 12)}));
}

TEST(BatchNorm, GradcheckTrainingRank2And3WithoutAffine) {
  // Running statistics are passed too: the in-place update must not disturb the gradient.
  Tensor rm = Tensor::zeros({3}, {DType::f64}), rv = Tensor::ones({3}, {DType::f64});
  EXPECT_TRUE(
      gradcheck([&](const std::vector<Tensor>& in) { return ops::batch_norm(in[0], rm, rv, Tensor(), Tensor(), true); },
                {glassbox::testing::grad_input_transposed({5, 3}, 4)}));
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        return ops::batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true);
      },
      {grad_input({2, 3, 4}, 5)}));
}

TEST(BatchNorm, GradcheckEval) {
  Tensor rm = random_tensor({2}, 6), rv = random_tensor({2}, 7, 0.5, 2.0);
  EXPECT_TRUE(
      gradcheck([&](const std::vector<Tensor>& in) { return ops::batch_norm(in[0], rm, rv, in[1], in[2], false); },
                {grad_input({3, 2, 2, 2}, 8), grad_input({2}, 9), grad_input({2}, 10)}));
}

// batch_norm_activation is relu / leaky_relu of batch_norm, to the bit, in one node on the CPU.
TEST(BatchNormActivation, EqualsBatchNormThenTheActivationToTheBit) {
  for (const kernels::NormActivation act : {kernels::NormActivation{}, kernels::NormActivation{true, 0.2}}) {
    SCOPED_TRACE(act.leaky ? "leaky_relu" : "relu");
    auto run = [&](bool fused) {
      Tensor x = random_tensor({6, 3, 5, 4}, 21, -2.0, 2.0).to(DType::f32).set_requires_grad();
      Tensor w = random_tensor({3}, 22, 0.5, 1.5).to(DType::f32).set_requires_grad();
      Tensor b = random_tensor({3}, 23).to(DType::f32).set_requires_grad();
      Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
      Tensor y = fused ? ops::batch_norm_activation(x, rm, rv, w, b, true, 0.1, 1e-3, act)
                       : (act.leaky ? ops::leaky_relu(ops::batch_norm(x, rm, rv, w, b, true, 0.1, 1e-3), 0.2)
                                    : ops::relu(ops::batch_norm(x, rm, rv, w, b, true, 0.1, 1e-3)));
      // One node when fused (the activation rides in the batch norm node), two otherwise.
      EXPECT_EQ(y.grad_fn()->kind(), fused ? OpKind::batch_norm : (act.leaky ? OpKind::leaky_relu : OpKind::relu));
      ops::sum(ops::mul(y, random_tensor(y.shape(), 24).to(DType::f32))).backward();
      return std::vector<std::vector<float>>{y.to_vector<float>(),        x.grad().to_vector<float>(),
                                             w.grad().to_vector<float>(), b.grad().to_vector<float>(),
                                             rm.to_vector<float>(),       rv.to_vector<float>()};
    };
    const auto fused = run(true), composed = run(false);
    const char* names[] = {"output", "grad x", "grad weight", "grad bias", "running mean", "running var"};
    for (size_t i = 0; i < fused.size(); ++i) EXPECT_EQ(fused[i], composed[i]) << names[i];
  }
}

TEST(BatchNormActivation, Gradcheck) {
  for (const kernels::NormActivation act : {kernels::NormActivation{}, kernels::NormActivation{true, 0.2}}) {
    SCOPED_TRACE(act.leaky ? "leaky_relu" : "relu");
    EXPECT_TRUE(gradcheck(
        [&](const std::vector<Tensor>& in) {
          return ops::batch_norm_activation(in[0], Tensor(), Tensor(), in[1], in[2], true, 0.1, 1e-5, act);
        },
        {grad_input({3, 2, 3, 2}, 31), grad_input({2}, 32), grad_input({2}, 33)}));
  }
  // Eval mode composes the two ops.
  Tensor rm = random_tensor({2}, 34), rv = random_tensor({2}, 35, 0.5, 2.0);
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        return ops::batch_norm_activation(in[0], rm, rv, in[1], in[2], false, 0.1, 1e-5, {true, 0.1});
      },
      {grad_input({3, 2, 2, 2}, 36), grad_input({2}, 37), grad_input({2}, 38)}));
}

TEST(BatchNormActivation, RejectsALeakySlopeThatIsNotPositive) {
  Tensor x = random_tensor({4, 2}, 39);
  EXPECT_THROW(ops::batch_norm_activation(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5, {true, 0.0}),
               std::invalid_argument);
  EXPECT_THROW(ops::batch_norm_activation(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5, {true, -0.2}),
               std::invalid_argument);
}

TEST(BatchNorm, RejectsBadShapes) {
  EXPECT_THROW(ops::batch_norm(Tensor::ones({4}), Tensor(), Tensor(), Tensor(), Tensor(), true), std::invalid_argument);
  EXPECT_THROW(ops::batch_norm(Tensor::ones({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
               std::invalid_argument);
  EXPECT_THROW(ops::batch_norm(Tensor::ones({4, 3}), Tensor(), Tensor(), Tensor::ones({2}), Tensor(), true),
               std::invalid_argument);
  EXPECT_THROW(ops::batch_norm(Tensor::ones({4, 3}), Tensor(), Tensor(), Tensor(), Tensor(), false),
               std::invalid_argument);
}

TEST(LayerNorm, NormalisesEachRowByHand) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 4, 4}, {2, 3}, {DType::f64});
  std::vector<double> y = ops::layer_norm(x, 1, Tensor(), Tensor(), 1e-12).to_vector<double>();
  const double s = std::sqrt(2.0 / 3.0 + 1e-12);
  EXPECT_NEAR(y[0], -1 / s, 1e-9);
  EXPECT_NEAR(y[1], 0, 1e-9);
  EXPECT_NEAR(y[2], 1 / s, 1e-9);
  EXPECT_NEAR(y[4], 0, 1e-9);
}

TEST(LayerNorm, Gradcheck) {
  EXPECT_TRUE(
      gradcheck([](const std::vector<Tensor>& in) { return ops::layer_norm(in[0], 1, in[1], in[2]); },
                {glassbox::testing::grad_input_transposed({4, 5}, 11), grad_input({5}, 12), grad_input({5}, 13)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::layer_norm(in[0], 2, in[1], Tensor()); },
                        {grad_input({2, 3, 4}, 14), grad_input({3, 4}, 15)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::layer_norm(in[0], 1, Tensor(), Tensor()); },
                        {grad_input({3, 6}, 16)}));
}

TEST(LayerNorm, RejectsBadArguments) {
  EXPECT_THROW(ops::layer_norm(Tensor::ones({2, 3}), 3, Tensor(), Tensor()), std::invalid_argument);
  EXPECT_THROW(ops::layer_norm(Tensor::ones({2, 3}), 1, Tensor::ones({2}), Tensor()), std::invalid_argument);
}
