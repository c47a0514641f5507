// CUDA elementwise kernels against the CPU backend: copy (with every dtype
// conversion), fill, every unary and binary op (forward and, through the engine ops,
// gradients), where; contiguous, broadcast, transposed and narrowed operands and
// outputs; sizes 0, 1, odd and large; and the same dtype support (and errors) as the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "engine/ops/activation.h"
#include "engine/ops/elementwise.h"
#include "engine/tensor.h"
#include "kernels/registry.h"
#include "tests/support/cuda_parity.h"

namespace glassbox {
namespace {

using kernels::BinaryOp;
using kernels::Scalars;
using kernels::UnaryOp;
using testing::gpu;
using testing::op_parity;
using testing::random_input;
using testing::random_tensor;
using testing::same_values;
using testing::Tolerance;

constexpr DType kFloatTypes[] = {DType::f32, DType::f64};
constexpr DType kAllTypes[] = {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8, DType::boolean};

const std::vector<UnaryOp> kAllUnary = {
#define GLASSBOX_TEST_UNARY(name) UnaryOp::name,
    GLASSBOX_UNARY_OPS(GLASSBOX_TEST_UNARY)
#undef GLASSBOX_TEST_UNARY
};
const std::vector<BinaryOp> kAllBinary = {
#define GLASSBOX_TEST_BINARY(name) BinaryOp::name,
    GLASSBOX_BINARY_OPS(GLASSBOX_TEST_BINARY)
#undef GLASSBOX_TEST_BINARY
};

kernels::Backend& cpu_backend() { return kernels::backend_for(Device::cpu()); }
kernels::Backend& cuda_backend() { return kernels::backend_for(gpu()); }

using testing::exact;
using testing::tolerance_for;

bool unary_gives_bool(UnaryOp op) {
  switch (op) {
    case UnaryOp::eq_scalar: case UnaryOp::ne_scalar: case UnaryOp::lt_scalar: case UnaryOp::le_scalar:
    case UnaryOp::gt_scalar: case UnaryOp::ge_scalar: case UnaryOp::logical_not:
      return true;
    default:
      return false;
  }
}
bool binary_gives_bool(BinaryOp op) {
  switch (op) {
    case BinaryOp::eq: case BinaryOp::ne: case BinaryOp::lt: case BinaryOp::le: case BinaryOp::gt:
    case BinaryOp::ge: case BinaryOp::logical_and: case BinaryOp::logical_or:
      return true;
    default:
      return false;
  }
}

/// CPU values of `dtype` for a shape: random, with the edge values first (signed
/// zeros, infinities and NaN for floats; zero and ties for integers).
Tensor sample(const Shape& shape, uint64_t seed, DType dtype) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  std::vector<double> v;
  std::vector<double> edges;
  if (is_floating(dtype)) {
    v = random_tensor(shape, seed, -3.0, 3.0).to_vector<double>();
    edges = {0.0, -0.0, 1.0, -1.0, 0.5, 25.0, -25.0, inf, -inf, nan, 2.0, 1e-30};
  } else if (dtype == DType::u8) {
    v = random_tensor(shape, seed, 0.0, 9.0).to_vector<double>();
    edges = {0, 1, 2, 255, 0};
  } else if (dtype == DType::boolean) {
    v = random_tensor(shape, seed, -1.0, 1.0).to_vector<double>();
    for (double& x : v) x = x > 0 ? 1 : 0;
    edges = {0, 1, 1, 0};
  } else {
    v = random_tensor(shape, seed, -6.0, 6.0).to_vector<double>();
    edges = {0, 1, -1, 2, -2, 5};
  }
  for (size_t i = 0; i < edges.size() && i < v.size(); ++i) v[i] = edges[i];
  return Tensor::from_vector(v, shape, {DType::f64}).to(dtype);
}

/// Operand and output layouts for direct backend calls, all of logical shape [5, 9]:
/// 0 contiguous; 1 transposed operands and output; 2 broadcast operands (row, column,
/// or one element) and a narrowed output.
constexpr int kLayouts = 3;
const Shape kShape = {5, 9};

/// Operand `which` (0 or 1) on `device` in `layout`, from the seed's CPU values.
Tensor operand(int layout, int which, uint64_t seed, DType t, Device device) {
  switch (layout) {
    case 0: return sample(kShape, seed, t).to(device);
    case 1: return sample({9, 5}, seed, t).to(device).transpose(0, 1);
    default:
      if (which == 0) return sample({1, 9}, seed, t).to(device).expand(kShape);
      return sample({5, 1}, seed, t).to(device).expand(kShape);
  }
}
Tensor output(int layout, DType t, Device device) {
  switch (layout) {
    case 0: return Tensor::zeros(kShape, {t, device});
    case 1: return Tensor::zeros({9, 5}, {t, device}).transpose(0, 1);
    default: return Tensor::zeros({5, 12}, {t, device}).narrow(1, 2, 9);
  }
}

std::string describe(const char* op, DType t, int layout, Scalars s) {
  return std::string(op) + " on " + dtype_name(t) + ", layout " + std::to_string(layout) + ", scalars (" +
         std::to_string(s.a) + ", " + std::to_string(s.b) + ")";
}

// Scalars covering the pow_scalar shortcuts (2, 0.5), a general exponent, inverted clamp
// bounds, and fractions that integer ops truncate.
const std::vector<Scalars> kScalarSets = {{2.0, 3.0}, {0.5, 1.5}, {3.0, -1.0}, {-1.25, 0.75}, {2.7, -2.7}};

// ---- Every enum value, every dtype, directly on the backends ---------------------------

TEST(CudaElementwise, EveryUnaryOpMatchesTheCpuOnEveryDtypeAndLayout) {
  GLASSBOX_REQUIRE_CUDA();
  for (UnaryOp op : kAllUnary)
    for (DType t : kAllTypes)
      for (int layout = 0; layout < kLayouts; ++layout)
        for (const Scalars& s : kScalarSets) {
          const DType out_t = unary_gives_bool(op) ? DType::boolean : t;
          Tensor x_cpu = operand(layout, 0, 11, t, Device::cpu()), y_cpu = output(layout, out_t, Device::cpu());
          Tensor x_gpu = operand(layout, 0, 11, t, gpu()), y_gpu = output(layout, out_t, gpu());
          const std::string what = describe(kernels::op_name(op), t, layout, s);
          bool defined = true;
          try {
            cpu_backend().unary(op, x_cpu.view(), y_cpu.view(), s);
          } catch (const std::invalid_argument&) {
            defined = false;
          }
          if (!defined) {
            EXPECT_THROW(cuda_backend().unary(op, x_gpu.view(), y_gpu.view(), s), std::invalid_argument) << what;
            break;  // the scalars do not change whether it is defined
          }
          cuda_backend().unary(op, x_gpu.view(), y_gpu.view(), s);
          EXPECT_TRUE(same_values(y_cpu, y_gpu, tolerance_for(out_t))) << what;
        }
}

TEST(CudaElementwise, EveryBinaryOpMatchesTheCpuOnEveryDtypeAndLayout) {
  GLASSBOX_REQUIRE_CUDA();
  for (BinaryOp op : kAllBinary)
    for (DType t : kAllTypes)
      for (int layout = 0; layout < kLayouts; ++layout)
        for (const Scalars& s : {Scalars{0.1, 0.0}, Scalars{-0.5, 0.75}}) {
          const DType out_t = binary_gives_bool(op) ? DType::boolean : t;
          Tensor a_cpu = operand(layout, 0, 21, t, Device::cpu()), b_cpu = operand(layout, 1, 22, t, Device::cpu());
          Tensor a_gpu = operand(layout, 0, 21, t, gpu()), b_gpu = operand(layout, 1, 22, t, gpu());
          Tensor y_cpu = output(layout, out_t, Device::cpu()), y_gpu = output(layout, out_t, gpu());
          const std::string what = describe(kernels::op_name(op), t, layout, s);
          bool defined = true;
          try {
            cpu_backend().binary(op, a_cpu.view(), b_cpu.view(), y_cpu.view(), s);
          } catch (const std::invalid_argument&) {
            defined = false;
          }
          if (!defined) {
            EXPECT_THROW(cuda_backend().binary(op, a_gpu.view(), b_gpu.view(), y_gpu.view(), s), std::invalid_argument)
                << what;
            break;
          }
          cuda_backend().binary(op, a_gpu.view(), b_gpu.view(), y_gpu.view(), s);
          EXPECT_TRUE(same_values(y_cpu, y_gpu, tolerance_for(out_t))) << what;
        }
}

TEST(CudaElementwise, DtypeSupportIsTheCpus) {
  GLASSBOX_REQUIRE_CUDA();
  // Spot checks of the rules the exhaustive tests above compare against the CPU.
  Tensor i = Tensor::zeros({3}, {DType::i32, gpu()}), b = Tensor::zeros({3}, {DType::boolean, gpu()});
  Tensor u = Tensor::zeros({3}, {DType::u8, gpu()});
  EXPECT_THROW(ops::exp(i), std::invalid_argument);
  EXPECT_THROW(ops::div(i, i), std::invalid_argument);
  EXPECT_THROW(ops::neg(b), std::invalid_argument);
  EXPECT_THROW(ops::add(u, u), std::invalid_argument);
  EXPECT_THROW(ops::lt(u, u), std::invalid_argument);
  EXPECT_THROW(ops::eq(u, 1.0), std::invalid_argument);
  EXPECT_NO_THROW(ops::add(i, i));
  EXPECT_NO_THROW(ops::eq(u, u));
  EXPECT_NO_THROW(ops::logical_not(u));
  EXPECT_NO_THROW(ops::logical_and(b, b));
  EXPECT_EQ(ops::lt(i, i).dtype(), DType::boolean);
}

TEST(CudaElementwise, EmptyAndSingleElementViewsOnTheBackend) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloatTypes)
    for (const Shape& shape : {Shape{0}, Shape{3, 0}, Shape{}, Shape{1}, Shape{1, 1, 1}}) {
      Tensor x_cpu = sample(shape, 5, t), x_gpu = x_cpu.to(gpu());
      for (UnaryOp op : {UnaryOp::exp, UnaryOp::neg, UnaryOp::gt_scalar}) {
        const DType out_t = unary_gives_bool(op) ? DType::boolean : t;
        Tensor y_cpu = Tensor::zeros(shape, {out_t}), y_gpu = Tensor::zeros(shape, {out_t, gpu()});
        cpu_backend().unary(op, x_cpu.view(), y_cpu.view(), {0.5, 0});
        cuda_backend().unary(op, x_gpu.view(), y_gpu.view(), {0.5, 0});
        EXPECT_TRUE(same_values(y_cpu, y_gpu, tolerance_for(out_t))) << kernels::op_name(op) << " " << shape.str();
      }
    }
}

