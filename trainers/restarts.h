#pragma once
// Best of N seeds, the way the papers report their numbers (TELL: the lowest L_clu of 5
// runs; Transformer Programs: the best validation accuracy of 5). Restart R trains with
// seed `seed + R` as a complete run folder of its own, RUN/restart-R, so each can be
// resumed, evaluated or compared on its own. When all have finished, the chosen one's
// latest checkpoint and configuration become RUN's, so `eval`, `export`, `compile` and
// `explain` on RUN see the chosen model, and `train --resume` on RUN has nothing left
// to do. An interrupted selection continues with `--resume`: finished restarts are kept
// (their checkpoints say they are done), the unfinished one resumes.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "trainers/config.h"
#include "trainers/run_folder.h"

namespace glassbox::train {

/// What one finished (or interrupted) training reports to the selection.
struct RestartOutcome {
  bool interrupted = false;  // Ctrl-C: a checkpoint was written; stop and let --resume continue
  double score = 0.0;        // the selection criterion
  nlohmann::json summary = nlohmann::json::object();  // more fields for the restarts table
  double tie_break = 0.0;    // among equal scores the lowest wins (e.g. a validation loss)
};

struct RestartCriterion {
  std::string name;           // the score's key in metrics.jsonl's restarts table
  bool lower_is_better = false;
  std::string tie_break_name;  // the tie-break's key in the table ("" when there is none)
};

/// Trains one run: `config` (its seed set), in `run`, resuming when `resume`.
using TrainOneRun = std::function<RestartOutcome(const Config& config, const RunFolder& run, bool resume)>;

struct RestartsResult {
  bool interrupted = false;
  int64_t chosen = 0;  // the restart kept (0 when there is one run)
};

/// Reads `restarts` from `config` (>= 1; 1 trains in `run` itself) and trains that many
/// runs, keeping the best by `criterion`. Writes {"restarts": [...], "chosen_restart": R}
/// to RUN/metrics.jsonl and says which it kept on stdout.
RestartsResult train_with_restarts(const std::string& model_name, const Config& config, const RunFolder& run,
                                   bool resume, const RestartCriterion& criterion, const TrainOneRun& train_one);

/// RUN/restart-R.
std::filesystem::path restart_folder(const RunFolder& run, int64_t restart);

/// Restart R's configuration: `config` with seed `seed + R` and a single run.
Config restart_config(const Config& config, int64_t restart);

/// Adds `restarts` (`kept` says which run is kept, e.g. "the lowest L_clu is kept") and
/// `restart_jobs` (how many restarts `glassbox train` runs at once, each in a process of
/// its own) to a model's schema.
ConfigSchema& add_restart_keys(ConfigSchema& schema, const std::string& kept);

}  // namespace glassbox::train
