#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/optim/optim.h"
#include "tests/support/fixtures.h"

using namespace glassbox;
using nlohmann::json;

namespace {

const json& reference() {
  static const json j = glassbox::testing::load_fixture("optim_reference.json");
  return j;
}

Tensor tensor_from(const json& values, const json& shape, DType dtype = DType::f64) {
  return glassbox::testing::json_tensor(values, glassbox::testing::json_shape(shape)).to(dtype);
}

/// Builds the optimiser a fixture case describes over two groups ([p0], [p1] with overrides).
std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name, const json& c, const Tensor& p0,
                                                 const Tensor& p1) {
  const json& o = c["options"];
  const json& g1 = c["group1"];
  std::vector<optim::ParamGroup> groups = {{{p0}}, {{p1}, g1["lr"].get<double>(), g1["weight_decay"].get<double>()}};
  if (name.rfind("sgd", 0) == 0)
    return std::make_unique<optim::SGD>(groups, optim::SgdOptions{.lr = o["lr"],
                                                                  .momentum = o.value("momentum", 0.0),
                                                                  .dampening = o.value("dampening", 0.0),
                                                                  .weight_decay = o.value("weight_decay", 0.0),
                                                                  .nesterov = o.value("nesterov", false)});
  if (name == "adam")
    return std::make_unique<optim::Adam>(groups, optim::AdamOptions{.lr = o["lr"], .beta1 = o["betas"][0],
                                                                    .beta2 = o["betas"][1], .eps = o["eps"],
                                                                    .weight_decay = o["weight_decay"]});
  if (name == "adamw")
    return std::make_unique<optim::AdamW>(groups, optim::AdamWOptions{.lr = o["lr"], .beta1 = o["betas"][0],
                                                                      .beta2 = o["betas"][1], .eps = o["eps"],
                                                                      .weight_decay = o["weight_decay"]});
  return std::make_unique<optim::Adadelta>(groups, optim::AdadeltaOptions{.lr = o["lr"], .rho = o["rho"],
                                                                          .eps = o["eps"],
                                                                          .weight_decay = o["weight_decay"]});
}

void expect_near(const Tensor& t, const json& expected, double tol, const std::string& what) {
  std::vector<double> got = t.to_vector<double>();
  std::vector<double> want = expected.get<std::vector<double>>();
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << " element " << i;
}

void run_case(const std::string& name, DType dtype, double tol) {
  const json& ref = reference();
  const json& c = ref["cases"][name];
  Tensor p0 = tensor_from(ref["p0"], ref["p0_shape"], dtype).set_requires_grad();
  Tensor p1 = tensor_from(ref["p1"], ref["p1_shape"], dtype).set_requires_grad();
  auto opt = make_optimizer(name, c, p0, p1);
  for (size_t s = 0; s < ref["grads"].size(); ++s) {
    p0.set_grad(tensor_from(ref["grads"][s][0], ref["p0_shape"], dtype));
    p1.set_grad(tensor_from(ref["grads"][s][1], ref["p1_shape"], dtype));
    opt->step();
    const std::string where = name + " step " + std::to_string(s + 1);
    expect_near(p0, c["after"][s][0], tol, where + " p0");
    expect_near(p1, c["after"][s][1], tol, where + " p1");
  }
}

Tensor vec(std::vector<double> v) { return Tensor::from_vector(v, {int64_t(v.size())}, {DType::f64}); }

}  // namespace

class OptimMatchesPyTorch : public ::testing::TestWithParam<std::string> {};

TEST_P(OptimMatchesPyTorch, F64) { run_case(GetParam(), DType::f64, 1e-12); }
TEST_P(OptimMatchesPyTorch, F32) { run_case(GetParam(), DType::f32, 2e-5); }

INSTANTIATE_TEST_SUITE_P(AllOptimizers, OptimMatchesPyTorch,
                         ::testing::Values("sgd", "sgd_momentum", "sgd_nesterov", "adam", "adamw", "adadelta"));