// ---- Unary ops through the engine: forward and gradients -------------------------------

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> f;
  double lo = -2.0, hi = 2.0;
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return ops::neg(x); }},
      {"exp", [](const Tensor& x) { return ops::exp(x); }},
      {"log", [](const Tensor& x) { return ops::log(x); }, 0.1, 3.0},
      {"log1p", [](const Tensor& x) { return ops::log1p(x); }, -0.9, 3.0},
      {"expm1", [](const Tensor& x) { return ops::expm1(x); }},
      {"sqrt", [](const Tensor& x) { return ops::sqrt(x); }, 0.1, 3.0},
      {"rsqrt", [](const Tensor& x) { return ops::rsqrt(x); }, 0.1, 3.0},
      {"square", [](const Tensor& x) { return ops::square(x); }},
      {"reciprocal", [](const Tensor& x) { return ops::reciprocal(x); }, 0.2, 3.0},
      {"abs", [](const Tensor& x) { return ops::abs(x); }},
      {"sin", [](const Tensor& x) { return ops::sin(x); }, -6.0, 6.0},
      {"cos", [](const Tensor& x) { return ops::cos(x); }, -6.0, 6.0},
      {"sign", [](const Tensor& x) { return ops::sign(x); }},
      {"clamp", [](const Tensor& x) { return ops::clamp(x, -0.5, 0.7); }},
      {"clamp_min", [](const Tensor& x) { return ops::clamp_min(x, 0.1); }},
      {"clamp_max", [](const Tensor& x) { return ops::clamp_max(x, -0.2); }},
      {"relu", [](const Tensor& x) { return ops::relu(x); }},
      {"leaky_relu", [](const Tensor& x) { return ops::leaky_relu(x, 0.05); }},
      {"sigmoid", [](const Tensor& x) { return ops::sigmoid(x); }, -8.0, 8.0},
      {"tanh", [](const Tensor& x) { return ops::tanh(x); }, -4.0, 4.0},
      {"gelu_erf", [](const Tensor& x) { return ops::gelu(x, false); }, -4.0, 4.0},
      {"gelu_tanh", [](const Tensor& x) { return ops::gelu(x, true); }, -4.0, 4.0},
      {"softplus", [](const Tensor& x) { return ops::softplus(x); }, -30.0, 30.0},
      {"silu", [](const Tensor& x) { return ops::silu(x); }, -6.0, 6.0},
      {"erf", [](const Tensor& x) { return ops::erf(x); }},
      {"add_scalar", [](const Tensor& x) { return ops::add(x, 1.75); }},
      {"mul_scalar", [](const Tensor& x) { return ops::mul(x, -2.5); }},
      {"rsub_scalar", [](const Tensor& x) { return ops::rsub(x, 0.3); }},
      {"rdiv_scalar", [](const Tensor& x) { return ops::rdiv(x, 1.5); }, 0.2, 3.0},
      {"pow_scalar 3", [](const Tensor& x) { return ops::pow(x, 3.0); }},
      {"pow_scalar 2", [](const Tensor& x) { return ops::pow(x, 2.0); }},
      {"pow_scalar 0.5", [](const Tensor& x) { return ops::pow(x, 0.5); }, 0.1, 3.0},
      {"pow_scalar -1.5", [](const Tensor& x) { return ops::pow(x, -1.5); }, 0.1, 3.0},
      {"rpow_scalar", [](const Tensor& x) { return ops::pow(2.5, x); }},
  };
}

