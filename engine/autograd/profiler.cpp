#include "engine/autograd/profiler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "kernels/registry.h"

namespace glassbox::profiler {

namespace {

using Clock = std::chrono::steady_clock;

struct State {
  bool on = false;
  Device device = Device::cpu();  // waited on before each reading, so GPU ops are charged their run time
  Clock::time_point last;
  Profile profile;
};

State& state() {
  thread_local State s;
  return s;
}

}  // namespace

void start(Device device) {
  state().on = true;
  state().device = device;
  kernels::synchronize(device);
  state().last = Clock::now();
}
void wait() { kernels::synchronize(state().device); }
void stop() { state().on = false; }
bool active() { return state().on; }
void mark() { state().last = Clock::now(); }

void forward_done(const char* name) {
  State& s = state();
  kernels::synchronize(s.device);
  const auto now = Clock::now();
  OpTime& t = s.profile[name];
  t.forward_ms += std::chrono::duration<double, std::milli>(now - s.last).count();
  ++t.forward_calls;
  s.last = now;
}

void backward_done(const char* name, double ms) {
  OpTime& t = state().profile[name];
  t.backward_ms += ms;
  ++t.backward_calls;
}

Profile collected() { return state().profile; }
void clear() { state().profile.clear(); }

std::string table(const Profile& profile, int64_t steps, double step_ms) {
  std::vector<std::pair<std::string, OpTime>> rows(profile.begin(), profile.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.forward_ms + a.second.backward_ms > b.second.forward_ms + b.second.backward_ms;
  });
  const double per = steps > 0 ? 1.0 / double(steps) : 1.0;
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "%-22s %10s %10s %10s %7s %7s\n", "op (per step)", "forward ms", "backward ms",
                "total ms", "% step", "calls");
  out += line;
  double attributed = 0;
  for (const auto& [name, t] : rows) {
    const double total = (t.forward_ms + t.backward_ms) * per;
    attributed += total;
    std::snprintf(line, sizeof line, "%-22s %10.3f %10.3f %10.3f %6.1f%% %7.1f\n", name.c_str(), t.forward_ms * per,
                  t.backward_ms * per, total, step_ms > 0 ? 100.0 * total / step_ms : 0.0,
                  double(t.forward_calls + t.backward_calls) * per);
    out += line;
  }
  const double rest = std::max(0.0, step_ms - attributed);
  std::snprintf(line, sizeof line, "%-22s %10s %10s %10.3f %6.1f%%\n", "rest (optimiser, ...)", "", "", rest,
                step_ms > 0 ? 100.0 * rest / step_ms : 0.0);
  out += line;
  return out;
}

}  // namespace glassbox::profiler