TEST(Optim, ParametersWithoutGradientAreLeftAlone) {
  Tensor a = vec({1, 2}).set_requires_grad();
  Tensor b = vec({3, 4}).set_requires_grad();
  optim::Adam opt({a, b}, {.lr = 0.1});
  a.set_grad(vec({1, 1}));
  opt.step();
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{3, 4}));
  EXPECT_NE(a.to_vector<double>(), (std::vector<double>{1, 2}));
  optim::TensorMap sd = opt.state_dict();
  EXPECT_TRUE(sd.count("state.0.exp_avg"));
  EXPECT_FALSE(sd.count("state.1.step"));
}

TEST(Optim, ZeroGrad) {
  Tensor a = vec({1, 2}).set_requires_grad();
  optim::SGD opt({a}, {.lr = 0.1});
  a.set_grad(vec({5, 6}));
  opt.zero_grad(false);
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0, 0}));
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(Optim, HooksRunInRegistrationOrder) {
  Tensor a = vec({0.5, 0.25, 3}).set_requires_grad();
  Tensor b = vec({2, -2}).set_requires_grad();
  optim::SGD opt({a, b}, {.lr = 1.0});
  // Order matters: (g * 2) + 1 differs from (g + 1) * 2.
  opt.add_grad_transform(a, [](const Tensor& g, const Tensor&) { return g * 2.0; });
  opt.add_grad_transform(a, [](const Tensor& g, const Tensor&) { return g + 1.0; });
  // Clamp to [0, 1] then halve differs from halve then clamp.
  opt.add_projection(a, [](Tensor& p) { p.clamp_(0, 1); });
  opt.add_projection(a, [](Tensor& p) { p.mul_(0.5); });
  // A projection runs even when its parameter got no gradient this step.
  opt.add_projection(b, [](Tensor& p) { p.clamp_(-1, 1); });
  a.set_grad(vec({0.25, -1, 0.5}));
  opt.step();
  // p - (2g + 1) = {-0.0, 1.25, 1} -> clamp {0, 1, 1} -> halve.
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{0, 0.5, 0.5}));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1.5, -1, 2}));
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{1, -1}));
}

TEST(Optim, HooksRejectForeignTensors) {
  Tensor a = vec({1}).set_requires_grad();
  optim::SGD opt({a}, {.lr = 1.0});
  Tensor other = vec({1}).set_requires_grad();
  EXPECT_THROW(opt.add_projection(other, [](Tensor&) {}), std::invalid_argument);
  EXPECT_THROW(opt.add_grad_transform(other, [](const Tensor& g, const Tensor&) { return g; }),
               std::invalid_argument);
}

TEST(Optim, InvalidOptionsAreRejected) {
  Tensor a = vec({1}).set_requires_grad();
  EXPECT_THROW(optim::SGD({a}, {.lr = -1}), std::invalid_argument);
  EXPECT_THROW(optim::SGD({a}, {.lr = 0.1, .nesterov = true}), std::invalid_argument);
  EXPECT_THROW(optim::Adam({a}, {.beta1 = 1.0}), std::invalid_argument);
  EXPECT_THROW(optim::SGD({optim::ParamGroup{{a}}, optim::ParamGroup{{a}}}, {}), std::invalid_argument);
}

TEST(ClipGradNorm, ScalesToMaxNormAndReturnsNorm) {
  Tensor a = vec({3, 4}).set_requires_grad();
  Tensor b = vec({12}).set_requires_grad();
  Tensor c = vec({7}).set_requires_grad();  // no gradient: ignored
  a.set_grad(vec({3, 4}));
  b.set_grad(vec({12}));
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({a, b, c}, 100.0), 13.0);
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{3, 4}));
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({a, b, c}, 6.5), 13.0);
  const double f = 6.5 / (13.0 + 1e-6);
  EXPECT_NEAR(a.grad().to_vector<double>()[1], 4 * f, 1e-15);
  EXPECT_NEAR(b.grad().item(), 12 * f, 1e-15);
  EXPECT_NEAR(optim::clip_grad_norm_({a, b}, 100.0), 6.5, 1e-6);
}

TEST(LrSchedule, StepLR) {
  Tensor a = vec({1}).set_requires_grad();
  Tensor b = vec({1}).set_requires_grad();
  optim::SGD opt({optim::ParamGroup{{a}}, optim::ParamGroup{{b}, 1.0}}, {.lr = 0.1});
  optim::StepLR sched(opt, 2, 0.5);
  std::vector<double> seen;
  for (int i = 0; i < 5; ++i) {
    seen.push_back(opt.param_groups()[1].lr);
    sched.step();
  }
  EXPECT_EQ(seen, (std::vector<double>{1, 1, 0.5, 0.5, 0.25}));
  EXPECT_DOUBLE_EQ(sched.last_lr()[0], 0.1 * 0.25);
}

