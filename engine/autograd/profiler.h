#pragma once
// Where a step's time goes, per op kind: while profiling is on (on this thread), each
// op recorded with gradients on is charged the time since the previous mark (its forward: the kernels
// it ran and any unrecorded work just before it), and each node of the reverse pass
// is charged the time of its backward formula plus summing its gradients into its
// inputs. What neither covers (the optimiser step, data preparation) is the rest of
// the step's wall time. `glassbox bench --profile` prints this table.
#include <cstdint>
#include <map>
#include <string>
#include "kernels/types.h"

namespace glassbox::profiler {

struct OpTime {
  double forward_ms = 0, backward_ms = 0;
  int64_t forward_calls = 0, backward_calls = 0;
};
using Profile = std::map<std::string, OpTime>;

/// Starts collecting on this thread (keeping what was collected), and the forward clock.
/// On a GPU every reading first waits for the device, so each op is charged its run time.
void start(Device device = Device::cpu());
/// Waits for the profiled device's queued work (before a reading taken outside this file).
void wait();
/// Stops collecting on this thread.
void stop();
bool active();
/// Restarts the forward clock (what happened since is charged to nobody).
void mark();
/// An op of this name finished its forward: charge it the time since the last mark.
void forward_done(const char* name);
/// A reverse-pass node of this name took `ms`.
void backward_done(const char* name, double ms);
/// What was collected on this thread, and clearing it.
Profile collected();
void clear();

/// A table sorted by total time, per step (`steps` profiled steps of `step_ms` median
/// wall time each), with the unattributed rest as its last row.
std::string table(const Profile& profile, int64_t steps, double step_ms);

}  // namespace glassbox::profiler
