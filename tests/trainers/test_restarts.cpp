#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"
#include "trainers/metrics_writer.h"
#include "trainers/restarts.h"
#include "trainers/trainer.h"
#include "trainers/training_schema.h"

namespace glassbox {
namespace {

namespace fs = std::filesystem;

Config restart_config(int64_t seed, int64_t restarts) {
  ConfigSchema schema = common_training_schema();
  schema.add("restarts", ConfigType::integer, "1", "runs to choose from");
  Config config(schema);
  config.set("seed", std::to_string(seed), "test");
  config.set("restarts", std::to_string(restarts), "test");
  return config;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A stand-in training: writes a "checkpoint" naming its seed and scores the seed from a table.
struct FakeTraining {
  explicit FakeTraining(std::map<int64_t, double> scores, int64_t interrupt = -1)
      : score_of_seed(std::move(scores)), interrupt_seed(interrupt) {}
  std::map<int64_t, double> score_of_seed;
  std::map<int64_t, double> tie_break_of_seed;  // 0 when absent
  int64_t interrupt_seed = -1;  // this seed is interrupted on its first call
  std::vector<std::pair<int64_t, bool>> calls;  // (seed, resume)

  train::RestartOutcome operator()(const Config& c, const RunFolder& run, bool resume) {
    const int64_t seed = c.get_int("seed");
    calls.emplace_back(seed, resume);
    EXPECT_EQ(c.get_int("restarts"), 1) << "each restart is a single run";
    for (const char* f : {"latest.safetensors", "latest.json"})
      std::ofstream(run.checkpoints_dir() / f) << "seed " << seed;
    if (seed == interrupt_seed) {
      interrupt_seed = -1;
      return {true, 0.0, {}, 0.0};
    }
    const auto tie = tie_break_of_seed.find(seed);
    return {false, score_of_seed.at(seed), {{"note", "seed " + std::to_string(seed)}},
            tie == tie_break_of_seed.end() ? 0.0 : tie->second};
  }
};

train::RestartsResult run_restarts(const Config& config, const RunFolder& run, bool resume, bool lower_is_better,
                                   FakeTraining& fake) {
  return train::train_with_restarts("fake", config, run, resume, {"score", lower_is_better, "tie"},
                                    [&](const Config& c, const RunFolder& r, bool res) { return fake(c, r, res); });
}

TEST(Restarts, KeepsTheLowestScoreAndMakesItTheRunsCheckpointAndConfig) {
  glassbox::testing::TempDir dir;
  const RunFolder run = RunFolder::create(dir / "run", false);
  const Config config = restart_config(10, 3);
  run.write_config("fake", config);
  FakeTraining fake({{10, 0.5}, {11, 0.2}, {12, 0.9}});
  const train::RestartsResult result = run_restarts(config, run, false, /*lower_is_better=*/true, fake);
  EXPECT_FALSE(result.interrupted);
  EXPECT_EQ(result.chosen, 1);
  ASSERT_EQ(fake.calls.size(), 3u);
  for (int64_t r = 0; r < 3; ++r) {
    EXPECT_EQ(fake.calls[size_t(r)], std::make_pair(10 + r, false));
    const RunFolder sub = RunFolder::open(train::restart_folder(run, r));
    EXPECT_EQ(sub.info()["config"]["seed"], 10 + r);
  }
  EXPECT_EQ(read_text(train::Trainer::latest_checkpoint(run)), "seed 11");
  EXPECT_EQ(read_text(run.checkpoints_dir() / "latest.json"), "seed 11");
  // The run's configuration is the chosen restart's: its seed, and nothing left to restart.
  const Config kept = run.load_config(config.schema());
  EXPECT_EQ(kept.get_int("seed"), 11);
  EXPECT_EQ(kept.get_int("restarts"), 1);
  const std::vector<nlohmann::json> metrics = read_metrics(run.metrics_file());
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0]["chosen_restart"], 1);
  ASSERT_EQ(metrics[0]["restarts"].size(), 3u);
  EXPECT_EQ(metrics[0]["restarts"][2]["seed"], 12);
  EXPECT_DOUBLE_EQ(metrics[0]["restarts"][2]["score"].get<double>(), 0.9);
  EXPECT_EQ(metrics[0]["restarts"][2]["note"], "seed 12");
}

TEST(Restarts, KeepsTheHighestScoreWhenHigherIsBetter) {
  glassbox::testing::TempDir dir;
  const RunFolder run = RunFolder::create(dir / "run", false);
  FakeTraining fake({{0, 0.5}, {1, 0.2}, {2, 0.9}});
  EXPECT_EQ(run_restarts(restart_config(0, 3), run, false, /*lower_is_better=*/false, fake).chosen, 2);
  EXPECT_EQ(read_text(train::Trainer::latest_checkpoint(run)), "seed 2");
}

TEST(Restarts, EqualScoresGoToTheLowestTieBreak) {
  // As Transformer Programs' easy tasks: several seeds at 100% validation accuracy, told
  // apart by their validation loss.
  glassbox::testing::TempDir dir;
  const RunFolder run = RunFolder::create(dir / "run", false);
  FakeTraining fake({{0, 1.0}, {1, 0.9}, {2, 1.0}});
  fake.tie_break_of_seed = {{0, 0.5}, {1, 0.1}, {2, 0.2}};
  EXPECT_EQ(run_restarts(restart_config(0, 3), run, false, /*lower_is_better=*/false, fake).chosen, 2);
  const nlohmann::json selection = read_metrics(run.metrics_file()).back();
  EXPECT_DOUBLE_EQ(selection["restarts"][0]["tie"].get<double>(), 0.5);
}

TEST(Restarts, AnInterruptedSelectionResumesTheUnfinishedRestart) {
  glassbox::testing::TempDir dir;
  const RunFolder run = RunFolder::create(dir / "run", false);
  const Config config = restart_config(0, 3);
  FakeTraining fake({{0, 3.0}, {1, 1.0}, {2, 2.0}}, /*interrupt=*/1);
  const train::RestartsResult first = run_restarts(config, run, false, true, fake);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.chosen, 1);
  EXPECT_FALSE(fs::exists(train::Trainer::latest_checkpoint(run))) << "nothing is chosen before all have run";
  EXPECT_FALSE(fs::exists(train::restart_folder(run, 2)));
  const train::RestartsResult second = run_restarts(config, run, true, true, fake);
  EXPECT_FALSE(second.interrupted);
  EXPECT_EQ(second.chosen, 1);
  // Restarts with a checkpoint resume (a finished one has nothing left and just reports).
  const std::vector<std::pair<int64_t, bool>> expected{{0, false}, {1, false}, {0, true}, {1, true}, {2, false}};
  EXPECT_EQ(fake.calls, expected);
}

TEST(Restarts, OneRestartTrainsInTheRunItselfAndZeroIsRejected) {
  glassbox::testing::TempDir dir;
  const RunFolder run = RunFolder::create(dir / "run", false);
  FakeTraining fake({{7, 1.0}});
  EXPECT_EQ(run_restarts(restart_config(7, 1), run, false, true, fake).chosen, 0);
  EXPECT_EQ(read_text(train::Trainer::latest_checkpoint(run)), "seed 7");
  EXPECT_FALSE(fs::exists(train::restart_folder(run, 0)));
  EXPECT_FALSE(fs::exists(run.metrics_file()));
  EXPECT_THROW(run_restarts(restart_config(7, 0), run, false, true, fake), ConfigError);
}

}  // namespace
}  // namespace glassbox
