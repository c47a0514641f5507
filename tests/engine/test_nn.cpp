#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/nn/nn.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/random.h"
#include "engine/ops/reduce.h"

using namespace glassbox;

namespace {

/// A small ProtoNet-like model: member layers, an owned child and a raw parameter.
struct TinyNet : nn::Module {
  nn::Sequential encoder;
  nn::Linear head;
  Parameter prototypes;
  std::shared_ptr<nn::Linear> extra;

  explicit TinyNet(Generator* gen)
      : encoder{std::make_shared<nn::Conv2d>(1, 4, 3, nn::Conv2dOptions{.padding = 1}, gen),
                std::make_shared<nn::BatchNorm2d>(4), std::make_shared<nn::ReLU>(), std::make_shared<nn::Flatten>()},
        head(4 * 5 * 5, 3, true, gen) {
    register_module("encoder", encoder);
    register_module("head", head);
    extra = register_module("extra", std::make_shared<nn::Linear>(3, 2, false, gen));
    prototypes = register_parameter("prototypes", Tensor::zeros({2, 3}));
  }
  std::string name() const override { return "TinyNet"; }
};

std::vector<std::string> keys(const nn::StateDict& sd) {
  std::vector<std::string> k;
  for (const auto& [name, t] : sd) k.push_back(name);
  return k;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Module, StateDictNamesFollowRegistration) {
  Generator gen(1);
  TinyNet net(&gen);
  EXPECT_EQ(keys(net.state_dict()),
            (std::vector<std::string>{"encoder.0.bias", "encoder.0.weight", "encoder.1.bias",
                                      "encoder.1.num_batches_tracked", "encoder.1.running_mean",
                                      "encoder.1.running_var", "encoder.1.weight", "extra.weight", "head.bias",
                                      "head.weight", "prototypes"}));
  std::vector<std::string> param_names;
  for (const auto& [n, p] : net.named_parameters()) param_names.push_back(n);
  EXPECT_EQ(param_names, (std::vector<std::string>{"prototypes", "encoder.0.weight", "encoder.0.bias",
                                                   "encoder.1.weight", "encoder.1.bias", "head.weight", "head.bias",
                                                   "extra.weight"}));
  std::vector<std::string> buffer_names;
  for (const auto& [n, b] : net.named_buffers()) buffer_names.push_back(n);
  EXPECT_EQ(buffer_names, (std::vector<std::string>{"encoder.1.running_mean", "encoder.1.running_var",
                                                    "encoder.1.num_batches_tracked"}));
  std::vector<std::string> module_names;
  for (const auto& [n, m] : net.named_modules()) module_names.push_back(n);
  EXPECT_EQ(module_names, (std::vector<std::string>{"", "encoder", "encoder.0", "encoder.1", "encoder.2",
                                                    "encoder.3", "head", "extra"}));
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
  for (const Tensor& b : net.buffers()) EXPECT_FALSE(b.requires_grad());
}

TEST(Module, RegistrationErrors) {
  nn::Linear l(2, 2);
  EXPECT_THROW(l.register_parameter("weight", Tensor::zeros({1})), std::invalid_argument);
  EXPECT_THROW(l.register_buffer("a.b", Tensor::zeros({1})), std::invalid_argument);
  EXPECT_THROW(l.register_parameter("", Tensor::zeros({1})), std::invalid_argument);
  Tensor x = Tensor::zeros({2}).set_requires_grad();
  Tensor y = x * 2.0;
  EXPECT_THROW(l.register_parameter("y", y), std::invalid_argument);
}

TEST(Module, ParameterCounting) {
  EXPECT_EQ(nn::Linear(4, 3).num_parameters(), 4 * 3 + 3);
  EXPECT_EQ(nn::Linear(4, 3, false).num_parameters(), 12);
  EXPECT_EQ(nn::Conv2d(2, 4, 3, {.groups = 2}).num_parameters(), 4 * 1 * 9 + 4);
  EXPECT_EQ(nn::ConvTranspose2d(4, 6, 3, {.groups = 2}).num_parameters(), 4 * 3 * 9 + 6);
  EXPECT_EQ(nn::BatchNorm2d(5).num_parameters(), 10);
  EXPECT_EQ(nn::BatchNorm1d(5, {.affine = false}).num_parameters(), 0);
  EXPECT_EQ(nn::LayerNorm({3, 4}).num_parameters(), 24);
  EXPECT_EQ(nn::Embedding(10, 3).num_parameters(), 30);
  Generator gen(0);
  TinyNet net(&gen);
  EXPECT_EQ(net.num_parameters(), (4 * 9 + 4) + 8 + (100 * 3 + 3) + 6 + 6);
  // A tensor registered twice (weight tying) is counted once.
  nn::Module tied;
  nn::Linear a(3, 3);
  tied.register_module("a", a);
  tied.register_parameter("same_as_a", a.weight);
  EXPECT_EQ(tied.parameters().size(), 2u);
  EXPECT_EQ(tied.num_parameters(), 12);
  EXPECT_EQ(tied.state_dict().size(), 3u);
  a.weight.set_requires_grad(false);
  EXPECT_EQ(tied.num_parameters(true), 3);
}

TEST(Module, WeightLayouts) {
  nn::Conv2d conv(6, 8, 5, {.groups = 2});
  EXPECT_EQ(conv.weight.shape(), Shape({8, 3, 5, 5}));
  nn::ConvTranspose2d deconv(6, 8, 3, {.groups = 2});
  EXPECT_EQ(deconv.weight.shape(), Shape({6, 4, 3, 3}));
  nn::Linear lin(7, 2);
  EXPECT_EQ(lin.weight.shape(), Shape({2, 7}));
  EXPECT_EQ(lin.bias.shape(), Shape({2}));
  EXPECT_THROW(nn::Conv2d(3, 4, 3, {.groups = 2}), std::invalid_argument);
  EXPECT_THROW(nn::ConvTranspose2d(2, 2, 3, {.stride = 2, .output_padding = 2}), std::invalid_argument);
}

TEST(Module, TrainEvalIsRecursive) {
  Generator gen(0);
  TinyNet net(&gen);
  for (auto& [n, m] : net.named_modules()) EXPECT_TRUE(m->is_training()) << n;
  net.eval();
  for (auto& [n, m] : net.named_modules()) EXPECT_FALSE(m->is_training()) << n;
  net.encoder.train();
  EXPECT_TRUE(net.encoder[1].is_training());
  EXPECT_FALSE(net.head.is_training());
}

TEST(Module, StateDictRoundTrip) {
  Generator g1(1), g2(2);
  TinyNet a(&g1), b(&g2);
  EXPECT_NE(a.head.weight.to_vector<float>(), b.head.weight.to_vector<float>());
  {
    NoGradGuard no_grad;
    a.prototypes.fill_(0.5);
    auto& bn = static_cast<nn::BatchNorm2d&>(a.encoder[1]);
    bn.running_mean.fill_(3.0);
  }
  b.load_state_dict(a.state_dict());
  for (const auto& [name, t] : a.state_dict())
    EXPECT_EQ(b.state_dict().at(name).to_vector<double>(), t.to_vector<double>()) << name;
  // The members are the registered handles, so they see the loaded values.
  EXPECT_EQ(b.prototypes.to_vector<float>(), std::vector<float>(6, 0.5f));
  EXPECT_EQ(b.head.weight.to_vector<float>(), a.head.weight.to_vector<float>());
  EXPECT_TRUE(b.head.weight.requires_grad());
}

TEST(Module, LoadStateDictErrorsListEveryProblem) {
  nn::Linear l(3, 2);
  nn::StateDict sd = l.state_dict();
  sd.erase("bias");
  sd["bogus"] = Tensor::zeros({1});
  const std::string msg = error_of([&] { l.load_state_dict(sd); });
  EXPECT_NE(msg.find("Linear.load_state_dict"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing keys [bias]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unexpected keys [bogus]"), std::string::npos) << msg;

  nn::StateDict wrong = l.state_dict();
  wrong["weight"] = Tensor::zeros({3, 2});
  const std::string shape_msg = error_of([&] { l.load_state_dict(wrong); });
  EXPECT_NE(shape_msg.find("weight: checkpoint [3, 2] vs module [2, 3]"), std::string::npos) << shape_msg;

  // Non-strict loading reports the keys and loads the rest; nothing loads after an error.
  nn::StateDict partial = {{"weight", Tensor::ones({2, 3})}, {"other", Tensor::zeros({1})}};
  nn::LoadResult r = l.load_state_dict(partial, false);
  EXPECT_EQ(r.missing_keys, std::vector<std::string>{"bias"});
  EXPECT_EQ(r.unexpected_keys, std::vector<std::string>{"other"});
  EXPECT_EQ(l.weight.to_vector<float>(), std::vector<float>(6, 1.0f));
  nn::StateDict bad = {{"weight", Tensor::zeros({2, 3})}, {"bias", Tensor::zeros({5})}};
  EXPECT_THROW(l.load_state_dict(bad), std::invalid_argument);
  EXPECT_EQ(l.weight.to_vector<float>(), std::vector<float>(6, 1.0f));
}

TEST(Module, ToDtypeConvertsInPlace) {
  Generator gen(3);
  nn::Linear l(3, 2, true, &gen);
  nn::BatchNorm1d bn(2);
  std::vector<float> before = l.weight.to_vector<float>();
  Tensor handle = l.weight;
  l.to(DType::f64);
  EXPECT_EQ(handle.dtype(), DType::f64);
  EXPECT_TRUE(handle.requires_grad());
  std::vector<double> after = handle.to_vector<double>();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i], double(before[i]));
  bn.to(DType::f64);
  EXPECT_EQ(bn.running_var.dtype(), DType::f64);
  EXPECT_EQ(bn.num_batches_tracked.dtype(), DType::i64);
  l.to(Device::cpu());
  EXPECT_EQ(l.weight.device(), Device::cpu());
}

TEST(Init, SeedFixesInitialisationAndBoundsFollowPyTorch) {
  Generator g1(7), g2(7), g3(8);
  nn::Linear a(16, 8, true, &g1), b(16, 8, true, &g2), c(16, 8, true, &g3);
  EXPECT_EQ(a.weight.to_vector<float>(), b.weight.to_vector<float>());
  EXPECT_EQ(a.bias.to_vector<float>(), b.bias.to_vector<float>());
  EXPECT_NE(a.weight.to_vector<float>(), c.weight.to_vector<float>());
  // kaiming_uniform(a = sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); fan_in = 16.
  for (float w : a.weight.to_vector<float>()) EXPECT_LE(std::abs(w), 0.25f);
  for (float w : a.bias.to_vector<float>()) EXPECT_LE(std::abs(w), 0.25f);
  nn::Conv2d conv(2, 4, 3, {}, &g1);  // fan_in = 18
  for (float w : conv.weight.to_vector<float>()) EXPECT_LE(std::abs(w), 1 / std::sqrt(18.0f));
  nn::ConvTranspose2d deconv(2, 4, 3, {}, &g1);  // fan_in = weight.size(1) * 9 = 36
  for (float w : deconv.weight.to_vector<float>()) EXPECT_LE(std::abs(w), 1 / 6.0f);

  Tensor t = Tensor::empty({200, 100});
  nn::init::xavier_uniform_(t, 1.0, &g1);
  const float bound = std::sqrt(6.0f / 300.0f);
  float max_abs = 0;
  for (float v : t.to_vector<float>()) max_abs = std::max(max_abs, std::abs(v));
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.9f * bound);
  nn::init::kaiming_normal_(t, 0.0, nn::init::FanMode::fan_in, nn::init::Nonlinearity::relu, &g1);
  double sq = 0;
  for (float v : t.to_vector<float>()) sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(sq / 20000.0), std::sqrt(2.0 / 100.0), 0.01);
  nn::init::ones_(t);
  EXPECT_EQ(t.to_vector<float>()[123], 1.0f);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(nn::init::Nonlinearity::leaky_relu, std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
}

