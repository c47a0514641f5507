#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/autograd/function.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linalg.h"
#include "engine/ops/reduce.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/registry.h"
#include "tests/support/gradcheck.h"

using namespace glassbox;
using glassbox::testing::grad_input;
using glassbox::testing::grad_input_transposed;
using glassbox::testing::gradcheck;
using glassbox::testing::random_tensor;

namespace {

/// Matrix product by broadcasting and summing (no GEMM): [.., M, K, 1] * [.., 1, K, N].
Tensor reference_matmul(const Tensor& a, const Tensor& b) {
  return ops::sum(ops::mul(a.unsqueeze(-1), b.unsqueeze(-3)), {-2});
}

void expect_close(const Tensor& actual, const Tensor& expected, double tol) {
  ASSERT_EQ(actual.shape(), expected.shape());
  std::vector<double> x = actual.to_vector<double>(), y = expected.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "element " << i;
}

Tensor eye(int64_t n, double scale = 1.0) {
  std::vector<double> v(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) v[size_t(i * n + i)] = scale;
  return Tensor::from_vector(v, {n, n}, {DType::f64});
}

/// t's values in a view with stride 2 on its last two dims (no unit stride anywhere).
Tensor spread_out(const Tensor& t) {
  Shape big = t.shape();
  big[big.size() - 1] *= 2;
  big[big.size() - 2] *= 2;
  Tensor v = Tensor::zeros(big, {t.dtype()}).slice(-2, 0, big[big.size() - 2], 2).slice(-1, 0, big[big.size() - 1], 2);
  v.copy_(t);
  return v;
}

Tensor leaf(const Tensor& t) {
  Tensor d = t.detach();
  d.set_requires_grad();
  return d;
}

}  // namespace

// ---- matmul -----------------------------------------------------------------------------

TEST(Matmul, HandValues) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<float>({7, 8, 9, 10, 11, 12}, {3, 2});
  EXPECT_EQ(ops::matmul(a, b).to_vector<float>(), (std::vector<float>{58, 64, 139, 154}));
  EXPECT_EQ(a.matmul(b).shape(), (Shape{2, 2}));
}

TEST(Matmul, MatchesReferenceOverLayoutsAndBroadcasts) {
  struct Case {
    Shape a, b;
  };
  for (DType dt : {DType::f32, DType::f64}) {
    for (const Case& c : std::vector<Case>{{{2, 3, 4}, {4, 5}},
                                           {{3, 1, 2, 4}, {5, 4, 3}},
                                           {{1, 6, 7}, {4, 7, 2}},
                                           {{40, 15}, {15, 250}},
                                           {{2, 33, 70}, {2, 70, 65}},
                                           // one operand broadcast over batch dims of the other
                                           // (folded into the GEMM's rows or columns)
                                           {{3, 4}, {2, 5, 4, 6}},
                                           {{2, 1, 3, 4}, {2, 5, 4, 6}},
                                           {{2, 3, 5, 4}, {3, 4, 6}},
                                           {{2, 3, 5, 4}, {2, 1, 4, 6}}}) {
      Tensor a = random_tensor(c.a, 1).to(dt), b = random_tensor(c.b, 2).to(dt);
      const double tol = dt == DType::f32 ? 1e-4 : 1e-12;
      Tensor expected = reference_matmul(a, b);
      expect_close(ops::matmul(a, b), expected, tol);
      // The same values through transposed (column-major) operands.
      Tensor at = a.mT().contiguous().mT(), bt = b.mT().contiguous().mT();
      expect_close(ops::matmul(at, bt), expected, tol);
      // Every other row and column: no unit stride, so the kernel copies first.
      expect_close(ops::matmul(spread_out(a), spread_out(b)), expected, tol);
    }
  }
}

TEST(Matmul, OneDimensionalOperandsArePromoted) {
  Tensor v = random_tensor({4}, 1), w = random_tensor({4}, 2);
  Tensor m = random_tensor({4, 3}, 3), n = random_tensor({2, 4}, 4), bm = random_tensor({2, 4, 3}, 5);
  Tensor dot = ops::matmul(v, w);
  EXPECT_EQ(dot.shape(), Shape{});
  EXPECT_NEAR(dot.item(), ops::sum(ops::mul(v, w)).item(), 1e-12);
  expect_close(ops::matmul(v, m), reference_matmul(v.unsqueeze(0), m).squeeze(0), 1e-12);
  expect_close(ops::matmul(n, v), reference_matmul(n, v.unsqueeze(1)).squeeze(1), 1e-12);
  expect_close(ops::matmul(v, bm), reference_matmul(v.unsqueeze(0), bm).squeeze(1), 1e-12);
  expect_close(ops::matmul(bm.mT(), v), reference_matmul(bm.mT(), v.unsqueeze(1)).squeeze(2), 1e-12);
}

