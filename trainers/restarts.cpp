#include "trainers/restarts.h"

#include <filesystem>
#include <iomanip>
#include <iostream>

#include "engine/io/atomic_file.h"
#include "trainers/metrics_writer.h"

namespace glassbox::train {

namespace fs = std::filesystem;

std::filesystem::path restart_folder(const RunFolder& run, int64_t restart) {
  return run.root() / ("restart-" + std::to_string(restart));
}

namespace {

// Copies `from` over `to` through a temporary file, so `to` is never half-written.
void copy_file_atomic(const fs::path& from, const fs::path& to) {
  io::write_file_atomic(to.string(), [&](const std::string& temp) {
    fs::copy_file(from, temp, fs::copy_options::overwrite_existing);
  });
}

bool better(const RestartCriterion& criterion, const RestartOutcome& a, const RestartOutcome& b) {
  if (a.score != b.score) return criterion.lower_is_better ? a.score < b.score : a.score > b.score;
  return a.tie_break < b.tie_break;
}

}  // namespace

Config restart_config(const Config& config, int64_t restart) {
  const std::string origin =
      "restart " + std::to_string(restart) + " of " + std::to_string(config.get_int("restarts"));
  Config c = config;
  c.set("seed", std::to_string(config.get_int("seed") + restart), origin);
  c.set("restarts", "1", origin);
  return c;
}

ConfigSchema& add_restart_keys(ConfigSchema& schema, const std::string& kept) {
  return schema
      .add("restarts", ConfigType::integer, "1",
           "independent runs with seeds seed, seed+1, ...; " + kept + " (paper: 5)")
      .at_least(1)
      .add("restart_jobs", ConfigType::integer, "1",
           "restarts trained at once, each in a process of its own (its output in RUN/restart-R.log)")
      .at_least(1);
}

RestartsResult train_with_restarts(const std::string& model_name, const Config& config, const RunFolder& run,
                                   bool resume, const RestartCriterion& criterion, const TrainOneRun& train_one) {
  const int64_t restarts = config.get_int("restarts");
  if (restarts < 1) throw ConfigError(config.origin("restarts") + ": restarts must be >= 1");
  if (restarts == 1) return {train_one(config, run, resume).interrupted, 0};

  const int64_t base_seed = config.get_int("seed");
  int64_t chosen = -1;
  RestartOutcome best;
  Config chosen_config = config;
  nlohmann::json table = nlohmann::json::array();
  for (int64_t r = 0; r < restarts; ++r) {
    const Config c = restart_config(config, r);
    const fs::path root = restart_folder(run, r);
    const bool exists = fs::exists(root / "run.json");
    const RunFolder sub = RunFolder::create(root, exists);
    if (!exists) sub.write_config(model_name, c);
    // An existing restart resumes (from the start if it stopped before its first checkpoint).
    const RestartOutcome outcome = train_one(c, sub, exists);
    if (outcome.interrupted) return {true, r};
    std::cout << "restart " << r << " (seed " << base_seed + r << "): " << criterion.name << " "
              << std::setprecision(6) << outcome.score << "\n";
    nlohmann::json row = outcome.summary;
    row["restart"] = r;
    row["seed"] = base_seed + r;
    row[criterion.name] = outcome.score;
    if (!criterion.tie_break_name.empty()) row[criterion.tie_break_name] = outcome.tie_break;
    table.push_back(row);
    if (chosen < 0 || better(criterion, outcome, best)) {
      chosen = r;
      best = outcome;
      chosen_config = c;
    }
  }
  // The chosen restart becomes the run: its checkpoint, and its configuration (its seed,
  // which also fixes the data split of models that draw one).
  const RunFolder kept = RunFolder::open(restart_folder(run, chosen));
  fs::create_directories(run.checkpoints_dir());
  for (const char* file : {"latest.safetensors", "latest.json"})
    copy_file_atomic(kept.checkpoints_dir() / file, run.checkpoints_dir() / file);
  chosen_config.set("restarts", "1",
                    "restart " + std::to_string(chosen) + " of " + std::to_string(restarts) + ", the best " +
                        criterion.name + " (the others are in restart-*)");
  run.write_config(model_name, chosen_config);
  MetricsWriter(run.metrics_file()).write({{"restarts", table}, {"chosen_restart", chosen}, {"criterion", criterion.name}});
  std::cout << "kept restart " << chosen << " (seed " << base_seed + chosen << ", " << criterion.name << " "
            << std::setprecision(6) << best.score << ")\n";
  return {false, chosen};
}

}  // namespace glassbox::train