TEST(Layers, OutputShapes) {
  Generator gen(0);
  EXPECT_EQ(nn::Linear(4, 3, true, &gen)(Tensor::zeros({2, 5, 4})).shape(), Shape({2, 5, 3}));
  EXPECT_EQ(nn::Conv2d(1, 4, 3, {.padding = 1}, &gen)(Tensor::zeros({2, 1, 7, 7})).shape(), Shape({2, 4, 7, 7}));
  EXPECT_EQ(nn::Conv2d(1, 4, 3, {.stride = 2, .same_padding = true}, &gen)(Tensor::zeros({2, 1, 7, 7})).shape(),
            Shape({2, 4, 4, 4}));
  EXPECT_EQ(nn::Conv2d(1, 2, 4, {.same_padding = true}, &gen)(Tensor::zeros({1, 1, 6, 5})).shape(),
            Shape({1, 2, 6, 5}));
  EXPECT_EQ(nn::ConvTranspose2d(4, 2, 3, {.stride = 2, .padding = 1, .output_padding = 1}, &gen)(
                Tensor::zeros({1, 4, 4, 4}))
                .shape(),
            Shape({1, 2, 8, 8}));
  EXPECT_EQ(nn::BatchNorm1d(3)(Tensor::ones({4, 3})).shape(), Shape({4, 3}));
  EXPECT_EQ(nn::BatchNorm1d(3)(Tensor::ones({4, 3, 5})).shape(), Shape({4, 3, 5}));
  EXPECT_EQ(nn::BatchNorm2d(3)(Tensor::ones({2, 3, 4, 4})).shape(), Shape({2, 3, 4, 4}));
  EXPECT_EQ(nn::LayerNorm({4})(Tensor::ones({2, 3, 4})).shape(), Shape({2, 3, 4}));
  EXPECT_EQ(nn::Embedding(10, 6, &gen)(Tensor::zeros({2, 3}, {DType::i64})).shape(), Shape({2, 3, 6}));
  EXPECT_EQ(nn::Upsample({.scale_factor = 2})(Tensor::zeros({1, 2, 3, 5})).shape(), Shape({1, 2, 6, 10}));
  EXPECT_EQ(nn::Upsample({.out_h = 4, .out_w = 7, .mode = ops::UpsampleMode::bilinear})(Tensor::zeros({1, 2, 3, 5}))
                .shape(),
            Shape({1, 2, 4, 7}));
  nn::Sequential mlp{std::make_shared<nn::Linear>(4, 8, true, &gen), std::make_shared<nn::GELU>(),
                     std::make_shared<nn::Dropout>(0.1, &gen), std::make_shared<nn::Linear>(8, 2, true, &gen),
                     std::make_shared<nn::Sigmoid>()};
  EXPECT_EQ(mlp(Tensor::zeros({5, 4})).shape(), Shape({5, 2}));
  for (auto layer : std::vector<std::shared_ptr<nn::UnaryModule>>{
           std::make_shared<nn::ReLU>(), std::make_shared<nn::LeakyReLU>(0.2), std::make_shared<nn::Tanh>(),
           std::make_shared<nn::Softplus>(), std::make_shared<nn::SiLU>(), std::make_shared<nn::Sigmoid>()})
    EXPECT_EQ((*layer)(Tensor::zeros({2, 3})).shape(), Shape({2, 3})) << layer->name();
  EXPECT_EQ(nn::Flatten()(Tensor::zeros({2, 3, 4})).shape(), Shape({2, 12}));
  EXPECT_EQ(nn::Unflatten({3, 4})(Tensor::zeros({2, 12})).shape(), Shape({2, 3, 4}));
}

