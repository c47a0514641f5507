// CUDA parity for indexing (index_select, index_add, gather, scatter_add), random numbers
// (uniform, normal, multinomial), fused optimiser steps, and the batched linear algebra
// (cholesky, triangular_solve): the GPU must give the CPU backend's results.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/index.h"
#include "engine/ops/linalg.h"
#include "engine/ops/random.h"
#include "engine/ops/reduce.h"
#include "engine/optim/optim.h"
#include "engine/tensor.h"
#include "kernels/registry.h"
#include "tests/support/cuda_parity.h"

namespace glassbox {
namespace {

using testing::default_tolerance;
using testing::exact;
using testing::gpu;
using testing::op_parity;
using testing::random_input;
using testing::same_values;
using testing::Tolerance;
using testing::tolerance_for;

/// An i64 tensor on the CPU.
Tensor indices(const std::vector<int64_t>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape, {DType::i64});
}

/// Random i64 indices in [0, n) of `shape` (duplicates likely when the shape is large).
Tensor random_indices(const Shape& shape, int64_t n, uint64_t seed) {
  std::vector<double> u = testing::random_tensor(shape, seed, 0.0, double(n)).to_vector<double>();
  std::vector<int64_t> v;
  for (double x : u) v.push_back(std::min<int64_t>(n - 1, int64_t(std::floor(x))));
  return indices(v, shape);
}

/// Values of `dtype` in a range where integer arithmetic is exact (u8 wraps like the CPU).
Tensor values_of(DType dtype, const Shape& shape, uint64_t seed) {
  switch (dtype) {
    case DType::f32:
    case DType::f64: return random_input(shape, seed, dtype, true);
    case DType::u8: return random_input(shape, seed, DType::f64, false, 0.0, 250.0).to(dtype);
    case DType::boolean: return ops::gt(testing::random_tensor(shape, seed), Tensor::scalar(0.3, {DType::f64}));
    default: return random_input(shape, seed, DType::f64, false, -1000.0, 1000.0).to(dtype);
  }
}

const std::vector<DType> kAllDtypes = {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8, DType::boolean};

/// Runs a backend call on a CPU copy and on a GPU copy of `target` and compares results.
::testing::AssertionResult backend_parity(const Tensor& target,
                                          const std::function<void(kernels::Backend&, Tensor&, Device)>& call,
                                          Tolerance tol) {
  Tensor cpu = target.clone(), cuda = target.to(gpu());
  call(kernels::backend_for(Device::cpu()), cpu, Device::cpu());
  call(kernels::backend_for(gpu()), cuda, gpu());
  return same_values(cpu, cuda, tol);
}

// ---- index_select / index_add ------------------------------------------------------------

TEST(CudaIndex, IndexSelectEveryDtypeDimAndLayout) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : kAllDtypes) {
    for (int dim = 0; dim < 3; ++dim) {
      Tensor x = values_of(dt, {5, 7, 3}, 10 + dim);
      // Repeated entries: the gradient (index_add) must accumulate them.
      Tensor idx = random_indices({11}, x.shape()[dim], 20 + dim);
      auto f = [&](const std::vector<Tensor>& in) { return ops::index_select(in[0], dim, idx.to(in[0].device())); };
      EXPECT_TRUE(op_parity(f, {x}, tolerance_for(dt))) << dtype_name(dt) << " dim " << dim;
      // Non-contiguous input (a permuted view) and index (every other entry).
      auto g = [&](const std::vector<Tensor>& in) {
        Tensor strided_idx = idx.to(in[0].device()).slice(0, 0, 11, 2);
        return ops::index_select(in[0].permute({2, 0, 1}), (dim + 1) % 3, strided_idx);
      };
      EXPECT_TRUE(op_parity(g, {x}, tolerance_for(dt))) << dtype_name(dt) << " permuted, dim " << dim;
    }
  }
}

