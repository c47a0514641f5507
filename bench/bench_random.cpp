// Philox fills: cost per element of uniform and normal draws, and dropout.
#include <benchmark/benchmark.h>

#include "engine/ops/random.h"

using namespace glassbox;

namespace {

void BM_RandUniform(benchmark::State& state) {
  Generator g(1);
  Tensor t = Tensor::empty({state.range(0)});
  for (auto _ : state) ops::uniform_(t, 0, 1, &g);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RandUniform)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

void BM_RandNormal(benchmark::State& state) {
  Generator g(2);
  Tensor t = Tensor::empty({state.range(0)});
  for (auto _ : state) ops::normal_(t, 0, 1, &g);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RandNormal)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

void BM_Dropout(benchmark::State& state) {
  Generator g(3);
  Tensor x = ops::randn({state.range(0)}, 0, 1, {}, &g);
  for (auto _ : state) benchmark::DoNotOptimize(ops::dropout(x, 0.1, true, &g));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Dropout)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
