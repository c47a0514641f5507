#include "trainers/step_benchmark.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <vector>

#include "engine/autograd/profiler.h"
#include "engine/tensor.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/registry.h"
#include "trainers/usage_error.h"

namespace glassbox::train {

nlohmann::json run_step_benchmark(const StepBenchmark& spec, const std::function<void(int64_t)>& prepare,
                                  const std::function<void()>& step) {
  if (spec.steps < 1) throw UsageError("bench: --steps must be >= 1, got " + std::to_string(spec.steps));
  std::vector<double> ms;
  uint64_t host_reads = 0;  // in the timed steps; the batch's preparation is not counted
  for (int64_t i = 0; i < spec.warmup + spec.steps; ++i) {
    prepare(i);
    const uint64_t reads_before = device_to_host_copies();
    auto t0 = std::chrono::steady_clock::now();
    step();
    kernels::synchronize(spec.device);  // a GPU step is done when its kernels are, not when they are queued
    auto t1 = std::chrono::steady_clock::now();
    if (i >= spec.warmup) {
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      host_reads += device_to_host_copies() - reads_before;
    }
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double q) { return ms[static_cast<size_t>(q * double(ms.size() - 1) + 0.5)]; };
  const int threads = kernels::cpu_threads();
  std::cerr << std::fixed << std::setprecision(2) << spec.model << " training step (batch " << spec.batch << ", "
            << (spec.device.is_cpu() ? std::to_string(threads) + " threads" : spec.device.str())
            << "): median " << pct(0.5) << " ms, p10 " << pct(0.1) << " ms, p90 " << pct(0.9)
            << " ms over " << ms.size() << " steps\n";
  nlohmann::json record = {{"model", spec.model}, {"device", spec.device.str()}, {"threads", threads},   {"batch", spec.batch},
                           {"median_ms", pct(0.5)}, {"p10_ms", pct(0.1)}, {"p90_ms", pct(0.9)}};
  // Reads of device memory by the step itself (each one a stall on a GPU; 0 on the CPU, where
  // nothing is copied).
  if (!spec.device.is_cpu()) record["host_reads_per_step"] = double(host_reads) / double(spec.steps);
  for (auto& [k, v] : spec.extra.items()) record[k] = v;
  if (spec.profile) {
    profiler::clear();
    for (int64_t i = 0; i < spec.steps; ++i) {
      prepare(spec.warmup + i);
      profiler::start(spec.device);
      step();
      profiler::stop();
    }
    std::cerr << "time per op kind (" << spec.steps << " profiled steps; a forward is charged the time since the "
              << "previous op):\n"
              << profiler::table(profiler::collected(), spec.steps, pct(0.5));
  }
  std::cout << record.dump() << "\n";
  return record;
}

}  // namespace glassbox::train