void expect_unary_parity(const Shape& shape, bool transposed) {
  for (DType t : kFloatTypes)
    for (const UnaryCase& c : unary_cases()) {
      Tensor x = random_input(shape, 7, t, true, c.lo, c.hi);
      auto f = [&](const std::vector<Tensor>& in) { return c.f(transposed ? in[0].transpose(0, 1) : in[0]); };
      EXPECT_TRUE(op_parity(f, {x}, testing::default_tolerance(t))) << c.name << " " << dtype_name(t) << " " << shape.str()
                                                                     << (transposed ? " transposed" : "");
    }
}

TEST(CudaElementwise, UnaryOpsAndGradients) {
  GLASSBOX_REQUIRE_CUDA();
  expect_unary_parity({7, 13}, false);
}
TEST(CudaElementwise, UnaryOpsOnTransposedInputs) {
  GLASSBOX_REQUIRE_CUDA();
  expect_unary_parity({13, 7}, true);
}
TEST(CudaElementwise, UnaryOpsOnEmptyAndSingleElementTensors) {
  GLASSBOX_REQUIRE_CUDA();
  for (const Shape& shape : {Shape{0}, Shape{4, 0}, Shape{}, Shape{1}}) expect_unary_parity(shape, false);
}
TEST(CudaElementwise, UnaryOpsOnALargeOddSize) {
  GLASSBOX_REQUIRE_CUDA();
  expect_unary_parity({1000003}, false);  // f32 sigmoid/tanh/exp/gelu take oneDNN on the CPU here
}

