#pragma once
// The checkpoint round trip of every model test: the Trainer saves a model and its Adam
// state into a fresh run folder, then loads the model into a differently initialised twin.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "engine/optim/adam.h"
#include "tests/support/module_compare.h"
#include "trainers/trainer.h"

namespace glassbox::testing {

/// Saves `net` as a checkpoint of `model_name` at (epoch, step) in the new run folder `dir`
/// and loads it into `restored`, which must differ before and match every tensor after.
/// Returns the checkpoint's JSON sidecar.
inline nlohmann::json expect_checkpoint_round_trip(nn::Module& net, nn::Module& restored, const Config& config,
                                                   const std::string& model_name, const std::filesystem::path& dir,
                                                   int64_t epoch, int64_t step) {
  optim::Adam opt(net.parameters(), optim::AdamOptions{});
  RunFolder run = RunFolder::create(dir, false);
  run.write_config(model_name, config);
  train::TrainerOptions to;
  to.model_name = model_name;
  train::Trainer(net, opt, run, config, to).save_checkpoint(epoch, 0, step, false);
  EXPECT_FALSE(same_state(net, restored)) << "the twin must start different for the test to mean anything";
  nlohmann::json sidecar = train::Trainer::load_model(restored, run);
  EXPECT_TRUE(same_state(net, restored));
  EXPECT_EQ(sidecar["model"], model_name);
  EXPECT_EQ(sidecar["epoch"], epoch);
  EXPECT_EQ(sidecar["step"], step);
  return sidecar;
}

}  // namespace glassbox::testing
