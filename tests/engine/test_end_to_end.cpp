// End to end: an MLP and a small convnet built from nn layers learn synthetic tasks
// with the optimisers, i.e. every piece of the engine works together.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/nn/nn.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "engine/optim/sgd.h"

using namespace glassbox;

namespace {

double accuracy(const Tensor& logits, const Tensor& labels) {
  NoGradGuard ng;
  return ops::mean(ops::eq(ops::argmax(logits, 1), labels).to(DType::f32)).item();
}

}  // namespace

TEST(EndToEnd, MlpLearnsTwoInterleavedClasses) {
  // Points on two interleaved spirals: not linearly separable, so the hidden layer must learn.
  const int64_t n = 200;
  std::vector<float> xs;
  std::vector<int64_t> ys;
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = i % 2;
    double t = 0.5 + 3.0 * double(i / 2) / double(n / 2);
    double angle = t + (c ? M_PI : 0.0);
    xs.push_back(float(t * std::cos(angle) / 3.5));
    xs.push_back(float(t * std::sin(angle) / 3.5));
    ys.push_back(c);
  }
  Tensor x = Tensor::from_vector(xs, {n, 2}), y = Tensor::from_vector(ys, {n});
  Generator gen(3);
  nn::Sequential mlp{std::make_shared<nn::Linear>(2, 64, true, &gen), std::make_shared<nn::Tanh>(),
                     std::make_shared<nn::Linear>(64, 64, true, &gen), std::make_shared<nn::Tanh>(),
                     std::make_shared<nn::Linear>(64, 2, true, &gen)};
  optim::AdamOptions o;
  o.lr = 0.01;
  optim::Adam opt(mlp.parameters(), o);
  double first = 0, last = 0;
  for (int step = 0; step < 400; ++step) {
    Tensor loss = ops::cross_entropy(mlp(x), y);
    if (step == 0) first = loss.item();
    last = loss.item();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.25 * first) << first << " -> " << last;
  EXPECT_GT(accuracy(mlp(x), y), 0.95);
}

TEST(EndToEnd, ConvnetLearnsBarOrientation) {
  // 8x8 images holding one horizontal (class 0) or vertical (class 1) bar at a random place.
  const int64_t n = 64;
  Generator data_gen(11);
  std::vector<double> where = ops::rand({n}, 0.0, 8.0, {}, &data_gen).to_vector<double>();
  std::vector<float> pixels(static_cast<size_t>(n * 64), 0.0f);
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = i % 2, k = int64_t(where[size_t(i)]);
    for (int64_t j = 0; j < 8; ++j) pixels[size_t(i * 64 + (c ? j * 8 + k : k * 8 + j))] = 1.0f;
    labels.push_back(c);
  }
  Tensor x = Tensor::from_vector(pixels, {n, 1, 8, 8}), y = Tensor::from_vector(labels, {n});
  Generator gen(5);
  nn::Conv2dOptions same;
  same.padding = 1;
  nn::Sequential net{std::make_shared<nn::Conv2d>(1, 8, 3, same, &gen), std::make_shared<nn::ReLU>(),
                     std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(8 * 64, 2, true, &gen)};
  optim::SgdOptions o;
  o.lr = 0.05;
  o.momentum = 0.9;
  optim::SGD opt(net.parameters(), o);
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    Tensor loss = ops::cross_entropy(net(x), y);
    if (step == 0) first = loss.item();
    last = loss.item();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.2 * first) << first << " -> " << last;
  EXPECT_EQ(accuracy(net(x), y), 1.0);
}