TEST(CudaIndex, IndexSelectLargeAndEdgeShapes) {
  GLASSBOX_REQUIRE_CUDA();
  // An embedding-like lookup with many duplicates, odd sizes.
  Tensor w = random_input({1000, 7}, 1);
  Tensor idx = random_indices({100003}, 1000, 2);
  auto f = [&](const std::vector<Tensor>& in) { return ops::index_select(in[0], 0, idx.to(in[0].device())); };
  EXPECT_TRUE(op_parity(f, {w}, default_tolerance(DType::f32)));
  // Single element; empty index; a zero-sized slice.
  Tensor one = random_input({1}, 3, DType::f64);
  auto f1 = [&](const std::vector<Tensor>& in) { return ops::index_select(in[0], 0, indices({0, 0, 0}, {3}).to(in[0].device())); };
  EXPECT_TRUE(op_parity(f1, {one}, default_tolerance(DType::f64)));
  auto f0 = [&](const std::vector<Tensor>& in) { return ops::index_select(in[0], 1, indices({}, {0}).to(in[0].device())); };
  EXPECT_TRUE(op_parity(f0, {random_input({4, 5}, 4)}, default_tolerance(DType::f32)));
  Tensor empty_rows = Tensor::zeros({3, 0}, {DType::f32});
  EXPECT_EQ(ops::index_select(empty_rows.to(gpu()), 0, indices({2, 0}, {2}).to(gpu())).shape(), (Shape{2, 0}));
}

TEST(CudaIndex, EmbeddingGradientAccumulatesDuplicates) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor w = random_input({13, 9}, 5, dt);
    Tensor idx = random_indices({4, 50}, 13, 6);
    auto f = [&](const std::vector<Tensor>& in) { return ops::embedding(in[0], idx.to(in[0].device())); };
    EXPECT_TRUE(op_parity(f, {w}, default_tolerance(dt))) << dtype_name(dt);
  }
}

TEST(CudaIndex, IndexAddEveryDtypeWithDuplicates) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : kAllDtypes) {
    for (int dim = 0; dim < 2; ++dim) {
      Tensor out = values_of(dt, {6, 5}, 30 + dim).detach();
      Shape src_shape = out.shape();
      src_shape[dim] = 40;
      Tensor src = values_of(dt, src_shape, 40 + dim).detach();
      Tensor idx = random_indices({40}, out.shape()[dim], 50 + dim);
      auto call = [&](kernels::Backend& b, Tensor& t, Device d) {
        // A transposed source view exercises strided reads.
        Tensor s = src.mT().contiguous().mT().to(d);
        b.index_add(t.view(), dim, idx.to(d).view(), s.view());
      };
      EXPECT_TRUE(backend_parity(out, call, tolerance_for(dt))) << dtype_name(dt) << " dim " << dim;
      // Into a non-contiguous destination (a transposed view of a buffer).
      Tensor base = out.mT().contiguous();
      auto strided = [&](kernels::Backend& b, Tensor& t, Device d) {
        Tensor dst = t.mT();
        b.index_add(dst.view(), dim, idx.to(d).view(), src.to(d).view());
      };
      EXPECT_TRUE(backend_parity(base, strided, tolerance_for(dt))) << dtype_name(dt) << " strided dim " << dim;
    }
  }
}

// ---- gather / scatter_add ---------------------------------------------------------------

TEST(CudaIndex, GatherEveryDtypeAndLayout) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : kAllDtypes) {
    for (int dim = 0; dim < 3; ++dim) {
      Tensor x = values_of(dt, {4, 6, 5}, 60 + dim);
      Shape ishape{3, 5, 4};  // index.size(d) <= x.size(d) off dim; larger than x along dim is fine
      ishape[dim] = 9;
      Tensor idx = random_indices(ishape, x.shape()[dim], 70 + dim);
      auto f = [&](const std::vector<Tensor>& in) { return ops::gather(in[0], dim, idx.to(in[0].device())); };
      EXPECT_TRUE(op_parity(f, {x}, tolerance_for(dt))) << dtype_name(dt) << " dim " << dim;
      // Non-contiguous input and index.
      auto g = [&](const std::vector<Tensor>& in) {
        Tensor xt = in[0].transpose(0, 2);  // [5, 6, 4]
        Shape s{5, 6, 4};
        s[dim] = 3;
        Tensor it = random_indices({s[2], s[1], s[0]}, xt.shape()[dim], 80 + dim).transpose(0, 2);
        return ops::gather(xt, dim, it.to(in[0].device()));
      };
      EXPECT_TRUE(op_parity(g, {x}, tolerance_for(dt))) << dtype_name(dt) << " transposed, dim " << dim;
    }
  }
}

