#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "kernels/cpu/reference/conv_reference.h"
#include "kernels/registry.h"
#include "tests/support/fixture_compare.h"
#include "tests/support/gradcheck.h"

using namespace glassbox;
using glassbox::testing::fixture_tensor;
using glassbox::testing::grad_input;
using glassbox::testing::gradcheck;
using glassbox::testing::matches_fixture;
using glassbox::testing::random_tensor;

namespace {

/// A non-contiguous leaf of `shape` [N, C, H, W]: dims 1 and 2 of a [N, H, C, W] tensor swapped.
Tensor grad_input_nhcw(const Shape& shape, uint64_t seed) {
  Tensor t = random_tensor({shape[0], shape[2], shape[1], shape[3]}, seed).transpose(1, 2);
  t.set_requires_grad();
  return t;
}

Tensor conv_fn(const std::vector<Tensor>& in, const ops::Conv2dOptions& opt) {
  return ops::conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), opt);
}

/// Runs `op(x, w, b)` on a PyTorch fixture case and compares its output and its three gradients with PyTorch's, in
/// f64 (the reference loops) and in f32 (oneDNN).
template <class Op>
void expect_matches_pytorch_case(const nlohmann::json& c, Op op) {
  for (DType dtype : {DType::f64, DType::f32}) {
    SCOPED_TRACE(dtype == DType::f64 ? "f64" : "f32");
    const double tol = dtype == DType::f64 ? 1e-10 : 1e-4;
    Tensor x = fixture_tensor(c.at("x"), dtype).set_requires_grad();
    Tensor w = fixture_tensor(c.at("w"), dtype).set_requires_grad();
    Tensor b = fixture_tensor(c.at("b"), dtype).set_requires_grad();
    Tensor y = op(x, w, b);
    EXPECT_TRUE(matches_fixture(y, c.at("out"), tol, tol));
    ops::sum(ops::mul(y, fixture_tensor(c.at("gy"), dtype))).backward();
    EXPECT_TRUE(matches_fixture(x.grad(), c.at("grad_x"), tol, tol));
    EXPECT_TRUE(matches_fixture(w.grad(), c.at("grad_w"), tol, tol));
    EXPECT_TRUE(matches_fixture(b.grad(), c.at("grad_b"), tol, tol));
  }
}

}  // namespace

TEST(Padding2d, SameMatchesTensorFlow) {
  // ProtoNet's 28 -> 14 -> 7 with 3x3 stride 2: total pad 1, all of it at the bottom/right.
  ops::Padding2d p = ops::Padding2d::same(28, 14, 3, 3, 2, 2);
  EXPECT_EQ(p.top, 0);
  EXPECT_EQ(p.bottom, 1);
  EXPECT_EQ(p.left, 0);
  EXPECT_EQ(p.right, 1);
  // 7 wide, stride 2: ceil(7/2) = 4 outputs need 3*2 + 3 = 9 rows, so 2 of padding, split 1/1.
  p = ops::Padding2d::same(7, 7, 3, 3, 2, 2);
  EXPECT_EQ(p.top, 1);
  EXPECT_EQ(p.bottom, 1);
  // Dilation 2 makes a 3-tap kernel span 5: stride 1 needs 4 rows of padding.
  p = ops::Padding2d::same(10, 10, 3, 3, 1, 1, 2, 2);
  EXPECT_EQ(p.top, 2);
  EXPECT_EQ(p.bottom, 2);
  // A 1x1 kernel never pads.
  p = ops::Padding2d::same(5, 5, 1, 1, 1, 1);
  EXPECT_EQ(p.top + p.bottom + p.left + p.right, 0);
}

TEST(Conv2d, ForwardByHand) {
  // 1x1x3x3 input, 2x2 kernel of ones, no padding: each output sums a 2x2 block, plus bias.
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}, {DType::f64});
  Tensor w = Tensor::ones({1, 1, 2, 2}, {DType::f64});
  Tensor b = Tensor::from_vector<double>({10}, {1}, {DType::f64});
  Tensor y = ops::conv2d(x, w, b);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{22, 26, 34, 38}));
}

TEST(Conv2d, GradcheckStride1Padding1) {
  ops::Conv2dOptions opt;
  opt.padding = ops::Padding2d::symmetric(1, 1);
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return conv_fn(in, opt); },
                        {grad_input({2, 3, 5, 4}, 1), grad_input({4, 3, 3, 3}, 2), grad_input({4}, 3)}));
}

TEST(Conv2d, GradcheckStride2SameAsymmetric) {
  ops::Conv2dOptions opt;
  opt.stride_h = opt.stride_w = 2;
  opt.padding = ops::Padding2d::same(8, 6, 3, 3, 2, 2);
  ASSERT_NE(opt.padding.top, opt.padding.bottom);
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return conv_fn(in, opt); },
                        {grad_input({2, 2, 8, 6}, 4), grad_input({3, 2, 3, 3}, 5), grad_input({3}, 6)}));
}

