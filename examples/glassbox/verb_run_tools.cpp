// The verbs that work on a finished run folder: eval, robustness, export, explain,
// cluster, compile. Each opens
// RUN, finds its model in the registry and re-reads its saved configuration.
#include <functional>
#include <iostream>
#include <optional>

#include "examples/glassbox/verb_parsing.h"
#include "kernels/registry.h"
#include "trainers/model_registry.h"
#include "trainers/run_folder.h"

namespace glassbox::cli {
namespace {

// Flags every run verb takes, shortcuts for the config keys of the same names (as in train).
const std::vector<std::string> kRuntimeFlags = {"threads", "device", "data-dir"};

struct OpenedRun {
  RunFolder run;
  const ModelEntry& model;
  Config config;
};

OpenedRun open_run(const ParsedVerb& parsed, const std::string& verb) {
  if (parsed.values.count("run") == 0) throw UsageError("which run? usage: glassbox " + verb + " RUN_FOLDER");
  RunFolder run = RunFolder::open(parsed.values["run"].as<std::string>());
  if (parsed.values.count("checkpoint")) {
    const std::string which = parsed.values["checkpoint"].as<std::string>();
    if (which == "best") {
      // Said on stderr so that --json output stays one object on stdout.
      const RunFolder::ValidatedCheckpoint best = run.best_validated_checkpoint();
      std::cerr << "best by validation: epoch " << best.epoch << " (val_accuracy " << best.val_accuracy
                << ", the highest of " << best.candidates << " kept epochs with a validation record)\n";
      run.select_checkpoint(std::to_string(best.epoch));
    } else {
      run.select_checkpoint(which);
    }
  }
  const ModelEntry& model = require_model(run.model_name());
  Config config = run.load_config(model.schema);
  // --threads, --device and --data-dir replace the saved settings for this command only
  // (the run folder's config.cfg is not rewritten).
  config.apply_overrides(shortcut_overrides(parsed.values, kRuntimeFlags));
  // Checkpoints are device-independent: a run trained on a GPU opens on a machine without one.
  if (parsed.values.count("device") == 0 && config.schema().find("device") != nullptr &&
      Device::parse(config.get_string("device")).is_cuda() && !kernels::cuda_available()) {
    std::cerr << "note: " << run.root().string() << " was trained on " << config.get_string("device")
              << "; no CUDA GPU is visible, so `glassbox " << verb << "` runs on the CPU\n";
    config.set("device", "cpu", "no GPU visible");
  }
  apply_runtime_settings(config);
  return {run, model, config};
}

/// Adds the positional RUN folder and the runtime flags to `spec` and parses `args`;
/// nothing after printing --help.
std::optional<ParsedVerb> parse_run_verb(VerbSpec& spec, const Args& args) {
  // clang-format off
  spec.options.add_options()
      ("threads", po::value<std::string>(), "CPU threads (0: all cores; default: the run's setting)")
      ("device", po::value<std::string>(), "cpu, cuda or cuda:N (default: the run's, or cpu without a GPU)")
      ("data-dir", po::value<std::string>(), "folder with the data set's files (default: the run's)")
      ("checkpoint", po::value<std::string>(),
       "the checkpoint to load: latest (default), an epoch kept in RUN/checkpoints (50 or epoch-0050), or best (the "
       "kept epoch with the highest validation accuracy in metrics.jsonl)");
  // clang-format on
  return parse_verb_with_positional(spec, args, "run");
}

std::string checked_split(const ParsedVerb& parsed) {
  const std::string split = parsed.values["split"].as<std::string>();
  if (split != "test" && split != "val" && split != "train") {
    throw UsageError("--split must be test, val or train, got '" + split + "'");
  }
  return split;
}

template <class Handler>
const Handler& require_handler(const Handler& handler, const ModelEntry& model, const std::string& verb) {
  if (!handler) throw UsageError("model '" + model.name + "' does not support `glassbox " + verb + "`");
  return handler;
}

}  // namespace

/// eval and robustness: RUN [--split S] [--json], handled by the model's `handler`; eval
/// also takes --ood-dataset (uncertainty as an out-of-distribution detector).
int split_verb(const Args& args, const std::string& verb, const std::string& usage, const std::string& description,
               std::function<void(const EvalRequest&)> ModelEntry::*handler, bool ood_options) {
  VerbSpec spec(verb, usage, description);
  // clang-format off
  spec.options.add_options()
      ("split", po::value<std::string>()->default_value("test"), "test, val or train")
      ("json", po::bool_switch(), "print one JSON object (with at least the split)");
  if (ood_options)
    spec.options.add_options()
        ("ood-dataset", po::value<std::string>(), "an out-of-distribution data set, e.g. fashion-mnist")
        ("ood-data-dir", po::value<std::string>()->default_value(""), "its folder (default: its usual location)");
  // clang-format on
  std::optional<ParsedVerb> parsed_or_help = parse_run_verb(spec, args);
  if (!parsed_or_help) return 0;
  ParsedVerb& parsed = *parsed_or_help;
  const std::string split = checked_split(parsed);
  OpenedRun r = open_run(parsed, verb);
  const bool json = parsed.values["json"].as<bool>();
  if (ood_options && parsed.values.count("ood-dataset") != 0) {
    require_handler(r.model.eval_ood, r.model,
                    verb + " --ood-dataset")({r.config, r.run, split, parsed.values["ood-dataset"].as<std::string>(),
                                              parsed.values["ood-data-dir"].as<std::string>(), json});
    return 0;
  }
  require_handler(r.model.*handler, r.model, verb)({r.config, r.run, split, json});
  return 0;
}

int eval_verb(const Args& args) {
  return split_verb(args, "eval", "RUN [--split test|val|train] [--ood-dataset NAME [--ood-data-dir DIR]] [--json]",
                    "Evaluates the trained model of RUN: accuracy, per-class accuracy and the confusion matrix.\n"
                    "With --ood-dataset, measures instead how well the model's uncertainty tells the split\n"
                    "(in-distribution) from NAME's test set (out-of-distribution): AUROC per uncertainty score.",
                    &ModelEntry::eval, true);
}

int robustness_verb(const Args& args) {
  return split_verb(args, "robustness", "RUN [--split test|val|train] [--json]",
                    "Certified robustness of RUN's model: accuracy certified at each radius (and under attack when\n"
                    "the run's config enables it), printed and written to RUN/exports/robustness_SPLIT.md and .json.",
                    &ModelEntry::robustness, false);
}

int export_verb(const Args& args) {
  VerbSpec spec("export", "RUN", "Writes the exports of RUN's trained model into RUN/exports.");
  std::optional<ParsedVerb> parsed_or_help = parse_run_verb(spec, args);
  if (!parsed_or_help) return 0;
  ParsedVerb& parsed = *parsed_or_help;
  OpenedRun r = open_run(parsed, "export");
  require_handler(r.model.export_run, r.model, "export")({r.config, r.run});
  std::cout << "exports written to " << r.run.exports_dir().string() << "\n";
  return 0;
}

int explain_verb(const Args& args) {
  VerbSpec spec("explain", "RUN --index I [--split test|val|train] [--json]",
                "Explains the prediction for one image: what the model compared it with and why it decided.");
  // clang-format off
  spec.options.add_options()
      ("index", po::value<int64_t>(), "the image's index in the split")
      ("split", po::value<std::string>()->default_value("test"), "test, val or train")
      ("json", po::bool_switch(), "print one JSON object");
  // clang-format on
  std::optional<ParsedVerb> parsed_or_help = parse_run_verb(spec, args);
  if (!parsed_or_help) return 0;
  ParsedVerb& parsed = *parsed_or_help;
  if (parsed.values.count("index") == 0) throw UsageError("explain needs --index I (the image to explain)");
  const int64_t index = parsed.values["index"].as<int64_t>();
  if (index < 0) throw UsageError("--index must be >= 0, got " + std::to_string(index));
  const std::string split = checked_split(parsed);
  OpenedRun r = open_run(parsed, "explain");
  require_handler(r.model.explain, r.model,
                  "explain")({r.config, r.run, index, split, parsed.values["json"].as<bool>()});
  return 0;
}

int compile_verb(const Args& args) {
  VerbSpec spec("compile", "RUN -o PROGRAM.py|PROGRAM.cpp [--verify]",
                "Compiles the trained model of RUN (a Transformer Program) into readable Python or C++ code.\n"
                "--verify runs the program on every test example and fails unless it agrees with the model\n"
                "on every position.");
  // clang-format off
  spec.options.add_options()
      ("output,o", po::value<std::string>(), "the program's file: .py (Python 3) or .cpp (C++17)")
      ("verify", po::bool_switch(), "check the program against the argmax model on the test split");
  // clang-format on
  std::optional<ParsedVerb> parsed_or_help = parse_run_verb(spec, args);
  if (!parsed_or_help) return 0;
  ParsedVerb& parsed = *parsed_or_help;
  if (parsed.values.count("output") == 0) throw UsageError("compile needs -o PROGRAM.py or -o PROGRAM.cpp");
  OpenedRun r = open_run(parsed, "compile");
  require_handler(r.model.compile, r.model, "compile")(
      {r.config, r.run, parsed.values["output"].as<std::string>(), parsed.values["verify"].as<bool>()});
  return 0;
}

int cluster_verb(const Args& args) {
  VerbSpec spec("cluster", "RUN --input IMAGES [--labels LABELS] [--online [--batch N]] [--output FILE.json] [--json]",
                "Assigns new images (an IDX image file, raw or .gz) to the clusters of RUN's trained model.\n"
                "With --online, the images arrive in batches and the clusters keep learning from them: each\n"
                "batch is assigned, then the model takes one step on it (RUN itself is not changed).");
  // clang-format off
  spec.options.add_options()
      ("input", po::value<std::string>(), "IDX images ([N, H, W] bytes) to assign")
      ("labels", po::value<std::string>()->default_value(""), "IDX labels of those images: score the assignments")
      ("online", po::bool_switch(), "update the clusters batch by batch as the images arrive")
      ("batch", po::value<int64_t>()->default_value(0), "images per arriving batch with --online (0: the run's batch_size)")
      ("output", po::value<std::string>()->default_value(""), "write every assignment to this JSON file")
      ("json", po::bool_switch(), "print one JSON object instead of a table");
  // clang-format on
  std::optional<ParsedVerb> parsed_or_help = parse_run_verb(spec, args);
  if (!parsed_or_help) return 0;
  ParsedVerb& parsed = *parsed_or_help;
  if (parsed.values.count("input") == 0) throw UsageError("cluster needs --input IMAGES (an IDX image file)");
  const int64_t batch = parsed.values["batch"].as<int64_t>();
  if (batch < 0) throw UsageError("--batch must be >= 0 (0: the run's batch_size), got " + std::to_string(batch));
  OpenedRun r = open_run(parsed, "cluster");
  require_handler(r.model.cluster, r.model,
                  "cluster")({r.config, r.run, parsed.values["input"].as<std::string>(),
                              parsed.values["output"].as<std::string>(), parsed.values["json"].as<bool>(),
                              parsed.values["online"].as<bool>(), batch, parsed.values["labels"].as<std::string>()});
  return 0;
}

}  // namespace glassbox::cli
