#pragma once
// Learning-rate schedules: each sets every parameter group's lr to its initial lr
// times a factor of the step count. Construction applies step 0; call step() once
// per optimiser step, after it (as with torch.optim.lr_scheduler).
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/optim/optimizer.h"

namespace glassbox::optim {

class LrScheduler {
 public:
  virtual ~LrScheduler() = default;
  /// Advances one step and updates the optimiser's learning rates.
  void step() { set_step(step_ + 1); }
  /// Jumps to `step` (e.g. when resuming from a checkpoint).
  void set_step(int64_t step);
  int64_t last_step() const { return step_; }
  double factor(int64_t step) const { return factor_(step); }
  /// The learning rate of each group now.
  std::vector<double> last_lr() const;

 protected:
  LrScheduler(Optimizer& optimizer, std::function<double(int64_t)> factor);

 private:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::function<double(int64_t)> factor_;
  int64_t step_ = 0;
};

/// Keeps every group at its initial learning rate.
class ConstantLR final : public LrScheduler {
 public:
  explicit ConstantLR(Optimizer& optimizer);
};

/// lr * gamma^floor(step / step_size) (torch.optim.lr_scheduler.StepLR).
class StepLR final : public LrScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
};

/// Linear warm-up from 0 over warmup_steps, then a half cosine from 1 down to
/// min_factor at total_steps, constant after (the schedule of Hugging Face's
/// get_cosine_schedule_with_warmup, with a floor).
class WarmupCosineLR final : public LrScheduler {
 public:
  WarmupCosineLR(Optimizer& optimizer, int64_t warmup_steps, int64_t total_steps, double min_factor = 0.0);
};

}  // namespace glassbox::optim