TEST(Conv2d, GradcheckDilationGroupsNonContiguous) {
  ops::Conv2dOptions opt;
  opt.dilation_h = 2;
  opt.dilation_w = 3;
  opt.groups = 2;
  opt.padding = {2, 1, 0, 3};
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return conv_fn(in, opt); },
                        {grad_input_nhcw({1, 4, 7, 8}, 7), grad_input({6, 2, 3, 2}, 8), grad_input({6}, 9)}));
}

TEST(Conv2d, GradcheckWithoutBiasRectangularStride) {
  ops::Conv2dOptions opt;
  opt.stride_h = 3;
  opt.stride_w = 2;
  opt.padding = ops::Padding2d::symmetric(1, 0);
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return conv_fn(in, opt); },
                        {grad_input({2, 2, 8, 7}, 10), grad_input({2, 2, 2, 3}, 11)}));
}

TEST(Conv2d, MatchesPyTorchFixtureInF64AndF32) {
  auto cases = glassbox::testing::load_fixture("conv_fixtures.json").at("cases");
  ops::Conv2dOptions grouped;
  grouped.stride_h = 2;
  grouped.padding = ops::Padding2d::symmetric(1, 2);
  grouped.dilation_w = 2;
  grouped.groups = 2;
  ops::Conv2dOptions same;
  same.stride_h = same.stride_w = 2;
  same.padding = ops::Padding2d::same(8, 7, 3, 3, 2, 2);
  ASSERT_EQ(same.padding.top, 0);
  ASSERT_EQ(same.padding.bottom, 1);
  for (auto [name, opt] : {std::pair{"conv2d_grouped", grouped}, std::pair{"conv2d_same", same}}) {
    SCOPED_TRACE(name);
    expect_matches_pytorch_case(cases.at(name), [&](const Tensor& x, const Tensor& w, const Tensor& b) {
      return ops::conv2d(x, w, b, opt);
    });
  }
}

TEST(Conv2d, RejectsMismatchedChannelsAndOversizedKernels) {
  Tensor x = Tensor::zeros({1, 3, 5, 5});
  EXPECT_THROW(ops::conv2d(x, Tensor::zeros({2, 2, 3, 3}), Tensor()), std::invalid_argument);
  EXPECT_THROW(ops::conv2d(x, Tensor::zeros({2, 3, 7, 7}), Tensor()), std::invalid_argument);
  EXPECT_THROW(ops::conv2d(x, Tensor::zeros({2, 3, 3, 3}), Tensor::zeros({3})), std::invalid_argument);
  ops::Conv2dOptions groups3;
  groups3.groups = 3;
  EXPECT_THROW(ops::conv2d(x, Tensor::zeros({4, 1, 3, 3}), Tensor(), groups3), std::invalid_argument);
}

// ---- oneDNN f32 path against the reference loops ------------------------------------

namespace {

Tensor random_f32(const Shape& shape, uint64_t seed) { return random_tensor(shape, seed).to(DType::f32); }

/// Runs forward, backward-data and backward-weights (+ bias) through the CPU backend
/// (oneDNN for f32) and through the reference loops, and compares them.
void expect_onednn_matches_reference(const Shape& x_shape, const Shape& w_shape, const kernels::Conv2dParams& p) {
  auto& cpu = kernels::backend_for(Device::cpu());
  const int64_t out_h = (x_shape[2] + p.pad_top + p.pad_bottom - p.dilation_h * (w_shape[2] - 1) - 1) / p.stride_h + 1;
  const int64_t out_w = (x_shape[3] + p.pad_left + p.pad_right - p.dilation_w * (w_shape[3] - 1) - 1) / p.stride_w + 1;
  const Shape y_shape{x_shape[0], w_shape[0], out_h, out_w};
  Tensor x = random_f32(x_shape, 21), w = random_f32(w_shape, 22), b = random_f32({w_shape[0]}, 23);
  Tensor gy = random_f32(y_shape, 24);
  auto expect_close = [](const Tensor& got, const Tensor& want, const char* what) {
    std::vector<float> g = got.to_vector<float>(), e = want.to_vector<float>();
    ASSERT_EQ(g.size(), e.size());
    for (size_t i = 0; i < g.size(); ++i)
      ASSERT_NEAR(g[i], e[i], 1e-4 * (1 + std::abs(e[i]))) << what << " element " << i;
  };
  kernels::View bv = b.view();

  Tensor y = Tensor::empty(y_shape), y_ref = Tensor::empty(y_shape);
  cpu.conv2d_forward(x.view(), w.view(), &bv, y.view(), p);
  kernels::reference::conv2d_forward(x.view(), w.view(), &bv, y_ref.view(), p);
  expect_close(y, y_ref, "forward");

  Tensor gx = Tensor::empty(x_shape), gx_ref = Tensor::empty(x_shape);
  cpu.conv2d_backward_data(gy.view(), w.view(), gx.view(), p);
  kernels::reference::conv2d_backward_data(gy.view(), w.view(), gx_ref.view(), p);
  expect_close(gx, gx_ref, "backward_data");

  Tensor gw = Tensor::empty(w_shape), gw_ref = Tensor::empty(w_shape);
  Tensor gb = Tensor::empty({w_shape[0]}), gb_ref = Tensor::empty({w_shape[0]});
  kernels::View gbv = gb.view(), gbv_ref = gb_ref.view();
  cpu.conv2d_backward_weights(x.view(), gy.view(), gw.view(), &gbv, p);
  kernels::reference::conv2d_backward_weights(x.view(), gy.view(), gw_ref.view(), &gbv_ref, p);
  expect_close(gw, gw_ref, "backward_weights");
  expect_close(gb, gb_ref, "backward_bias");
}

kernels::Conv2dParams same_stride2(int64_t in) {
  ops::Padding2d pad = ops::Padding2d::same(in, in, 3, 3, 2, 2);
  return {2, 2, pad.top, pad.bottom, pad.left, pad.right, 1, 1, 1};
}

}  // namespace

