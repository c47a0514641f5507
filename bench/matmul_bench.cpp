// f32 GEMM: the engine's ops::matmul against raw OpenBLAS (cblas_sgemm) and a raw
// oneDNN matmul primitive (created once, outside the timed loop), on square sizes and
// the model shapes. Arguments: {shape index, threads}; GFLOP/s = 2 M N K per second of
// wall time (the library threads run beside the timed one).
//   ./build/bench/matmul_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <array>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "engine/ops/linalg.h"
#include "kernels/cpu/cpu_backend.h"

namespace {

using glassbox::Tensor;

struct GemmShape {
  int64_t m, k, n;
};
constexpr std::array<GemmShape, 7> kShapes{{{64, 64, 64},
                                            {256, 256, 256},
                                            {512, 512, 512},
                                            {1024, 1024, 1024},
                                            {2048, 2048, 2048},
                                            {250, 40, 15},
                                            {250, 784, 32}}};

GemmShape setup(benchmark::State& state) {
  const GemmShape s = kShapes[size_t(state.range(0))];
  glassbox::kernels::set_cpu_threads(int(state.range(1)));
  state.SetLabel(std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n) + " threads " +
                 std::to_string(state.range(1)));
  return s;
}

void report(benchmark::State& state, const GemmShape& s) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(2e-9 * double(s.m) * double(s.k) * double(s.n), benchmark::Counter::kIsIterationInvariantRate);
}

Tensor random_matrix(int64_t rows, int64_t cols) {
  return Tensor::full({rows, cols}, 0.5).add_(Tensor::arange(rows * cols).view({rows, cols}), 1e-4);
}

void BM_engine_matmul(benchmark::State& state) {
  const GemmShape s = setup(state);
  Tensor a = random_matrix(s.m, s.k), b = random_matrix(s.k, s.n);
  for (auto _ : state) {
    Tensor c = glassbox::ops::matmul(a, b);
    benchmark::DoNotOptimize(c.view().data);
  }
  report(state, s);
}

void BM_openblas_sgemm(benchmark::State& state) {
  const GemmShape s = setup(state);
  Tensor a = random_matrix(s.m, s.k), b = random_matrix(s.k, s.n), c = Tensor::zeros({s.m, s.n});
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(s.m), blasint(s.n), blasint(s.k), 1.0f,
                a.data_ptr<float>(), blasint(s.k), b.data_ptr<float>(), blasint(s.n), 0.0f, c.data_ptr<float>(),
                blasint(s.n));
    benchmark::ClobberMemory();
  }
  report(state, s);
}

void BM_onednn_matmul(benchmark::State& state) {
  using dnnl::memory;
  const GemmShape s = setup(state);
  Tensor a = random_matrix(s.m, s.k), b = random_matrix(s.k, s.n), c = Tensor::zeros({s.m, s.n});
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(eng);
  memory::desc da({s.m, s.k}, memory::data_type::f32, memory::format_tag::ab);
  memory::desc db({s.k, s.n}, memory::data_type::f32, memory::format_tag::ab);
  memory::desc dc({s.m, s.n}, memory::data_type::f32, memory::format_tag::ab);
  dnnl::matmul prim(dnnl::matmul::primitive_desc(dnnl::matmul::desc(da, db, dc), eng));
  memory ma(da, eng, a.data_ptr<float>()), mb(db, eng, b.data_ptr<float>()), mc(dc, eng, c.data_ptr<float>());
  for (auto _ : state) {
    prim.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    stream.wait();
  }
  report(state, s);
}

void shapes_and_threads(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2})
    for (int64_t i = 0; i < int64_t(kShapes.size()); ++i) b->Args({i, threads});
  // The minimum over repetitions is the least disturbed by other processes on a shared machine.
  b->Unit(benchmark::kMicrosecond)->MinTime(0.2)->UseRealTime()->ComputeStatistics(
      "min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
}

BENCHMARK(BM_engine_matmul)->Apply(shapes_and_threads);
BENCHMARK(BM_openblas_sgemm)->Apply(shapes_and_threads);
BENCHMARK(BM_onednn_matmul)->Apply(shapes_and_threads);

}  // namespace

BENCHMARK_MAIN();
