#include "trainers/trainer.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "engine/autograd/grad_mode.h"
#include "engine/io/json_file.h"
#include "engine/io/safetensors.h"
#include "engine/ops/index.h"
#include "engine/ops/random.h"
#include "engine/optim/clip_grad.h"
#include "engine/storage.h"
#include "trainers/data/batch_prefetcher.h"
#include "trainers/metrics_writer.h"
#include "trainers/progress_bar.h"

namespace glassbox::train {

namespace {

std::atomic<bool> interrupt_requested{false};

extern "C" void on_sigint(int) { interrupt_requested = true; }

/// The JSON sidecar written beside a checkpoint's tensors (same stem, .json).
std::filesystem::path sidecar_of(std::filesystem::path checkpoint) { return checkpoint.replace_extension(".json"); }

/// Catches Ctrl-C while alive so the loop can checkpoint and stop between steps.
class InterruptScope {
 public:
  InterruptScope() {
    interrupt_requested = false;
    previous_ = std::signal(SIGINT, on_sigint);
  }
  ~InterruptScope() { std::signal(SIGINT, previous_); }

 private:
  void (*previous_)(int);
};

constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimPrefix = "optim.";

/// The step's loss, then its scalars, brought to the host in one transfer (as doubles).
std::vector<double> step_values(const StepResult& r) {
  NoGradGuard no_grad;
  if (r.scalars.empty()) return {r.loss.item()};
  std::vector<Tensor> parts{r.loss.detach().reshape({}).to(DType::f64)};
  for (const auto& [name, value] : r.scalars) {
    if (!value.defined() || value.numel() != 1)
      throw std::logic_error("step scalar '" + name + "' must be a tensor with one element");
    parts.push_back(value.detach().reshape({}).to(DType::f64).to(r.loss.device()));
  }
  return ops::stack(parts, 0).to_vector<double>();
}

}  // namespace

Trainer::Trainer(nn::Module& model, optim::Optimizer& optimizer, const RunFolder& run, const Config& config,
                 TrainerOptions options)
    : model_(model), optimizer_(optimizer), run_(run), config_(config), options_(std::move(options)) {
  if (options_.epochs < 0) throw std::invalid_argument("epochs must be >= 0");
}

std::vector<Tensor> Trainer::trained_parameters() const {
  std::vector<Tensor> params;
  for (const auto& group : optimizer_.param_groups()) params.insert(params.end(), group.params.begin(), group.params.end());
  return params;
}

std::filesystem::path Trainer::latest_checkpoint(const RunFolder& run) {
  return run.checkpoints_dir() / "latest.safetensors";
}

void Trainer::save_checkpoint(int64_t epoch, int64_t batch, int64_t step, bool keep_copy) const {
  io::TensorMap tensors;
  for (auto& [name, t] : model_.state_dict()) tensors[kModelPrefix + name] = t;
  for (auto& [name, t] : optimizer_.state_dict()) tensors[kOptimPrefix + name] = t;
  const Generator& gen = default_generator();
  nlohmann::json sidecar = {{"model", options_.model_name},
                            {"config", config_.to_json()},
                            {"epoch", epoch},
                            {"batch", batch},
                            {"step", step},
                            {"seed", options_.seed},
                            {"generator", {{"seed", gen.seed()}, {"offset", gen.offset()}}}};
  io::Metadata meta = {{"model", options_.model_name}, {"epoch", std::to_string(epoch)},
                       {"step", std::to_string(step)}};
  std::filesystem::create_directories(run_.checkpoints_dir());
  auto write = [&](const std::string& stem) {
    io::save_safetensors(tensors, (run_.checkpoints_dir() / (stem + ".safetensors")).string(), meta);
    io::write_json_atomic((run_.checkpoints_dir() / (stem + ".json")).string(), sidecar);
  };
  if (keep_copy && batch == 0) write(RunFolder::epoch_checkpoint_stem(epoch));
  // The sidecar is written after the tensors: a latest.json always describes a complete file.
  write("latest");
}

nn::StateDict Trainer::model_state(const RunFolder& run) {
  auto path = run.model_checkpoint();
  if (!std::filesystem::exists(path))
    throw std::runtime_error(run.root().string() + ": no checkpoint found (expected " + path.string() + ")");
  io::TensorMap all = io::load_safetensors(path.string());
  nn::StateDict state;
  const std::string prefix = kModelPrefix;
  for (auto& [name, t] : all)
    if (name.rfind(prefix, 0) == 0) state[name.substr(prefix.size())] = t;
  return state;
}

nlohmann::json Trainer::load_model(nn::Module& model, const RunFolder& run) {
  model.load_state_dict(model_state(run));
  return io::read_json(sidecar_of(run.model_checkpoint()).string());
}

nlohmann::json Trainer::checkpoint_position(const RunFolder& run) {
  const std::filesystem::path path = sidecar_of(run.model_checkpoint());
  const std::string name = path.stem().string();
  const nlohmann::json sidecar = io::read_json(path.string());
  try {
    return {{"name", name}, {"epoch", sidecar.at("epoch").get<int64_t>()}, {"step", sidecar.at("step").get<int64_t>()}};
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": malformed checkpoint sidecar: " + e.what());
  }
}

