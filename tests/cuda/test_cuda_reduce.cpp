// CUDA parity of reductions (every ReduceOp, any set of dims), arg-reductions,
// cumsum, softmax / log-softmax, topk and the losses built on them: forward values
// and gradients against the CPU backend, over dtypes, layouts (contiguous, permuted,
// narrowed, broadcast), odd and large sizes, empty tensors and NaN / inf / tie cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/loss.h"
#include "engine/ops/reduce.h"
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
using Fn = testing::TensorFn;

const double kNan = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

const std::vector<DType> kFloating = {DType::f32, DType::f64};
const std::vector<DType> kNumeric = {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8};

// ---- Layouts: a leaf to hand to op_parity and the logical view f takes of it ----------

enum class Layout { contiguous, permuted, narrowed };
const std::vector<Layout> kLayouts = {Layout::contiguous, Layout::permuted, Layout::narrowed};

std::vector<int> reversed_dims(int rank) {
  std::vector<int> p;
  for (int d = rank - 1; d >= 0; --d) p.push_back(d);
  return p;
}

/// Random whole numbers in [lo, hi) (truncated towards zero) as `dtype`: few distinct
/// values, so lines hold ties. Requires grad when floating.
Tensor whole(const Shape& shape, uint64_t seed, DType dtype, double lo, double hi) {
  Tensor t = testing::random_tensor(shape, seed, lo, hi).to(DType::i64).to(dtype);
  if (is_floating(dtype)) t.set_requires_grad(true);
  return t;
}

/// A random leaf from which logical() makes a tensor of `shape` with the given layout
/// (op_parity copies leaves contiguously to the GPU, so the layout is made inside f).
/// Integer dtypes get whole numbers in [lo, hi) (truncated towards zero); with
/// `ties`, floating ones too.
Tensor leaf(const Shape& shape, Layout layout, uint64_t seed, DType dtype = DType::f32, double lo = -1.0,
            double hi = 1.0, bool ties = false) {
  Shape s = shape;
  if (layout == Layout::permuted) {
    s = Shape();
    for (int d = shape.size() - 1; d >= 0; --d) s.push_back(shape[d]);
  } else if (layout == Layout::narrowed) {
    s[s.size() - 1] += 3;
  }
  return ties ? whole(s, seed, dtype, lo, hi) : random_input(s, seed, dtype, true, lo, hi);
}

Tensor logical(const Tensor& t, Layout layout, const Shape& shape) {
  switch (layout) {
    case Layout::contiguous: return t;
    case Layout::permuted: return t.permute(reversed_dims(t.dim()));
    case Layout::narrowed: return t.narrow(t.dim() - 1, 1, shape[shape.size() - 1]);
  }
  return t;
}

const char* layout_name(Layout l) {
  return l == Layout::contiguous ? "contiguous" : l == Layout::permuted ? "permuted" : "narrowed";
}

/// Every single axis, every pair and "all dims" for rank r.
std::vector<std::vector<int>> axis_sets(int rank) {
  std::vector<std::vector<int>> sets = {{}};
  for (int d = 0; d < rank; ++d) sets.push_back({d});
  for (int a = 0; a < rank; ++a)
    for (int b = a + 1; b < rank; ++b) sets.push_back({a, b});
  if (rank == 3) sets.push_back({0, 1, 2});
  return sets;
}

std::string dims_str(const std::vector<int>& dims) {
  std::string s = "{";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(dims[i]);
  }
  return s + "}";
}

/// A 1-d tensor of `values` in dtype t (for NaN / inf / tie cases).
Tensor values_of(const std::vector<double>& values, DType t, const Shape& shape) {
  return Tensor::from_vector(values, shape, {DType::f64}).to(t);
}

const std::vector<Shape> kSmallShapes = {{5}, {3, 4}, {2, 3, 4}, {1, 7, 1}};

}  // namespace

// ---- reduce: every op, axis set, dtype and layout -------------------------------------------

