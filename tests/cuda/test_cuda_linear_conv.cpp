// CUDA parity of the cuBLAS-backed kernels and their neighbours: matmul (plain,
// transposed, batched, broadcast, strided operands, alpha/beta), conv2d and
// conv_transpose2d (im2col / col2im + GEMM), max/avg pooling and resampling. Each
// test runs the op on the CPU and on cuda:0 and compares outputs and gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/upsample.h"
#include "engine/ops/conv.h"
#include "engine/ops/linalg.h"
#include "engine/tensor.h"
#include "kernels/registry.h"
#include "tests/support/cuda_parity.h"

namespace glassbox {
namespace {

using testing::default_tolerance;
using testing::gpu;
using testing::op_parity;
using testing::random_input;
using testing::same_values;
using testing::Tolerance;

const DType kFloating[] = {DType::f32, DType::f64};

Tensor mm(const std::vector<Tensor>& in) { return ops::matmul(in[0], in[1]); }

// ---- matmul -------------------------------------------------------------------------

TEST(CudaMatmul, PlainMatrices) {
  GLASSBOX_REQUIRE_CUDA();
  struct Case {
    int64_t m, k, n;
  };
  for (DType t : kFloating)
    for (Case c : {Case{7, 5, 3}, Case{1, 1, 1}, Case{64, 129, 33}, Case{1, 300, 1}, Case{257, 3, 130}}) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + std::to_string(c.m) + "x" + std::to_string(c.k) + "x" +
                   std::to_string(c.n));
      EXPECT_TRUE(
          op_parity(mm, {random_input({c.m, c.k}, 1, t), random_input({c.k, c.n}, 2, t)}, default_tolerance(t)));
    }
  // A long inner dim (10^6 + 3 terms per sum): f64 only, where both sums are accurate.
  EXPECT_TRUE(op_parity(mm, {random_input({2, 1000003}, 3, DType::f64), random_input({1000003, 3}, 4, DType::f64)},
                        testing::f64_tolerance()));
}

TEST(CudaMatmul, TransposedOperands) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    // A^T @ B, A @ B^T, A^T @ B^T: each operand's memory holds the transpose.
    auto ta = [](const std::vector<Tensor>& in) { return ops::matmul(in[0].mT(), in[1]); };
    auto tb = [](const std::vector<Tensor>& in) { return ops::matmul(in[0], in[1].mT()); };
    auto tab = [](const std::vector<Tensor>& in) { return ops::matmul(in[0].mT(), in[1].mT()); };
    EXPECT_TRUE(op_parity(ta, {random_input({5, 7}, 3, t), random_input({5, 3}, 4, t)}, default_tolerance(t)));
    EXPECT_TRUE(op_parity(tb, {random_input({7, 5}, 5, t), random_input({3, 5}, 6, t)}, default_tolerance(t)));
    EXPECT_TRUE(op_parity(tab, {random_input({5, 7}, 7, t), random_input({3, 5}, 8, t)}, default_tolerance(t)));
    EXPECT_TRUE(op_parity(tab, {random_input({4, 6, 9}, 9, t), random_input({4, 2, 6}, 10, t)}, default_tolerance(t)));
  }
}

TEST(CudaMatmul, BatchedAndBroadcastBatch) {
  GLASSBOX_REQUIRE_CUDA();
  struct Case {
    Shape a, b;
  };
  const Case cases[] = {
      {{4, 7, 5}, {4, 5, 3}},        // plain batch
      {{2, 1, 7, 5}, {3, 5, 4}},     // both broadcast, on different dims (no single batch stride)
      {{7, 5}, {4, 5, 3}},           // a matrix shared by the whole batch (batch stride 0)
      {{4, 7, 5}, {5, 3}},           // a batch times one matrix (one tall GEMM)
      {{2, 3, 7, 5}, {1, 3, 5, 4}},  // b broadcast over the outer dim
      {{1, 1, 5}, {6, 5, 1}},        // 1-row and 1-column matrices
  };
  for (DType t : kFloating)
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + c.a.str() + " @ " + c.b.str());
      EXPECT_TRUE(op_parity(mm, {random_input(c.a, 11, t), random_input(c.b, 12, t)}, default_tolerance(t)));
    }
}