TEST(CudaIndex, ScatterAddEveryDtypeWithDuplicates) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : kAllDtypes) {
    for (int dim = 0; dim < 2; ++dim) {
      Tensor x = values_of(dt, {5, 6}, 90 + dim);
      Tensor src = values_of(dt, {7, 8}, 100 + dim);
      Shape ishape{4, 5};
      ishape[dim] = 7;  // many positions map to few rows: duplicates
      Tensor idx = random_indices(ishape, x.shape()[dim], 110 + dim);
      auto f = [&](const std::vector<Tensor>& in) {
        return ops::scatter_add(in[0], dim, idx.to(in[0].device()), in[1]);
      };
      EXPECT_TRUE(op_parity(f, {x, src}, tolerance_for(dt))) << dtype_name(dt) << " dim " << dim;
      // Transposed src and index.
      auto g = [&](const std::vector<Tensor>& in) {
        Tensor it = idx.mT().contiguous().mT();
        return ops::scatter_add(in[0], dim, it.to(in[0].device()), in[1].mT().contiguous().mT());
      };
      EXPECT_TRUE(op_parity(g, {x, src}, tolerance_for(dt))) << dtype_name(dt) << " strided, dim " << dim;
    }
  }
  // Large with heavy contention: 1000003 additions into 10 rows.
  Tensor big = random_input({1000003}, 7, DType::f64, false);
  Tensor idx = random_indices({1000003}, 10, 8);
  auto f = [&](const std::vector<Tensor>& in) {
    return ops::scatter_add(Tensor::zeros({10}, {DType::f64, in[0].device()}), 0, idx.to(in[0].device()), in[0]);
  };
  EXPECT_TRUE(op_parity(f, {big}, Tolerance{1e-9, 1e-9}));
  // Broadcast src (stride 0), as one_hot uses it.
  auto oh = [&](const std::vector<Tensor>& in) { return ops::one_hot(in[0], 10); };
  EXPECT_TRUE(op_parity(oh, {random_indices({3, 17}, 10, 9)}, exact()));
}

TEST(CudaIndex, OutOfRangeIndicesThrowLikeTheCpu) {
  GLASSBOX_REQUIRE_CUDA();
  Tensor x = random_input({4, 3}, 1, DType::f32, false).to(gpu());
  for (int64_t bad : {int64_t(4), int64_t(-1), int64_t(1) << 40}) {
    Tensor idx = indices({0, bad, 1}, {3}).to(gpu());
    EXPECT_THROW(ops::index_select(x, 0, idx), std::out_of_range) << bad;
    EXPECT_THROW(ops::embedding(x, idx), std::out_of_range) << bad;
    Tensor gidx = indices({0, 1, 2, 3, bad, 0}, {2, 3}).to(gpu());
    EXPECT_THROW(ops::gather(x, 0, gidx), std::out_of_range) << bad;
    EXPECT_THROW(ops::scatter_add(x, 0, gidx, x), std::out_of_range) << bad;
    Tensor out = Tensor::zeros({4, 3}, {DType::f32, gpu()});
    EXPECT_THROW(kernels::backend_for(gpu()).index_add(out.view(), 0, idx.view(), x.narrow(0, 0, 3).view()),
                 std::out_of_range);
  }
  try {
    ops::index_select(x, 1, indices({7}, {1}).to(gpu()));
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& e) {
    EXPECT_EQ(std::string(e.what()), "index_select: index 7 is out of range for dim 1 of size 3");
  }
  // An empty slice still has its index checked, as on the CPU.
  Tensor empty_rows = Tensor::zeros({3, 0}, {DType::f32, gpu()});
  EXPECT_THROW(ops::index_select(empty_rows, 0, indices({5}, {1}).to(gpu())), std::out_of_range);
  // The device stays usable after the error.
  Tensor ok = ops::index_select(x, 0, indices({3, 0}, {2}).to(gpu()));
  EXPECT_TRUE(same_values(ops::index_select(x.to(Device::cpu()), 0, indices({3, 0}, {2})), ok, exact()));
}

