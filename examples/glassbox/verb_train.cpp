// glassbox train MODEL: resolves the configuration, prepares the run folder, and
// hands over to the model's training loop.
#include <iostream>

#include "examples/glassbox/verb_parsing.h"
#include "examples/glassbox/verb_train_restarts.h"
#include "trainers/run_folder.h"
#include "trainers/training_schema.h"

namespace glassbox::cli {

namespace {
// Flags that are shortcuts for config keys of common_training_schema().
const std::vector<std::string> kShortcuts = {"epochs", "seed", "threads", "device", "data-dir"};
}  // namespace

int train_verb(const Args& args) {
  VerbSpec spec("train", "MODEL [--config FILE] [options] [--KEY VALUE ...]",
                "Trains MODEL (see `glassbox models`). Settings come from the model's defaults, then --config,\n"
                "then the command line; the resolved config is saved in the run folder.",
                true);
  // clang-format off
  spec.options.add_options()
      ("config", po::value<std::string>(), "a .cfg file (examples/configs/)")
      ("epochs", po::value<std::string>(), "passes over the training set")
      ("out", po::value<std::string>(), "run folder (default runs/MODEL-DATE-TIME)")
      ("seed", po::value<std::string>(), "seed for initialisation, batch order, augmentation")
      ("threads", po::value<std::string>(), "CPU threads (0: all cores)")
      ("device", po::value<std::string>(), "cpu, cuda or cuda:N")
      ("data-dir", po::value<std::string>(), "folder with the data set's files")
      ("resume", po::bool_switch(), "continue the run in --out from its last checkpoint");
  // clang-format on
  const std::optional<ModelVerb> verb = parse_model_verb(spec, args);
  if (!verb) return 0;
  const ParsedVerb& parsed = verb->parsed;
  const ModelEntry& model = verb->model;
  const std::string& name = model.name;
  const bool resume = parsed.values["resume"].as<bool>();
  if (resume && parsed.values.count("out") == 0)
    throw UsageError("--resume needs --out RUN_FOLDER, the run to continue");
  const std::filesystem::path out = parsed.values.count("out")
                                        ? std::filesystem::path(parsed.values["out"].as<std::string>())
                                        : RunFolder::default_path(name);

  std::string config_file = parsed.values.count("config") ? parsed.values["config"].as<std::string>() : "";
  // A resumed run keeps its saved configuration unless another is given.
  if (resume && config_file.empty()) config_file = (out / "config.cfg").string();
  const Config config = resolve_config(model.schema, config_file, command_line_overrides(parsed, kShortcuts));
  apply_runtime_settings(config);
  if (!model.train) throw UsageError("model '" + name + "' cannot be trained from the CLI");

  // Every value was checked against the schema's types and ranges above, before the folder exists.
  const RunFolder run = RunFolder::create(out, resume);
  run.write_config(name, config);
  std::cerr << "run folder: " << run.root().string() << "\n";
  if (config.schema().find("restart_jobs") && config.get_int("restart_jobs") > 1 && config.get_int("restarts") > 1 &&
      !train_restarts_in_processes(name, config, run)) {
    std::cerr << "interrupted: the restarts wrote their checkpoints; continue with --resume\n";
    return 0;
  }
  model.train({config, run, resume});
  return 0;
}

}  // namespace glassbox::cli