TEST(CudaMatmul, NonContiguousOperands) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    const Tolerance tol = default_tolerance(t);
    // Every other column: no unit stride, so the operand is copied first.
    auto stepped = [](const std::vector<Tensor>& in) { return ops::matmul(in[0].slice(1, 0, 10, 2), in[1]); };
    EXPECT_TRUE(op_parity(stepped, {random_input({7, 10}, 13, t), random_input({5, 3}, 14, t)}, tol));
    // Narrowed columns: unit stride, leading dimension larger than the width.
    auto narrowed = [](const std::vector<Tensor>& in) {
      return ops::matmul(in[0].narrow(1, 2, 5), in[1].narrow(0, 1, 5));
    };
    EXPECT_TRUE(op_parity(narrowed, {random_input({7, 9}, 15, t), random_input({8, 3}, 16, t)}, tol));
    // Permuted batch dims (no single batch stride) and a transposed matrix at once.
    auto permuted = [](const std::vector<Tensor>& in) {
      return ops::matmul(in[0].transpose(0, 1), in[1].transpose(0, 1).mT());
    };
    EXPECT_TRUE(op_parity(permuted, {random_input({3, 2, 7, 5}, 17, t), random_input({3, 2, 4, 5}, 18, t)}, tol));
    // A row broadcast inside the matrix (row stride 0).
    auto rows_broadcast = [](const std::vector<Tensor>& in) { return ops::matmul(in[0].expand({6, 5}), in[1]); };
    EXPECT_TRUE(op_parity(rows_broadcast, {random_input({1, 5}, 19, t), random_input({5, 4}, 20, t)}, tol));
  }
}

TEST(CudaMatmul, VectorOperands) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    const Tolerance tol = default_tolerance(t);
    EXPECT_TRUE(op_parity(mm, {random_input({5}, 21, t), random_input({5, 3}, 22, t)}, tol));
    EXPECT_TRUE(op_parity(mm, {random_input({7, 5}, 23, t), random_input({5}, 24, t)}, tol));
    EXPECT_TRUE(op_parity(mm, {random_input({5}, 25, t), random_input({5}, 26, t)}, tol));
    EXPECT_TRUE(op_parity(mm, {random_input({4, 7, 5}, 27, t), random_input({5}, 28, t)}, tol));
  }
}

TEST(CudaMatmul, EmptyOperands) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    const Tolerance tol = default_tolerance(t);
    EXPECT_TRUE(op_parity(mm, {random_input({0, 5}, 29, t), random_input({5, 3}, 30, t)}, tol));
    // An empty inner dim: the product is all zeros.
    EXPECT_TRUE(op_parity(mm, {random_input({4, 0}, 31, t), random_input({0, 3}, 32, t)}, tol));
    EXPECT_TRUE(op_parity(mm, {random_input({0, 7, 5}, 33, t), random_input({0, 5, 3}, 34, t)}, tol));
  }
}

TEST(CudaMatmul, AlphaBetaThroughPairwiseDistance) {
  GLASSBOX_REQUIRE_CUDA();
  // ||x||^2 + ||y||^2 first, then the GEMM adds -2 x y^T onto it (alpha -2, beta 1).
  auto dist = [](const std::vector<Tensor>& in) { return ops::pairwise_sq_distance(in[0], in[1]); };
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    const Tolerance tol = default_tolerance(t);
    EXPECT_TRUE(op_parity(dist, {random_input({6, 4}, 35, t), random_input({5, 4}, 36, t)}, tol));
    EXPECT_TRUE(op_parity(dist, {random_input({2, 6, 4}, 37, t), random_input({5, 4}, 38, t)}, tol));
  }
}

