#pragma once
// The models the CLI can train. A model adds itself with a static
// `ModelRegistrar` in its own .cpp; models/ must then be linked whole
// (CMake's $<LINK_LIBRARY:WHOLE_ARCHIVE,...>) so the linker keeps the registrar.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "trainers/config.h"
#include "trainers/run_folder.h"

namespace glassbox {

struct TrainRequest {
  const Config& config;  // resolved: schema defaults, then --config file, then command-line overrides
  const RunFolder& run;
  bool resume = false;
};

struct EvalRequest {
  const Config& config;  // the run's configuration
  const RunFolder& run;
  std::string split;  // test, val or train
  bool json = false;  // one JSON object on stdout instead of a table
};

/// Out-of-distribution detection: how well the model's uncertainty separates `split` of
/// the run's data set (in-distribution) from the test set of `ood_dataset`.
struct OodEvalRequest {
  const Config& config;
  const RunFolder& run;
  std::string split;         // the in-distribution split: test, val or train
  std::string ood_dataset;   // e.g. fashion-mnist for a model trained on mnist
  std::string ood_data_dir;  // empty: the data set's default location
  bool json = false;
};

struct ExportRequest {
  const Config& config;
  const RunFolder& run;
};

struct ExplainRequest {
  const Config& config;
  const RunFolder& run;
  int64_t index = 0;  // sample index in `split`
  std::string split;
  bool json = false;
};

struct ClusterRequest {
  const Config& config;
  const RunFolder& run;
  std::string input;   // IDX images to assign
  std::string output;  // where to write the assignments as JSON ("" for none)
  bool json = false;   // one JSON object on stdout instead of a table
  /// Keep updating the clusters as the images arrive, batch by batch (an online clustering).
  bool online = false;
  int64_t batch_size = 0;  // images per arriving batch (0: the run's batch_size)
  std::string labels;      // IDX labels of the images, to score the assignments ("" for none)
};

struct CompileRequest {
  const Config& config;
  const RunFolder& run;
  std::string output;  // the program's path: .py (Python) or .cpp (C++)
  bool verify = false;  // run the program on every test example and compare with the model
};

struct BenchRequest {
  const Config& config;
  int64_t steps = 0;  // training steps to time
  bool profile = false;  // also print the time per op kind
};

struct ModelEntry {
  std::string name;       // what `glassbox train NAME` takes
  std::string summary{};  // one line for `glassbox models`
  ConfigSchema schema{};  // every key its config accepts (include common_training_schema())
  std::function<void(const TrainRequest&)> train{};
  std::function<void(const EvalRequest&)> eval{};
  std::function<void(const ExportRequest&)> export_run{};
  std::function<void(const ExplainRequest&)> explain{};
  std::function<void(const BenchRequest&)> bench{};
  std::function<void(const CompileRequest&)> compile{};  // models that are programs
  std::function<void(const ClusterRequest&)> cluster{};  // clustering models: assign new inputs
  std::function<void(const EvalRequest&)> robustness{};  // certified-robustness models: the table
  std::function<void(const OodEvalRequest&)> eval_ood{};  // `glassbox eval RUN --ood-dataset NAME`
};

/// Adds a model; a second model with the same name is a programming error.
void register_model(ModelEntry entry);
/// Every registered model, sorted by name.
std::vector<const ModelEntry*> registered_models();
/// The model called `name`, or nullptr.
const ModelEntry* find_model(const std::string& name);
/// The model called `name`; a UsageError listing what is available otherwise.
const ModelEntry& require_model(const std::string& name);

/// Registers a model during static initialisation: `static ModelRegistrar r{{...}};`.
struct ModelRegistrar {
  explicit ModelRegistrar(ModelEntry entry) { register_model(std::move(entry)); }
};

}  // namespace glassbox