TEST(Layers, InputShapeErrorsNameTheLayer) {
  EXPECT_NE(error_of([] { nn::Linear(4, 3)(Tensor::zeros({2, 5})); }).find("Linear: expected input [..., 4]"),
            std::string::npos);
  EXPECT_NE(error_of([] { nn::Conv2d(3, 4, 3)(Tensor::zeros({2, 1, 7, 7})); }).find("Conv2d: expected input [N, 3"),
            std::string::npos);
  EXPECT_NE(error_of([] { nn::BatchNorm2d(3)(Tensor::zeros({2, 3})); }).find("BatchNorm2d"), std::string::npos);
  EXPECT_NE(error_of([] { nn::LayerNorm({4})(Tensor::zeros({2, 3})); }).find("LayerNorm"), std::string::npos);
  EXPECT_THROW(nn::Upsample({}), std::invalid_argument);
  EXPECT_THROW(nn::Dropout(1.5), std::invalid_argument);
}

TEST(Layers, BatchNormTracksBatchesInTrainingOnly) {
  nn::BatchNorm1d bn(2);
  Tensor x = Tensor::from_vector<float>({1, 10, 3, 20}, {2, 2});
  bn(x);
  bn(x);
  EXPECT_EQ(bn.num_batches_tracked.item(), 2);
  EXPECT_NE(bn.running_mean.to_vector<float>(), (std::vector<float>{0, 0}));
  bn.eval();
  std::vector<float> mean = bn.running_mean.to_vector<float>();
  bn(x);
  EXPECT_EQ(bn.num_batches_tracked.item(), 2);
  EXPECT_EQ(bn.running_mean.to_vector<float>(), mean);
}