bool Trainer::restores_checkpoint(const RunFolder& run, bool resume) {
  return resume && std::filesystem::exists(latest_checkpoint(run));
}

Trainer::Position Trainer::restore() const {
  auto path = latest_checkpoint(run_);
  if (!restores_checkpoint(run_, true)) {
    // A crash before the first checkpoint: starting again is what the run would have done.
    std::cerr << "--resume: " << run_.root().string()
              << " has no checkpoint yet (the run stopped before its first); starting from the beginning\n";
    return {};
  }
  io::TensorMap all = io::load_safetensors(path.string());
  nn::StateDict model_state;
  optim::TensorMap optim_state;
  for (auto& [name, t] : all) {
    if (name.rfind(kModelPrefix, 0) == 0)
      model_state[name.substr(std::string(kModelPrefix).size())] = t;
    else if (name.rfind(kOptimPrefix, 0) == 0)
      optim_state[name.substr(std::string(kOptimPrefix).size())] = t;
    else
      throw std::runtime_error(path.string() + ": unexpected tensor '" + name + "' in checkpoint");
  }
  model_.load_state_dict(model_state);
  optimizer_.load_state_dict(optim_state);
  const std::filesystem::path sidecar_path = sidecar_of(path);
  nlohmann::json sidecar = io::read_json(sidecar_path.string());
  try {
    if (sidecar.at("model").get<std::string>() != options_.model_name)
      throw std::runtime_error("the checkpoint is of model '" + sidecar.at("model").get<std::string>() + "'");
    if (sidecar.at("seed").get<uint64_t>() != options_.seed)
      throw std::runtime_error("the checkpoint was trained with seed " + sidecar.at("seed").dump() +
                               "; resume with the same seed");
    default_generator().set_state(sidecar.at("generator").at("seed").get<uint64_t>(),
                                  sidecar.at("generator").at("offset").get<uint64_t>());
    return {sidecar.at("epoch").get<int64_t>(), sidecar.at("batch").get<int64_t>(),
            sidecar.at("step").get<int64_t>()};
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(sidecar_path.string() + ": malformed checkpoint sidecar: " + e.what());
  }
}

TrainSummary Trainer::fit(data::DataLoader& loader, const StepFn& step, const EpochEndFn& on_epoch_end, bool resume) {
  std::optional<data::BatchPrefetcher> prefetcher;
  if (options_.prefetch_batches) prefetcher.emplace(loader);
  auto batch = [&](int64_t epoch, int64_t b) { return prefetcher ? prefetcher->take(epoch, b) : loader.batch(epoch, b); };
  return fit(
      loader.num_batches(), [&](int64_t epoch, int64_t b) { return step(batch(epoch, b).to(options_.device), epoch); },
      on_epoch_end, resume);
}