/// Runs the backend's matmul on the CPU and on the GPU with an output view cut from a
/// larger store by `cut`, and compares the whole stores (untouched elements included).
template <class Cut>
::testing::AssertionResult backend_matmul_parity(DType t, const Shape& a_shape, const Shape& b_shape,
                                                 const Shape& store_shape, Cut cut, bool trans_a, bool trans_b,
                                                 double alpha, double beta, double fill) {
  Tensor a = testing::random_tensor(a_shape, 41).to(t), b = testing::random_tensor(b_shape, 42).to(t);
  Tensor store =
      std::isnan(fill) ? Tensor::full(store_shape, fill, {t}) : testing::random_tensor(store_shape, 43).to(t);
  Tensor ga = a.to(gpu()), gb = b.to(gpu()), gstore = store.to(gpu());
  kernels::backend_for(Device::cpu()).matmul(a.view(), b.view(), cut(store).view(), trans_a, trans_b, alpha, beta);
  kernels::backend_for(gpu()).matmul(ga.view(), gb.view(), cut(gstore).view(), trans_a, trans_b, alpha, beta);
  return same_values(store, gstore, default_tolerance(t));
}

TEST(CudaMatmul, BackendOutputLayoutsAndScalars) {
  GLASSBOX_REQUIRE_CUDA();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto as_is = [](const Tensor& s) { return s; };
  auto transposed = [](const Tensor& s) { return s.mT(); };                          // C's memory holds C^T
  auto every_other = [](const Tensor& s) { return s.slice(-1, 0, s.size(-1), 2); };  // no unit stride
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    EXPECT_TRUE(backend_matmul_parity(t, {7, 5}, {5, 3}, {7, 3}, as_is, false, false, 0.5, -1.5, 0));
    EXPECT_TRUE(backend_matmul_parity(t, {7, 5}, {5, 3}, {3, 7}, transposed, false, false, 0.5, -1.5, 0));
    EXPECT_TRUE(backend_matmul_parity(t, {5, 7}, {3, 5}, {3, 7}, transposed, true, true, 2.0, 0.25, 0));
    EXPECT_TRUE(backend_matmul_parity(t, {7, 5}, {5, 3}, {7, 6}, every_other, false, false, 1.0, 1.0, 0));
    EXPECT_TRUE(backend_matmul_parity(t, {2, 7, 5}, {2, 3, 5}, {2, 3, 7}, transposed, false, true, -1.0, 0.5, 0));
    // beta 0: C's old contents (NaN) must not be read, whatever the layout.
    EXPECT_TRUE(backend_matmul_parity(t, {7, 5}, {5, 3}, {7, 3}, as_is, false, false, 1.0, 0.0, nan));
    EXPECT_TRUE(backend_matmul_parity(t, {7, 5}, {5, 3}, {7, 6}, every_other, false, false, 1.0, 0.0, nan));
    // k = 0: C = beta * C, and zeros when beta is 0.
    EXPECT_TRUE(backend_matmul_parity(t, {7, 0}, {0, 3}, {7, 3}, as_is, false, false, 1.0, 2.0, 0));
    EXPECT_TRUE(backend_matmul_parity(t, {7, 0}, {0, 3}, {7, 6}, every_other, false, false, 1.0, 0.0, nan));
  }
}

TEST(CudaMatmul, EveryLayoutWithABatchBroadcastOperand) {
  GLASSBOX_REQUIRE_CUDA();
  // Transposed memory for A and B (B also broadcast over the batch with stride 0) and a
  // column-major C, against the CPU backend with alpha and beta.
  auto& cpu = kernels::backend_for(Device::cpu());
  auto& cuda = kernels::backend_for(gpu());
  for (DType t : kFloating) {
    Tensor a = testing::random_tensor({2, 96, 130}, 1).to(t), b = testing::random_tensor({130, 110}, 2).to(t);
    Tensor c0 = testing::random_tensor({2, 96, 110}, 3).to(t);
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (bool c_col : {false, true}) {
          SCOPED_TRACE(std::string(dtype_name(t)) + (ta ? " ta" : "") + (tb ? " tb" : "") + (c_col ? " c_col" : ""));
          Tensor a_mem = ta ? a.mT().contiguous() : a;
          Tensor b_mem = tb ? b.mT().contiguous() : b;
          Tensor c_cpu = c_col ? c0.mT().contiguous().mT() : c0.clone();
          Tensor c_gpu = c_col ? c0.mT().contiguous().to(gpu()).mT() : c0.to(gpu());
          Tensor a_gpu = a_mem.to(gpu()), b_gpu = b_mem.to(gpu());
          cpu.matmul(a_mem.view(), b_mem.expand({2, -1, -1}).view(), c_cpu.view(), ta, tb, 1.5, 0.25);
          cuda.matmul(a_gpu.view(), b_gpu.expand({2, -1, -1}).view(), c_gpu.view(), ta, tb, 1.5, 0.25);
          EXPECT_TRUE(same_values(c_cpu, c_gpu, default_tolerance(t)));
        }
  }
}

