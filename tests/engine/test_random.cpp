// Random numbers: the Philox known-answer vectors, reproducibility from (seed, offset),
// distribution moments within a few standard errors, and the random ops built on them.
// Every test uses its own seeded Generator, so results are deterministic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/random.h"
#include "engine/ops/reduce.h"
#include "kernels/cpu/philox_avx2.h"
#include "kernels/philox.h"
#include "kernels/registry.h"
#include "tests/support/gradcheck.h"

using namespace glassbox;
using glassbox::testing::grad_input;
using glassbox::testing::gradcheck;

namespace {

struct Moments {
  double mean = 0, var = 0;
};
Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= double(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= double(v.size() - 1);
  return m;
}

}  // namespace

TEST(Random, PhiloxKnownAnswers) {
  // Random123's published known-answer vectors for philox4x32_10.
  namespace px = kernels::philox;
  px::Words zero = px::philox4x32_10({{0, 0, 0, 0}}, 0, 0);
  EXPECT_EQ(zero.w[0], 0x6627e8d5u);
  EXPECT_EQ(zero.w[1], 0xe169c58du);
  EXPECT_EQ(zero.w[2], 0xbc57ac4cu);
  EXPECT_EQ(zero.w[3], 0x9b00dbd8u);
  px::Words ones = px::philox4x32_10({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  EXPECT_EQ(ones.w[0], 0x408f276du);
  EXPECT_EQ(ones.w[1], 0x41c83b0eu);
  EXPECT_EQ(ones.w[2], 0xa20bc7c6u);
  EXPECT_EQ(ones.w[3], 0x6d5451fdu);
  px::Words pi = px::philox4x32_10({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  EXPECT_EQ(pi.w[0], 0xd16cfe09u);
  EXPECT_EQ(pi.w[1], 0x94fdccebu);
  EXPECT_EQ(pi.w[2], 0x5001e420u);
  EXPECT_EQ(pi.w[3], 0x24126ea1u);
}

TEST(Random, VectorisedPhiloxGivesTheScalarWordsOfEveryCounter) {
  // The CPU's eight-lane Philox against draw(), word for word, with counters whose low
  // word wraps inside a block (the carry into the high word) and seeds using both halves.
  namespace px = kernels::philox;
  for (uint64_t seed : {uint64_t(0), uint64_t(7), ~uint64_t(0), uint64_t(0x0123456789abcdefULL)})
    for (uint64_t first : {uint64_t(0), uint64_t(1), uint64_t(0xfffffff9ULL), uint64_t(0x12345678fffffff0ULL)}) {
      px::Block<16> block;
      px::draw_block_avx2(seed, first, block);
      for (int l = 0; l < 16; ++l) {
        const px::Words want = px::draw(seed, first + uint64_t(l));
        for (int k = 0; k < 4; ++k) ASSERT_EQ(block.w[k][l], want.w[k]) << "seed " << seed << " counter " << first + l;
      }
    }
}

TEST(Random, UnitUniformF32FastPathIsUniformF32OfEachCounter) {
  // rand(0, 1) in f32 into contiguous memory takes an eight-lane path: whole blocks split
  // across threads and a tail, each element still uniform_f32 of its counter's word 0.
  Generator g(99);
  g.advance(7);
  const int64_t n = 100003;
  std::vector<float> v = ops::rand({n}, 0.0, 1.0, {DType::f32}, &g).to_vector<float>();
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(v[size_t(i)], kernels::philox::uniform_f32(kernels::philox::draw(99, 7 + uint64_t(i)).w[0])) << i;
}

TEST(Random, ElementIUsesCounterOffsetPlusI) {
  Generator g(0x1234567890abcdefULL);
  g.advance(5);
  Tensor u = ops::rand({37}, 0.0, 1.0, {DType::f32}, &g);
  std::vector<float> v = u.to_vector<float>();
  for (uint64_t i = 0; i < 37; ++i)
    EXPECT_EQ(v[i], kernels::philox::uniform_f32(kernels::philox::draw(0x1234567890abcdefULL, 5 + i).w[0]));
  EXPECT_EQ(g.offset(), 42u);
  // The counter's high word is used: offsets past 2^32 differ from their low 32 bits.
  Generator high(3), low(3);
  high.set_state(3, (uint64_t(1) << 32) + 9);
  low.set_state(3, 9);
  EXPECT_NE(ops::rand({4}, 0, 1, {DType::f64}, &high).to_vector<double>(),
            ops::rand({4}, 0, 1, {DType::f64}, &low).to_vector<double>());
  std::vector<double> n = ops::randn({3}, 0, 1, {DType::f64}, &g).to_vector<double>();
  for (uint64_t i = 0; i < 3; ++i)
    EXPECT_EQ(n[i], kernels::philox::normal_f64(kernels::philox::draw(0x1234567890abcdefULL, 42 + i)));
}

TEST(Random, SameStateSameNumbersAndNoReuse) {
  Generator a(42), b(42), c(43);
  std::vector<double> x = ops::rand({100}, 0, 1, {DType::f64}, &a).to_vector<double>();
  EXPECT_EQ(x, ops::rand({100}, 0, 1, {DType::f64}, &b).to_vector<double>());
  EXPECT_NE(x, ops::rand({100}, 0, 1, {DType::f64}, &c).to_vector<double>());
  // The next call continues the stream rather than repeating it.
  std::vector<double> y = ops::rand({100}, 0, 1, {DType::f64}, &a).to_vector<double>();
  EXPECT_NE(x, y);
  Generator d(42);
  d.set_state(42, 100);
  EXPECT_EQ(y, ops::rand({100}, 0, 1, {DType::f64}, &d).to_vector<double>());
  // Another offset gives other numbers: offset 1 starts where offset 0 was one element in.
  Generator e(42);
  e.set_state(42, 1);
  std::vector<double> z = ops::rand({100}, 0, 1, {DType::f64}, &e).to_vector<double>();
  EXPECT_NE(z[0], x[0]);
  EXPECT_EQ(z[0], x[1]);
  manual_seed(7);
  std::vector<double> m1 = ops::randn({10}, 0, 1, {DType::f64}).to_vector<double>();
  manual_seed(7);
  EXPECT_EQ(m1, ops::randn({10}, 0, 1, {DType::f64}).to_vector<double>());
}

TEST(Random, NonContiguousFillFollowsRowMajorOrder) {
  Generator a(9), b(9);
  Tensor base = Tensor::zeros({4, 3}, {DType::f32});
  Tensor t = base.transpose(0, 1);  // [3, 4], non-contiguous
  ops::uniform_(t, -2, 2, &a);
  EXPECT_EQ(t.to_vector<float>(), ops::rand({3, 4}, -2, 2, {DType::f32}, &b).to_vector<float>());
}

TEST(Random, UniformMomentsAndRange) {
  Generator g(1);
  const int n = 200000;
  for (DType dt : {DType::f32, DType::f64}) {
    std::vector<double> v = ops::rand({n}, -1.0, 3.0, {dt}, &g).to_vector<double>();
    EXPECT_GE(*std::min_element(v.begin(), v.end()), -1.0);
    EXPECT_LT(*std::max_element(v.begin(), v.end()), 3.0);
    Moments m = moments(v);
    const double var = 16.0 / 12.0;  // (hi - lo)^2 / 12
    EXPECT_NEAR(m.mean, 1.0, 5 * std::sqrt(var / n));
    EXPECT_NEAR(m.var, var, 0.02);
  }
  // A range narrower than f32 resolution: rounding up to hi would leave [lo, hi).
  const float hi = 1.0f + 1.2e-7f;
  std::vector<float> narrow = ops::rand({4096}, 1.0, double(hi), {DType::f32}, &g).to_vector<float>();
  EXPECT_LT(*std::max_element(narrow.begin(), narrow.end()), hi);
}

TEST(Random, NormalMomentsAndShape) {
  Generator g(2);
  const int n = 200000;
  for (DType dt : {DType::f32, DType::f64}) {
    std::vector<double> v = ops::randn({n}, 2.0, 3.0, {dt}, &g).to_vector<double>();
    Moments m = moments(v);
    EXPECT_NEAR(m.mean, 2.0, 5 * 3.0 / std::sqrt(n));
    EXPECT_NEAR(m.var, 9.0, 5 * 9.0 * std::sqrt(2.0 / n));
    // P(|z| < 1) = 0.6827 for a normal; a uniform or skewed law would miss it.
    double inside = 0;
    for (double x : v) inside += std::abs(x - 2.0) < 3.0;
    EXPECT_NEAR(inside / n, 0.682689, 0.006);
    for (double x : v) ASSERT_TRUE(std::isfinite(x));
  }
}

TEST(Random, BernoulliFrequencies) {
  Generator g(3);
  Tensor p = Tensor::from_vector<double>({0.0, 0.25, 1.0}, {1, 3}, {DType::f64}).expand({20000, 3});
  Tensor s = ops::bernoulli(p, &g);
  EXPECT_EQ(s.dtype(), DType::f64);
  std::vector<double> col = ops::mean(s, {0}).to_vector<double>();
  EXPECT_EQ(col[0], 0.0);
  EXPECT_NEAR(col[1], 0.25, 0.015);
  EXPECT_EQ(col[2], 1.0);
}

TEST(Random, DropoutScalesKeptValuesAndGradient) {
  Generator g(4);
  Tensor x = Tensor::full({50000}, 2.0, {DType::f64});
  x.set_requires_grad();
  Tensor y = ops::dropout(x, 0.3, true, &g);
  std::vector<double> v = y.to_vector<double>();
  double zeros = 0;
  for (double e : v) {
    if (e == 0) {
      ++zeros;
    } else {
      ASSERT_NEAR(e, 2.0 / 0.7, 1e-12);
    }
  }
  EXPECT_NEAR(zeros / double(v.size()), 0.3, 0.01);
  ops::sum(y).backward();
  std::vector<double> gx = x.grad().to_vector<double>();
  for (size_t i = 0; i < v.size(); i += 7) ASSERT_DOUBLE_EQ(gx[i], v[i] / 2.0);
  EXPECT_TRUE(ops::dropout(x, 0.3, false, &g).is_same(x));
  EXPECT_EQ(ops::sum(ops::dropout(x, 1.0, true, &g)).item(), 0.0);
  EXPECT_THROW(ops::dropout(x, 1.5, true, &g), std::invalid_argument);
}

TEST(Random, GumbelMoments) {
  Generator g(5);
  const int n = 200000;
  std::vector<double> v = ops::gumbel({n}, {DType::f32}, &g).to_vector<double>();
  Moments m = moments(v);
  const double pi = 3.14159265358979323846;
  EXPECT_NEAR(m.mean, 0.5772156649, 5 * std::sqrt(pi * pi / 6 / n));  // Euler-Mascheroni constant
  EXPECT_NEAR(m.var, pi * pi / 6, 0.05);
}

TEST(Random, GumbelIsMinusLogMinusLogOfTheUniformDraws) {
  // Large f32 tensors run on oneDNN's vectorised log (a few ulp off libm's), the tail and
  // f64 on the scalar loop: both are the exact transform of the same uniform draws.
  for (DType dt : {DType::f32, DType::f64}) {
    const int n = 100003;  // whole oneDNN chunks and a scalar tail
    Generator a(11), b(11);
    std::vector<double> noise = ops::gumbel({n}, {dt}, &a).to_vector<double>();
    std::vector<double> u = ops::rand({n}, 0.0, 1.0, {dt}, &b).to_vector<double>();
    for (int i = 0; i < n; ++i) {
      const double expected = -std::log(-std::log(u[size_t(i)]));
      ASSERT_NEAR(noise[size_t(i)], expected, 2e-5 * std::max(1.0, std::abs(expected))) << i << " of " << dtype_name(dt);
    }
  }
}

TEST(Random, GumbelFromUniformKeepsNanAndClampsZeroTheSameInTheVectorLoopAndTheTail) {
  // 19 f32 values: two blocks of eight for the AVX2 loop, then a scalar tail of three. The
  // edge values sit at the same offset in a block and in the tail. (The GPU run of
  // test_cuda_elementwise found the vector loop turning NaN into the zero clamp's value.)
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> u(19, 0.5f);
  for (int at : {1, 17}) u[size_t(at)] = nan;
  for (int at : {2, 18}) u[size_t(at)] = 0.0f;
  for (int at : {3, 16}) u[size_t(at)] = -0.25f;
  Tensor x = Tensor::from_vector(u, {19}, {DType::f32}), y = Tensor::zeros({19}, {DType::f32});
  kernels::backend_for(Device::cpu()).unary(kernels::UnaryOp::gumbel_from_uniform, x.view(), y.view(), {});
  const std::vector<float> g = y.to_vector<float>();
  const double at_tiny = -std::log(-std::log(double(std::numeric_limits<float>::min())));
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(u[i])) {
      EXPECT_TRUE(std::isnan(g[i])) << i;
    } else if (u[i] <= 0) {
      EXPECT_NEAR(g[i], at_tiny, 1e-5) << i;
    } else {
      EXPECT_NEAR(g[i], -std::log(-std::log(0.5)), 1e-6) << i;
    }
  }
}

TEST(Random, GumbelSoftmaxSoftIsADistributionWithExactGradient) {
  Tensor logits = grad_input({3, 5}, 30);
  Generator g(6);
  Tensor y = ops::gumbel_softmax(logits, 0.7, false, -1, &g);
  std::vector<double> rows = ops::sum(y, {1}).to_vector<double>();
  for (double r : rows) EXPECT_NEAR(r, 1.0, 1e-12);
  // With the generator reset on every call the sample is a smooth function of the logits.
  for (int dim : {0, 1})
    EXPECT_TRUE(gradcheck(
        [dim](const std::vector<Tensor>& in) {
          Generator fixed(11);
          return ops::gumbel_softmax(in[0], 0.5, false, dim, &fixed);
        },
        {grad_input({4, 3}, 31)}))
        << "dim " << dim;
}

TEST(Random, GumbelSoftmaxHardIsOneHotWithTheSoftGradient) {
  Tensor w = glassbox::testing::random_tensor({6, 4}, 32);
  Tensor a = grad_input({6, 4}, 33), b = grad_input({6, 4}, 33);
  Generator ga(12), gb(12);
  Tensor hard = ops::gumbel_softmax(a, 0.8, true, 1, &ga);
  Tensor soft = ops::gumbel_softmax(b, 0.8, false, 1, &gb);
  std::vector<double> h = hard.to_vector<double>(), s = soft.to_vector<double>();
  for (int r = 0; r < 6; ++r) {
    auto row_s = s.begin() + r * 4;
    const int arg = int(std::max_element(row_s, row_s + 4) - row_s);
    for (int c = 0; c < 4; ++c) EXPECT_EQ(h[size_t(r * 4 + c)], c == arg ? 1.0 : 0.0);
  }
  ops::sum(ops::mul(hard, w)).backward();
  ops::sum(ops::mul(soft, w)).backward();
  std::vector<double> gh = a.grad().to_vector<double>(), gs = b.grad().to_vector<double>();
  for (size_t i = 0; i < gh.size(); ++i) EXPECT_DOUBLE_EQ(gh[i], gs[i]);
}

TEST(Random, MultinomialWithReplacementFrequencies) {
  Generator g(7);
  Tensor probs = Tensor::from_vector<double>({1, 2, 0, 5, 2, 0, 0, 2}, {2, 4}, {DType::f64});  // unnormalised
  const int n = 20000;
  Tensor s = ops::multinomial(probs, n, true, &g);
  ASSERT_EQ(s.shape(), (Shape{2, n}));
  std::vector<int64_t> v = s.to_vector<int64_t>();
  const double expect[2][4] = {{0.125, 0.25, 0, 0.625}, {0.5, 0, 0, 0.5}};
  for (int r = 0; r < 2; ++r) {
    std::vector<double> freq(4, 0);
    for (int i = 0; i < n; ++i) freq[size_t(v[size_t(r * n + i)])] += 1.0 / n;
    for (int c = 0; c < 4; ++c) {
      if (expect[r][c] == 0) {
        EXPECT_EQ(freq[size_t(c)], 0.0) << "row " << r << " category " << c;
      } else {
        EXPECT_NEAR(freq[size_t(c)], expect[r][c], 0.015) << "row " << r << " category " << c;
      }
    }
  }
  EXPECT_EQ(ops::multinomial(Tensor::from_vector<double>({0, 1}, {2}, {DType::f64}), 3, true, &g).shape(), (Shape{3}));
}

TEST(Random, MultinomialWithoutReplacement) {
  Generator g(8);
  const int rows = 5000;
  Tensor probs = Tensor::from_vector<double>({0.1, 0.2, 0.0, 0.7}, {1, 4}, {DType::f64}).expand({rows, 4});
  std::vector<int64_t> v = ops::multinomial(probs, 3, false, &g).to_vector<int64_t>();
  std::vector<double> first(4, 0);
  for (int r = 0; r < rows; ++r) {
    std::vector<int64_t> row(v.begin() + r * 3, v.begin() + r * 3 + 3);
    std::sort(row.begin(), row.end());
    // Three distinct draws from the three non-zero categories: always {0, 1, 3}.
    ASSERT_EQ(row, (std::vector<int64_t>{0, 1, 3}));
    first[size_t(v[size_t(r * 3)])] += 1.0 / rows;
  }
  // The first draw follows the probabilities.
  EXPECT_NEAR(first[0], 0.1, 0.02);
  EXPECT_NEAR(first[1], 0.2, 0.025);
  EXPECT_NEAR(first[3], 0.7, 0.025);
  // Second draw given the first is 3: P(1 | 3 gone) = 0.2 / 0.3.
  double after3 = 0, second_is_1 = 0;
  for (int r = 0; r < rows; ++r)
    if (v[size_t(r * 3)] == 3) {
      after3 += 1;
      second_is_1 += v[size_t(r * 3 + 1)] == 1;
    }
  EXPECT_NEAR(second_is_1 / after3, 2.0 / 3.0, 0.03);
  EXPECT_THROW(ops::multinomial(probs, 4, false, &g), std::invalid_argument);
  EXPECT_THROW(ops::multinomial(Tensor::from_vector<double>({1, -1}, {2}, {DType::f64}), 1, true, &g),
               std::invalid_argument);
}

TEST(Random, RandpermIsAReproduciblePermutation) {
  Generator a(10), b(10);
  std::vector<int64_t> p = ops::randperm(1000, &a).to_vector<int64_t>();
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(p, iota);
  EXPECT_EQ(p, ops::randperm(1000, &b).to_vector<int64_t>());
  EXPECT_NE(p, ops::randperm(1000, &b).to_vector<int64_t>());
  EXPECT_EQ(ops::randperm(0, &a).numel(), 0);
}