// Sequential runs batch norm + ReLU / LeakyReLU (slope > 0) as one fused op: the same values,
// gradients and running statistics as the layers one by one. A LeakyReLU with a negative slope
// (its output's sign no longer tells where its input was positive) stays a layer of its own.
TEST(Layers, SequentialFusesBatchNormWithTheActivationAfterIt) {
  auto make = [] {
    return nn::Sequential{std::make_shared<nn::BatchNorm2d>(3), std::make_shared<nn::ReLU>(),
                          std::make_shared<nn::BatchNorm2d>(3), std::make_shared<nn::LeakyReLU>(0.2),
                          std::make_shared<nn::BatchNorm2d>(3), std::make_shared<nn::LeakyReLU>(-0.5)};
  };
  nn::Sequential fused = make(), layered = make();
  const Tensor input = ops::rand({4, 3, 3, 3}, -2.0, 2.0);
  const Tensor weight = ops::rand({4, 3, 3, 3}, -1.0, 1.0);
  Tensor xf = input.clone().set_requires_grad(), xl = input.clone().set_requires_grad();
  Tensor yf = fused(xf);
  Tensor yl = xl;
  for (size_t i = 0; i < layered.size(); ++i) yl = layered[i](yl);
  EXPECT_EQ(yf.to_vector<float>(), yl.to_vector<float>());
  ops::sum(ops::mul(yf, weight)).backward();
  ops::sum(ops::mul(yl, weight)).backward();
  EXPECT_EQ(xf.grad().to_vector<float>(), xl.grad().to_vector<float>());
  for (size_t i : {0, 2, 4}) {
    auto& a = dynamic_cast<nn::BatchNorm2d&>(fused[i]);
    auto& b = dynamic_cast<nn::BatchNorm2d&>(layered[i]);
    EXPECT_EQ(a.weight.grad().to_vector<float>(), b.weight.grad().to_vector<float>()) << "layer " << i;
    EXPECT_EQ(a.running_var.to_vector<float>(), b.running_var.to_vector<float>()) << "layer " << i;
    EXPECT_EQ(a.num_batches_tracked.item(), 1);
  }
  // The last pair is not fused: the output's node is the LeakyReLU's.
  EXPECT_EQ(yf.grad_fn()->kind(), OpKind::leaky_relu);
  nn::Sequential two{std::make_shared<nn::BatchNorm2d>(3), std::make_shared<nn::ReLU>()};
  EXPECT_EQ(two(input.clone().set_requires_grad()).grad_fn()->kind(), OpKind::batch_norm);
}

