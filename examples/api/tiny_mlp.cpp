// A two-layer perceptron learns XOR-like quadrants with the engine's autograd and
// plain gradient descent: the smallest end-to-end use of the library. Linear layers
// are written out as a broadcast product summed over the input dim, so the example
// needs only elementwise ops, activations and reductions.
#include <cstdio>
#include <random>
#include <vector>

#include "engine/glassbox.h"

using namespace glassbox;

namespace {

// x [N, in] times w [in, out] plus b [out], as sum_i x[n, i, 1] * w[1, i, out].
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  return ops::sum(x.unsqueeze(2) * w.unsqueeze(0), {1}) + b;
}

Tensor parameter(const Shape& shape, double scale, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, static_cast<float>(scale));
  std::vector<float> values(shape.product());
  for (float& v : values) v = normal(rng);
  Tensor t = Tensor::from_vector(values, shape);
  t.set_requires_grad();
  return t;
}

}  // namespace

int main() {
  constexpr int64_t kSamples = 512, kHidden = 16, kSteps = 300;
  constexpr double kLearningRate = 0.5;
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> inputs, targets;
  for (int64_t i = 0; i < kSamples; ++i) {
    const float a = uniform(rng), b = uniform(rng);
    inputs.insert(inputs.end(), {a, b});
    targets.push_back(a * b > 0 ? 1.0f : 0.0f);  // class 1 in the first and third quadrants
  }
  const Tensor x = Tensor::from_vector(inputs, {kSamples, 2});
  const Tensor t = Tensor::from_vector(targets, {kSamples, 1});

  std::vector<Tensor> params = {parameter({2, kHidden}, 1.0, rng), parameter({kHidden}, 0.1, rng),
                                parameter({kHidden, 1}, 0.5, rng), parameter({1}, 0.1, rng)};
  std::printf("tiny MLP (2 -> %lld tanh -> 1 sigmoid), %lld samples, gradient descent lr %.2f\n",
              static_cast<long long>(kHidden), static_cast<long long>(kSamples), kLearningRate);
  double first_loss = 0, loss_value = 0;
  for (int64_t step = 0; step <= kSteps; ++step) {
    const Tensor hidden = ops::tanh(linear(x, params[0], params[1]));
    const Tensor p = ops::clamp(ops::sigmoid(linear(hidden, params[2], params[3])), 1e-6, 1 - 1e-6);
    // Binary cross-entropy: -(t log p + (1 - t) log(1 - p)), averaged.
    const Tensor loss = -ops::mean(t * ops::log(p) + (1.0 - t) * ops::log(1.0 - p));
    loss_value = loss.item();
    if (step == 0) first_loss = loss_value;
    if (step % 50 == 0) {
      const double accuracy = ops::mean(ops::eq(ops::gt(p, 0.5).to(DType::f32), t).to(DType::f32)).item();
      std::printf("step %4lld  loss %.4f  accuracy %.1f%%\n", static_cast<long long>(step), loss_value, 100 * accuracy);
    }
    for (Tensor& w : params) w.set_grad(Tensor());
    loss.backward();
    NoGradGuard no_grad;
    for (Tensor& w : params) w.add_(w.grad(), -kLearningRate);
  }
  std::printf("loss fell from %.4f to %.4f\n", first_loss, loss_value);
  return loss_value < 0.5 * first_loss ? 0 : 1;
}
