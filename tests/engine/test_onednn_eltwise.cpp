// Large dense f32 activations run on oneDNN's eltwise primitives in chunks, the rest on
// the scalar loops: both must agree with the double-precision formulas, at a size that
// leaves a tail after the whole chunks.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops/ops.h"
#include "tests/support/gradcheck.h"

using namespace glassbox;

namespace {

// One chunk of each size (2^18, 2^14, 2^10; some twice) and a tail for the scalar loop.
constexpr int64_t kN = (1 << 18) + 2 * (1 << 14) + 3 * (1 << 10) + 77;

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1 + std::abs(want[i]))) << what << " at " << i;
}

}  // namespace

TEST(OnednnEltwise, ForwardMatchesTheFormulasAcrossChunksAndTail) {
  Tensor x = glassbox::testing::random_tensor({kN}, 3, -8.0, 8.0).to(DType::f32);
  const std::vector<double> v = x.to_vector<double>();
  auto apply = [&](double (*f)(double)) {
    std::vector<double> r;
    for (double a : v) r.push_back(f(a));
    return r;
  };
  expect_close(ops::sigmoid(x).to_vector<double>(), apply([](double a) { return 1 / (1 + std::exp(-a)); }), 1e-6, "sigmoid");
  expect_close(ops::tanh(x).to_vector<double>(), apply([](double a) { return std::tanh(a); }), 1e-6, "tanh");
  expect_close(ops::exp(x).to_vector<double>(), apply([](double a) { return std::exp(a); }), 1e-6, "exp");
}

TEST(OnednnEltwise, BackwardFromTheOutputMatchesTheFormulas) {
  Tensor x = glassbox::testing::random_tensor({kN}, 4, -6.0, 6.0).to(DType::f32);
  Tensor g = glassbox::testing::random_tensor({kN}, 5).to(DType::f32);
  const std::vector<double> xv = x.to_vector<double>(), gv = g.to_vector<double>();
  for (const bool use_tanh : {false, true}) {
    Tensor leaf = x.detach();
    leaf.set_requires_grad(true);
    Tensor y = use_tanh ? ops::tanh(leaf) : ops::sigmoid(leaf);
    y.backward(g);
    std::vector<double> want;
    for (size_t i = 0; i < xv.size(); ++i) {
      const double s = use_tanh ? std::tanh(xv[i]) : 1 / (1 + std::exp(-xv[i]));
      want.push_back(gv[i] * (use_tanh ? 1 - s * s : s * (1 - s)));
    }
    expect_close(leaf.grad().to_vector<double>(), want, 1e-5, use_tanh ? "tanh backward" : "sigmoid backward");
  }
}