TEST(CudaReduce, SumMeanVarNormLogsumexpEveryAxisSetLayoutAndFloatDtype) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : kFloating)
    for (const Shape& shape : kSmallShapes)
      for (Layout layout : kLayouts)
        for (const auto& dims : axis_sets(shape.size()))
          for (bool keepdim : {false, true}) {
            const Tensor x = leaf(shape, layout, 10, dt, -2, 2);
            auto in = [&](const std::vector<Tensor>& v) { return logical(v[0], layout, shape); };
            const std::vector<Fn> fns = {
                [&](const std::vector<Tensor>& v) { return ops::sum(in(v), dims, keepdim); },
                [&](const std::vector<Tensor>& v) { return ops::mean(in(v), dims, keepdim); },
                [&](const std::vector<Tensor>& v) { return ops::var(in(v), dims, 1, keepdim); },
                [&](const std::vector<Tensor>& v) { return ops::norm(in(v), dims, keepdim); },
                [&](const std::vector<Tensor>& v) { return ops::logsumexp(in(v), dims, keepdim); },
                [&](const std::vector<Tensor>& v) { return ops::prod(in(v), dims, keepdim); },
                [&](const std::vector<Tensor>& v) { return ops::amax(in(v), dims, keepdim); },
                [&](const std::vector<Tensor>& v) { return ops::amin(in(v), dims, keepdim); },
            };
            for (size_t i = 0; i < fns.size(); ++i)
              EXPECT_TRUE(op_parity(fns[i], {x}, default_tolerance(dt)))
                  << "op " << i << " " << dtype_name(dt) << " " << shape.str() << " " << layout_name(layout) << " dims "
                  << dims_str(dims) << " keepdim " << keepdim;
          }
}

TEST(CudaReduce, IntegerSumProdMaxMinAreExactIncludingWrapAround) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : {DType::i64, DType::i32, DType::u8})
    for (const Shape& shape : kSmallShapes)
      for (Layout layout : kLayouts)
        for (const auto& dims : axis_sets(shape.size())) {
          // u8 in [0, 4): products wrap modulo 256 as the CPU's u8 arithmetic does.
          // Signed values in {-2..2} keep i32 products of 24 entries in range.
          const double lo = dt == DType::u8 ? 0 : -3, hi = dt == DType::u8 ? 4 : 3;
          const Tensor x = leaf(shape, layout, 20, dt, lo, hi);
          auto in = [&](const std::vector<Tensor>& v) { return logical(v[0], layout, shape); };
          const std::vector<Fn> fns = {
              [&](const std::vector<Tensor>& v) { return ops::sum(in(v), dims); },
              [&](const std::vector<Tensor>& v) { return ops::prod(in(v), dims); },
              [&](const std::vector<Tensor>& v) { return ops::amax(in(v), dims); },
              [&](const std::vector<Tensor>& v) { return ops::amin(in(v), dims, true); },
          };
          for (size_t i = 0; i < fns.size(); ++i)
            EXPECT_TRUE(op_parity(fns[i], {x}, exact()))
                << "op " << i << " " << dtype_name(dt) << " " << shape.str() << " " << layout_name(layout) << " dims "
                << dims_str(dims);
        }
  // Sums far beyond 2^32 stay exact in i64.
  Tensor big = Tensor::full({1000003}, 3e6, {DType::i64});
  EXPECT_TRUE(op_parity([](const std::vector<Tensor>& v) { return ops::sum(v[0]); }, {big}, exact()));
}

TEST(CudaReduce, LargeOddAndSplitReductionsInEveryLayout) {
  GLASSBOX_REQUIRE_CUDA();
  struct Case {
    Shape shape;
    std::vector<int> dims;
  };
  // Whole-tensor and row reductions split over blocks; column reductions (the kept dim
  // contiguous), a middle dim, and thread-per-output short reductions.
  const std::vector<Case> cases = {
      {{1000003}, {}},         {{1000003}, {0}},     {{7, 100003}, {1}}, {{100003, 7}, {0}},
      {{3, 100003, 5}, {1}},   {{3, 100003, 5}, {0, 2}}, {{1000, 1000}, {}}, {{1000, 1000}, {0}},
      {{200000, 3}, {1}},      {{3, 200000}, {0}},   {{64, 33, 65}, {0, 2}}, {{1, 1}, {}},
  };
  for (DType dt : kFloating)
    for (const Case& c : cases)
      for (Layout layout : {Layout::contiguous, Layout::permuted}) {
        const Tensor x = leaf(c.shape, layout, 30, dt, -1, 1);
        auto in = [&](const std::vector<Tensor>& v) { return logical(v[0], layout, c.shape); };
        const std::vector<Fn> fns = {
            [&](const std::vector<Tensor>& v) { return ops::sum(in(v), c.dims); },
            [&](const std::vector<Tensor>& v) { return ops::norm(in(v), c.dims); },
            [&](const std::vector<Tensor>& v) { return ops::logsumexp(in(v), c.dims); },
            [&](const std::vector<Tensor>& v) { return ops::amax(in(v), c.dims); },
        };
        for (size_t i = 0; i < fns.size(); ++i)
          EXPECT_TRUE(op_parity(fns[i], {x}, default_tolerance(dt)))
              << "op " << i << " " << dtype_name(dt) << " " << c.shape.str() << " " << layout_name(layout) << " dims "
              << dims_str(c.dims);
      }
  // prod of a long row of values near 1 (double accumulation keeps it accurate).
  Tensor near_one = random_input({100003}, 31, DType::f32, true, 0.9999, 1.0001);
  EXPECT_TRUE(op_parity([](const std::vector<Tensor>& v) { return ops::prod(v[0]); }, {near_one}, default_tolerance(DType::f32)));
}