TEST(CudaElementwise, UnaryOpsOnNarrowedInputs) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloatTypes)
    for (const UnaryCase& c : unary_cases()) {
      Tensor x = random_input({6, 11}, 8, t, true, c.lo, c.hi);
      auto f = [&](const std::vector<Tensor>& in) { return c.f(in[0].narrow(1, 3, 5).narrow(0, 1, 4)); };
      EXPECT_TRUE(op_parity(f, {x}, testing::default_tolerance(t))) << c.name << " " << dtype_name(t);
    }
}

TEST(CudaElementwise, IntegerUnaryOps) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : {DType::i32, DType::i64}) {
    Tensor x = sample({6, 7}, 9, t);
    const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> cases = {
        {"neg", [](const Tensor& v) { return ops::neg(v); }},
        {"abs", [](const Tensor& v) { return ops::abs(v); }},
        {"sign", [](const Tensor& v) { return ops::sign(v); }},
        {"square", [](const Tensor& v) { return ops::square(v); }},
        {"clamp", [](const Tensor& v) { return ops::clamp(v, -2.5, 3.5); }},
        {"add 2.7", [](const Tensor& v) { return ops::add(v, 2.7); }},  // the scalar truncates to 2, as on the CPU
        {"mul 3", [](const Tensor& v) { return ops::mul(v, 3.0); }},
        {"rsub 5", [](const Tensor& v) { return ops::rsub(v, 5.0); }},
        {"gt 1.5", [](const Tensor& v) { return ops::gt(v, 1.5); }},
        {"eq 2", [](const Tensor& v) { return ops::eq(v, 2.0); }},
        {"logical_not", [](const Tensor& v) { return ops::logical_not(v); }},
    };
    for (const auto& c : cases) {
      const auto& f = c.second;
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& in) { return f(in[0].transpose(0, 1)); }, {x}, exact()))
          << c.first << " " << dtype_name(t);
    }
  }
}