// ---- random numbers ---------------------------------------------------------------------

struct DrawCase {
  uint64_t seed, offset;
  int64_t n;
};
const std::vector<DrawCase> kDraws = {
    {0, 0, 1}, {42, 3, 7}, {0x1234567890abcdefULL, 5, 1000003}, {7, (uint64_t(1) << 32) - 3, 1001}, {99, 13, 64}};

TEST(CudaRandom, UniformIsBitwiseTheCpus) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : {DType::f32, DType::f64}) {
    for (const DrawCase& c : kDraws) {
      for (auto [lo, hi] : {std::pair{0.0, 1.0}, {-3.5, 2.25}, {1.0, 1.0 + 1e-7}, {5.0, 5.0}}) {
        Generator a(c.seed), b(c.seed);
        a.advance(c.offset);
        b.advance(c.offset);
        Tensor cpu = ops::rand({c.n}, lo, hi, {dt}, &a);
        Tensor cuda = ops::rand({c.n}, lo, hi, {dt, gpu()}, &b);
        EXPECT_TRUE(same_values(cpu, cuda, exact())) << dtype_name(dt) << " seed " << c.seed << " offset " << c.offset
                                                     << " n " << c.n << " [" << lo << ", " << hi << ")";
        EXPECT_EQ(a.offset(), b.offset());
      }
    }
  }
}

TEST(CudaRandom, UniformIntoStridedViewsFollowsRowMajorOrder) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : {DType::f32, DType::f64}) {
    NoGradGuard no_grad;
    Tensor cpu_base = Tensor::zeros({7, 5}, {dt}), gpu_base = Tensor::zeros({7, 5}, {dt, gpu()});
    Tensor cpu_view = cpu_base.mT(), gpu_view = gpu_base.mT();
    Generator a(11), b(11);
    ops::uniform_(cpu_view, -1.0, 1.0, &a);
    ops::uniform_(gpu_view, -1.0, 1.0, &b);
    EXPECT_TRUE(same_values(cpu_base, gpu_base, exact())) << dtype_name(dt);
    Tensor cpu_n = Tensor::zeros({6, 9}, {dt}), gpu_n = Tensor::zeros({6, 9}, {dt, gpu()});
    Tensor cv = cpu_n.slice(1, 1, 9, 2), gv = gpu_n.slice(1, 1, 9, 2);
    ops::normal_(cv, 0.5, 2.0, &a);
    ops::normal_(gv, 0.5, 2.0, &b);
    const Tolerance tol = dt == DType::f32 ? Tolerance{2e-6, 4e-5} : Tolerance{1e-14, 1e-13};
    EXPECT_TRUE(same_values(cpu_n, gpu_n, tol)) << dtype_name(dt);
  }
}

TEST(CudaRandom, NormalMatchesTheCpuToTheLastUlps) {
  GLASSBOX_REQUIRE_CUDA();
  // The CPU takes log and cos from glibc; CUDA's may differ in the last bit (f32: the
  // GPU rounds double-precision log/cos once; f64: CUDA's log/cos are within 1-2 ulp).
  // So values agree to a few ulps of std * |z|, not bitwise.
  for (DType dt : {DType::f32, DType::f64}) {
    for (const DrawCase& c : kDraws) {
      for (auto [mean, std] : {std::pair{0.0, 1.0}, {3.0, 0.5}, {-1.0, 10.0}}) {
        Generator a(c.seed), b(c.seed);
        a.advance(c.offset);
        b.advance(c.offset);
        Tensor cpu = ops::randn({c.n}, mean, std, {dt}, &a);
        Tensor cuda = ops::randn({c.n}, mean, std, {dt, gpu()}, &b);
        // |z| < 9 for every 53-bit uniform, so 16 * 9 * eps * std bounds a few-ulp error.
        const Tolerance tol =
            dt == DType::f32 ? Tolerance{5e-7, 144 * 1.2e-7 * std} : Tolerance{1e-15, 144 * 2.3e-16 * std};
        EXPECT_TRUE(same_values(cpu, cuda, tol)) << dtype_name(dt) << " seed " << c.seed << " n " << c.n;
      }
    }
  }
}