TEST(CudaReduce, BroadcastInputsWithZeroStrides) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : kFloating) {
    Tensor row = random_input({1, 5}, 40, dt), col = random_input({7, 1}, 41, dt);
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& v) { return ops::sum(v[0].expand({1000, 5}), {0}); }, {row},
                          default_tolerance(dt)));
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& v) { return ops::logsumexp(v[0].expand({7, 300}), {1}); }, {col},
                          default_tolerance(dt)));
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& v) { return ops::amax(v[0].expand({7, 300}), {0, 1}); }, {col},
                          default_tolerance(dt)));
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& v) { return ops::sum(v[0].expand({7, 3, 300}), {0, 2}); },
                          {col.unsqueeze(1).detach().set_requires_grad()}, default_tolerance(dt)));
  }
}

TEST(CudaReduce, EmptyTensors) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : {DType::f32, DType::f64, DType::i64}) {
    Tensor e = Tensor::zeros({0, 3}, {dt});
    for (const std::vector<int>& dims : std::vector<std::vector<int>>{{0}, {1}, {}}) {
      EXPECT_TRUE(same_values(ops::sum(e, dims), ops::sum(e.to(gpu()), dims), exact())) << dims_str(dims);
      EXPECT_TRUE(same_values(ops::prod(e, dims), ops::prod(e.to(gpu()), dims), exact())) << dims_str(dims);
    }
    if (is_floating(dt)) {
      EXPECT_TRUE(same_values(ops::logsumexp(e, {0}), ops::logsumexp(e.to(gpu()), {0}), exact()));
      EXPECT_TRUE(same_values(ops::norm(e, {0}), ops::norm(e.to(gpu()), {0}), exact()));
    }
    EXPECT_THROW(ops::amax(e.to(gpu())), std::invalid_argument);
    EXPECT_THROW(ops::argmax(e.to(gpu()), 0), std::invalid_argument);
  }
}

TEST(CudaReduce, NanAndInfinityPropagateAsOnTheCpu) {
  GLASSBOX_REQUIRE_CUDA();
  const std::vector<std::vector<double>> rows = {
      {1, kNan, 3, kNan}, {kNan, 2, 1, 0}, {-kInf, -kInf, -kInf, -kInf}, {kInf, 1, -kInf, 2},
      {kInf, kNan, 1, 2}, {-1, -0.0, 0.0, -2},  {5, 5, 1, 5},       {kNan, kNan, kNan, kNan},
  };
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  for (DType dt : kFloating) {
    Tensor x = values_of(flat, dt, {int64_t(rows.size()), 4});
    Tensor g = x.to(gpu());
    for (int d : {0, 1}) {
      for (bool is_max : {true, false}) {
        ops::ValuesIndices c = is_max ? ops::max(x, d) : ops::min(x, d);
        ops::ValuesIndices m = is_max ? ops::max(g, d) : ops::min(g, d);
        EXPECT_TRUE(same_values(c.values, m.values, exact())) << dtype_name(dt) << " dim " << d << " max " << is_max;
        EXPECT_TRUE(same_values(c.indices, m.indices, exact())) << dtype_name(dt) << " dim " << d << " max " << is_max;
      }
      EXPECT_TRUE(same_values(ops::sum(x, {d}), ops::sum(g, {d}), exact()));
      EXPECT_TRUE(same_values(ops::prod(x, {d}), ops::prod(g, {d}), exact()));
      EXPECT_TRUE(same_values(ops::logsumexp(x, {d}), ops::logsumexp(g, {d}), default_tolerance(dt)));
      EXPECT_TRUE(same_values(ops::amax(x, {0, 1}), ops::amax(g, {0, 1}), exact()));
    }
  }
}

