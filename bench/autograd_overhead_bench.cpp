// Autograd overhead: a chain of 1000 tiny ops (alternating add and mul on 4-element
// f32 tensors), forward then backward. The "time/op" counter is the time per op,
// forward and backward together; bench/autograd_overhead_torch.py times the same chain
// in PyTorch.
//   ./build/bench/autograd_overhead_bench
#include <benchmark/benchmark.h>

#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "kernels/cpu/cpu_backend.h"

namespace {

using glassbox::Tensor;

constexpr int kChainLength = 1000;

void BM_autograd_chain(benchmark::State& state) {
  glassbox::kernels::set_cpu_threads(1);
  Tensor x = Tensor::full({4}, 0.5, {glassbox::DType::f32, glassbox::Device::cpu(), true});
  Tensor c = Tensor::full({4}, 1.0001, {glassbox::DType::f32});
  for (auto _ : state) {
    Tensor y = x;
    for (int i = 0; i < kChainLength; ++i) y = i % 2 == 0 ? glassbox::ops::add(y, c) : glassbox::ops::mul(y, c);
    glassbox::ops::sum(y).backward();
    x.set_grad(Tensor());
  }
  // Seconds per op: the inverse of ops per second.
  state.counters["time/op"] = benchmark::Counter(
      double(kChainLength), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_autograd_chain)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
