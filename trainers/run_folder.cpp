#include "trainers/run_folder.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <vector>

#include "engine/io/atomic_file.h"
#include "trainers/metrics_writer.h"

namespace glassbox {

RunFolder RunFolder::create(const std::filesystem::path& root, bool resume) {
  RunFolder run(root);
  if (std::filesystem::exists(run.info_file()) && !resume && run.started()) {
    throw UsageError(root.string() +
                     " already holds a run; pass --resume to continue it or --out to pick a new folder");
  }
  if (resume && !std::filesystem::exists(run.info_file())) {
    throw UsageError(root.string() + ": nothing to resume (no run.json); drop --resume to start a new run");
  }
  std::filesystem::create_directories(run.checkpoints_dir());
  std::filesystem::create_directories(run.exports_dir());
  return run;
}

bool RunFolder::started() const {
  namespace fs = std::filesystem;
  if (fs::exists(metrics_file())) return true;
  if (fs::is_directory(checkpoints_dir()) && !fs::is_empty(checkpoints_dir())) return true;
  for (const auto& entry : fs::directory_iterator(root_))
    if (entry.is_directory() && entry.path().filename().string().rfind("restart-", 0) == 0) return true;
  return false;
}

RunFolder RunFolder::open(const std::filesystem::path& root) {
  if (!std::filesystem::is_directory(root)) throw UsageError(root.string() + ": no such run folder");
  RunFolder run(root);
  if (!std::filesystem::exists(run.info_file())) {
    throw UsageError(root.string() + ": not a run folder (no run.json); pass the --out folder of a `glassbox train`");
  }
  return run;
}

std::filesystem::path RunFolder::default_path(const std::string& model) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  return std::filesystem::path("runs") / (model + "-" + stamp);
}

void RunFolder::write_config(const std::string& model, const Config& config) const {
  io::write_bytes_atomic(config_file().string(), "# glassbox run configuration (model " + model + ")\n" + config.to_text());
  nlohmann::json info = {{"model", model}, {"config", config.to_json()}};
  io::write_bytes_atomic(info_file().string(), info.dump(2) + "\n");
}

nlohmann::json RunFolder::info() const {
  std::ifstream in(info_file());
  if (!in) throw std::runtime_error(info_file().string() + ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(info_file().string() + ": not valid JSON (" + e.what() + ")");
  }
}

std::string RunFolder::model_name() const {
  nlohmann::json i = info();
  if (!i.contains("model") || !i["model"].is_string()) {
    throw std::runtime_error(info_file().string() + ": no \"model\" string");
  }
  return i["model"].get<std::string>();
}

std::string RunFolder::epoch_checkpoint_stem(int64_t epoch) {
  char name[32];
  std::snprintf(name, sizeof name, "epoch-%04lld", static_cast<long long>(epoch));
  return name;
}

RunFolder::ValidatedCheckpoint RunFolder::best_validated_checkpoint() const {
  namespace fs = std::filesystem;
  if (!fs::exists(metrics_file()))
    throw UsageError(metrics_file().string() + ": no such file, so no validation to pick by");
  // The last record of each epoch counts (a resumed run's metrics were cut back to its
  // checkpoint, so an epoch is logged once; the map keeps this robust all the same).
  std::map<int64_t, double> val_by_epoch;
  for (const nlohmann::json& record : read_metrics(metrics_file())) {
    const auto epoch = record.find("epoch");
    const auto val = record.find("val_accuracy");
    if (epoch != record.end() && val != record.end() && epoch->is_number_integer() && val->is_number())
      val_by_epoch[epoch->get<int64_t>()] = val->get<double>();
  }
  ValidatedCheckpoint best;
  for (const auto& [epoch, val] : val_by_epoch) {
    if (!fs::exists(checkpoints_dir() / (epoch_checkpoint_stem(epoch) + ".safetensors"))) continue;
    if (++best.candidates == 1 || val > best.val_accuracy) {
      best.epoch = epoch;
      best.val_accuracy = val;
    }
  }
  if (best.candidates == 0) {
    throw UsageError(
        root_.string() + ": --checkpoint best needs an epoch with both a kept checkpoint (epoch-NNNN) and " +
        (val_by_epoch.empty() ? std::string("a val_accuracy record in metrics.jsonl; this run logged none")
                              : std::to_string(val_by_epoch.size()) +
                                    " epochs have val_accuracy records, but none of them a kept checkpoint"));
  }
  return best;
}

void RunFolder::select_checkpoint(const std::string& which) {
  if (which == "best") {
    checkpoint_stem_ = epoch_checkpoint_stem(best_validated_checkpoint().epoch);
    return;
  }
  std::string stem = which;
  if (!which.empty() && which.find_first_not_of("0123456789") == std::string::npos) {
    try {
      stem = epoch_checkpoint_stem(std::stoll(which));
    } catch (const std::out_of_range&) {
      throw UsageError("--checkpoint " + which + ": not an epoch number");
    }
  }
  if (stem.empty() || stem.find('/') != std::string::npos || stem.find("..") != std::string::npos)
    throw UsageError("--checkpoint '" + which + "': expected latest, best, an epoch number or epoch-NNNN");
  const std::filesystem::path path = checkpoints_dir() / (stem + ".safetensors");
  if (!std::filesystem::exists(path)) {
    std::vector<std::string> kept;
    if (std::filesystem::is_directory(checkpoints_dir()))
      for (const auto& entry : std::filesystem::directory_iterator(checkpoints_dir()))
        if (entry.path().extension() == ".safetensors") kept.push_back(entry.path().stem().string());
    std::sort(kept.begin(), kept.end());
    std::string list;
    for (const std::string& k : kept) list += (list.empty() ? "" : ", ") + k;
    throw UsageError(path.string() + ": no such checkpoint; " +
                     (kept.empty() ? std::string("the run has none") : "the run has: " + list));
  }
  checkpoint_stem_ = stem;
}

Config RunFolder::load_config(const ConfigSchema& schema) const { return Config::from_file(config_file(), schema); }

}  // namespace glassbox