TEST(Layers, PoolingLayersAreThePoolingOpsWithPyTorchsDefaults) {
  Generator gen(0);
  const Tensor x = ops::randn({2, 3, 7, 7}, 0.0, 1.0, {}, &gen);
  // The stride defaults to the kernel (torch.nn.MaxPool2d(2) halves the image, dropping the odd row).
  nn::MaxPool2d halve(2);
  EXPECT_EQ(halve.options.stride_h, 2);
  EXPECT_EQ(halve(x).shape(), Shape({2, 3, 3, 3}));
  nn::MaxPool2d overlapping(3, 2, 1);
  const Tensor expected = ops::max_pool2d(x, nn::square_pool(3, 2, 1));
  EXPECT_EQ(overlapping(x).shape(), Shape({2, 3, 4, 4}));
  EXPECT_EQ(overlapping(x).to_vector<float>(), expected.to_vector<float>());
  nn::AvgPool2d average(2);
  EXPECT_EQ(average(x).to_vector<float>(), ops::avg_pool2d(x, nn::square_pool(2)).to_vector<float>());
  EXPECT_EQ(overlapping.num_parameters(), 0);
  // In a Sequential stack the gradient reaches the layer before the pooling.
  nn::Sequential net{std::make_shared<nn::Conv2d>(3, 4, 3, nn::Conv2dOptions{.padding = 1}, &gen),
                     std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
                     std::make_shared<nn::AvgPool2d>(3), std::make_shared<nn::Flatten>()};
  const Tensor out = net(x);
  EXPECT_EQ(out.shape(), Shape({2, 4}));
  ops::sum(out).backward();
  const Tensor weight_grad = net.parameters()[0].grad();
  ASSERT_TRUE(weight_grad.defined());
  EXPECT_GT(ops::sum(ops::abs(weight_grad)).item(), 0.0);
  EXPECT_NE(error_of([] { nn::MaxPool2d(0); }).find("MaxPool2d: kernel 0x0"), std::string::npos);
  EXPECT_NE(error_of([] { nn::AvgPool2d(2, 2, -1); }).find("AvgPool2d"), std::string::npos);
  EXPECT_NE(error_of([] {
              nn::MaxPool2d(2)(Tensor::zeros({3, 7, 7}));
            }).find("MaxPool2d: expected input [N, C, H, W]"),
            std::string::npos);
}