TEST(CudaReduce, BoolIsRejectedAndIntegerLogsumexpToo) {
  GLASSBOX_REQUIRE_CUDA();
  Tensor b = Tensor::zeros({4}, {DType::boolean, gpu()});
  EXPECT_THROW(ops::sum(b), std::invalid_argument);
  EXPECT_THROW(ops::prod(b), std::invalid_argument);
  EXPECT_THROW(ops::logsumexp(Tensor::zeros({3}, {DType::i64, gpu()}), {0}), std::invalid_argument);
  try {
    ops::sum(b);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bool"), std::string::npos) << e.what();
  }
}

// ---- arg-reductions -----------------------------------------------------------------------

TEST(CudaArgReduce, MaxMinIndicesEveryDimDtypeAndLayoutWithTies) {
  GLASSBOX_REQUIRE_CUDA();
  // Few distinct values, so most lines hold ties: the first index must win.
  for (DType dt : kNumeric)
    for (const Shape& shape : kSmallShapes)
      for (Layout layout : kLayouts)
        for (int d = 0; d < shape.size(); ++d)
          for (bool keepdim : {false, true}) {
            const Tensor x = leaf(shape, layout, 50, dt, 0, 3, true);
            auto in = [&](const std::vector<Tensor>& v) { return logical(v[0], layout, shape); };
            const std::vector<Fn> fns = {
                [&](const std::vector<Tensor>& v) { return ops::argmax(in(v), d, keepdim); },
                [&](const std::vector<Tensor>& v) { return ops::argmin(in(v), d, keepdim); },
                [&](const std::vector<Tensor>& v) { return ops::max(in(v), d, keepdim).values; },
                [&](const std::vector<Tensor>& v) { return ops::min(in(v), d, keepdim).values; },
            };
            for (size_t i = 0; i < fns.size(); ++i)
              EXPECT_TRUE(op_parity(fns[i], {x}, tolerance_for(dt)))
                  << "op " << i << " " << dtype_name(dt) << " " << shape.str() << " " << layout_name(layout) << " dim "
                  << d;
          }
}

TEST(CudaArgReduce, LongLinesAndColumnsFindTheFirstWinner) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : {DType::f32, DType::f64, DType::i32}) {
    // Values in {0..4}: every line has many maxima and minima.
    Tensor x = whole({1000003}, 60, dt, 0, 5).detach();
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& v) { return ops::argmax(v[0], 0); }, {x}, exact()));
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& v) { return ops::argmin(v[0], 0); }, {x}, exact()));
    Tensor m = whole({3000, 257}, 61, dt, 0, 5).detach();
    for (int d : {0, 1}) {
      EXPECT_TRUE(op_parity([d](const std::vector<Tensor>& v) { return ops::argmax(v[0], d); }, {m}, exact()));
      EXPECT_TRUE(op_parity([d](const std::vector<Tensor>& v) { return ops::argmin(v[0].transpose(0, 1), d); }, {m},
                            exact()));
    }
  }
  // A NaN late in a long line wins over everything before it.
  std::vector<double> v(100003, 1.0);
  v[77777] = kNan;
  v[99999] = kNan;
  v[5] = 2.0;
  Tensor n = Tensor::from_vector(v, {100003}, {DType::f32});
  EXPECT_EQ(ops::argmax(n.to(gpu()), 0).item(), 77777);
  EXPECT_EQ(ops::argmin(n.to(gpu()), 0).item(), 77777);
}

TEST(CudaArgReduce, BoolIsRejectedAsOnTheCpu) {
  GLASSBOX_REQUIRE_CUDA();
  // argmax computes the max values too, and reduce max is not defined for bool.
  Tensor b = ops::gt(random_input({37, 129}, 62, DType::f64, false), 0.5);
  EXPECT_THROW(ops::argmax(b, 1), std::invalid_argument);
  EXPECT_THROW(ops::argmax(b.to(gpu()), 1), std::invalid_argument);
  EXPECT_THROW(ops::argmin(b.to(gpu()), 0), std::invalid_argument);
}

// ---- cumsum ---------------------------------------------------------------------------------

TEST(CudaCumsum, EveryDimDtypeAndLayout) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : kNumeric)
    for (const Shape& shape : kSmallShapes)
      for (Layout layout : kLayouts)
        for (int d = 0; d < shape.size(); ++d) {
          const Tensor x = leaf(shape, layout, 70, dt, dt == DType::u8 ? 0 : -5, 5);
          EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& v) { return ops::cumsum(logical(v[0], layout, shape), d); },
                                {x}, tolerance_for(dt)))
              << dtype_name(dt) << " " << shape.str() << " " << layout_name(layout) << " dim " << d;
        }
}