TEST(CudaRandom, DropoutAndBernoulliMatchTheCpu) {
  GLASSBOX_REQUIRE_CUDA();
  // Built on random_uniform, so the same elements are kept; the kept values are scaled
  // by elementwise kernels, which agree to rounding.
  Tensor x = random_input({33, 31}, 3, DType::f32, false);
  Generator a(5), b(5);
  EXPECT_TRUE(same_values(ops::dropout(x, 0.3, true, &a), ops::dropout(x.to(gpu()), 0.3, true, &b),
                          default_tolerance(DType::f32)));
  Tensor p = random_input({1001}, 4, DType::f64, false, 0.0, 1.0);
  EXPECT_TRUE(same_values(ops::bernoulli(p, &a), ops::bernoulli(p.to(gpu()), &b), exact()));
}

TEST(CudaRandom, MultinomialDrawsAreTheCpus) {
  GLASSBOX_REQUIRE_CUDA();
  struct Case {
    int64_t rows, cats, samples;
  };
  for (DType dt : {DType::f32, DType::f64}) {
    for (bool replacement : {true, false}) {
      for (const Case& c : {Case{1, 1, 1}, Case{3, 7, 5}, Case{17, 100, 100}, Case{4, 1000, 37}, Case{129, 3, 2}}) {
        // Some zero-probability categories, but enough positive ones to draw from.
        Tensor probs = random_input({c.rows, c.cats}, uint64_t(c.rows * 31 + c.cats), DType::f64, false, -0.3, 1.0);
        probs = ops::maximum(probs, Tensor::scalar(0.0, {DType::f64})).to(dt);
        // The first k categories are positive, so k samples can be drawn without replacement.
        const int64_t samples = std::min(c.samples, c.cats);
        probs.narrow(1, 0, samples)
            .copy_(random_input({c.rows, samples}, uint64_t(c.cats), DType::f64, false, 0.05, 1.0).to(dt));
        Generator a(77), b(77);
        a.advance(9);
        b.advance(9);
        Tensor cpu = ops::multinomial(probs, samples, replacement, &a);
        Tensor cuda = ops::multinomial(probs.to(gpu()), samples, replacement, &b);
        EXPECT_TRUE(same_values(cpu, cuda, exact()))
            << dtype_name(dt) << (replacement ? " with" : " without") << " replacement, " << c.rows << "x" << c.cats;
        EXPECT_EQ(a.offset(), b.offset());
      }
    }
    // Without replacement over all-positive rows: full permutations, and a transposed probs view.
    Tensor probs = random_input({40, 6}, 12, DType::f64, false, 0.1, 1.0).to(dt);
    Generator a(3), b(3);
    Tensor pt = probs.mT();  // [6, 40], non-contiguous
    EXPECT_TRUE(same_values(ops::multinomial(pt, 40, false, &a), ops::multinomial(probs.to(gpu()).mT(), 40, false, &b),
                            exact()));
    EXPECT_TRUE(same_values(ops::multinomial(pt, 500, true, &a), ops::multinomial(probs.to(gpu()).mT(), 500, true, &b),
                            exact()));
    // One-dimensional probs.
    Tensor p1 = random_input({9}, 13, DType::f64, false, 0.0, 1.0).to(dt);
    EXPECT_TRUE(same_values(ops::multinomial(p1, 4, false, &a), ops::multinomial(p1.to(gpu()), 4, false, &b), exact()));
  }
}

