// Indexing and shaping ops: forward values against hand-computed results, gradients
// against finite differences, and index errors that name the op, the value and the size.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/ops/elementwise.h"
#include "engine/ops/index.h"
#include "engine/ops/reduce.h"
#include "tests/support/gradcheck.h"

using namespace glassbox;
using glassbox::testing::grad_input;
using glassbox::testing::grad_input_transposed;
using glassbox::testing::gradcheck;
using glassbox::testing::random_tensor;

namespace {

using V = std::vector<double>;

Tensor f64(const V& v, const Shape& s) { return Tensor::from_vector(v, s, {DType::f64}); }
Tensor i64(const std::vector<int64_t>& v, const Shape& s) { return Tensor::from_vector(v, s, {DType::i64}); }

/// Expects fn to throw an exception whose message contains every piece.
template <class Fn>
void expect_error(Fn fn, const std::vector<std::string>& pieces) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception";
  } catch (const std::exception& e) {
    for (const auto& p : pieces) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Index, ConcatValuesAndGradients) {
  Tensor a = f64({1, 2, 3, 4}, {2, 2}), b = f64({5, 6}, {2, 1});
  EXPECT_EQ(ops::concat({a, b}, 1).to_vector<double>(), (V{1, 2, 5, 3, 4, 6}));
  EXPECT_EQ(ops::concat({a, b.transpose(0, 1)}, 0).to_vector<double>(), (V{1, 2, 3, 4, 5, 6}));
  for (int dim : {0, 1, -1}) {
    Shape sb = dim == 0 ? Shape{1, 3} : Shape{2, 4};
    EXPECT_TRUE(gradcheck([dim](const std::vector<Tensor>& in) { return ops::concat(in, dim); },
                          {grad_input({2, 3}, 1), grad_input_transposed({2, 3}, 2), grad_input(sb, 3)}))
        << "dim " << dim;
  }
  expect_error([&] { ops::concat({a, f64({1, 2, 3}, {3, 1})}, 1); }, {"concat", "[3, 1]"});
}

TEST(Index, StackValuesAndGradients) {
  Tensor a = f64({1, 2}, {2}), b = f64({3, 4}, {2});
  EXPECT_EQ(ops::stack({a, b}, 0).to_vector<double>(), (V{1, 2, 3, 4}));
  Tensor s1 = ops::stack({a, b}, 1);
  EXPECT_EQ(s1.shape(), (Shape{2, 2}));
  EXPECT_EQ(s1.to_vector<double>(), (V{1, 3, 2, 4}));
  for (int dim : {0, 1, 2, -1})
    EXPECT_TRUE(gradcheck([dim](const std::vector<Tensor>& in) { return ops::stack(in, dim); },
                          {grad_input({3, 2}, 4), grad_input_transposed({3, 2}, 5)}))
        << "dim " << dim;
  expect_error([&] { ops::stack({a, f64({1, 2, 3}, {3})}, 0); }, {"stack", "[3]"});
}

TEST(Index, SplitAndChunkAreViewsWithGradients) {
  Tensor x = f64({0, 1, 2, 3, 4, 5, 6}, {7});
  auto pieces = ops::split(x, 3, 0);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[2].to_vector<double>(), (V{6}));
  EXPECT_TRUE(pieces[1].storage() == x.storage());
  auto sized = ops::split(x, std::vector<int64_t>{2, 0, 5}, 0);
  EXPECT_EQ(sized[2].to_vector<double>(), (V{2, 3, 4, 5, 6}));
  EXPECT_EQ(sized[1].numel(), 0);
  auto chunks = ops::chunk(x, 3, 0);  // ceil(7 / 3) = 3 per piece, as torch.chunk
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].numel(), 3);
  expect_error([&] { ops::split(x, std::vector<int64_t>{2, 2}, 0); }, {"split", "4", "7"});
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        auto p = ops::split(in[0], std::vector<int64_t>{1, 3}, 1);
        return ops::concat({ops::mul(p[1], 2.0), p[0]}, 1);
      },
      {grad_input_transposed({3, 4}, 6)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::chunk(in[0], 2, 0)[1]; },
                        {grad_input({5, 2}, 7)}));
}