namespace {
// A long line's partial sums wander to about sqrt(n) times the draws' spread (some 1,700 for a
// million draws from U(-3, 3)), and each summation order (the CPU's running sum, the GPU's
// blocked scan) rounds them by a few ulps of that size. Where a partial sum passes near zero,
// that is a large relative error of an exact-enough result (the first H200 run failed f64 there
// by ~1e-12), so the absolute tolerance follows the line's largest partial sum. A wrong
// element, off by a whole draw, is still far outside it.
Tolerance long_line_tolerance(DType dt, const Tensor& x, int dim) {
  Tolerance tol = tolerance_for(dt);
  if (dt != DType::f64) return tol;  // f32 and i64 already agree within theirs
  double largest = 0;
  {
    NoGradGuard no_grad;
    for (double v : ops::cumsum(x, dim).to_vector<double>()) largest = std::max(largest, std::abs(v));
  }
  tol.atol = std::max(tol.atol, 1e-11 * largest);
  return tol;
}
}  // namespace

TEST(CudaCumsum, LongLinesManyLinesAndStridedLines) {
  GLASSBOX_REQUIRE_CUDA();
  struct Case {
    Shape shape;
    int dim;
  };
  // One long line (many block chunks), many short contiguous lines, strided lines with
  // few lines (block per line) and many lines (thread per line).
  const std::vector<Case> cases = {{{1000003}, 0}, {{20000, 7}, 1}, {{3000, 5}, 0}, {{50, 4096}, 0},
                                   {{7, 1000}, 1},  {{2, 3, 5000}, 2}};
  for (DType dt : {DType::f32, DType::f64, DType::i64})
    for (const Case& c : cases) {
      const Tensor x = random_input(c.shape, 80, dt, true, -3, 3);
      const Tolerance tol = long_line_tolerance(dt, x, c.dim);
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& v) { return ops::cumsum(v[0], c.dim); }, {x}, tol))
          << dtype_name(dt) << " " << c.shape.str() << " dim " << c.dim;
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& v) { return ops::cumsum(v[0].transpose(0, -1), c.dim); },
                            {x}, tol))
          << dtype_name(dt) << " transposed " << c.shape.str() << " dim " << c.dim;
    }
}

TEST(CudaCumsum, EmptyAndBool) {
  GLASSBOX_REQUIRE_CUDA();
  Tensor e = Tensor::zeros({0, 4}, {DType::f32});
  EXPECT_TRUE(same_values(ops::cumsum(e, 0), ops::cumsum(e.to(gpu()), 0), exact()));
  EXPECT_TRUE(same_values(ops::cumsum(e, 1), ops::cumsum(e.to(gpu()), 1), exact()));
  // Bool (and narrow integers) are counted in i64 by the op.
  Tensor b = ops::gt(random_input({9, 33}, 81, DType::f64, false), 0.0);
  EXPECT_TRUE(same_values(ops::cumsum(b, 1), ops::cumsum(b.to(gpu()), 1), exact()));
}

// ---- softmax / log-softmax ----------------------------------------------------------------

TEST(CudaSoftmax, ForwardAndBackwardEveryDimLayoutAndDtype) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : kFloating)
    for (const Shape& shape : kSmallShapes)
      for (Layout layout : kLayouts)
        for (int d = 0; d < shape.size(); ++d)
          for (bool log : {false, true}) {
            const Tensor x = leaf(shape, layout, 90, dt, -3, 3);
            EXPECT_TRUE(op_parity(
                [&](const std::vector<Tensor>& v) {
                  Tensor t = logical(v[0], layout, shape);
                  return log ? ops::log_softmax(t, d) : ops::softmax(t, d);
                },
                {x}, default_tolerance(dt)))
                << dtype_name(dt) << " " << shape.str() << " " << layout_name(layout) << " dim " << d << " log " << log;
          }
}

