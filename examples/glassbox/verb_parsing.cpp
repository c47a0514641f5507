#include "examples/glassbox/verb_parsing.h"

#include <iostream>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/types.h"
#include "trainers/training_schema.h"
#include "trainers/usage_error.h"

namespace glassbox::cli {

ParsedVerb parse_verb(VerbSpec& spec, const Args& args) {
  spec.options.add_options()("help,h", "show this help");
  po::options_description all;
  all.add(spec.options).add(spec.hidden);
  ParsedVerb out;
  Args known;
  // Config overrides are peeled off first: Program_options cannot tell an unknown
  // option's value from a positional argument.
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool long_option = a.size() > 2 && a.compare(0, 2, "--") == 0;
    const std::string name = long_option ? a.substr(2, a.find('=') - 2) : "";
    if (spec.config_overrides && long_option && all.find_nothrow(name, false) == nullptr) {
      out.overrides.push_back(a);
      if (a.find('=') == std::string::npos && i + 1 < args.size()) out.overrides.push_back(args[++i]);
      continue;
    }
    known.push_back(a);
  }
  try {
    po::store(po::command_line_parser(known).options(all).positional(spec.positional).run(), out.values);
    out.help = out.values.count("help") > 0;
    if (!out.help) po::notify(out.values);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see `glassbox " + spec.name + " --help`)");
  }
  return out;
}

void print_verb_help(const VerbSpec& spec) {
  std::cout << "usage: glassbox " << spec.name << " " << spec.usage << "\n\n"
            << spec.description << "\n\n"
            << spec.options;
  if (spec.config_overrides) {
    std::cout << "  --KEY VALUE           set any key of the model's config (`glassbox " << spec.name
              << " MODEL --help` lists them)\n";
  }
}

std::optional<ParsedVerb> parse_verb_with_positional(VerbSpec& spec, const Args& args, const std::string& name) {
  spec.hidden.add_options()(name.c_str(), po::value<std::string>());
  spec.positional.add(name.c_str(), 1);
  ParsedVerb parsed = parse_verb(spec, args);
  if (parsed.help) {
    print_verb_help(spec);
    return std::nullopt;
  }
  return parsed;
}

std::optional<ModelVerb> parse_model_verb(VerbSpec& spec, const Args& args) {
  spec.hidden.add_options()("model", po::value<std::string>());
  spec.positional.add("model", 1);
  ParsedVerb parsed = parse_verb(spec, args);
  const bool named = parsed.values.count("model") > 0;
  if (parsed.help) {
    print_verb_help(spec);
    // `glassbox train MODEL --help` also lists what MODEL's configuration holds.
    if (named && spec.config_overrides) {
      const ModelEntry& model = require_model(parsed.values["model"].as<std::string>());
      std::cout << "\n"
                << model.name << "'s keys (--KEY VALUE here, KEY = VALUE in a --config file; defaults shown):\n"
                << describe_keys(model.schema);
    }
    return std::nullopt;
  }
  if (!named) throw UsageError("which model? usage: glassbox " + spec.name + " MODEL (see `glassbox models`)");
  const ModelEntry& model = require_model(parsed.values["model"].as<std::string>());
  return ModelVerb{std::move(parsed), model};
}

Args shortcut_overrides(const po::variables_map& values, const std::vector<std::string>& flags) {
  Args out;
  for (const std::string& flag : flags) {
    if (values.count(flag) == 0) continue;
    out.push_back("--" + flag);
    out.push_back(values[flag].as<std::string>());
  }
  return out;
}

Args command_line_overrides(const ParsedVerb& parsed, const std::vector<std::string>& flags) {
  Args out = shortcut_overrides(parsed.values, flags);
  out.insert(out.end(), parsed.overrides.begin(), parsed.overrides.end());
  return out;
}

Config resolve_config(const ConfigSchema& schema, const std::string& config_file, const Args& overrides) {
  Config config = config_file.empty() ? Config(schema) : Config::from_file(config_file, schema);
  config.apply_overrides(overrides);
  return config;
}

void apply_runtime_settings(const Config& config) {
  training_device(config);  // rejects a device this build cannot see, naming the key
  if (config.schema().find("threads") != nullptr) {
    const int64_t threads = config.get_int("threads");  // >= 0 by the schema
    if (threads > 0) kernels::set_cpu_threads(static_cast<int>(threads));
  }
}

}  // namespace glassbox::cli