TEST(Index, PadFillsAroundAndCrops) {
  Tensor x = f64({1, 2, 3, 4}, {2, 2});
  Tensor p = ops::pad(x, {1, 0}, 9);
  EXPECT_EQ(p.shape(), (Shape{2, 3}));
  EXPECT_EQ(p.to_vector<double>(), (V{9, 1, 2, 9, 3, 4}));
  Tensor q = ops::pad(x, {0, 1, 1, 0});
  EXPECT_EQ(q.shape(), (Shape{3, 3}));
  EXPECT_EQ(q.to_vector<double>(), (V{0, 0, 0, 1, 2, 0, 3, 4, 0}));
  Tensor c = ops::pad(f64({1, 2, 3, 4}, {4}), {-1, 1}, 7);  // crop one at the front, pad one at the back
  EXPECT_EQ(c.to_vector<double>(), (V{2, 3, 4, 7}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::pad(in[0], {2, 1, 0, 3}, 0.5); },
                        {grad_input_transposed({3, 2}, 8)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::pad(in[0], {-1, 2, 1, -1}); },
                        {grad_input({2, 3, 4}, 9)}));
  expect_error([&] { ops::pad(x, {1, 2, 3}); }, {"pad"});
  expect_error([&] { ops::pad(x, {-2, -1}); }, {"pad", "negative size"});
}

TEST(Index, IndexSelectValuesGradientsAndErrors) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor idx = i64({2, 0, 2}, {3});
  EXPECT_EQ(ops::index_select(x, 0, idx).to_vector<double>(), (V{5, 6, 1, 2, 5, 6}));
  EXPECT_EQ(ops::index_select(x, 1, i64({1, 1}, {2})).to_vector<double>(), (V{2, 2, 4, 4, 6, 6}));
  Tensor ints = i64({10, 11, 12, 13, 14, 15}, {2, 3}).transpose(0, 1);  // [[10, 13], [11, 14], [12, 15]]
  EXPECT_EQ(ops::index_select(ints, 0, i64({2, 0}, {2})).to_vector<int64_t>(), (std::vector<int64_t>{12, 15, 10, 13}));
  // Duplicate indices: the backward adds into the same row.
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::index_select(in[0], 0, idx); },
                        {grad_input({3, 4}, 10)}));
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::index_select(in[0], 1, idx); },
                        {grad_input_transposed({2, 3}, 11)}));
  Tensor strided_idx = i64({0, 9, 1, 9, 1, 9}, {6}).slice(0, 0, 6, 2);
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::index_select(in[0], -1, strided_idx); },
                        {grad_input({2, 2, 3}, 12)}));
  expect_error([&] { ops::index_select(x, 0, i64({0, 5}, {2})); }, {"index_select", "index 5", "size 3"});
  expect_error([&] { ops::index_select(x, 0, i64({-1}, {1})); }, {"index_select", "index -1"});
  expect_error([&] { ops::index_select(x, 0, f64({0}, {1})); }, {"index_select", "i64"});
}

TEST(Index, GatherValuesGradientsAndErrors) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor idx = i64({2, 2, 0, 1}, {2, 2});
  EXPECT_EQ(ops::gather(x, 1, idx).to_vector<double>(), (V{3, 3, 4, 5}));
  EXPECT_EQ(ops::gather(x, 0, i64({1, 0, 1}, {1, 3})).to_vector<double>(), (V{4, 2, 6}));
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::gather(in[0], 1, idx); },
                        {grad_input({2, 3}, 13)}));
  Tensor idx0 = i64({1, 1, 0, 2, 0, 0}, {3, 2});
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::gather(in[0], 0, idx0); },
                        {grad_input_transposed({3, 4}, 14)}));
  // A transposed (non-contiguous) index tensor.
  Tensor idx_t = i64({2, 0, 1, 1}, {2, 2}).transpose(0, 1);  // [[2, 1], [0, 1]]
  EXPECT_EQ(ops::gather(x, 1, idx_t).to_vector<double>(), (V{3, 2, 4, 5}));
  Tensor xf = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(ops::gather(xf, 1, idx).to_vector<float>(), (std::vector<float>{3, 3, 4, 5}));
  expect_error([&] { ops::gather(x, 1, i64({3}, {1, 1})); }, {"gather", "index 3", "size 3"});
  expect_error([&] { ops::gather(x, 1, i64({0, 0, 0, 0}, {4, 1})); }, {"gather", "[4, 1]"});
}

