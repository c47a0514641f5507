#pragma once
// Command-line parsing shared by the verbs, on Boost.Program_options.
#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

#include "examples/glassbox/verbs.h"
#include "trainers/config.h"
#include "trainers/model_registry.h"

namespace glassbox::cli {

namespace po = boost::program_options;

struct VerbSpec {
  VerbSpec(std::string name, std::string usage, std::string description, bool config_overrides = false)
      : name(std::move(name)),
        usage(std::move(usage)),
        description(std::move(description)),
        config_overrides(config_overrides) {}

  std::string name;                            // "eval"
  std::string usage;                           // "RUN [options]", after "glassbox eval"
  std::string description;                     // what the verb does, for --help
  bool config_overrides;                       // whether unknown `--key value` pairs are config overrides
  po::options_description options{"options"};  // shown by --help
  po::positional_options_description positional;
  po::options_description hidden{"positional arguments"};  // the positionals' names, not shown
};

struct ParsedVerb {
  po::variables_map values;
  Args overrides;  // `--key value` pairs not among the verb's options (only with config_overrides)
  bool help = false;
};

/// Adds --help to the verb's options and parses `args`. Unknown options (unless they are
/// config overrides), missing values and bad values throw UsageError naming the option.
ParsedVerb parse_verb(VerbSpec& spec, const Args& args);

/// Prints the verb's --help text.
void print_verb_help(const VerbSpec& spec);

/// parse_verb with one positional argument, `name` (kept out of --help's option list);
/// nothing, after printing the help, when --help was given.
std::optional<ParsedVerb> parse_verb_with_positional(VerbSpec& spec, const Args& args, const std::string& name);

/// A verb on a model (`glassbox train MODEL`, `glassbox bench MODEL`): its parsed command
/// line and the model it names.
struct ModelVerb {
  ParsedVerb parsed;
  const ModelEntry& model;
};

/// Adds the positional MODEL to `spec`, parses `args` and looks the model up; a missing or
/// unknown model is a UsageError. Nothing after printing --help.
std::optional<ModelVerb> parse_model_verb(VerbSpec& spec, const Args& args);

/// Config overrides for the flags a verb declares as shortcuts for config keys
/// (--epochs N is --epochs N on the config; --data-dir D sets data_dir), in a fixed order.
Args shortcut_overrides(const po::variables_map& values, const std::vector<std::string>& flags);

/// The shortcut flags' overrides followed by the verb's own `--KEY VALUE` pairs (those win).
Args command_line_overrides(const ParsedVerb& parsed, const std::vector<std::string>& flags);

/// Schema defaults, then `config_file` (when not empty), then `overrides`.
Config resolve_config(const ConfigSchema& schema, const std::string& config_file, const Args& overrides);

/// Checks the config's device and threads keys and applies the thread count.
void apply_runtime_settings(const Config& config);

}  // namespace glassbox::cli
