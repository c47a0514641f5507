// Indexing kernels at the sizes a model uses them: embedding lookups and their
// scatter-add gradient (many duplicate rows), gather along the class dim.
#include <benchmark/benchmark.h>

#include "engine/ops/index.h"
#include "engine/ops/random.h"

using namespace glassbox;

namespace {

Tensor token_ids(int64_t n, int64_t vocab) {
  Generator g(1);
  return ops::multinomial(Tensor::ones({vocab}), n, true, &g);
}

void BM_EmbeddingForward(benchmark::State& state) {
  const int64_t vocab = 32000, width = state.range(0), n = 16384;
  Tensor w = ops::randn({vocab, width});
  Tensor ids = token_ids(n, vocab);
  for (auto _ : state) benchmark::DoNotOptimize(ops::embedding(w, ids));
  state.SetBytesProcessed(state.iterations() * n * width * 4 * 2);
}
BENCHMARK(BM_EmbeddingForward)->Arg(64)->Arg(512)->Unit(benchmark::kMicrosecond);

void BM_EmbeddingBackward(benchmark::State& state) {
  const int64_t vocab = 1000, width = state.range(0), n = 16384;
  Tensor w = ops::randn({vocab, width});
  w.set_requires_grad();
  Tensor ids = token_ids(n, vocab);
  Tensor g = Tensor::ones({n, width});
  for (auto _ : state) {
    Tensor out = ops::embedding(w, ids);
    out.backward(g);
    w.set_grad(Tensor());
  }
  state.SetBytesProcessed(state.iterations() * n * width * 4 * 3);
}
BENCHMARK(BM_EmbeddingBackward)->Arg(64)->Arg(512)->Unit(benchmark::kMicrosecond);

void BM_GatherClassDim(benchmark::State& state) {
  const int64_t rows = 65536, classes = 1000;
  Tensor x = ops::randn({rows, classes});
  Tensor idx = token_ids(rows, classes).view({rows, 1});
  for (auto _ : state) benchmark::DoNotOptimize(ops::gather(x, 1, idx));
}
BENCHMARK(BM_GatherClassDim)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
