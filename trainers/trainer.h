#pragma once
// The training loop every model shares: seeded shuffled batches, one optimiser step
// per batch, a progress bar, metrics.jsonl, evaluation hooks, and checkpoints that
// resume exactly (the batch order and augmentation of epoch e are pure functions of
// (seed, e), and the checkpoint stores the model, the optimiser state, the random
// generator and the position in the epoch). Ctrl-C writes a checkpoint and stops.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "trainers/config.h"
#include "trainers/data/data_loader.h"
#include "trainers/run_folder.h"

namespace glassbox::train {

struct TrainerOptions {
  std::string model_name;
  int64_t epochs = 1;
  uint64_t seed = 0;              // the run's seed (a resumed run must use the same)
  int64_t checkpoint_every = 10;  // epochs; a checkpoint is also written at the end
  bool show_progress = true;
  Device device = Device::cpu();  // where the step runs: the loader's batches are moved there
  // > 0: the gradients' global norm is clipped to this before each step (as
  // torch.nn.utils.clip_grad_norm_), and the norm before clipping is logged as grad_norm.
  double max_grad_norm = 0;
  // Prepare the next batch of a DataLoader on a host thread while the step runs (on by default
  // on a GPU, where the step leaves the host free; on the CPU the two would share the cores).
  bool prefetch_batches = false;
};

/// What one step reports: the loss to minimise and what to log with it.
struct StepResult {
  Tensor loss;
  nlohmann::json metrics = nlohmann::json::object();  // host values (e.g. the temperature)
  /// Values still on the step's device (loss terms as 0-d tensors, detached): the trainer reads
  /// them with the loss, in one transfer after the optimiser step, so that on a GPU the step
  /// never stops to wait for a number it only logs.
  std::vector<std::pair<std::string, Tensor>> scalars = {};
};

/// Computes the loss of a batch of epoch `epoch` (0-based).
using StepFn = std::function<StepResult(const data::Batch& batch, int64_t epoch)>;
/// Computes the loss of batch `batch` of epoch `epoch`, fetching the batch itself: for
/// data that is not an image set (token sequences). Batches must be pure functions of
/// (epoch, batch) for exact resumption.
using IndexedStepFn = std::function<StepResult(int64_t epoch, int64_t batch)>;
/// Evaluates after an epoch (1-based count of finished epochs); returns metrics to log.
using EpochEndFn = std::function<nlohmann::json(int64_t epochs_done)>;

struct TrainSummary {
  int64_t epochs_done = 0;
  int64_t steps = 0;
  bool interrupted = false;
  double seconds = 0;
};

class Trainer {
 public:
  Trainer(nn::Module& model, optim::Optimizer& optimizer, const RunFolder& run, const Config& config,
          TrainerOptions options);

  /// Trains on the loader's batches until options.epochs epochs are done. With `resume`,
  /// continues from the run's latest checkpoint (from the start if the run stopped before its
  /// first), after cutting metrics.jsonl back to that checkpoint's step (rewind_metrics).
  TrainSummary fit(data::DataLoader& loader, const StepFn& step, const EpochEndFn& on_epoch_end, bool resume);
  /// The same loop over `batches_per_epoch` batches that `step` fetches itself.
  TrainSummary fit(int64_t batches_per_epoch, const IndexedStepFn& step, const EpochEndFn& on_epoch_end,
                   bool resume);

  /// Writes checkpoints/latest.safetensors (+ .json sidecar) for the given position;
  /// at an epoch end (batch == 0) with keep_copy it also keeps epoch-NNNN copies.
  void save_checkpoint(int64_t epoch, int64_t batch, int64_t step, bool keep_copy) const;

  /// Whether fit(..., resume) will restore a checkpoint of `run` (with `resume`, a run that stopped
  /// before its first checkpoint starts over): what a model's set-up before training must ask
  /// instead of `resume` itself.
  static bool restores_checkpoint(const RunFolder& run, bool resume);

  /// Path of the latest checkpoint of a run folder.
  static std::filesystem::path latest_checkpoint(const RunFolder& run);
  /// Loads the model part of the run's selected checkpoint (RunFolder::select_checkpoint;
  /// the latest by default) into `model`, for eval/export; returns its sidecar.
  static nlohmann::json load_model(nn::Module& model, const RunFolder& run);
  /// Which checkpoint the run verbs load, for their --json output: {"name": "epoch-0050" or
  /// "latest", "epoch": epochs done, "step": steps done}, from its sidecar.
  static nlohmann::json checkpoint_position(const RunFolder& run);
  /// The model tensors of the run's selected checkpoint, by parameter name (to start another
  /// model from part of them).
  static nn::StateDict model_state(const RunFolder& run);

 private:
  /// Every parameter the optimiser updates (what gradient clipping covers).
  std::vector<Tensor> trained_parameters() const;
  struct Position {
    int64_t epoch = 0, batch = 0, step = 0;
  };
  /// The position of the latest checkpoint, with the model, optimiser and generator restored
  /// from it; the start when the run stopped before its first checkpoint (nothing to restore).
  Position restore() const;

  nn::Module& model_;
  optim::Optimizer& optimizer_;
  const RunFolder& run_;
  const Config& config_;
  TrainerOptions options_;
};

}  // namespace glassbox::train