TrainSummary Trainer::fit(int64_t batches, const IndexedStepFn& step, const EpochEndFn& on_epoch_end, bool resume) {
  const auto start = std::chrono::steady_clock::now();
  Position pos = resume ? restore() : Position{};
  // metrics.jsonl as the run left it at `pos`, so the file reads as one uninterrupted run; a
  // stop mid-epoch leaves that epoch's losses so far, which its mean loss still counts.
  double loss_sum = 0;
  int64_t loss_count = 0;
  rewind_metrics(run_.metrics_file(), pos.step, [&](const nlohmann::json& r) {
    if (r.contains("loss") && r.value("step", int64_t{0}) > pos.step - pos.batch) {
      loss_sum += r["loss"].get<double>();
      ++loss_count;
    }
  });
  MetricsWriter metrics(run_.metrics_file());
  InterruptScope interrupt_scope;
  TrainSummary summary;
  model_.train();

  while (pos.epoch < options_.epochs) {
    std::unique_ptr<ProgressBar> bar;
    if (options_.show_progress)
      bar = std::make_unique<ProgressBar>("epoch " + std::to_string(pos.epoch + 1) + "/" +
                                              std::to_string(options_.epochs),
                                          batches);
    const auto epoch_start = std::chrono::steady_clock::now();
    for (; pos.batch < batches; ++pos.batch) {
      if (interrupt_requested) {
        if (bar) bar->finish();
        save_checkpoint(pos.epoch, pos.batch, pos.step, false);
        std::cerr << "interrupted: checkpoint written at epoch " << pos.epoch << ", batch " << pos.batch
                  << "; continue with --resume\n";
        summary.interrupted = true;
        summary.epochs_done = pos.epoch;
        summary.steps = pos.step;
        summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return summary;
      }
      StepResult r = step(pos.epoch, pos.batch);
      optimizer_.zero_grad();
      r.loss.backward();
      if (options_.max_grad_norm > 0)
        r.metrics["grad_norm"] = optim::clip_grad_norm_(trained_parameters(), options_.max_grad_norm);
      optimizer_.step();
      ++pos.step;
      nlohmann::json record = r.metrics;
      const std::vector<double> values = step_values(r);
      const double loss = values[0];
      for (size_t i = 0; i < r.scalars.size(); ++i) record[r.scalars[i].first] = values[i + 1];
      loss_sum += loss;
      ++loss_count;
      if (bar) bar->update(pos.batch + 1, loss_sum / double(loss_count));
      record["step"] = pos.step;
      record["epoch"] = pos.epoch + double(pos.batch + 1) / double(batches);
      record["loss"] = loss;
      metrics.write(record);
    }
    if (bar) bar->finish();
    ++pos.epoch;
    pos.batch = 0;
    // The batch loop alone (batch preparation, augmentation and steps), before evaluation and checkpoints.
    const double epoch_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    nlohmann::json record = {{"epoch", pos.epoch},
                             {"step", pos.step},
                             {"train_loss", loss_sum / double(std::max<int64_t>(loss_count, 1))},
                             {"epoch_seconds", epoch_seconds}};
    loss_sum = 0;
    loss_count = 0;
    if (on_epoch_end) {
      // An evaluation allocates other shapes (often another dtype or batch) than the training
      // step, whose blocks the caching allocator holds: handing those back before and the
      // evaluation's after makes the peak the larger of the two working sets, not their sum
      // (Transformer Programs on dyck2: 1.6 GB -> see README). The next step re-faults its pages.
      release_cached_memory();
      nlohmann::json extra = on_epoch_end(pos.epoch);
      release_cached_memory();
      model_.train();
      for (auto& [k, v] : extra.items()) record[k] = v;
    }
    metrics.write(record);
    const bool last = pos.epoch == options_.epochs;
    if (last || (options_.checkpoint_every > 0 && pos.epoch % options_.checkpoint_every == 0))
      save_checkpoint(pos.epoch, 0, pos.step, true);
  }
  summary.epochs_done = pos.epoch;
  summary.steps = pos.step;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace glassbox::train