TEST(Matmul, RejectsMismatchedShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 2});
  EXPECT_THROW(ops::matmul(a, b), std::invalid_argument);
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 2, 3}), Tensor::zeros({3, 3, 2})), std::invalid_argument);
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({3, 2}, {DType::f64})), std::invalid_argument);
}

TEST(MatmulKernel, AlphaBetaIntoStridedOutputs) {
  auto& cpu = kernels::backend_for(Device::cpu());
  Tensor a = random_tensor({2, 3, 5}, 1), b = random_tensor({2, 5, 4}, 2), c0 = random_tensor({2, 3, 4}, 3);
  Tensor expected = ops::add(ops::mul(reference_matmul(a, b), 0.5), ops::mul(c0, -2.0));
  // Column-major output, output with no unit stride, and transposed inputs.
  Tensor col = c0.mT().contiguous().mT();
  cpu.matmul(a.view(), b.view(), col.view(), false, false, 0.5, -2.0);
  expect_close(col, expected, 1e-12);
  Tensor spread = spread_out(c0);
  cpu.matmul(a.mT().contiguous().view(), b.mT().contiguous().view(), spread.view(), true, true, 0.5, -2.0);
  expect_close(spread, expected, 1e-12);
  // K = 0: an empty sum leaves beta * C.
  Tensor empty_a = Tensor::zeros({3, 0}, {DType::f64}), empty_b = Tensor::zeros({0, 4}, {DType::f64});
  Tensor c = c0.select(0, 0).clone();
  cpu.matmul(empty_a.view(), empty_b.view(), c.view(), false, false, 1.0, 3.0);
  expect_close(c, ops::mul(c0.select(0, 0), 3.0), 1e-12);
}

TEST(Matmul, SmallAndLargeShapesAgreeInF32) {
  // Small GEMMs may take a different library than large ones; both must be right.
  for (int64_t n : {8, 200}) {
    Tensor a = random_tensor({n, n + 1}, 1), b = random_tensor({n + 1, n}, 2);
    Tensor got = ops::matmul(a.to(DType::f32), b.to(DType::f32)).to(DType::f64);
    expect_close(got, ops::matmul(a, b), 1e-3);
    Tensor gt = ops::matmul(a.to(DType::f32).mT(), b.to(DType::f32).mT()).to(DType::f64);
    expect_close(gt, ops::matmul(a.mT(), b.mT()), 1e-3);
  }
}

TEST(MatmulKernel, EveryLayoutSingleThreaded) {
  // One thread routes large f32 GEMMs through oneDNN (see kernels/cpu/matmul.cpp).
  const int saved_threads = kernels::cpu_threads();
  kernels::set_cpu_threads(1);
  auto& cpu = kernels::backend_for(Device::cpu());
  Tensor a = random_tensor({2, 96, 130}, 1), b = random_tensor({130, 110}, 2), c0 = random_tensor({2, 96, 110}, 3);
  Tensor expected = ops::add(ops::mul(ops::matmul(a, b), 1.5), ops::mul(c0, 0.25));
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool c_col : {false, true}) {
        Tensor a32 = (ta ? a.mT().contiguous() : a).to(DType::f32);
        Tensor b32 = (tb ? b.mT().contiguous() : b).to(DType::f32).expand({2, -1, -1});
        Tensor c = c_col ? c0.mT().contiguous().to(DType::f32).mT() : c0.to(DType::f32).clone();
        cpu.matmul(a32.view(), b32.view(), c.view(), ta, tb, 1.5, 0.25);
        expect_close(c.to(DType::f64), expected, 1e-3);
      }
  expect_close(ops::matmul(a.to(DType::f32).mT(), a.to(DType::f32)).to(DType::f64), ops::matmul(a.mT(), a), 1e-3);
  kernels::set_cpu_threads(saved_threads);
}