TEST(Conv2dOneDnn, MatchesReferenceOnProtoNetFirstLayer) {
  expect_onednn_matches_reference({4, 1, 28, 28}, {32, 1, 3, 3}, same_stride2(28));
}

TEST(Conv2dOneDnn, MatchesReferenceOnProtoNetInnerLayer) {
  expect_onednn_matches_reference({4, 32, 14, 14}, {32, 32, 3, 3}, same_stride2(14));
}

TEST(Conv2dOneDnn, MatchesReferenceWithGroupsDilationAndAsymmetricPads) {
  expect_onednn_matches_reference({2, 6, 11, 9}, {4, 3, 3, 2}, {2, 1, 2, 0, 1, 3, 2, 3, 2});
}

TEST(Conv2dOneDnn, RepeatedCallsReuseTheCachedPrimitive) {
  // The second call with the same shape must give the same result (the cached primitive
  // is stateless), and a different shape must not pick up the first one's primitive.
  Tensor x = random_f32({2, 3, 6, 6}, 31), w = random_f32({4, 3, 3, 3}, 32);
  Tensor a = ops::conv2d(x, w, Tensor()), b = ops::conv2d(x, w, Tensor());
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  Tensor x2 = random_f32({2, 3, 8, 6}, 33);
  EXPECT_EQ(ops::conv2d(x2, w, Tensor()).shape(), (Shape{2, 4, 6, 4}));
}

// ---- conv_transpose2d ------------------------------------------------------------------

TEST(ConvTranspose2d, OutputShapeFormula) {
  // H = (H-1)*s - 2p + d(k-1) + output_padding + 1: (5-1)*2 - 2 + 2*2 + 1 + 1 = 12,
  // W = (6-1)*3 - 4 + 1*3 + 2 + 1 = 17; channels = weight[1] * groups = 6.
  ops::ConvTranspose2dOptions opt;
  opt.stride_h = 2;
  opt.stride_w = 3;
  opt.padding_h = 1;
  opt.padding_w = 2;
  opt.output_padding_h = 1;
  opt.output_padding_w = 2;
  opt.dilation_h = 2;
  opt.groups = 2;
  Tensor y = ops::conv_transpose2d(Tensor::ones({1, 4, 5, 6}), Tensor::ones({4, 3, 3, 4}), Tensor(), opt);
  EXPECT_EQ(y.shape(), (Shape{1, 6, 12, 17}));
  // Sides replace the symmetric padding: H = 8 - (0 + 1) + 4 + 1 + 1 = 13, W = 15 - (3 + 0) + 3 + 2 + 1 = 18.
  opt.padding_sides = ops::Padding2d{0, 1, 3, 0};
  y = ops::conv_transpose2d(Tensor::ones({1, 4, 5, 6}), Tensor::ones({4, 3, 3, 4}), Tensor(), opt);
  EXPECT_EQ(y.shape(), (Shape{1, 6, 13, 18}));
}

namespace {

/// <conv(x, w), y> = <x, conv_transpose(y, w)>: the transposed convolution `t` is the adjoint
/// of the convolution `c` on inputs of x's shape (and gives back that shape).
void expect_adjoint(const ops::Conv2dOptions& c, const ops::ConvTranspose2dOptions& t, const Shape& x_shape,
                    const Shape& w_shape, uint64_t seed) {
  Tensor x = random_tensor(x_shape, seed), w = random_tensor(w_shape, seed + 1);
  Tensor cx = ops::conv2d(x, w, Tensor(), c);
  Tensor y = random_tensor(cx.shape(), seed + 2);
  Tensor ty = ops::conv_transpose2d(y, w, Tensor(), t);
  ASSERT_EQ(ty.shape(), x.shape());
  EXPECT_NEAR(ops::sum(ops::mul(cx, y)).item(), ops::sum(ops::mul(x, ty)).item(), 1e-10);
}

}  // namespace

