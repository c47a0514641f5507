// Softmax along the contiguous and the strided dim, and cross-entropy forward +
// backward, on a classifier-sized batch of f32 logits.
#include <benchmark/benchmark.h>

#include <vector>

#include "engine/ops/loss.h"
#include "engine/ops/reduce.h"
#include "engine/tensor.h"

using namespace glassbox;

namespace {

Tensor logits(int64_t n, int64_t c) {
  std::vector<float> v(size_t(n * c));
  for (size_t i = 0; i < v.size(); ++i) v[i] = float((i * 2654435761u) % 1000) / 100.0f - 5.0f;
  return Tensor::from_vector(v, {n, c});
}

void BM_softmax_last_dim(benchmark::State& state) {
  Tensor x = logits(state.range(0), state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(ops::softmax(x, 1));
  state.SetItemsProcessed(state.iterations() * x.numel());
}

void BM_softmax_strided_dim(benchmark::State& state) {
  Tensor x = logits(state.range(0), state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(ops::softmax(x, 0));
  state.SetItemsProcessed(state.iterations() * x.numel());
}

void BM_cross_entropy_forward_backward(benchmark::State& state) {
  const int64_t n = state.range(0), c = state.range(1);
  Tensor x = logits(n, c);
  x.set_requires_grad();
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[size_t(i)] = (i * 7) % c;
  Tensor target = Tensor::from_vector(t, {n}, {DType::i64});
  for (auto _ : state) {
    x.set_grad(Tensor());
    ops::cross_entropy(x, target, ops::Reduction::mean, -100, 0.1).backward();
  }
  state.SetItemsProcessed(state.iterations() * x.numel());
}

}  // namespace

BENCHMARK(BM_softmax_last_dim)->Args({1024, 1000})->Args({64, 10});
BENCHMARK(BM_softmax_strided_dim)->Args({1024, 1000});
BENCHMARK(BM_cross_entropy_forward_backward)->Args({1024, 1000})->Args({64, 10});
BENCHMARK_MAIN();
