#pragma once
// The exact-resume check every model's trainer test makes: two epochs straight must leave the
// same state as one epoch, a checkpoint, and one more epoch in a fresh model.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "tests/support/module_compare.h"
#include "trainers/config.h"
#include "trainers/data/data_loader.h"
#include "trainers/run_folder.h"
#include "trainers/trainer.h"

namespace glassbox::testing {

/// Fits `model` for `epochs` epochs on `loader`'s batches in the run folder `dir` (resuming
/// it when `resume`), with the Trainer's seed 9 and no progress bar.
inline void fit_in_run_folder(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& loader,
                              const Config& config, const std::string& name, const std::filesystem::path& dir,
                              int64_t epochs, bool resume, const train::StepFn& step) {
  RunFolder run = RunFolder::create(dir, resume);
  run.write_config(name, config);
  train::TrainerOptions options;
  options.model_name = name;
  options.epochs = epochs;
  options.seed = 9;
  options.show_progress = false;
  train::Trainer trainer(model, optimizer, run, config, options);
  trainer.fit(loader, step, nullptr, resume);
}

/// `train(dir, epochs, resume)` builds a model from fixed seeds, fits it with
/// fit_in_run_folder and returns it. Runs "straight" (2 epochs) and "split" (1, then 2 with
/// resume) under `dir` and expects the same final state.
template <class M>
void expect_exact_resume(const std::filesystem::path& dir,
                         const std::function<std::unique_ptr<M>(const std::filesystem::path&, int64_t, bool)>& train) {
  std::unique_ptr<M> straight = train(dir / "straight", 2, false);
  train(dir / "split", 1, false);
  std::unique_ptr<M> split = train(dir / "split", 2, true);
  EXPECT_TRUE(same_state(*straight, *split));
}

}  // namespace glassbox::testing
