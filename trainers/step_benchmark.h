#pragma once
// `glassbox bench MODEL`: times a model's training step (forward, loss, backward,
// optimiser step) after warm-up, and reports the median and spread as a readable
// line on stderr and one JSON line on stdout that other tools compare against:
// {"model", "device", "threads", "batch", "median_ms", "p10_ms", "p90_ms", ...extra}.
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "kernels/types.h"

namespace glassbox::train {

struct StepBenchmark {
  std::string model;  // the registered model name
  int64_t batch = 0;
  int64_t steps = 20;  // timed steps
  int64_t warmup = 3;  // untimed steps first (allocator, primitive caches)
  nlohmann::json extra = nlohmann::json::object();  // more fields for the JSON line (e.g. a variant)
  bool profile = false;  // also print the time per op kind (engine/autograd/profiler.h), on stderr
  Device device = Device::cpu();  // where the step runs; timings wait for its queued work
};

/// Runs warmup + steps iterations: prepare(i) untimed (fetching the batch), then step() timed.
/// With spec.profile, the timed steps run again with the op profiler on (so its small
/// overhead does not touch the timings) and the per-op table goes to stderr.
/// Returns the JSON record it printed.
nlohmann::json run_step_benchmark(const StepBenchmark& spec, const std::function<void(int64_t)>& prepare,
                                  const std::function<void()>& step);

}  // namespace glassbox::train