TEST(Index, ScatterAddValuesGradientsAndErrors) {
  Tensor x = f64({0, 0, 0, 0, 0, 0}, {2, 3});
  Tensor idx = i64({0, 0, 2, 1}, {2, 2});
  Tensor src = f64({1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(ops::scatter_add(x, 1, idx, src).to_vector<double>(), (V{3, 0, 0, 0, 4, 3}));
  EXPECT_EQ(x.to_vector<double>(), (V{0, 0, 0, 0, 0, 0}));  // out-of-place
  // src larger than index: only the addressed part of src reaches the output.
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::scatter_add(in[0], 1, idx, in[1]); },
                        {grad_input({2, 3}, 15), grad_input_transposed({3, 3}, 16)}));
  Tensor idx0 = i64({1, 1, 1, 0}, {2, 2});
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::scatter_add(in[0], 0, idx0, in[1]); },
                        {grad_input_transposed({2, 2}, 17), grad_input({2, 2}, 18)}));
  expect_error([&] { ops::scatter_add(x, 1, i64({0, 7}, {1, 2}), src); }, {"scatter_add", "index 7", "size 3"});
}

TEST(Index, EmbeddingLooksUpRowsAndAccumulatesDuplicates) {
  Tensor w = f64({0, 1, 10, 11, 20, 21}, {3, 2});
  Tensor ids = i64({2, 0, 2, 2}, {2, 2});
  Tensor e = ops::embedding(w, ids);
  EXPECT_EQ(e.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(e.to_vector<double>(), (V{20, 21, 0, 1, 20, 21, 20, 21}));
  Tensor wg = grad_input({3, 2}, 19);
  ops::sum(ops::embedding(wg, ids)).backward();
  EXPECT_EQ(wg.grad().to_vector<double>(), (V{1, 1, 0, 0, 3, 3}));
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::embedding(in[0], ids); },
                        {grad_input_transposed({3, 4}, 20)}));
  expect_error([&] { ops::embedding(w, i64({3}, {1})); }, {"index 3", "size 3"});
}

TEST(Index, LargeKernelsMatchAReference) {
  // Sizes above the parallel threshold, with many duplicate indices, checked exactly.
  const int64_t v = 37, d = 300, n = 4000;
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[size_t(i)] = (i * 7919) % v;
  Tensor w = Tensor::ones({v, d}, {DType::f64});
  w.set_requires_grad();
  Tensor idx = i64(ids, {n});
  Tensor g = Tensor::ones({n, d}, {DType::f64});
  ops::embedding(w, idx).backward(g);
  std::vector<double> counts(static_cast<size_t>(v), 0);
  for (int64_t id : ids) counts[size_t(id)] += 1;
  std::vector<double> grad = w.grad().to_vector<double>();
  for (int64_t r = 0; r < v; ++r)
    for (int64_t c = 0; c < d; c += 97) ASSERT_EQ(grad[size_t(r * d + c)], counts[size_t(r)]);

  // gather then scatter_add along dim 1 of a [200, 300] tensor: each row collects its picks.
  Tensor x = random_tensor({200, 300}, 21);
  std::vector<int64_t> gi(200 * 300);
  for (size_t i = 0; i < gi.size(); ++i) gi[i] = int64_t((i * 31) % 300);
  Tensor gidx = i64(gi, {200, 300});
  std::vector<double> xv = x.to_vector<double>(), got = ops::gather(x, 1, gidx).to_vector<double>();
  for (size_t i = 0; i < gi.size(); i += 101) ASSERT_EQ(got[i], xv[(i / 300) * 300 + size_t(gi[i])]);
  Tensor sums = ops::scatter_add(Tensor::zeros({200, 300}, {DType::f64}), 1, gidx, Tensor::ones({200, 300}, {DType::f64}));
  EXPECT_DOUBLE_EQ(ops::sum(sums).item(), 200.0 * 300.0);
  EXPECT_DOUBLE_EQ(ops::sum(sums.select(0, 0)).item(), 300.0);
}

