#include "engine/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace glassbox::optim {

LrScheduler::LrScheduler(Optimizer& optimizer, std::function<double(int64_t)> factor)
    : optimizer_(optimizer), factor_(std::move(factor)) {
  for (const Optimizer::Group& g : optimizer_.param_groups()) base_lrs_.push_back(g.lr);
  set_step(0);
}

void LrScheduler::set_step(int64_t step) {
  if (step < 0) throw std::invalid_argument("LrScheduler: step must be non-negative, got " + std::to_string(step));
  auto& groups = optimizer_.param_groups();
  if (groups.size() != base_lrs_.size())
    throw std::logic_error("LrScheduler: the optimiser's parameter groups changed after the schedule was made");
  step_ = step;
  const double f = factor_(step);
  for (size_t i = 0; i < groups.size(); ++i) groups[i].lr = base_lrs_[i] * f;
}

std::vector<double> LrScheduler::last_lr() const {
  std::vector<double> out;
  for (const Optimizer::Group& g : optimizer_.param_groups()) out.push_back(g.lr);
  return out;
}

ConstantLR::ConstantLR(Optimizer& optimizer) : LrScheduler(optimizer, [](int64_t) { return 1.0; }) {}

namespace {
int64_t checked_step_size(int64_t step_size) {
  if (step_size < 1) throw std::invalid_argument("StepLR: step_size must be at least 1, got " + std::to_string(step_size));
  return step_size;
}
}  // namespace

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LrScheduler(optimizer, [step_size = checked_step_size(step_size), gamma](int64_t s) {
        return std::pow(gamma, double(s / step_size));
      }) {}

namespace {
std::function<double(int64_t)> warmup_cosine(int64_t warmup, int64_t total, double min_factor) {
  if (warmup < 0 || total < 1 || warmup > total)
    throw std::invalid_argument("WarmupCosineLR: need 0 <= warmup_steps <= total_steps and total_steps >= 1, got " +
                                std::to_string(warmup) + " and " + std::to_string(total));
  if (!(min_factor >= 0 && min_factor <= 1))
    throw std::invalid_argument("WarmupCosineLR: min_factor must lie in [0, 1], got " + std::to_string(min_factor));
  return [=](int64_t s) {
    if (s < warmup) return double(s) / double(warmup);
    if (total == warmup) return 1.0;
    const double progress = std::min(1.0, double(s - warmup) / double(total - warmup));
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  };
}
}  // namespace

WarmupCosineLR::WarmupCosineLR(Optimizer& optimizer, int64_t warmup_steps, int64_t total_steps, double min_factor)
    : LrScheduler(optimizer, warmup_cosine(warmup_steps, total_steps, min_factor)) {}

}  // namespace glassbox::optim