TEST(LrSchedule, WarmupCosine) {
  Tensor a = vec({1}).set_requires_grad();
  optim::Adam opt({a}, {.lr = 2.0});
  optim::WarmupCosineLR sched(opt, 4, 12, 0.1);
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 0.0);
  sched.set_step(2);
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 1.0);
  sched.set_step(4);
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 2.0);
  sched.set_step(8);  // half way through the cosine: (1 + 0.1) / 2
  EXPECT_NEAR(opt.param_groups()[0].lr, 2.0 * 0.55, 1e-12);
  sched.set_step(12);
  EXPECT_NEAR(opt.param_groups()[0].lr, 0.2, 1e-12);
  sched.step();
  EXPECT_NEAR(opt.param_groups()[0].lr, 0.2, 1e-12);
  EXPECT_THROW(optim::WarmupCosineLR(opt, 5, 4), std::invalid_argument);
}

TEST(LrSchedule, Constant) {
  Tensor a = vec({1}).set_requires_grad();
  optim::SGD opt({a}, {.lr = 0.3});
  optim::ConstantLR sched(opt);
  for (int i = 0; i < 3; ++i) sched.step();
  EXPECT_EQ(sched.last_step(), 3);
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 0.3);
}

namespace {
/// Two optimisers over equal parameters: the second resumes from the first's
/// state_dict after two steps; both must then take bit-identical steps.
template <class Make>
void check_resume(Make make) {
  Tensor a = vec({0.5, -1, 2}).set_requires_grad();
  Tensor b = vec({1, 3}).set_requires_grad();
  auto opt = make(a, b);
  auto grads = [](int s) { return std::pair{vec({0.1 * s, -0.3, 0.7 / s}), vec({s * 1.0, -0.5})}; };
  for (int s = 1; s <= 2; ++s) {
    auto [ga, gb] = grads(s);
    a.set_grad(ga);
    b.set_grad(gb);
    opt->step();
  }
  optim::TensorMap sd = opt->state_dict();
  Tensor a2 = a.detach().clone().set_requires_grad();
  Tensor b2 = b.detach().clone().set_requires_grad();
  auto resumed = make(a2, b2);
  resumed->load_state_dict(sd);
  for (int s = 3; s <= 5; ++s) {
    auto [ga, gb] = grads(s);
    a.set_grad(ga);
    b.set_grad(gb);
    a2.set_grad(ga);
    b2.set_grad(gb);
    opt->step();
    resumed->step();
    EXPECT_EQ(a.to_vector<double>(), a2.to_vector<double>()) << "step " << s;
    EXPECT_EQ(b.to_vector<double>(), b2.to_vector<double>()) << "step " << s;
  }
}
}  // namespace

TEST(OptimStateDict, RoundTripResumesExactly) {
  check_resume([](Tensor a, Tensor b) {
    return std::make_unique<optim::Adam>(
        std::vector<optim::ParamGroup>{{{a}}, {{b}, 0.05, 0.1}}, optim::AdamOptions{.lr = 0.01});
  });
  check_resume([](Tensor a, Tensor b) {
    return std::make_unique<optim::SGD>(std::vector<Tensor>{a, b},
                                        optim::SgdOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
  });
  check_resume([](Tensor a, Tensor b) {
    return std::make_unique<optim::Adadelta>(std::vector<Tensor>{a, b}, optim::AdadeltaOptions{});
  });
}

TEST(OptimStateDict, KeysAndLearningRates) {
  Tensor a = vec({1, 2}).set_requires_grad();
  optim::AdamW opt({a}, {.lr = 0.01});
  a.set_grad(vec({1, 1}));
  opt.step();
  opt.step();
  optim::TensorMap sd = opt.state_dict();
  std::vector<std::string> keys;
  for (const auto& [k, v] : sd) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"param_groups.0.lr", "param_groups.0.weight_decay", "state.0.exp_avg",
                                            "state.0.exp_avg_sq", "state.0.step"}));
  EXPECT_EQ(sd["state.0.step"].dtype(), DType::i64);
  EXPECT_EQ(sd["state.0.step"].item(), 2);
  EXPECT_DOUBLE_EQ(sd["param_groups.0.weight_decay"].item(), 1e-2);
}