TEST(Index, OneHot) {
  Tensor oh = ops::one_hot(i64({2, 0, 1}, {3}), 4);
  EXPECT_EQ(oh.shape(), (Shape{3, 4}));
  EXPECT_EQ(oh.dtype(), DType::f32);
  EXPECT_EQ(oh.to_vector<float>(), (std::vector<float>{0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0}));
  Tensor inferred = ops::one_hot(i64({1, 3}, {2, 1}), -1, DType::f64);
  EXPECT_EQ(inferred.shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(inferred.to_vector<double>(), (V{0, 1, 0, 0, 0, 0, 0, 1}));
  expect_error([&] { ops::one_hot(i64({0, 4}, {2}), 4); }, {"one_hot", "4", "num_classes 4"});
  expect_error([&] { ops::one_hot(i64({-1}, {1}), 4); }, {"one_hot", "-1"});
}

TEST(Index, OneHotInRangeMatchesOneHotAndNeverThrowsOnRange) {
  const Tensor indices = i64({2, 0, 1, 3, 3, 0}, {2, 3});
  Tensor oh = ops::one_hot_in_range(indices, 4, DType::f64);
  EXPECT_EQ(oh.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(oh.dtype(), DType::f64);
  EXPECT_EQ(oh.to_vector<double>(), ops::one_hot(indices, 4, DType::f64).to_vector<double>());
  // Out of range: a row of zeros (no check, so no read of the indices), as jax.nn.one_hot.
  EXPECT_EQ(ops::one_hot_in_range(i64({-1, 4, 1}, {3}), 4).to_vector<float>(),
            (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}));
  expect_error([&] { ops::one_hot_in_range(i64({1}, {1}), -1); }, {"one_hot_in_range", "num_classes"});
  expect_error([&] { ops::one_hot_in_range(f64({1}, {1}), 3); }, {"one_hot_in_range", "i64"});
}

TEST(Index, MaskedFill) {
  Tensor x = f64({1, 2, 3, 4}, {2, 2});
  Tensor mask = Tensor::from_vector<bool>({true, false}, {2}, {DType::boolean});  // broadcast over rows
  EXPECT_EQ(ops::masked_fill(x, mask, -1).to_vector<double>(), (V{-1, 2, -1, 4}));
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::masked_fill(in[0], mask, 3.0); },
                        {grad_input_transposed({2, 2}, 22)}));
  Tensor xg = grad_input({2, 2}, 23);
  ops::sum(ops::masked_fill(xg, mask, 0)).backward();
  EXPECT_EQ(xg.grad().to_vector<double>(), (V{0, 1, 0, 1}));
  expect_error([&] { ops::masked_fill(x, Tensor::from_vector<bool>({true, false, true}, {3}, {DType::boolean}), 0); }, {"masked_fill"});
}

TEST(Index, Repeat) {
  Tensor x = f64({1, 2, 3}, {3});
  EXPECT_EQ(ops::repeat(x, {2}).to_vector<double>(), (V{1, 2, 3, 1, 2, 3}));
  Tensor r = ops::repeat(x, {2, 1});
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  Tensor m = ops::repeat(f64({1, 2, 3, 4}, {2, 2}), {2, 2});
  EXPECT_EQ(m.to_vector<double>(), (V{1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::repeat(in[0], {2, 1, 3}); },
                        {grad_input_transposed({2, 3}, 24)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::repeat(in[0], {1, 1}); },
                        {grad_input({2, 2}, 25)}));
  expect_error([&] { ops::repeat(f64({1, 2, 3, 4}, {2, 2}), {2}); }, {"repeat"});
}