// ---- Binary ops through the engine ---------------------------------------------------

struct BinaryCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> f;
  double a_lo = -2.0, a_hi = 2.0, b_lo = -2.0, b_hi = 2.0;
};

std::vector<BinaryCase> binary_cases() {
  return {
      {"add", [](const Tensor& a, const Tensor& b) { return ops::add(a, b); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return ops::sub(a, b); }},
      {"mul", [](const Tensor& a, const Tensor& b) { return ops::mul(a, b); }},
      {"div", [](const Tensor& a, const Tensor& b) { return ops::div(a, b); }, -2.0, 2.0, 0.5, 2.0},
      {"pow", [](const Tensor& a, const Tensor& b) { return ops::pow(a, b); }, 0.2, 2.0, -2.0, 2.0},
      {"minimum", [](const Tensor& a, const Tensor& b) { return ops::minimum(a, b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return ops::maximum(a, b); }},
  };
}

/// Every binary case at f32 and f64 with a and b of the given shapes, each optionally
/// transformed inside the op (transpose, narrow) so the kernels see strided views.
void expect_binary_parity(const Shape& sa, const Shape& sb, const std::function<Tensor(const Tensor&)>& va,
                          const std::function<Tensor(const Tensor&)>& vb, const std::string& what) {
  for (DType t : kFloatTypes)
    for (const BinaryCase& c : binary_cases()) {
      Tensor a = random_input(sa, 31, t, true, c.a_lo, c.a_hi), b = random_input(sb, 32, t, true, c.b_lo, c.b_hi);
      auto f = [&](const std::vector<Tensor>& in) { return c.f(va(in[0]), vb(in[1])); };
      EXPECT_TRUE(op_parity(f, {a, b}, testing::default_tolerance(t))) << c.name << " " << dtype_name(t) << " " << what;
    }
}

Tensor same(const Tensor& x) { return x; }

TEST(CudaElementwise, BinaryOpsAndGradients) {
  GLASSBOX_REQUIRE_CUDA();
  expect_binary_parity({6, 7}, {6, 7}, same, same, "same shape");
}
TEST(CudaElementwise, BinaryOpsBroadcast) {
  GLASSBOX_REQUIRE_CUDA();
  expect_binary_parity({3, 1, 5}, {4, 5}, same, same, "[3,1,5] with [4,5]");
  expect_binary_parity({4, 5}, {3, 1, 5}, same, same, "[4,5] with [3,1,5]");
  expect_binary_parity({6, 7}, {}, same, same, "with a 0-d tensor");
  expect_binary_parity({1}, {6, 7}, same, same, "[1] with [6,7]");
}
TEST(CudaElementwise, BinaryOpsOnTransposedAndNarrowedInputs) {
  GLASSBOX_REQUIRE_CUDA();
  auto transposed = [](const Tensor& x) { return x.transpose(0, 1); };
  auto narrowed = [](const Tensor& x) { return x.narrow(1, 2, 7); };
  expect_binary_parity({7, 6}, {6, 7}, transposed, same, "transposed a");
  expect_binary_parity({6, 10}, {7, 6}, narrowed, transposed, "narrowed a, transposed b");
  auto permuted = [](const Tensor& x) { return x.permute({2, 0, 1}); };
  expect_binary_parity({1, 4, 3}, {5, 4}, permuted, same, "permuted broadcast a");  // [3,1,4] with [5,4]
}
TEST(CudaElementwise, BinaryOpsOnEmptySingleAndLargeTensors) {
  GLASSBOX_REQUIRE_CUDA();
  expect_binary_parity({0}, {0}, same, same, "empty");
  expect_binary_parity({3, 0}, {1, 0}, same, same, "empty broadcast");
  expect_binary_parity({}, {}, same, same, "0-d");
  expect_binary_parity({1}, {1}, same, same, "one element");
  expect_binary_parity({1000003}, {1000003}, same, same, "1000003");
  expect_binary_parity({1000003}, {1}, same, same, "1000003 with [1]");
}

TEST(CudaElementwise, IntegerBinaryOps) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : {DType::i32, DType::i64}) {
    Tensor a = sample({3, 1, 5}, 41, t), b = sample({4, 5}, 42, t);
    for (auto f : std::vector<Tensor (*)(const Tensor&, const Tensor&)>{ops::add, ops::sub, ops::mul, ops::minimum,
                                                                           ops::maximum})
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& in) { return f(in[0], in[1]); }, {a, b}, exact()))
          << dtype_name(t);
  }
}

