// One optimiser step (the fused update kernels) on a model-sized f32 parameter;
// compare with bench/bench_optim_torch.py (torch.optim, same sizes and options).
#include <benchmark/benchmark.h>

#include <vector>

#include "engine/optim/optim.h"
#include "engine/tensor.h"

using namespace glassbox;

namespace {

Tensor values(int64_t n, float scale) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = scale * (float((i * 2654435761u) % 1000) / 500.0f - 1.0f);
  return Tensor::from_vector(v, {n});
}

template <class Make>
void run_steps(benchmark::State& state, Make make) {
  Tensor p = values(state.range(0), 1.0f).set_requires_grad();
  p.set_grad(values(state.range(0), 0.01f));
  auto opt = make(p);
  for (auto _ : state) opt->step();
  state.SetItemsProcessed(state.iterations() * p.numel());
}

void BM_sgd_momentum(benchmark::State& state) {
  run_steps(state, [](Tensor p) {
    return std::make_unique<optim::SGD>(std::vector<Tensor>{p},
                                        optim::SgdOptions{.lr = 0.01, .momentum = 0.9, .weight_decay = 1e-4});
  });
}

void BM_adam(benchmark::State& state) {
  run_steps(state, [](Tensor p) {
    return std::make_unique<optim::Adam>(std::vector<Tensor>{p}, optim::AdamOptions{.lr = 1e-3, .weight_decay = 1e-4});
  });
}

void BM_adamw(benchmark::State& state) {
  run_steps(state, [](Tensor p) {
    return std::make_unique<optim::AdamW>(std::vector<Tensor>{p}, optim::AdamWOptions{.lr = 1e-3});
  });
}

void BM_adadelta(benchmark::State& state) {
  run_steps(state, [](Tensor p) {
    return std::make_unique<optim::Adadelta>(std::vector<Tensor>{p}, optim::AdadeltaOptions{});
  });
}

}  // namespace

BENCHMARK(BM_sgd_momentum)->Arg(1 << 20)->Arg(1 << 14);
BENCHMARK(BM_adam)->Arg(1 << 20)->Arg(1 << 14);
BENCHMARK(BM_adamw)->Arg(1 << 20);
BENCHMARK(BM_adadelta)->Arg(1 << 20);
BENCHMARK_MAIN();