TEST(ConvTranspose2d, IsTheAdjointOfConv2d) {
  // The same stride/padding/dilation on both sides.
  ops::Conv2dOptions c;
  c.stride_h = c.stride_w = 2;
  c.padding = ops::Padding2d::symmetric(1, 1);
  c.dilation_w = 2;
  ops::ConvTranspose2dOptions t;
  t.stride_h = t.stride_w = 2;
  t.padding_h = t.padding_w = 1;
  t.dilation_w = 2;
  t.output_padding_w = 1;  // the convolution's floor division dropped one column of 10
  expect_adjoint(c, t, {2, 3, 9, 10}, {4, 3, 3, 3}, 41);
}

TEST(ConvTranspose2d, WithSamePaddingSidesIsTheAdjointOfTensorFlowsSameConv2d) {
  // TensorFlow's conv2d_transpose "SAME" (ProtoNet's decoder): 7 -> 4 pads 1/1, 14 -> 7 and
  // 10 -> 5 (width) pad 0 above/left and 1 below/right. The output has the SAME input's size.
  for (auto [h, w] : {std::pair<int64_t, int64_t>{7, 7}, {14, 10}}) {
    SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w));
    ops::Conv2dOptions c;
    c.stride_h = c.stride_w = 2;
    c.padding = ops::Padding2d::same(h, w, 3, 3, 2, 2);
    ops::ConvTranspose2dOptions t;
    t.stride_h = t.stride_w = 2;
    t.padding_sides = c.padding;
    expect_adjoint(c, t, {2, 3, h, w}, {4, 3, 3, 3}, 44);
  }
}

TEST(ConvTranspose2d, GradcheckAsymmetricPaddingSides) {
  ops::ConvTranspose2dOptions opt;
  opt.stride_h = opt.stride_w = 2;
  opt.padding_sides = ops::Padding2d{0, 1, 1, 2};
  opt.output_padding_w = 1;
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::conv_transpose2d(in[0], in[1], in[2], opt); },
                        {grad_input({2, 3, 3, 4}, 56), grad_input({3, 2, 3, 3}, 57), grad_input({2}, 58)}));
}

TEST(ConvTranspose2d, GradcheckStride2OutputPaddingGroups) {
  ops::ConvTranspose2dOptions opt;
  opt.stride_h = opt.stride_w = 2;
  opt.padding_h = 1;
  opt.output_padding_h = 1;
  opt.output_padding_w = 1;
  opt.groups = 2;
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::conv_transpose2d(in[0], in[1], in[2], opt); },
                        {grad_input_nhcw({2, 4, 3, 4}, 51), grad_input({4, 2, 3, 3}, 52), grad_input({4}, 53)}));
}

TEST(ConvTranspose2d, GradcheckDilationStride3) {
  ops::ConvTranspose2dOptions opt;
  opt.stride_h = 3;
  opt.stride_w = 1;
  opt.output_padding_h = 2;
  opt.dilation_h = 2;
  opt.dilation_w = 2;
  EXPECT_TRUE(
      gradcheck([&](const std::vector<Tensor>& in) { return ops::conv_transpose2d(in[0], in[1], Tensor(), opt); },
                {grad_input({1, 2, 3, 3}, 54), grad_input({2, 3, 2, 3}, 55)}));
}

TEST(ConvTranspose2d, MatchesPyTorchFixtureWithOutputPadding) {
  const auto c = glassbox::testing::load_fixture("conv_fixtures.json").at("cases").at("conv_transpose2d");
  ops::ConvTranspose2dOptions opt;
  opt.stride_h = opt.stride_w = 2;
  opt.padding_h = opt.padding_w = 1;
  opt.output_padding_h = opt.output_padding_w = 1;
  opt.groups = 2;
  expect_matches_pytorch_case(c, [&](const Tensor& x, const Tensor& w, const Tensor& b) {
    return ops::conv_transpose2d(x, w, b, opt);
  });
}

TEST(ConvTranspose2d, RejectsOutputPaddingNotBelowStride) {
  ops::ConvTranspose2dOptions opt;
  opt.stride_h = opt.stride_w = 2;
  opt.output_padding_h = 2;
  EXPECT_THROW(ops::conv_transpose2d(Tensor::ones({1, 2, 3, 3}), Tensor::ones({2, 2, 3, 3}), Tensor(), opt),
               std::invalid_argument);
}