TEST(CudaSoftmax, RowLengthsFromOneTo60000AndChannelSoftmax) {
  GLASSBOX_REQUIRE_CUDA();
  struct Case {
    Shape shape;
    int dim;
  };
  // Rows of 1, 7, 1000 and 60000 along the contiguous dim; a channel softmax over dim 1
  // of NCHW (many strided rows, 32 per block); few strided rows (a block per row).
  const std::vector<Case> cases = {{{5, 1}, 1},       {{1000, 7}, 1},      {{33, 1000}, 1}, {{3, 60000}, 1},
                                   {{8, 10, 32, 32}, 1}, {{4, 1000, 3}, 1}, {{100003}, 0}};
  for (DType dt : kFloating)
    for (const Case& c : cases)
      for (bool log : {false, true}) {
        const Tensor x = random_input(c.shape, 91, dt, true, -8, 8);
        EXPECT_TRUE(op_parity(
            [&](const std::vector<Tensor>& v) { return log ? ops::log_softmax(v[0], c.dim) : ops::softmax(v[0], c.dim); },
            {x}, default_tolerance(dt)))
            << dtype_name(dt) << " " << c.shape.str() << " dim " << c.dim << " log " << log;
      }
}

TEST(CudaSoftmax, HugeLogitsInfinitiesAndNan) {
  GLASSBOX_REQUIRE_CUDA();
  const std::vector<double> v = {1000, 1001, -1000, 0,   -kInf, 1,   2,    -kInf,
                                 -kInf, -kInf, -kInf, -kInf, 1,   kNan, 2, 3};
  for (DType dt : kFloating) {
    Tensor x = values_of(v, dt, {4, 4});
    for (int d : {0, 1}) {
      EXPECT_TRUE(same_values(ops::softmax(x, d), ops::softmax(x.to(gpu()), d), default_tolerance(dt)));
      EXPECT_TRUE(same_values(ops::log_softmax(x, d), ops::log_softmax(x.to(gpu()), d), default_tolerance(dt)));
    }
  }
}

TEST(CudaSoftmax, BackwardFromABroadcastGradient) {
  GLASSBOX_REQUIRE_CUDA();
  // sum() sends back an expanded (stride 0) gradient.
  for (DType dt : kFloating)
    for (bool log : {false, true}) {
      const Tensor x = random_input({37, 129}, 92, dt, true, -2, 2);
      EXPECT_TRUE(op_parity(
          [&](const std::vector<Tensor>& v) {
            Tensor y = log ? ops::log_softmax(v[0], 1) : ops::softmax(v[0], 0);
            return ops::sum(ops::mul(y, y));
          },
          {x}, default_tolerance(dt)));
      EXPECT_TRUE(op_parity(
          [&](const std::vector<Tensor>& v) { return ops::sum(log ? ops::log_softmax(v[0], 1) : ops::softmax(v[0], 0)); },
          {x}, default_tolerance(dt)));
    }
}

TEST(CudaSoftmax, EmptyAndIntegerInputs) {
  GLASSBOX_REQUIRE_CUDA();
  Tensor e = Tensor::zeros({0, 5}, {DType::f32});
  EXPECT_TRUE(same_values(ops::softmax(e, 1), ops::softmax(e.to(gpu()), 1), exact()));
  EXPECT_TRUE(same_values(ops::log_softmax(e, 0), ops::log_softmax(e.to(gpu()), 0), exact()));
  EXPECT_THROW(ops::softmax(Tensor::zeros({3}, {DType::i64, gpu()}), 0), std::invalid_argument);
}

// ---- topk -------------------------------------------------------------------------------------

TEST(CudaTopk, SmallRowsEveryDimDtypeLayoutAndK) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType dt : kNumeric)
    for (const Shape& shape : kSmallShapes)
      for (Layout layout : kLayouts)
        for (int d = 0; d < shape.size(); ++d)
          for (int64_t k : {int64_t(0), int64_t(1), shape[d] / 2, shape[d]})
            for (bool largest : {true, false}) {
              // Few distinct values: ties must come out in index order.
              const Tensor x = leaf(shape, layout, 100, dt, 0, 4, true);
              auto in = [&](const std::vector<Tensor>& v) { return logical(v[0], layout, shape); };
              EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& v) { return ops::topk(in(v), k, d, largest).values; },
                                    {x}, tolerance_for(dt)))
                  << dtype_name(dt) << " " << shape.str() << " " << layout_name(layout) << " dim " << d << " k " << k;
              EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& v) { return ops::topk(in(v), k, d, largest).indices; },
                                    {x}, exact()))
                  << dtype_name(dt) << " " << shape.str() << " " << layout_name(layout) << " dim " << d << " k " << k;
            }
}