TEST(Layers, DropoutIsIdentityInEval) {
  Generator gen(5);
  nn::Dropout drop(0.5, &gen);
  Tensor x = Tensor::ones({1000});
  std::vector<float> y = drop(x).to_vector<float>();
  const auto zeros = std::count(y.begin(), y.end(), 0.0f);
  EXPECT_GT(zeros, 400);
  EXPECT_LT(zeros, 600);
  drop.eval();
  EXPECT_EQ(drop(x).to_vector<float>(), x.to_vector<float>());
}

TEST(Layers, LinearComputesXWtPlusB) {
  nn::Linear l(2, 2);
  nn::StateDict sd = {{"weight", Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2})},
                      {"bias", Tensor::from_vector<float>({0.5f, -1}, {2})}};
  l.load_state_dict(sd);
  EXPECT_EQ(l(Tensor::from_vector<float>({1, 1}, {1, 2})).to_vector<float>(), (std::vector<float>{3.5f, 6}));
}

TEST(Module, ParameterIsATrainableLeaf) {
  Tensor x = Tensor::ones({2}).set_requires_grad();
  Parameter p(x * 2.0);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{2, 2}));
  nn::Module m;
  Parameter q = m.register_parameter("q", p);
  EXPECT_TRUE(q.is_same(p));
  EXPECT_TRUE(m.named_parameters()[0].second.is_same(p));
}