TEST(MatmulKernel, BatchesOfSmallGemmsSingleThreaded) {
  // One thread runs a batch of small f32 GEMMs as one batched oneDNN matmul when no
  // operand is broadcast over the batch, and loops otherwise; every layout must agree.
  const int saved_threads = kernels::cpu_threads();
  kernels::set_cpu_threads(1);
  auto& cpu = kernels::backend_for(Device::cpu());
  Tensor a = random_tensor({3, 4, 6, 5}, 1), b = random_tensor({3, 4, 5, 7}, 2), c0 = random_tensor({3, 4, 6, 7}, 3);
  Tensor expected = ops::add(ops::mul(ops::matmul(a, b), 0.5), ops::mul(c0, -1.0));
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool c_col : {false, true}) {
        Tensor a32 = (ta ? a.mT().contiguous() : a).to(DType::f32);
        Tensor b32 = (tb ? b.mT().contiguous() : b).to(DType::f32);
        // A batch-permuted (strided) operand too.
        if (ta) a32 = a32.permute({1, 0, 2, 3}).contiguous().permute({1, 0, 2, 3});
        Tensor c = c_col ? c0.mT().contiguous().to(DType::f32).mT() : c0.to(DType::f32).clone();
        cpu.matmul(a32.view(), b32.view(), c.view(), ta, tb, 0.5, -1.0);
        expect_close(c.to(DType::f64), expected, 1e-4);
      }
  // Broadcast over the batch (stride 0): the loop path.
  Tensor one = random_tensor({1, 4, 6, 5}, 4);
  expect_close(ops::matmul(one.to(DType::f32), b.to(DType::f32)).to(DType::f64), ops::matmul(one, b), 1e-4);
  kernels::set_cpu_threads(saved_threads);
}