TEST(CudaPairwiseSqDistance, IdenticalPointsGiveZeroNotNegative) {
  GLASSBOX_REQUIRE_CUDA();
  Tensor x = testing::random_tensor({6, 8}, 3, -100, 100).to(gpu());
  std::vector<double> v = ops::pairwise_sq_distance(x, x).to_vector<double>();
  for (double e : v) EXPECT_GE(e, 0.0);
  for (int64_t i = 0; i < 6; ++i) EXPECT_NEAR(v[size_t(i * 6 + i)], 0.0, 1e-9);
}

// ---- conv2d / conv_transpose2d ------------------------------------------------------

Tensor conv_fn(const std::vector<Tensor>& in, const ops::Conv2dOptions& opt) {
  return ops::conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), opt);
}

Tensor conv_transpose_fn(const std::vector<Tensor>& in, const ops::ConvTranspose2dOptions& opt) {
  return ops::conv_transpose2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), opt);
}

ops::Conv2dOptions conv_options(int64_t sh, int64_t sw, ops::Padding2d pad, int64_t dh = 1, int64_t dw = 1,
                                int64_t groups = 1) {
  ops::Conv2dOptions o;
  o.stride_h = sh;
  o.stride_w = sw;
  o.padding = pad;
  o.dilation_h = dh;
  o.dilation_w = dw;
  o.groups = groups;
  return o;
}

struct ConvCase {
  const char* name;
  Shape x, w;
  ops::Conv2dOptions opt;
  bool bias;
};

std::vector<ConvCase> conv_cases() {
  return {
      {"stride 1, padding 1", {2, 3, 5, 4}, {4, 3, 3, 3}, conv_options(1, 1, ops::Padding2d::symmetric(1, 1)), true},
      {"stride 2 SAME (asymmetric)",
       {2, 2, 8, 6},
       {3, 2, 3, 3},
       conv_options(2, 2, ops::Padding2d::same(8, 6, 3, 3, 2, 2)),
       true},
      {"ProtoNet 28 -> 14 SAME",
       {3, 1, 28, 28},
       {8, 1, 3, 3},
       conv_options(2, 2, ops::Padding2d::same(28, 28, 3, 3, 2, 2)),
       true},
      {"ProtoNet 7 -> 4 SAME",
       {2, 8, 7, 7},
       {8, 8, 3, 3},
       conv_options(2, 2, ops::Padding2d::same(7, 7, 3, 3, 2, 2)),
       false},
      {"groups 2, dilation, asymmetric pads",
       {2, 4, 7, 6},
       {6, 2, 3, 3},
       conv_options(2, 1, {1, 0, 0, 2}, 2, 1, 2),
       true},
      {"depthwise, fewer images than groups",
       {2, 4, 6, 6},
       {4, 1, 3, 3},
       conv_options(1, 1, ops::Padding2d::symmetric(1, 1), 1, 1, 4),
       true},
      {"groups 2, more images than groups",
       {5, 2, 6, 5},
       {4, 1, 3, 2},
       conv_options(1, 2, {0, 1, 1, 0}, 1, 1, 2),
       true},
      {"1x1 stride 1 (columns are the input)", {3, 5, 4, 6}, {7, 5, 1, 1}, conv_options(1, 1, {}), true},
      {"1x1 stride 2", {3, 5, 5, 6}, {7, 5, 1, 1}, conv_options(2, 2, {}), false},
      {"dilation 3, no padding", {2, 3, 9, 10}, {2, 3, 3, 2}, conv_options(1, 1, {}, 3, 3), true},
      {"kernel wider than the input",
       {1, 2, 2, 2},
       {3, 2, 3, 3},
       conv_options(1, 1, ops::Padding2d::symmetric(1, 1)),
       true},
      {"stride larger than the kernel", {2, 3, 11, 9}, {4, 3, 2, 2}, conv_options(3, 4, {1, 0, 2, 1}), true},
  };
}

