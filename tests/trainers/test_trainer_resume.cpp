// A run that stops (Ctrl-C, a crash, a finished run extended) and is resumed ends with the
// weights and the metrics.jsonl of the run that never stopped: the steps a crashed run logged
// past its last checkpoint are not in the file twice, and an epoch stopped midway keeps the
// mean loss of all its batches.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <vector>

#include "engine/nn/module.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "engine/optim/sgd.h"
#include "tests/support/temp_dir.h"
#include "trainers/metrics_writer.h"
#include "trainers/trainer.h"
#include "trainers/training_schema.h"

namespace glassbox {
namespace {

constexpr int64_t kBatches = 3;

struct Weights : nn::Module {
  Weights() { w = register_parameter("w", Tensor::from_vector<double>({1.0, -2.0}, {2}, {DType::f64})); }
  nn::Parameter w;
};

struct Outcome {
  std::vector<double> weights;
  bool interrupted = false;
};

/// Trains a fresh model and optimiser (as a new process would) in `run` for `epochs` epochs of
/// kBatches batches, each a least-squares pull towards a target that depends on (epoch, batch);
/// `after_step(step)` runs after each step's loss is computed.
Outcome train(const RunFolder& run, int64_t epochs, bool resume, const std::function<void(int64_t)>& after_step = {}) {
  Weights model;
  optim::SgdOptions sgd;
  sgd.lr = 0.1;
  sgd.momentum = 0.9;  // optimiser state that a resume must restore
  optim::SGD optimizer(model.parameters(), sgd);
  const Config config(training_loop_schema("1", "1"));
  train::TrainerOptions options;
  options.model_name = "resume";
  options.epochs = epochs;
  options.checkpoint_every = 2;
  options.show_progress = false;
  train::Trainer trainer(model, optimizer, run, config, options);
  int64_t step = 0;
  const train::TrainSummary summary = trainer.fit(
      kBatches,
      [&](int64_t epoch, int64_t batch) {
        const double t = double(epoch) - 0.5 * double(batch);
        Tensor target = Tensor::from_vector<double>({t, 1.0 + t}, {2}, {DType::f64});
        Tensor diff = ops::sub(model.w, target);
        train::StepResult r{ops::sum(ops::mul(diff, diff))};
        if (after_step) after_step(++step);
        return r;
      },
      [&](int64_t epochs_done) { return nlohmann::json{{"w0", model.w.to_vector<double>()[0]}, {"at", epochs_done}}; },
      resume);
  return {model.w.to_vector<double>(), summary.interrupted};
}

RunFolder new_run(const glassbox::testing::TempDir& dir, const std::string& name) {
  const RunFolder run = RunFolder::create(dir / name, false);
  run.write_config("resume", Config(training_loop_schema("1", "1")));
  return run;
}

/// metrics.jsonl without the wall times, which no two runs share.
std::vector<nlohmann::json> metrics_without_times(const RunFolder& run) {
  std::vector<nlohmann::json> records = read_metrics(run.metrics_file());
  for (nlohmann::json& r : records) r.erase("epoch_seconds");
  return records;
}

void append(const RunFolder& run, const std::string& text) { std::ofstream(run.metrics_file(), std::ios::app) << text; }

class TrainerResume : public ::testing::Test {
 protected:
  void SetUp() override {
    whole = train(new_run(dir, "whole"), 4, false);
    expected = metrics_without_times(RunFolder::open(dir / "whole"));
    ASSERT_EQ(expected.size(), size_t(4 * kBatches + 4));
  }
  glassbox::testing::TempDir dir;
  Outcome whole;
  std::vector<nlohmann::json> expected;
};

TEST_F(TrainerResume, ACrashPastTheLastCheckpointIsNotLoggedTwice) {
  const RunFolder run = new_run(dir, "crashed");
  train(run, 2, false);  // finishes at epoch 2 with a checkpoint, then is extended to 4 epochs
  append(run, "{\"final\":true}\n");
  // The extension crashed in epoch 3 after logging two steps and part of a third line.
  for (int64_t s = 7; s <= 8; ++s) append(run, expected[size_t(s + 1)].dump() + "\n");
  append(run, "{\"step\":9,\"lo");
  EXPECT_TRUE(train::Trainer::restores_checkpoint(run, true));
  EXPECT_FALSE(train::Trainer::restores_checkpoint(run, false));
  const Outcome resumed = train(run, 4, true);
  EXPECT_EQ(resumed.weights, whole.weights);
  EXPECT_EQ(metrics_without_times(run), expected);
}

TEST_F(TrainerResume, CtrlCMidEpochKeepsTheWholeEpochsMeanLoss) {
  const RunFolder run = new_run(dir, "stopped");
  // SIGINT after step 5 (epoch 2, batch 2 of 3): the trainer checkpoints before step 6.
  const Outcome stopped = train(run, 4, false, [](int64_t step) {
    if (step == 5) std::raise(SIGINT);
  });
  ASSERT_TRUE(stopped.interrupted);
  const Outcome resumed = train(run, 4, true);
  EXPECT_FALSE(resumed.interrupted);
  EXPECT_EQ(resumed.weights, whole.weights);
  EXPECT_EQ(metrics_without_times(run), expected);
}

TEST_F(TrainerResume, ResumingARunThatStoppedBeforeItsFirstCheckpointStartsOver) {
  const RunFolder run = new_run(dir, "early");
  for (int64_t s = 1; s <= 2; ++s) append(run, expected[size_t(s - 1)].dump() + "\n");
  ASSERT_FALSE(std::filesystem::exists(train::Trainer::latest_checkpoint(run)));
  EXPECT_FALSE(train::Trainer::restores_checkpoint(run, true)) << "set-up before training must run again";
  const Outcome resumed = train(run, 4, true);
  EXPECT_EQ(resumed.weights, whole.weights);
  EXPECT_EQ(metrics_without_times(run), expected);
}

}  // namespace
}  // namespace glassbox