TEST(OptimStateDict, RejectsBadState) {
  Tensor a = vec({1, 2}).set_requires_grad();
  optim::Adam opt({a}, {});
  a.set_grad(vec({1, 1}));
  opt.step();
  const optim::TensorMap good = opt.state_dict();
  auto expect_error = [&](optim::TensorMap sd, const std::string& fragment) {
    try {
      opt.load_state_dict(sd);
      ADD_FAILURE() << "accepted a state with " << fragment;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  optim::TensorMap extra = good;
  extra["state.0.momentum_buffer"] = vec({0, 0});
  expect_error(extra, "unexpected key 'state.0.momentum_buffer'");
  optim::TensorMap missing = good;
  missing.erase("state.0.exp_avg_sq");
  expect_error(missing, "missing key 'state.0.exp_avg_sq'");
  optim::TensorMap wrong_shape = good;
  wrong_shape["state.0.exp_avg"] = vec({0, 0, 0});
  expect_error(wrong_shape, "has shape [3]");
  optim::TensorMap out_of_range = good;
  out_of_range["state.4.step"] = Tensor::scalar(1, {DType::i64});
  expect_error(out_of_range, "names parameter 4");
}

TEST(Optim, LargeTensorsMatchElementwiseUpdates) {
  // Above the parallel grain the kernels split the work across threads; every element
  // must still get exactly the update it gets in a small tensor.
  const int64_t n = 100000, piece = 1000;
  std::vector<double> p0(n), g0(n);
  for (int64_t i = 0; i < n; ++i) {
    p0[size_t(i)] = std::sin(0.001 * double(i));
    g0[size_t(i)] = std::cos(0.0007 * double(i));
  }
  Tensor big = Tensor::from_vector(p0, {n}, {DType::f64}).set_requires_grad();
  optim::Adam big_opt({big}, {.lr = 0.01, .weight_decay = 0.1});
  std::vector<Tensor> pieces;
  for (int64_t s = 0; s < n; s += piece)
    pieces.push_back(
        Tensor::from_vector(std::vector<double>(p0.begin() + s, p0.begin() + s + piece), {piece}, {DType::f64})
            .set_requires_grad());
  optim::Adam piece_opt(pieces, {.lr = 0.01, .weight_decay = 0.1});
  for (int step = 0; step < 2; ++step) {
    big.set_grad(Tensor::from_vector(g0, {n}, {DType::f64}));
    for (size_t k = 0; k < pieces.size(); ++k)
      pieces[k].set_grad(Tensor::from_vector(
          std::vector<double>(g0.begin() + int64_t(k) * piece, g0.begin() + int64_t(k + 1) * piece), {piece},
          {DType::f64}));
    big_opt.step();
    piece_opt.step();
  }
  std::vector<double> got = big.to_vector<double>();
  for (size_t k = 0; k < pieces.size(); ++k)
    ASSERT_EQ(std::vector<double>(got.begin() + int64_t(k) * piece, got.begin() + int64_t(k + 1) * piece),
              pieces[k].to_vector<double>())
        << "piece " << k;
}

TEST(Optim, NonContiguousAndOtherDtypeGradients) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}, {DType::f64}).set_requires_grad();
  Tensor b = a.detach().clone().set_requires_grad();
  optim::SGD opt_a({a}, {.lr = 0.5, .momentum = 0.9});
  optim::SGD opt_b({b}, {.lr = 0.5, .momentum = 0.9});
  Tensor g = Tensor::from_vector<double>({1, -2, 3, -4, 5, -6}, {3, 2}, {DType::f64});
  a.set_grad(g.transpose(0, 1));               // strided view
  b.set_grad(g.transpose(0, 1).contiguous().to(DType::f32));  // f32 gradient for an f64 parameter
  opt_a.step();
  opt_b.step();
  EXPECT_EQ(a.to_vector<double>(), b.to_vector<double>());
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{0.5, 0.5, 0.5, 5, 7, 9}));
}