// ---- Comparisons and logical ops --------------------------------------------------------

TEST(CudaElementwise, ComparisonsGiveBooleans) {
  GLASSBOX_REQUIRE_CUDA();
  using Cmp = Tensor (*)(const Tensor&, const Tensor&);
  using CmpScalar = Tensor (*)(const Tensor&, double);
  const std::vector<Cmp> tensor_cmps = {ops::eq, ops::ne, ops::lt, ops::le, ops::gt, ops::ge};
  const std::vector<CmpScalar> scalar_cmps = {ops::eq, ops::ne, ops::lt, ops::le, ops::gt, ops::ge};
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64}) {
    // Small integers in both operands, so ties are common.
    Tensor a = random_tensor({3, 1, 5}, 51, -3, 3).to(DType::i64).to(t), b = random_tensor({4, 5}, 52, -3, 3).to(DType::i64).to(t);
    for (size_t k = 0; k < tensor_cmps.size(); ++k) {
      Cmp f = tensor_cmps[k];
      CmpScalar g = scalar_cmps[k];
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& in) { return f(in[0], in[1]); }, {a, b}, exact()))
          << k << " " << dtype_name(t);
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& in) { return f(in[0].transpose(0, 2), in[1].transpose(0, 1).unsqueeze(2)); },
                            {a, b}, exact()))
          << k << " transposed " << dtype_name(t);
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& in) { return g(in[0], 1.0); }, {b}, exact())) << k << " " << dtype_name(t);
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& in) { return g(in[0], 0.5); }, {b}, exact())) << k << " " << dtype_name(t);
    }
  }
}

TEST(CudaElementwise, LogicalOps) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : {DType::boolean, DType::u8, DType::f32, DType::i64}) {
    Tensor a = sample({3, 1, 5}, 61, t), b = sample({4, 5}, 62, t);
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::logical_and(in[0], in[1]); }, {a, b}, exact()))
        << dtype_name(t);
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::logical_or(in[0], in[1]); }, {a, b}, exact()))
        << dtype_name(t);
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::logical_not(in[0].transpose(0, 2)); }, {a}, exact()))
        << dtype_name(t);
    if (t == DType::boolean || t == DType::u8) {
      EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::eq(in[0], in[1]); }, {a, b}, exact()));
      EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::ne(in[0], in[1]); }, {a, b}, exact()));
    }
  }
}

// ---- where ------------------------------------------------------------------------------

TEST(CudaElementwise, WhereForwardAndGradients) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloatTypes) {
    Tensor c = random_input({3, 1, 5}, 71, DType::f64, false), a = random_input({4, 5}, 72, t), b = random_input({}, 73, t);
    auto f = [](const std::vector<Tensor>& in) { return ops::where(ops::gt(in[0], 0.0), in[1], in[2]); };
    EXPECT_TRUE(op_parity(f, {c, a, b}, testing::default_tolerance(t))) << dtype_name(t);
    auto g = [](const std::vector<Tensor>& in) {
      return ops::where(ops::gt(in[0], 0.0).transpose(0, 2), in[1].transpose(0, 1).unsqueeze(2), in[2]);  // [5,1,3], [5,4,1]
    };
    EXPECT_TRUE(op_parity(g, {c, a, b}, testing::default_tolerance(t))) << dtype_name(t) << " transposed";
    Tensor big_c = random_input({1000003}, 74, DType::f64, false), big_a = random_input({1000003}, 75, t),
           big_b = random_input({1000003}, 76, t);
    EXPECT_TRUE(op_parity(f, {big_c, big_a, big_b}, testing::default_tolerance(t))) << dtype_name(t) << " 1000003";
    // Empty: every operand [0, 3], since the CPU's reduction of an empty [0, 3] block (a
    // broadcast operand's gradient) is not yet reliable.
    Tensor e = random_input({0, 3}, 77, t), e2 = random_input({0, 3}, 79, t);
    EXPECT_TRUE(op_parity(f, {random_input({0, 3}, 78, DType::f64, false), e, e2}, testing::default_tolerance(t)));
  }
}