TEST(CudaConv2d, MatchesCpuForwardAndGradients) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating)
    for (const ConvCase& c : conv_cases()) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + c.name);
      std::vector<Tensor> in = {random_input(c.x, 51, t), random_input(c.w, 52, t)};
      if (c.bias) in.push_back(random_input({c.w[0]}, 53, t));
      const ops::Conv2dOptions opt = c.opt;
      EXPECT_TRUE(op_parity([opt](const std::vector<Tensor>& v) { return conv_fn(v, opt); }, in, default_tolerance(t)));
    }
}

TEST(CudaConv2d, NonContiguousInput) {
  GLASSBOX_REQUIRE_CUDA();
  const ops::Conv2dOptions opt = conv_options(2, 2, ops::Padding2d::same(8, 6, 3, 3, 2, 2));
  // x [N, C, H, W] as the transpose of an [N, H, C, W] leaf.
  auto f = [opt](const std::vector<Tensor>& in) { return ops::conv2d(in[0].transpose(1, 2), in[1], in[2], opt); };
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    EXPECT_TRUE(
        op_parity(f, {random_input({2, 8, 3, 6}, 54, t), random_input({4, 3, 3, 3}, 55, t), random_input({4}, 56, t)},
                  default_tolerance(t)));
  }
}

TEST(CudaConv2d, EmptyBatchGivesZeroWeightGradients) {
  GLASSBOX_REQUIRE_CUDA();
  const ops::Conv2dOptions opt = conv_options(1, 1, ops::Padding2d::symmetric(1, 1));
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    EXPECT_TRUE(
        op_parity([opt](const std::vector<Tensor>& v) { return conv_fn(v, opt); },
                  {random_input({0, 3, 5, 5}, 57, t), random_input({4, 3, 3, 3}, 58, t), random_input({4}, 59, t)},
                  default_tolerance(t)));
  }
}

TEST(CudaConv2d, LargeImagesAreSplitIntoChunks) {
  GLASSBOX_REQUIRE_CUDA();
  // Each 590x590 image has 4*9 x 590^2 f64 columns (about 100 MB), so the 256 MiB column
  // budget takes two images at a time: chunks of 2 and 1, in every pass.
  const ops::Conv2dOptions opt = conv_options(1, 1, ops::Padding2d::symmetric(1, 1));
  const Tolerance tol{1e-9, 1e-9};  // weight gradients sum about 10^6 products
  EXPECT_TRUE(op_parity([opt](const std::vector<Tensor>& v) { return conv_fn(v, opt); },
                        {random_input({3, 4, 590, 590}, 60, DType::f64), random_input({2, 4, 3, 3}, 61, DType::f64),
                         random_input({2}, 62, DType::f64)},
                        tol));
}

ops::ConvTranspose2dOptions transpose_options(int64_t stride, int64_t padding, int64_t output_padding,
                                              int64_t dilation = 1, int64_t groups = 1) {
  ops::ConvTranspose2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.padding_h = o.padding_w = padding;
  o.output_padding_h = o.output_padding_w = output_padding;
  o.dilation_h = o.dilation_w = dilation;
  o.groups = groups;
  return o;
}

/// TensorFlow's conv2d_transpose "SAME" (stride 2, 3x3) to an `out` x `out` image.
ops::ConvTranspose2dOptions same_transpose_options(int64_t out) {
  ops::ConvTranspose2dOptions o = transpose_options(2, 0, 0);
  o.padding_sides = ops::Padding2d::same(out, out, 3, 3, 2, 2);
  return o;
}