TEST(CudaTopk, LongRowsRadixSelectAndLargeK) {
  GLASSBOX_REQUIRE_CUDA();
  struct Case {
    Shape shape;
    int dim;
    int64_t k;
  };
  // n <= 2048 sorts whole rows; longer rows select (k <= 2048 sorted in shared memory,
  // larger k sorted in global memory); nearest-neighbour shapes [queries, 60000].
  const std::vector<Case> cases = {
      {{5, 2048}, 1, 7},      {{5, 2049}, 1, 7},        {{20, 60000}, 1, 1},    {{20, 60000}, 1, 100},
      {{4, 60000}, 1, 2048},  {{3, 5000}, 1, 2049},     {{3, 5000}, 1, 5000},   {{60000, 3}, 0, 10},
      {{1000003}, 0, 300},    {{2, 3, 3000}, 2, 3000},  {{3000, 2, 3}, 0, 64},
  };
  for (DType dt : {DType::f32, DType::f64, DType::i64, DType::i32})
    for (const Case& c : cases)
      for (bool largest : {true, false})
        for (bool ties : {false, true}) {
          // With ties: values in {0..9}, so each selected set ends inside a run of equals.
          const Tensor x =
              (ties ? whole(c.shape, 110, dt, 0, 10) : random_input(c.shape, 111, dt, false, -1e3, 1e3)).detach();
          const Tolerance tol = tolerance_for(dt);
          ops::ValuesIndices cpu = ops::topk(x, c.k, c.dim, largest);
          ops::ValuesIndices cuda = ops::topk(x.to(gpu()), c.k, c.dim, largest);
          EXPECT_TRUE(same_values(cpu.values, cuda.values, tol))
              << dtype_name(dt) << " " << c.shape.str() << " k " << c.k << " largest " << largest << " ties " << ties;
          EXPECT_TRUE(same_values(cpu.indices, cuda.indices, exact()))
              << dtype_name(dt) << " " << c.shape.str() << " k " << c.k << " largest " << largest << " ties " << ties;
        }
  // Gradient routing through the long-row path.
  const Tensor x = random_input({4, 60000}, 112, DType::f32);
  EXPECT_TRUE(op_parity([](const std::vector<Tensor>& v) { return ops::topk(v[0], 20, 1).values; }, {x},
                        default_tolerance(DType::f32)));
}

TEST(CudaTopk, NanSignedZerosAndInfinities) {
  GLASSBOX_REQUIRE_CUDA();
  std::vector<double> row = {1, kNan, 3, kNan, -0.0, 0.0, kInf, -kInf, 3, -0.0};
  for (DType dt : kFloating) {
    // A short row (sorted whole) and the same pattern in a long row (radix select).
    std::vector<double> long_row;
    for (int r = 0; r < 400; ++r) long_row.insert(long_row.end(), row.begin(), row.end());
    for (const Tensor& x : {values_of(row, dt, {10}), values_of(long_row, dt, {4000})})
      for (int64_t k : {int64_t(1), int64_t(2), int64_t(5), int64_t(10)})
        for (bool largest : {true, false}) {
          ops::ValuesIndices cpu = ops::topk(x, k, 0, largest);
          ops::ValuesIndices cuda = ops::topk(x.to(gpu()), k, 0, largest);
          EXPECT_TRUE(same_values(cpu.values, cuda.values, exact())) << x.numel() << " k " << k << " largest " << largest;
          EXPECT_TRUE(same_values(cpu.indices, cuda.indices, exact())) << x.numel() << " k " << k << " largest " << largest;
        }
  }
}

TEST(CudaTopk, BoolAndU8Rows) {
  GLASSBOX_REQUIRE_CUDA();
  Tensor b = ops::gt(random_input({9, 3000}, 120, DType::f64, false), 0.3);
  Tensor u = random_input({9, 3000}, 121, DType::u8, false, 0, 255);
  for (const Tensor& x : {b, u})
    for (int64_t k : {int64_t(1), int64_t(50), int64_t(3000)})
      for (bool largest : {true, false}) {
        ops::ValuesIndices cpu = ops::topk(x, k, 1, largest);
        ops::ValuesIndices cuda = ops::topk(x.to(gpu()), k, 1, largest);
        EXPECT_TRUE(same_values(cpu.values, cuda.values, exact())) << dtype_name(x.dtype()) << " k " << k;
        EXPECT_TRUE(same_values(cpu.indices, cuda.indices, exact())) << dtype_name(x.dtype()) << " k " << k;
      }
}

