// glassbox bench MODEL: times training steps of a model.
#include "examples/glassbox/verb_parsing.h"
#include "trainers/model_registry.h"

namespace glassbox::cli {

int bench_verb(const Args& args) {
  VerbSpec spec("bench", "MODEL [--config FILE] [--steps N] [--threads T] [--profile] [--KEY VALUE ...]",
                "Times training steps of MODEL on its configured data and batch size.", true);
  // clang-format off
  spec.options.add_options()
      ("config", po::value<std::string>(), "a .cfg file (examples/configs/)")
      ("steps", po::value<int64_t>()->default_value(20), "training steps to time")
      ("threads", po::value<std::string>(), "CPU threads (0: all cores)")
      ("device", po::value<std::string>(), "cpu, cuda or cuda:N")
      ("profile", po::bool_switch(), "also print the time per op kind (forward and backward) of a step");
  // clang-format on
  spec.hidden.add_options()("model", po::value<std::string>());
  spec.positional.add("model", 1);
  ParsedVerb parsed = parse_verb(spec, args);
  if (parsed.help) {
    print_verb_help(spec);
    return 0;
  }
  if (parsed.values.count("model") == 0)
    throw UsageError("which model? usage: glassbox bench MODEL (see `glassbox models`)");
  const ModelEntry& model = require_model(parsed.values["model"].as<std::string>());
  const int64_t steps = parsed.values["steps"].as<int64_t>();
  if (steps <= 0) throw UsageError("--steps must be positive, got " + std::to_string(steps));
  Args overrides = shortcut_overrides(parsed.values, {"threads", "device"});
  overrides.insert(overrides.end(), parsed.overrides.begin(), parsed.overrides.end());
  const Config config = resolve_config(
      model.schema, parsed.values.count("config") ? parsed.values["config"].as<std::string>() : "", overrides);
  apply_runtime_settings(config);
  if (!model.bench) throw UsageError("model '" + model.name + "' does not support `glassbox bench`");
  model.bench({config, steps, parsed.values["profile"].as<bool>()});
  return 0;
}

}  // namespace glassbox::cli