TEST(CudaRandom, MultinomialRejectsBadRowsWithTheCpusMessage) {
  GLASSBOX_REQUIRE_CUDA();
  auto message = [](const Tensor& probs, int64_t samples, bool replacement) -> std::string {
    Generator g(1);
    try {
      ops::multinomial(probs, samples, replacement, &g);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no error";
  };
  const std::vector<Tensor> bad = {
      Tensor::from_vector<double>({0.2, 0.3, 0.5, 0.1, -0.2, 0.4}, {2, 3}, {DType::f64}),     // negative in row 1
      Tensor::from_vector<double>({0.2, 0.3, 0.5, 0.0, 0.0, 0.0}, {2, 3}, {DType::f64}),      // zero row 1
      Tensor::from_vector<double>({0.2, NAN, 0.5, 0.0, 0.0, 0.0}, {2, 3}, {DType::f64}),      // NaN in row 0 first
      Tensor::from_vector<double>({0.2, 0.3, 0.5, 0.0, 1.0, INFINITY}, {2, 3}, {DType::f64})  // inf in row 1
  };
  for (const Tensor& p : bad) {
    for (DType dt : {DType::f32, DType::f64}) {
      const std::string cpu = message(p.to(dt), 2, true);
      EXPECT_NE(cpu, "no error");
      EXPECT_EQ(message(p.to(dt).to(gpu()), 2, true), cpu);
    }
  }
  // Too few positive categories to draw without replacement.
  Tensor few = Tensor::from_vector<double>({0.2, 0.3, 0.5, 0.0, 1.0, 0.0}, {2, 3}, {DType::f64});
  const std::string cpu = message(few, 2, false);
  EXPECT_NE(cpu.find("non-zero categories"), std::string::npos) << cpu;
  EXPECT_EQ(message(few.to(gpu()), 2, false), cpu);
}

// ---- optimiser steps --------------------------------------------------------------------

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(const std::vector<Tensor>&)>;

/// Three steps of an optimiser on CPU and GPU copies of the same parameters and gradients.
void expect_same_steps(const MakeOptimizer& make, DType dt, const std::string& what) {
  const Shape shapes[] = {{7}, {33, 5}, {1000003}};
  std::vector<Tensor> cpu_params, gpu_params;
  uint64_t seed = 500;
  for (const Shape& s : shapes) {
    Tensor p = random_input(s, seed++, dt, false);
    Tensor c = p.clone(), g = p.to(gpu());
    c.set_requires_grad(true);
    g.set_requires_grad(true);
    cpu_params.push_back(c);
    gpu_params.push_back(g);
  }
  auto cpu_opt = make(cpu_params), gpu_opt = make(gpu_params);
  for (int step = 0; step < 3; ++step) {
    for (size_t i = 0; i < cpu_params.size(); ++i) {
      Tensor grad = random_input(cpu_params[i].shape(), 900 + 10 * step + i, dt, false);
      cpu_params[i].set_grad(grad);
      gpu_params[i].set_grad(grad.to(gpu()));
    }
    cpu_opt->step();
    gpu_opt->step();
  }
  const Tolerance tol = dt == DType::f32 ? Tolerance{1e-5, 1e-6} : Tolerance{1e-12, 1e-13};
  for (size_t i = 0; i < cpu_params.size(); ++i)
    EXPECT_TRUE(same_values(cpu_params[i].detach(), gpu_params[i].detach(), tol)) << what << " " << dtype_name(dt)
                                                                                    << " param " << i;
}

TEST(CudaOptim, SgdVariantsMatchTheCpu) {
  GLASSBOX_REQUIRE_CUDA();
  const std::vector<optim::SgdOptions> variants = {
      {.lr = 0.1},
      {.lr = 0.1, .weight_decay = 0.01},
      {.lr = 0.05, .momentum = 0.9},
      {.lr = 0.05, .momentum = 0.9, .dampening = 0.2, .weight_decay = 0.001},
      {.lr = 0.05, .momentum = 0.8, .weight_decay = 0.01, .nesterov = true},
  };
  for (DType dt : {DType::f32, DType::f64})
    for (size_t v = 0; v < variants.size(); ++v)
      expect_same_steps([&](const std::vector<Tensor>& p) { return std::make_unique<optim::SGD>(p, variants[v]); }, dt,
                        "sgd variant " + std::to_string(v));
}

TEST(CudaOptim, AdamAndAdamWMatchTheCpu) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : {DType::f32, DType::f64}) {
    expect_same_steps([](const std::vector<Tensor>& p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{}); },
                      dt, "adam");
    expect_same_steps(
        [](const std::vector<Tensor>& p) {
          return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.01, .beta1 = 0.8, .weight_decay = 0.1});
        },
        dt, "adam with L2");
    expect_same_steps(
        [](const std::vector<Tensor>& p) { return std::make_unique<optim::AdamW>(p, optim::AdamWOptions{.lr = 0.01}); },
        dt, "adamw");
  }
}

