// glassbox bench MODEL: times training steps of a model.
#include "examples/glassbox/verb_parsing.h"

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
  const std::optional<ModelVerb> verb = parse_model_verb(spec, args);
  if (!verb) return 0;
  const ParsedVerb& parsed = verb->parsed;
  const ModelEntry& model = verb->model;
  const int64_t steps = parsed.values["steps"].as<int64_t>();
  if (steps <= 0) throw UsageError("--steps must be positive, got " + std::to_string(steps));
  const Config config =
      resolve_config(model.schema, parsed.values.count("config") ? parsed.values["config"].as<std::string>() : "",
                     command_line_overrides(parsed, {"threads", "device"}));
  apply_runtime_settings(config);
  if (!model.bench) throw UsageError("model '" + model.name + "' does not support `glassbox bench`");
  model.bench({config, steps, parsed.values["profile"].as<bool>()});
  return 0;
}

}  // namespace glassbox::cli
