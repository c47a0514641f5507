#pragma once
// `glassbox train ... --restarts N --restart_jobs J`: the N restarts (RUN/restart-R, seed
// seed + R) trained J at a time, each by a child `glassbox train` process of its own, before
// the selection. A restart's run folder is the same as when the restarts are trained one
// after another, so the selection that follows (and any later --resume) finds them finished.
// The children are this program (/proc/self/exe) run with `train` arguments: only the glassbox
// binary calls this.
#include <string>

#include "trainers/config.h"
#include "trainers/run_folder.h"

namespace glassbox::cli {

/// Trains every restart of `config` (model `model`, run `run`) in child processes, at most
/// `restart_jobs` at once; each child's output goes to RUN/restart-R.log. Returns false when
/// interrupted (Ctrl-C: the children write their checkpoints, and --resume continues). A
/// child that fails is an error naming its log.
bool train_restarts_in_processes(const std::string& model, const Config& config, const RunFolder& run);

}  // namespace glassbox::cli