TEST(CudaOptim, AdadeltaMatchesTheCpu) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : {DType::f32, DType::f64}) {
    expect_same_steps(
        [](const std::vector<Tensor>& p) { return std::make_unique<optim::Adadelta>(p, optim::AdadeltaOptions{}); }, dt,
        "adadelta");
    expect_same_steps(
        [](const std::vector<Tensor>& p) {
          return std::make_unique<optim::Adadelta>(p, optim::AdadeltaOptions{.lr = 0.5, .rho = 0.8, .weight_decay = 0.01});
        },
        dt, "adadelta with decay");
  }
}

TEST(CudaOptim, KernelsRejectWhatTheCpuRejects) {
  GLASSBOX_REQUIRE_CUDA();
  kernels::Backend& b = kernels::backend_for(gpu());
  Tensor p = Tensor::zeros({4, 3}, {DType::f32, gpu()}), g = Tensor::zeros({4, 3}, {DType::f32, gpu()});
  Tensor g64 = Tensor::zeros({4, 3}, {DType::f64, gpu()}), pi = Tensor::zeros({4, 3}, {DType::i32, gpu()});
  EXPECT_THROW(b.sgd_update(p.view(), g64.view(), nullptr, {}), std::invalid_argument);
  EXPECT_THROW(b.sgd_update(p.mT().view(), g.mT().view(), nullptr, {}), std::invalid_argument);
  EXPECT_THROW(b.sgd_update(pi.view(), pi.view(), nullptr, {}), std::invalid_argument);
  kernels::AdamHyper h;
  h.step = 0;
  EXPECT_THROW(b.adam_update(p.view(), g.view(), g.view(), g.view(), h), std::invalid_argument);
}

// ---- cholesky / triangular_solve --------------------------------------------------------

Tensor eye_on(int64_t n, double scale, DType dt, Device d) {
  std::vector<double> v(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) v[size_t(i * n + i)] = scale;
  return Tensor::from_vector(v, {n, n}, {DType::f64}).to(dt).to(d);
}

TEST(CudaLinalg, CholeskyForwardAndGradient) {
  GLASSBOX_REQUIRE_CUDA();
  // A = X X^T + 0.5 n I is well conditioned; the gradient flows through the factor.
  auto gram = [](const std::vector<Tensor>& in) {
    const int64_t n = in[0].size(-1);
    return ops::cholesky(ops::add(ops::matmul(in[0], in[0].mT()), eye_on(n, 0.5 * double(n), in[0].dtype(), in[0].device())));
  };
  for (DType dt : {DType::f32, DType::f64}) {
    for (const Shape& s : {Shape{1, 1}, Shape{4, 4}, Shape{3, 5, 5}, Shape{2, 2, 7, 7}, Shape{33, 33}, Shape{2, 64, 64}}) {
      const Tolerance tol = dt == DType::f32 ? Tolerance{1e-3, 1e-4} : Tolerance{1e-9, 1e-10};
      EXPECT_TRUE(op_parity(gram, {random_input(s, uint64_t(s.product()), dt)}, tol)) << dtype_name(dt) << " " << s.str();
    }
  }
  // A matrix too big for shared memory in f64 (100 x 100 x 8 bytes > 40 KiB) and a
  // non-contiguous input (the transposed lower triangle is not read).
  EXPECT_TRUE(op_parity(gram, {random_input({100, 100}, 3, DType::f64)}, Tolerance{1e-9, 1e-10}));
  auto strided = [](const std::vector<Tensor>& in) {
    Tensor a = ops::add(ops::matmul(in[0], in[0].mT()), eye_on(6, 3.0, in[0].dtype(), in[0].device()));
    return ops::cholesky(a.mT());
  };
  EXPECT_TRUE(op_parity(strided, {random_input({3, 6, 6}, 4, DType::f64)}, Tolerance{1e-10, 1e-11}));
  // Many small matrices (more than one per block in the grid-stride loop is not needed,
  // but many blocks are).
  EXPECT_TRUE(op_parity(gram, {random_input({5000, 3, 3}, 5, DType::f64)}, Tolerance{1e-9, 1e-10}));
  // Empty batch.
  EXPECT_EQ(ops::cholesky(Tensor::zeros({0, 3, 3}, {DType::f32, gpu()})).shape(), (Shape{0, 3, 3}));
}