TEST(CudaConvTranspose2d, MatchesCpuForwardAndGradients) {
  GLASSBOX_REQUIRE_CUDA();
  struct Case {
    const char* name;
    Shape x, w;  // w [C_in, C_out / groups, kh, kw]
    ops::ConvTranspose2dOptions opt;
    bool bias;
  };
  const Case cases[] = {
      {"ProtoNet decoder 4 -> 7", {2, 4, 4, 4}, {4, 3, 3, 3}, same_transpose_options(7), true},
      {"ProtoNet decoder 7 -> 14", {2, 4, 7, 7}, {4, 3, 3, 3}, same_transpose_options(14), true},
      {"ProtoNet decoder to one channel", {3, 8, 14, 14}, {8, 1, 3, 3}, same_transpose_options(28), true},
      {"padding 1, output_padding 1", {2, 4, 7, 7}, {4, 3, 3, 3}, transpose_options(2, 1, 1), true},
      {"groups 2, dilation 2", {2, 4, 5, 5}, {4, 3, 3, 3}, transpose_options(2, 1, 1, 2, 2), true},
      {"1x1 stride 1", {2, 5, 3, 4}, {5, 2, 1, 1}, transpose_options(1, 0, 0), false},
      {"stride 3, no padding", {1, 2, 3, 2}, {2, 2, 2, 3}, transpose_options(3, 0, 2), false},
  };
  for (DType t : kFloating)
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + c.name);
      std::vector<Tensor> in = {random_input(c.x, 71, t), random_input(c.w, 72, t)};
      if (c.bias) in.push_back(random_input({c.w[1] * c.opt.groups}, 73, t));
      const ops::ConvTranspose2dOptions opt = c.opt;
      EXPECT_TRUE(op_parity([opt](const std::vector<Tensor>& v) { return conv_transpose_fn(v, opt); }, in,
                            default_tolerance(t)));
    }
}

// ---- pooling --------------------------------------------------------------------------

ops::Pool2dOptions window(int64_t k, int64_t s, int64_t pad, bool include_pad = true) {
  return {k, k, s, s, pad, pad, include_pad};
}

/// x [N, C, H, W] as the H/W transpose of an [N, C, W, H] leaf.
Tensor hw_transposed(const Tensor& leaf) { return leaf.transpose(2, 3); }

/// A leaf of small integers (many equal values in every window) requiring grad.
Tensor tied_input(const Shape& shape, DType t) {
  std::vector<double> v(size_t(shape.product()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = double((i * 7 + i / 5) % 3);
  Tensor x = Tensor::from_vector(v, shape).to(t);
  x.set_requires_grad(true);
  return x;
}

TEST(CudaMaxPool2d, MatchesCpuForwardAndGradients) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    const Tolerance tol = default_tolerance(t);
    for (ops::Pool2dOptions opt :
         {window(3, 2, 1), window(2, 2, 0), window(3, 1, 1), ops::Pool2dOptions{2, 3, 2, 1, 1, 1}}) {
      EXPECT_TRUE(op_parity([opt](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], opt); },
                            {random_input({2, 3, 7, 6}, 81, t)}, tol));
      EXPECT_TRUE(op_parity([opt](const std::vector<Tensor>& in) { return ops::max_pool2d(hw_transposed(in[0]), opt); },
                            {random_input({2, 3, 9, 5}, 82, t)}, tol));
    }
    // Odd sizes, and one large plane.
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], window(2, 2, 0)); },
                          {random_input({2, 3, 33, 47}, 83, t)}, tol));
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], window(3, 2, 1)); },
                          {random_input({1, 1, 1000, 1003}, 84, t)}, tol));
  }
}

TEST(CudaMaxPool2d, TiesAndNaNPickTheSameElementAsTheCpu) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    // The gradient lands on the chosen element, so it checks the tie rule (first wins).
    for (ops::Pool2dOptions opt : {window(3, 1, 1), window(2, 2, 0), window(3, 2, 1)})
      EXPECT_TRUE(op_parity([opt](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], opt); },
                            {tied_input({2, 2, 9, 9}, t)}, default_tolerance(t)));
    // NaN wins its windows.
    std::vector<double> v = testing::random_tensor({1, 1, 6, 6}, 85).to_vector<double>();
    v[7] = std::numeric_limits<double>::quiet_NaN();
    v[28] = std::numeric_limits<double>::quiet_NaN();
    Tensor x = Tensor::from_vector(v, {1, 1, 6, 6}).to(t);
    x.set_requires_grad(true);
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], window(3, 1, 1)); }, {x},
                          default_tolerance(t)));
  }
}