TEST(CudaElementwise, WhereOnEveryDtype) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kAllTypes) {
    Tensor c = random_input({3, 1, 5}, 81, DType::f64, false), a = sample({4, 5}, 82, t), b = sample({3, 4, 1}, 83, t);
    auto f = [](const std::vector<Tensor>& in) { return ops::where(ops::gt(in[0], 0.0), in[1], in[2]); };
    EXPECT_TRUE(op_parity(f, {c, a, b}, exact())) << dtype_name(t);
  }
}

// ---- copy and dtype conversion ---------------------------------------------------------------

TEST(CudaElementwise, ConversionBetweenEveryPairOfDtypes) {
  GLASSBOX_REQUIRE_CUDA();
  // Fractions, negatives (to u8 they wrap as the CPU's conversion does), values past 255,
  // zeros, and values no integer type holds (NaN, infinities, past 2^31 and 2^63), whose
  // integer results are the CPU's (x86) ones.
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> v = {-3.7, -1.0, -0.5, -0.0, 0.0,  0.25, 1.0,  2.5,  7.9, 200.0, 255.0, 300.0,
                                 std::numeric_limits<double>::quiet_NaN(), inf, -inf, 3e9, -3e9, 1e19, -1e19, 2147483647.0};
  for (DType from : kAllTypes) {
    Tensor x = Tensor::from_vector(v, {5, 4}, {DType::f64}).to(from);
    Tensor xg = x.to(gpu());
    for (DType to : kAllTypes) {
      EXPECT_TRUE(same_values(x.to(to), xg.to(to), exact())) << dtype_name(from) << " -> " << dtype_name(to);
      // Strided source: the transposed view converted into a dense tensor.
      EXPECT_TRUE(same_values(x.transpose(0, 1).to(to), xg.transpose(0, 1).to(to), exact()))
          << dtype_name(from) << " -> " << dtype_name(to) << " transposed";
      // Into a strided destination, from a broadcast row.
      Tensor dc = Tensor::zeros({7, 4}, {to}), dg = Tensor::zeros({7, 4}, {to, gpu()});
      dc.narrow(0, 1, 3).copy_(x.narrow(0, 2, 1).to(to));
      dg.narrow(0, 1, 3).copy_(xg.narrow(0, 2, 1).to(to));
      EXPECT_TRUE(same_values(dc, dg, exact())) << dtype_name(from) << " -> " << dtype_name(to) << " broadcast";
    }
  }
}

TEST(CudaElementwise, ConversionOfLargeAndEmptyTensors) {
  GLASSBOX_REQUIRE_CUDA();
  Tensor x = random_tensor({1000003}, 91, -300.0, 300.0);
  Tensor xg = x.to(gpu());
  for (DType to : kAllTypes) EXPECT_TRUE(same_values(x.to(to), xg.to(to), exact())) << dtype_name(to);
  Tensor e = Tensor::zeros({0, 4}, {DType::f32, gpu()});
  EXPECT_EQ(e.to(DType::i64).numel(), 0);
  EXPECT_EQ(e.transpose(0, 1).contiguous().numel(), 0);
}