TEST(CudaLinalg, CholeskyNotPositiveDefiniteNamesTheFirstBadMatrix) {
  GLASSBOX_REQUIRE_CUDA();
  // Matrices 1 and 3 fail (at orders 2 and 1); the CPU names matrix 1, order 2.
  Tensor a = Tensor::from_vector<double>({4, 0, 0, 1, 1, 2, 2, 1, 2, 0, 0, 2, -1, 0, 0, 1}, {4, 2, 2}, {DType::f64});
  for (DType dt : {DType::f32, DType::f64}) {
    std::string cpu_msg, gpu_msg;
    try {
      ops::cholesky(a.to(dt));
    } catch (const std::domain_error& e) {
      cpu_msg = e.what();
    }
    try {
      ops::cholesky(a.to(dt).to(gpu()));
      FAIL() << "expected std::domain_error on the GPU";
    } catch (const std::domain_error& e) {
      gpu_msg = e.what();
    }
    EXPECT_NE(gpu_msg.find("matrix 1"), std::string::npos) << gpu_msg;
    EXPECT_EQ(gpu_msg, cpu_msg);
  }
  // NaN entries are not positive definite either.
  Tensor nan = Tensor::from_vector<double>({NAN, 0, 0, 1}, {2, 2}, {DType::f64}).to(gpu());
  EXPECT_THROW(ops::cholesky(nan), std::domain_error);
}

TEST(CudaLinalg, TriangularSolveEveryVariantForwardAndGradient) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : {DType::f32, DType::f64}) {
    const Tolerance tol = dt == DType::f32 ? Tolerance{1e-4, 1e-5} : Tolerance{1e-10, 1e-11};
    for (bool lower : {true, false})
      for (bool trans : {false, true})
        for (bool unit : {false, true}) {
          // A diagonally dominant, so every variant is well conditioned; the solve reads
          // only one triangle, and the gradient w.r.t. A lands on that triangle.
          auto f = [=](const std::vector<Tensor>& in) {
            Tensor a = ops::add(in[0], eye_on(in[0].size(-1), 4.0, in[0].dtype(), in[0].device()));
            return ops::triangular_solve(a, in[1], lower, trans, unit);
          };
          const std::string what = std::string(dtype_name(dt)) + (lower ? " lower" : " upper") +
                                   (trans ? " transposed" : "") + (unit ? " unit" : "");
          EXPECT_TRUE(op_parity(f, {random_input({5, 5}, 1, dt), random_input({5, 3}, 2, dt)}, tol)) << what;
          // Batched with a broadcast A, and non-contiguous B.
          auto g = [=](const std::vector<Tensor>& in) {
            Tensor a = ops::add(in[0], eye_on(in[0].size(-1), 4.0, in[0].dtype(), in[0].device()));
            return ops::triangular_solve(a, in[1].mT(), lower, trans, unit);
          };
          EXPECT_TRUE(op_parity(g, {random_input({7, 7}, 3, dt), random_input({4, 2, 7}, 4, dt)}, tol)) << what;
          // A vector right-hand side, a 1 x 1 system and a 64 x 64 one.
          EXPECT_TRUE(op_parity(f, {random_input({1, 1}, 5, dt), random_input({1, 1}, 6, dt)}, tol)) << what;
          EXPECT_TRUE(op_parity(f, {random_input({3, 64, 64}, 7, dt, true, -0.05, 0.05), random_input({3, 64, 33}, 8, dt)},
                                tol))
              << what;
        }
  }
  // Empty right-hand side.
  Tensor a = Tensor::ones({3, 3}, {DType::f32, gpu()});
  EXPECT_EQ(ops::triangular_solve(a, Tensor::zeros({3, 0}, {DType::f32, gpu()})).shape(), (Shape{3, 0}));
}

}  // namespace
}  // namespace glassbox