TEST(CudaAvgPool2d, MatchesCpuForwardAndGradients) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    const Tolerance tol = default_tolerance(t);
    for (bool include_pad : {true, false}) {
      SCOPED_TRACE(include_pad ? "count_include_pad" : "exclude pad");
      for (ops::Pool2dOptions opt :
           {window(3, 2, 1, include_pad), window(2, 2, 0, include_pad), window(4, 3, 2, include_pad),
            window(3, 1, 1, include_pad), ops::Pool2dOptions{2, 3, 1, 2, 0, 1, include_pad}}) {
        EXPECT_TRUE(op_parity([opt](const std::vector<Tensor>& in) { return ops::avg_pool2d(in[0], opt); },
                              {random_input({2, 2, 7, 6}, 91, t)}, tol));
        EXPECT_TRUE(
            op_parity([opt](const std::vector<Tensor>& in) { return ops::avg_pool2d(hw_transposed(in[0]), opt); },
                      {random_input({1, 3, 11, 10}, 92, t)}, tol));
      }
    }
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::avg_pool2d(in[0], window(3, 2, 1)); },
                          {random_input({1, 1, 1000, 1003}, 93, t)}, tol));
  }
}

// Batch norm in training is a fused kernel each way on both backends (the GPU's sums its
// partial sums per channel in double): they must agree, running statistics included. The
// shapes cover one value per channel and batch (S = 1), one partial sum per channel, and
// several (64 x 20 x 20 = 25,600 values per channel).
TEST(CudaBatchNorm, TrainingAndEvalMatchCpuWithRunningStatistics) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    const Tolerance tol = default_tolerance(t);
    for (const Shape& shape : {Shape{4, 3, 5, 6}, Shape{6, 5}, Shape{2, 4, 33, 3}, Shape{64, 3, 20, 20}}) {
      SCOPED_TRACE(shape.str());
      const int64_t c = shape[1];
      for (bool affine : {true, false}) {
        SCOPED_TRACE(affine ? "affine" : "no weight or bias");
        const Tensor x = random_input(shape, 61, t, true, -2.0, 3.0);
        const std::vector<Tensor> in =
            affine ? std::vector<Tensor>{x, random_input({c}, 62, t, true, 0.5, 1.5), random_input({c}, 63, t)}
                   : std::vector<Tensor>{x};
        // The running statistics live on the device of the call; each side checks its own.
        Tensor cpu_mean = Tensor::zeros({c}).to(t), cpu_var = Tensor::ones({c}).to(t);
        Tensor gpu_mean = cpu_mean.to(gpu()), gpu_var = cpu_var.to(gpu());
        auto train_fn = [&](const std::vector<Tensor>& v) {
          const bool on_gpu = v[0].device().is_cuda();
          return ops::batch_norm(v[0], on_gpu ? gpu_mean : cpu_mean, on_gpu ? gpu_var : cpu_var,
                                 v.size() > 1 ? v[1] : Tensor(), v.size() > 2 ? v[2] : Tensor(), true, 0.1, 1e-5);
        };
        EXPECT_TRUE(op_parity(train_fn, in, tol));
        EXPECT_TRUE(same_values(cpu_mean, gpu_mean, tol)) << "running mean";
        EXPECT_TRUE(same_values(cpu_var, gpu_var, tol)) << "running variance";
        auto eval_fn = [&](const std::vector<Tensor>& v) {
          const bool on_gpu = v[0].device().is_cuda();
          return ops::batch_norm(v[0], on_gpu ? gpu_mean : cpu_mean, on_gpu ? gpu_var : cpu_var,
                                 v.size() > 1 ? v[1] : Tensor(), v.size() > 2 ? v[2] : Tensor(), false, 0.1, 1e-5);
        };
        EXPECT_TRUE(op_parity(eval_fn, in, tol));
      }
    }
  }
}

// The CPU fuses batch norm with the activation after it; a device without that kernel runs the
// batch norm node and then the activation's own: the same function either way.
TEST(CudaBatchNorm, WithAnActivationMatchesTheCpusFusedNode) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    for (const kernels::NormActivation act : {kernels::NormActivation{}, kernels::NormActivation{true, 0.2}}) {
      SCOPED_TRACE(act.leaky ? "leaky_relu" : "relu");
      const std::vector<Tensor> in{random_input({4, 3, 5, 6}, 67, t, true, -2.0, 3.0),
                                   random_input({3}, 68, t, true, 0.5, 1.5), random_input({3}, 69, t)};
      auto fn = [&](const std::vector<Tensor>& v) {
        return ops::batch_norm_activation(v[0], Tensor(), Tensor(), v[1], v[2], true, 0.1, 1e-5, act);
      };
      EXPECT_TRUE(op_parity(fn, in, default_tolerance(t)));
    }
  }
}

