#pragma once
// A run folder, runs/<name>/, holds everything one training run produces:
//   config.cfg        the resolved configuration (re-loadable with --config)
//   run.json          the model name and the configuration as JSON
//   metrics.jsonl     one JSON object per step/epoch
//   checkpoints/      safetensors checkpoints and their JSON sidecars
//   exports/          what a user opens (PNGs, JSON)
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "trainers/config.h"

namespace glassbox {

class RunFolder {
 public:
  /// Creates `root` and its subfolders. An existing run folder that has started training is an error
  /// unless `resume`; one holding only the configuration of a run that failed before its first step
  /// (a bad model option, say) is taken over, so the corrected command can use the same --out.
  static RunFolder create(const std::filesystem::path& root, bool resume);
  /// Opens an existing run folder (one with run.json); errors say what is missing.
  static RunFolder open(const std::filesystem::path& root);
  /// runs/<model>-<UTC date and time>, the default when no --out is given.
  static std::filesystem::path default_path(const std::string& model);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config_file() const { return root_ / "config.cfg"; }
  std::filesystem::path info_file() const { return root_ / "run.json"; }
  std::filesystem::path metrics_file() const { return root_ / "metrics.jsonl"; }
  std::filesystem::path checkpoints_dir() const { return root_ / "checkpoints"; }
  std::filesystem::path exports_dir() const { return root_ / "exports"; }

  /// The checkpoint the run verbs load: "latest" (the default), an epoch kept under
  /// checkpoints/ ("50" or "epoch-0050"), or "best" (best_validated_checkpoint). An error lists
  /// the ones there when it is missing.
  void select_checkpoint(const std::string& which);
  /// Model selection by validation, as a PyTorch user keeps the best epoch: of the epochs with a
  /// kept copy (epoch-NNNN) and a val_accuracy record in metrics.jsonl, the highest (the earliest
  /// on a tie). The test set plays no part. An error says why when no epoch qualifies.
  struct ValidatedCheckpoint {
    int64_t epoch = 0;
    double val_accuracy = 0;
    int64_t candidates = 0;  // kept epochs that had a validation record
  };
  ValidatedCheckpoint best_validated_checkpoint() const;
  /// checkpoints/<selected>.safetensors (checkpoints/latest.safetensors unless selected).
  std::filesystem::path model_checkpoint() const { return checkpoints_dir() / (checkpoint_stem_ + ".safetensors"); }
  /// The file stem of the copy kept at the end of `epoch`: epoch-NNNN.
  static std::string epoch_checkpoint_stem(int64_t epoch);

  /// Records the model and its resolved configuration (config.cfg and run.json).
  void write_config(const std::string& model, const Config& config) const;
  /// Whether training has begun here: metrics, a checkpoint, or a restart's subfolder exist.
  bool started() const;
  /// run.json's contents.
  nlohmann::json info() const;
  /// The model this run trains, from run.json.
  std::string model_name() const;
  /// The run's configuration, re-read from config.cfg against `schema`.
  Config load_config(const ConfigSchema& schema) const;

 private:
  explicit RunFolder(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
  std::string checkpoint_stem_ = "latest";
};

}  // namespace glassbox