TEST(Matmul, Gradcheck) {
  auto mm = [](const std::vector<Tensor>& in) { return ops::matmul(in[0], in[1]); };
  EXPECT_TRUE(gradcheck(mm, {grad_input({3, 4}, 1), grad_input({4, 2}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input_transposed({3, 4}, 1), grad_input_transposed({4, 2}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({2, 3, 4}, 1), grad_input({4, 2}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({3, 1, 2, 4}, 1), grad_input({2, 4, 3}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({3, 4}, 1), grad_input({2, 4, 2}, 2)}));
  // One operand broadcast over batch dims of the other: folded into the GEMM.
  EXPECT_TRUE(gradcheck(mm, {grad_input({3, 4}, 1), grad_input({2, 3, 4, 2}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({2, 1, 3, 4}, 1), grad_input({2, 3, 4, 2}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({2, 3, 2, 4}, 1), grad_input({3, 4, 2}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({2, 3, 2, 4}, 1), grad_input({2, 1, 4, 2}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({4}, 1), grad_input({4}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({4}, 1), grad_input({2, 4, 3}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({2, 3, 4}, 1), grad_input({4}, 2)}));
  // Operands broadcast along some batch dims: their gradients fold those dims into one GEMM.
  EXPECT_TRUE(gradcheck(mm, {grad_input({3, 4}, 1), grad_input({2, 3, 4, 2}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({3, 2, 4}, 1), grad_input({2, 3, 4, 5}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({2, 1, 2, 4}, 1), grad_input({1, 3, 4, 5}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({2, 3, 2, 4}, 1), grad_input({3, 4, 5}, 2)}));
  EXPECT_TRUE(gradcheck(mm, {grad_input({2, 3, 2, 4}, 1), grad_input({2, 1, 4, 5}, 2)}));
  // A batch-transposed (non-contiguous) operand takes the reshape-copy route.
  Tensor base = random_tensor({3, 2, 4}, 7);
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::matmul(in[0].transpose(0, 1), in[1]); },
                        {leaf(base), grad_input({4, 5}, 8)}));
}

TEST(Matmul, TransposedOperandsGetGradientsThatTransposeBackToContiguous) {
  // q @ k^T (attention scores) and a^T @ g: the operand given as x.transpose(-1, -2) gets
  // its gradient computed in that layout, so x's gradient arrives contiguous (a later
  // reshape of it, like the one in front of a variable read, then copies nothing).
  auto q_kt = [](const std::vector<Tensor>& in) { return ops::matmul(in[0], in[1].transpose(-1, -2)); };
  auto at_b = [](const std::vector<Tensor>& in) { return ops::matmul(in[0].transpose(-1, -2), in[1]); };
  EXPECT_TRUE(gradcheck(q_kt, {grad_input({2, 3, 5, 4}, 11), grad_input({2, 3, 6, 4}, 12)}));
  EXPECT_TRUE(gradcheck(at_b, {grad_input({2, 5, 3}, 13), grad_input({2, 5, 4}, 14)}));
  EXPECT_TRUE(gradcheck(q_kt, {grad_input({5, 4}, 15), grad_input({6, 4}, 16)}));
  // Size-1 rows or columns are no transposed layout: the usual route.
  EXPECT_TRUE(gradcheck(q_kt, {grad_input({2, 5, 4}, 17), grad_input({2, 1, 4}, 18)}));
  EXPECT_TRUE(gradcheck(at_b, {grad_input({2, 5, 1}, 19), grad_input({2, 5, 4}, 20)}));
  // Broadcast over a batch dim: the folded GEMM route.
  EXPECT_TRUE(gradcheck(q_kt, {grad_input({2, 3, 5, 4}, 21), grad_input({6, 4}, 22)}));
  // An identity function in front of the transposed operand sees the gradient it hands on.
  for (int which : {0, 1}) {
    bool contiguous = false;
    auto probe = [&contiguous](const Tensor& x) {
      return autograd::apply_function(
          {x}, [](const std::vector<Tensor>& in) { return in[0].view(in[0].shape()); },
          [&contiguous](const Tensor& g) {
            contiguous = g.is_contiguous();
            return std::vector<Tensor>{g};
          });
    };
    if (which == 0)
      ops::sum(q_kt({grad_input({2, 3, 5, 4}, 23), probe(grad_input({2, 3, 6, 4}, 24))})).backward();
    else
      ops::sum(at_b({probe(grad_input({2, 5, 3}, 25)), grad_input({2, 5, 4}, 26)})).backward();
    EXPECT_TRUE(contiguous) << (which == 0 ? "k in q @ k^T" : "a in a^T @ b");
  }
}

TEST(Outer, ValuesAndGradient) {
  Tensor a = Tensor::from_vector<double>({1, 2}, {2}, {DType::f64});
  Tensor b = Tensor::from_vector<double>({3, 4, 5}, {3}, {DType::f64});
  EXPECT_EQ(ops::outer(a, b).to_vector<double>(), (std::vector<double>{3, 4, 5, 6, 8, 10}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::outer(in[0], in[1]); },
                        {grad_input({3}, 1), grad_input({4}, 2)}));
  EXPECT_THROW(ops::outer(Tensor::zeros({2, 2}), Tensor::zeros({2})), std::invalid_argument);
}

// ---- pairwise_sq_distance ---------------------------------------------------------------

TEST(PairwiseSqDistance, MatchesDirectComputation) {
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor x = random_tensor({2, 5, 3}, 1).to(dt), y = random_tensor({4, 3}, 2).to(dt);
    Tensor d = ops::pairwise_sq_distance(x, y);
    ASSERT_EQ(d.shape(), (Shape{2, 5, 4}));
    Tensor diff = ops::sub(x.unsqueeze(-2), y.unsqueeze(-3));  // [2, 5, 4, 3]
    expect_close(d, ops::sum(ops::square(diff), {-1}), dt == DType::f32 ? 1e-5 : 1e-12);
  }
}

TEST(PairwiseSqDistance, IdenticalPointsGiveZeroNotNegative) {
  Tensor x = random_tensor({6, 8}, 3, -100, 100);
  Tensor d = ops::pairwise_sq_distance(x, x);
  std::vector<double> v = d.to_vector<double>();
  for (double e : v) EXPECT_GE(e, 0.0);
  for (int64_t i = 0; i < 6; ++i) EXPECT_NEAR(v[size_t(i * 6 + i)], 0.0, 1e-9);
}

TEST(PairwiseSqDistance, Gradcheck) {
  auto f = [](const std::vector<Tensor>& in) { return ops::pairwise_sq_distance(in[0], in[1]); };
  EXPECT_TRUE(gradcheck(f, {grad_input({4, 3}, 1), grad_input({5, 3}, 2)}));
  EXPECT_TRUE(gradcheck(f, {grad_input({2, 4, 3}, 1), grad_input({5, 3}, 2)}));
  EXPECT_TRUE(gradcheck(f, {grad_input_transposed({4, 3}, 1), grad_input_transposed({2, 3}, 2)}));
}

TEST(PairwiseSqDistance, GradientWhereTheClampIsActive) {
  // A point far from the origin paired with itself: rounding in ||x||^2 + ||y||^2 - 2xy
  // makes the raw value slightly off zero and the clamp may engage. The gradient of
  // ||x - y||^2 there is exactly 0, and the other pairs' gradients are unaffected.
  Tensor x = Tensor::from_vector<double>({1e4 + 0.1, 1e4 - 0.3, 0.5, -0.25}, {2, 2}, {DType::f64});
  Tensor y = Tensor::from_vector<double>({1e4 + 0.1, 1e4 - 0.3}, {1, 2}, {DType::f64});
  x.set_requires_grad();
  y.set_requires_grad();
  ops::sum(ops::pairwise_sq_distance(x, y)).backward();
  std::vector<double> gx = x.grad().to_vector<double>(), gy = y.grad().to_vector<double>();
  EXPECT_NEAR(gx[0], 0.0, 1e-6);
  EXPECT_NEAR(gx[1], 0.0, 1e-6);
  // d/dx1 of ||x1 - y||^2 = 2 (x1 - y); d/dy = -2 (x1 - y) from the only live pair.
  EXPECT_NEAR(gx[2], 2 * (0.5 - (1e4 + 0.1)), 1e-6);
  EXPECT_NEAR(gx[3], 2 * (-0.25 - (1e4 - 0.3)), 1e-6);
  EXPECT_NEAR(gy[0], -2 * (0.5 - (1e4 + 0.1)), 1e-6);
  EXPECT_NEAR(gy[1], -2 * (-0.25 - (1e4 - 0.3)), 1e-6);
  // Duplicated rows: the finite differences straddle the clamp.
  Tensor dup = random_tensor({3, 2}, 9);
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::pairwise_sq_distance(in[0], in[1]); },
                        {leaf(dup), leaf(dup.clone())}));
}

// ---- triangular_solve -------------------------------------------------------------------

TEST(TriangularSolve, ResidualsForEveryVariant) {
  Tensor full = ops::add(random_tensor({2, 4, 4}, 1), eye(4, 3.0));
  Tensor b = random_tensor({3, 1, 4, 2}, 2);
  for (bool lower : {true, false})
    for (bool trans : {false, true})
      for (bool unit : {false, true}) {
        Tensor x = ops::triangular_solve(full, b, lower, trans, unit);
        ASSERT_EQ(x.shape(), (Shape{3, 2, 4, 2}));
        // The matrix the solve used: the chosen triangle, with ones on the diagonal if unit.
        Tensor t = lower ? ops::tril(full, unit ? -1 : 0) : ops::triu(full, unit ? 1 : 0);
        if (unit) t = ops::add(t, eye(4));
        Tensor op = trans ? t.mT() : t;
        expect_close(ops::matmul(op, x), b.expand({3, 2, 4, 2}), 1e-10);
      }
}

TEST(TriangularSolve, Gradcheck) {
  for (bool lower : {true, false})
    for (bool trans : {false, true})
      for (bool unit : {false, true}) {
        auto f = [=](const std::vector<Tensor>& in) {
          return ops::triangular_solve(ops::add(in[0], eye(3, 3.0)), in[1], lower, trans, unit);
        };
        EXPECT_TRUE(gradcheck(f, {grad_input({2, 3, 3}, 1), grad_input({3, 2}, 2)}))
            << "lower " << lower << " transpose " << trans << " unit " << unit;
      }
  auto f = [](const std::vector<Tensor>& in) { return ops::triangular_solve(ops::add(in[0], eye(3, 3.0)), in[1]); };
  EXPECT_TRUE(gradcheck(f, {grad_input_transposed({3, 3}, 1), grad_input_transposed({3, 4}, 2)}));
}

TEST(TriangularSolve, RejectsBadShapes) {
  EXPECT_THROW(ops::triangular_solve(Tensor::zeros({3, 2}), Tensor::zeros({3, 1})), std::invalid_argument);
  EXPECT_THROW(ops::triangular_solve(Tensor::zeros({3, 3}), Tensor::zeros({2, 1})), std::invalid_argument);
}

// ---- cholesky ---------------------------------------------------------------------------

TEST(Cholesky, FactorReproducesTheMatrix) {
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor x = random_tensor({3, 5, 5}, 4);
    Tensor a = ops::add(ops::matmul(x, x.mT()), eye(5, 0.5)).to(dt);
    Tensor l = ops::cholesky(a);
    const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
    expect_close(ops::matmul(l, l.mT()), a, tol);
    expect_close(ops::triu(l, 1), Tensor::zeros(l.shape(), {dt}), 0.0);
    for (double d : ops::diagonal(l).to_vector<double>()) EXPECT_GT(d, 0.0);
  }
  Tensor two = Tensor::from_vector<double>({4, 2, 2, 5}, {2, 2}, {DType::f64});
  EXPECT_EQ(ops::cholesky(two).to_vector<double>(), (std::vector<double>{2, 0, 1, 2}));
}

TEST(Cholesky, NotPositiveDefiniteNamesTheBatchEntry) {
  Tensor a = Tensor::from_vector<double>({4, 0, 0, 1, 1, 2, 2, 1}, {2, 2, 2}, {DType::f64});
  try {
    ops::cholesky(a);
    FAIL() << "expected std::domain_error";
  } catch (const std::domain_error& e) {
    EXPECT_NE(std::string(e.what()).find("matrix 1"), std::string::npos) << e.what();
  }
}

TEST(Cholesky, Gradcheck) {
  // Cholesky takes A as symmetric; its inputs are built symmetric here.
  auto gram = [](const std::vector<Tensor>& in) {
    return ops::cholesky(ops::add(ops::matmul(in[0], in[0].mT()), eye(in[0].size(-1), 0.5)));
  };
  EXPECT_TRUE(gradcheck(gram, {grad_input({4, 4}, 1)}));
  EXPECT_TRUE(gradcheck(gram, {grad_input({2, 3, 3}, 2)}));
  EXPECT_TRUE(gradcheck(gram, {grad_input_transposed({3, 3}, 3)}));
  auto sym = [](const std::vector<Tensor>& in) {
    return ops::cholesky(ops::add(ops::mul(ops::add(in[0], in[0].mT()), 0.5), eye(3, 3.0)));
  };
  EXPECT_TRUE(gradcheck(sym, {grad_input({2, 3, 3}, 4)}));
}

// ---- tril, triu, diagonal, triangular_logdet ---------------------------------------------

TEST(Triangles, ValuesAndGradients) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}, {DType::f64});
  EXPECT_EQ(ops::tril(x).to_vector<double>(), (std::vector<double>{1, 0, 0, 4, 5, 0}));
  EXPECT_EQ(ops::tril(x, 1).to_vector<double>(), (std::vector<double>{1, 2, 0, 4, 5, 6}));
  EXPECT_EQ(ops::triu(x).to_vector<double>(), (std::vector<double>{1, 2, 3, 0, 5, 6}));
  EXPECT_EQ(ops::triu(x, -1).to_vector<double>(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(ops::triu(x, 1).to_vector<double>(), (std::vector<double>{0, 2, 3, 0, 0, 6}));
  for (int64_t k : {-1, 0, 2}) {
    EXPECT_TRUE(gradcheck([k](const std::vector<Tensor>& in) { return ops::tril(in[0], k); },
                          {grad_input({2, 3, 4}, 1)}));
    EXPECT_TRUE(gradcheck([k](const std::vector<Tensor>& in) { return ops::triu(in[0], k); },
                          {grad_input_transposed({4, 3}, 2)}));
  }
}

TEST(Diagonal, ValuesAndGradient) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3}, {DType::f64});
  EXPECT_EQ(ops::diagonal(x).to_vector<double>(), (std::vector<double>{1, 5, 9}));
  EXPECT_EQ(ops::diagonal(x.mT()).to_vector<double>(), (std::vector<double>{1, 5, 9}));
  EXPECT_THROW(ops::diagonal(Tensor::zeros({2, 3})), std::invalid_argument);
  auto f = [](const std::vector<Tensor>& in) { return ops::diagonal(in[0]); };
  EXPECT_TRUE(gradcheck(f, {grad_input({2, 3, 3}, 1)}));
  EXPECT_TRUE(gradcheck(f, {grad_input_transposed({4, 4}, 2)}));
}

TEST(TriangularLogdet, ValuesAndGradient) {
  Tensor l = Tensor::from_vector<double>({2, 0, 7, -3}, {2, 2}, {DType::f64});
  EXPECT_NEAR(ops::triangular_logdet(l).item(), std::log(6.0), 1e-12);
  auto f = [](const std::vector<Tensor>& in) { return ops::triangular_logdet(ops::add(in[0], eye(3, 2.0))); };
  EXPECT_TRUE(gradcheck(f, {grad_input({2, 3, 3}, 1)}));
  EXPECT_TRUE(gradcheck(f, {grad_input_transposed({3, 3}, 2)}));
}