TEST(CudaBatchNorm, VarianceStaysExactFarFromZero) {
  // Values near 1000 with a spread of 3: a sum of squares about zero would lose the variance
  // to cancellation; the kernel sums around the channel's first value instead.
  GLASSBOX_REQUIRE_CUDA();
  const Tensor x = random_input({32, 2, 16, 16}, 64, DType::f64, true, 1000.0, 1003.0);
  const std::vector<Tensor> in{x, random_input({2}, 65, DType::f64, true, 0.5, 1.5),
                               random_input({2}, 66, DType::f64)};
  auto fn = [](const std::vector<Tensor>& v) {
    return ops::batch_norm(v[0], Tensor(), Tensor(), v[1], v[2], true, 0.1, 1e-5);
  };
  EXPECT_TRUE(op_parity(fn, in, testing::f64_tolerance()));
}

TEST(CudaPool2d, EmptyBatch) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating) {
    SCOPED_TRACE(dtype_name(t));
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], window(2, 2, 0)); },
                          {random_input({0, 3, 6, 6}, 94, t)}, default_tolerance(t)));
    EXPECT_TRUE(op_parity([](const std::vector<Tensor>& in) { return ops::avg_pool2d(in[0], window(2, 2, 0)); },
                          {random_input({0, 3, 6, 6}, 95, t)}, default_tolerance(t)));
  }
}

// ---- resampling ---------------------------------------------------------------------

TEST(CudaUpsample2d, MatchesCpuForwardAndGradients) {
  GLASSBOX_REQUIRE_CUDA();
  struct Mode {
    ops::UpsampleMode mode;
    bool align;
  };
  struct Size {
    int64_t h, w;
  };
  for (DType t : kFloating)
    for (Mode m : {Mode{ops::UpsampleMode::nearest, false}, Mode{ops::UpsampleMode::bilinear, false},
                   Mode{ops::UpsampleMode::bilinear, true}})
      for (Size s : {Size{7, 4}, Size{2, 9}, Size{6, 10}, Size{3, 5}, Size{1, 1}, Size{13, 1}}) {
        SCOPED_TRACE(std::string(dtype_name(t)) + (m.mode == ops::UpsampleMode::nearest ? " nearest" : " bilinear") +
                     (m.align ? " align_corners " : " ") + std::to_string(s.h) + "x" + std::to_string(s.w));
        auto f = [m, s](const std::vector<Tensor>& in) {
          return ops::upsample2d(hw_transposed(in[0]), s.h, s.w, m.mode, m.align);
        };
        EXPECT_TRUE(op_parity(f, {random_input({2, 2, 5, 3}, 101, t)}, default_tolerance(t)));
      }
}

TEST(CudaUpsample2d, ModuleScaleFactorAndLargeImages) {
  GLASSBOX_REQUIRE_CUDA();
  for (DType t : kFloating)
    for (ops::UpsampleMode mode : {ops::UpsampleMode::nearest, ops::UpsampleMode::bilinear}) {
      SCOPED_TRACE(std::string(dtype_name(t)) + (mode == ops::UpsampleMode::nearest ? " nearest" : " bilinear"));
      nn::UpsampleOptions o;
      o.scale_factor = 2;
      o.mode = mode;
      auto up = std::make_shared<nn::Upsample>(o);
      EXPECT_TRUE(op_parity([up](const std::vector<Tensor>& in) { return up->forward(in[0]); },
                            {random_input({2, 3, 64, 63}, 102, t)}, default_tolerance(t)));
      EXPECT_TRUE(op_parity([mode](const std::vector<Tensor>& in) { return ops::upsample2d(in[0], 5, 7, mode); },
                            {random_input({0, 3, 4, 4}, 103, t)}, default_tolerance(t)));
    }
}

}  // namespace
}  // namespace glassbox
