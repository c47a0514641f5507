// A GEMM-heavy training step: a 784-1024-1024-10 MLP with ReLU, cross-entropy and Adam
// (lr 1e-3) on a batch of 512 random inputs (drawn once), forward + loss + backward +
// step, on the CPU (1 thread) and on the first CUDA device. bench/mlp_step_torch.py times
// the same step in PyTorch; `./run bench` and `./run bench-cuda` print the two side by side.
// The CUDA case has "cuda" in its name (--benchmark_filter=cuda selects it) and reports an
// error, "no CUDA GPU", where none is visible.
//   ./build/bench/mlp_step_bench [--benchmark_filter=cpu|cuda]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "engine/nn/activation.h"
#include "engine/nn/linear.h"
#include "engine/nn/sequential.h"
#include "engine/ops/loss.h"
#include "engine/ops/random.h"
#include "engine/optim/adam.h"
#include "engine/tensor.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/registry.h"

namespace {

using namespace glassbox;

constexpr int64_t kBatch = 512, kIn = 784, kHidden = 1024, kClasses = 10;

void run_mlp_steps(benchmark::State& state, Device device) {
  manual_seed(0);
  nn::Sequential net;
  net.emplace_back<nn::Linear>(kIn, kHidden);
  net.emplace_back<nn::ReLU>();
  net.emplace_back<nn::Linear>(kHidden, kHidden);
  net.emplace_back<nn::ReLU>();
  net.emplace_back<nn::Linear>(kHidden, kClasses);
  net.to(device);
  optim::Adam optimizer(net.parameters(), optim::AdamOptions{.lr = 1e-3});
  // The inputs and labels are drawn once; every step trains on the same batch.
  const Tensor x = ops::randn({kBatch, kIn}).to(device);
  std::vector<int64_t> labels(kBatch);
  uint64_t h = 88172645463325252ull;
  for (auto& y : labels) {
    h ^= h << 13, h ^= h >> 7, h ^= h << 17;
    y = int64_t(h % uint64_t(kClasses));
  }
  const Tensor target = Tensor::from_vector(labels, {kBatch}).to(device);
  auto step = [&] {
    Tensor loss = ops::cross_entropy(net.forward(x), target);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    kernels::synchronize(device);  // a GPU step is done when its kernels are, not when they are queued
  };
  for (int i = 0; i < 3; ++i) step();  // warm-up: allocator, primitive caches, cuBLAS handles
  for (auto _ : state) step();
  // 3 GEMMs of 2 B K N FLOPs per layer (forward, both gradients).
  const double flops = 6.0 * double(kBatch) * double(kIn * kHidden + kHidden * kHidden + kHidden * kClasses);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(device.str() + (device.is_cpu() ? " threads " + std::to_string(kernels::cpu_threads()) : ""));
}

void BM_mlp_step_cpu(benchmark::State& state) {
  kernels::set_cpu_threads(1);
  run_mlp_steps(state, Device::cpu());
}

void BM_mlp_step_cuda(benchmark::State& state) {
  if (!kernels::cuda_available()) {
    state.SkipWithError("no CUDA GPU");
    return;
  }
  run_mlp_steps(state, Device::cuda(0));
}

}  // namespace

BENCHMARK(BM_mlp_step_cpu)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_step_cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