TEST(CudaElementwise, SameDtypeStridedCopies) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kAllTypes) {
    Tensor x = sample({4, 6, 5}, 92, t), xg = x.to(gpu());
    EXPECT_TRUE(same_values(x.permute({2, 0, 1}).contiguous(), xg.permute({2, 0, 1}).contiguous(), exact())) << dtype_name(t);
    EXPECT_TRUE(same_values(x.narrow(1, 1, 4).contiguous(), xg.narrow(1, 1, 4).contiguous(), exact())) << dtype_name(t);
    Tensor dc = Tensor::zeros({6, 4, 5}, {t}), dg = Tensor::zeros({6, 4, 5}, {t, gpu()});
    dc.transpose(0, 1).copy_(x);
    dg.transpose(0, 1).copy_(xg);
    EXPECT_TRUE(same_values(dc, dg, exact())) << dtype_name(t) << " into a transposed destination";
    Tensor one = sample({1}, 93, t);
    EXPECT_TRUE(same_values(one.expand({3, 7}).contiguous(), one.to(gpu()).expand({3, 7}).contiguous(), exact()));
  }
}

// ---- fill --------------------------------------------------------------------------------

TEST(CudaElementwise, FillEveryDtype) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kAllTypes)
    for (double value : {0.0, 1.0, -1.0, 2.5, 300.0, -0.0}) {
      for (const Shape& shape : {Shape{0}, Shape{}, Shape{1}, Shape{7, 3}, Shape{1000003}})
        EXPECT_TRUE(same_values(Tensor::full(shape, value, {t}), Tensor::full(shape, value, {t, gpu()}), exact()))
            << dtype_name(t) << " " << value << " " << shape.str();
      // A strided window of a larger tensor: only its elements change.
      Tensor c = sample({6, 8}, 94, t), g = c.to(gpu());
      c.transpose(0, 1).narrow(0, 2, 3).fill_(value);
      g.transpose(0, 1).narrow(0, 2, 3).fill_(value);
      EXPECT_TRUE(same_values(c, g, exact())) << dtype_name(t) << " " << value << " strided";
    }
}

// ---- In-place updates through the backend (output aliasing an input) ----------------------

TEST(CudaElementwise, InPlaceUpdates) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloatTypes) {
    Tensor c = random_tensor({4, 5}, 95).to(t), o = random_tensor({1, 5}, 96).to(t);
    Tensor g = c.to(gpu()), og = o.to(gpu());
    c.add_(o, 1.0);
    g.add_(og, 1.0);
    c.mul_(-1.5);
    g.mul_(-1.5);
    c.clamp_(-0.4, 0.9);
    g.clamp_(-0.4, 0.9);
    c.mul_(o);
    g.mul_(og);
    EXPECT_TRUE(same_values(c, g, testing::default_tolerance(t))) << dtype_name(t);
  }
}

// ---- More than 2^31 elements: 64-bit indexing in both kernels -------------------------------

TEST(CudaElementwise, MoreThanTwoToThe31ElementsUseWideIndices) {
  GLASSBOX_REQUIRE_CUDA();
  const int64_t cols = 715827883;  // 3 * cols = 2^31 + 1 elements of u8 (2 GiB per tensor)
  const int64_t n = 3 * cols;
  auto pattern = [](int64_t i) { return static_cast<uint8_t>(i % 251); };
  // Dense fill: the contiguous kernel's 64-bit loop.
  {
    Tensor f = Tensor::full({n}, 7, {DType::u8, gpu()});
    std::vector<uint8_t> tail = f.narrow(0, n - 3, 3).to(Device::cpu()).to_vector<uint8_t>();
    EXPECT_EQ(tail, std::vector<uint8_t>({7, 7, 7}));
  }
  // Transposed copy: the strided kernel's 64-bit division.
  Tensor host = Tensor::empty({cols, 3}, {DType::u8});
  uint8_t* p = host.data_ptr<uint8_t>();
  for (int64_t i = 0, m = 0; i < n; ++i, m = m == 250 ? 0 : m + 1) p[i] = static_cast<uint8_t>(m);  // pattern(i)
  Tensor t = host.to(gpu()).transpose(0, 1).contiguous();  // t[r][c] = host[c][r]
  host = Tensor();
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t c0 : {int64_t(0), cols / 2, cols - 4}) {
      std::vector<uint8_t> got = t.select(0, r).narrow(0, c0, 4).to(Device::cpu()).to_vector<uint8_t>();
      for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(got[size_t(k)], pattern((c0 + k) * 3 + r)) << r << ", " << c0 + k;
    }
}

}  // namespace
}  // namespace glassbox