TEST(CudaTopk, EmptyShapes) {
  GLASSBOX_REQUIRE_CUDA();
  Tensor x = random_input({0, 5}, 130, DType::f32, false);
  EXPECT_EQ(ops::topk(x.to(gpu()), 3, 1).values.shape(), (Shape{0, 3}));
  Tensor y = random_input({4, 5}, 131, DType::f32, false);
  EXPECT_EQ(ops::topk(y.to(gpu()), 0, 1).indices.shape(), (Shape{4, 0}));
  EXPECT_THROW(ops::topk(y.to(gpu()), 6, 1), std::invalid_argument);
}

// ---- losses built on softmax and reductions ----------------------------------------------

TEST(CudaLoss, CrossEntropyAndNllEveryReductionIgnoreIndexAndSmoothing) {
  GLASSBOX_REQUIRE_CUDA();
  using ops::Reduction;
  for (DType dt : kFloating) {
    const Tensor logits = random_input({6, 5}, 140, dt, true, -3, 3);
    const Tensor target = Tensor::from_vector<int64_t>({0, 4, -100, 2, 2, 1}, {6}, {DType::i64});
    const Tensor spatial = random_input({2, 4, 3, 5}, 141, dt, true, -3, 3);
    const Tensor spatial_target = random_input({2, 3, 5}, 142, DType::f64, false, 0, 4).to(DType::i64);
    for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum})
      for (double smoothing : {0.0, 0.1}) {
        EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& v) { return ops::cross_entropy(v[0], v[1], r, -100, smoothing); },
                              {logits, target}, default_tolerance(dt)));
        EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& v) { return ops::cross_entropy(v[0], v[1], r, -100, smoothing); },
                              {spatial, spatial_target}, default_tolerance(dt)));
        EXPECT_TRUE(op_parity(
            [&](const std::vector<Tensor>& v) { return ops::nll_loss(ops::log_softmax(v[0], 1), v[1], r); },
            {logits, target}, default_tolerance(dt)));
      }
    // A big batch over many classes (the MNIST-scale case).
    const Tensor big = random_input({512, 1000}, 143, dt, true, -5, 5);
    const Tensor big_target = random_input({512}, 144, DType::f64, false, 0, 1000).to(DType::i64);
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& v) { return ops::cross_entropy(v[0], v[1]); }, {big, big_target},
                          default_tolerance(dt)));
  }
}

TEST(CudaLoss, ClassTargetsAreNotReadBackAndOutOfRangeOnesGiveNaN) {
  GLASSBOX_REQUIRE_CUDA();
  const Tensor logits = random_input({3, 4}, 145, DType::f32, false, -3, 3).to(gpu());
  const Tensor bad = Tensor::from_vector<int64_t>({0, 4, 1}, {3}, {DType::i64}).to(gpu());
  const uint64_t reads = device_to_host_copies();
  const Tensor loss = ops::cross_entropy(logits, bad);
  const Tensor per_position = ops::cross_entropy(logits, bad, ops::Reduction::none);
  EXPECT_EQ(device_to_host_copies(), reads) << "the targets stay on the device";
  EXPECT_TRUE(std::isnan(loss.item()));
  for (double v : per_position.to_vector<double>()) EXPECT_TRUE(std::isnan(v));
  // Every position ignored: 0 / 0, as PyTorch (and as on the CPU).
  const Tensor ignored = Tensor::from_vector<int64_t>({-100, -100, -100}, {3}, {DType::i64});
  EXPECT_TRUE(std::isnan(ops::cross_entropy(logits, ignored.to(gpu())).item()));
  EXPECT_TRUE(std::isnan(ops::cross_entropy(logits.to(Device::cpu()), ignored).item()));
}

TEST(CudaLoss, MseAndBinaryLosses) {
  GLASSBOX_REQUIRE_CUDA();
  using ops::Reduction;
  for (DType dt : kFloating) {
    const Tensor a = random_input({33, 7}, 150, dt, true, 0.01, 0.99);
    const Tensor b = random_input({33, 7}, 151, dt, true, 0.0, 1.0);
    for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum}) {
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& v) { return ops::mse_loss(v[0], v[1], r); }, {a, b},
                            default_tolerance(dt)));
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& v) { return ops::bce_loss(v[0], v[1], r); }, {a, b},
                            default_tolerance(dt)));
      EXPECT_TRUE(op_parity([&](const std::vector<Tensor>& v) { return ops::bce_with_logits(v[0], v[1], r); }, {a, b},
                            default_tolerance(dt)));
    }
  }
}

}  // namespace glassbox
