#pragma once
// Run configurations: .cfg files of `key = value` lines (# starts a comment),
// checked against the schema a model declares, with command-line overrides
// (`--key value` or `--key=value`) applied on top. Values are type-checked when
// set, so a bad file or flag fails before training starts, naming where it came from.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "trainers/usage_error.h"

namespace glassbox {

/// A configuration problem a user can fix (bad file, key or value); the CLI maps it to exit code 2.
class ConfigError : public UsageError {
 public:
  using UsageError::UsageError;
};

enum class ConfigType { integer, real, boolean, text };
const char* config_type_name(ConfigType type);

struct ConfigKey {
  std::string name;
  ConfigType type = ConfigType::text;
  std::string default_value;
  std::string help;
  std::vector<std::string> choices{};  // a text key's allowed values (empty: any text)
  std::optional<double> min{}, max{};  // a number's allowed range
  bool min_exclusive = false;          // the range starts just above min (a learning rate, a scale)
};

/// The keys a configuration may hold, with their types and defaults.
class ConfigSchema {
 public:
  /// Declares a key; its default must parse as `type`. Returns *this for chaining.
  ConfigSchema& add(const std::string& name, ConfigType type, const std::string& default_value,
                    const std::string& help);
  /// Constraints on the key added last, checked whenever a value is set, so that a bad value in
  /// a file or on the command line is rejected, naming the key and where the value came from,
  /// before a run folder is made or a model is built. The default must satisfy them.
  ConfigSchema& one_of(std::vector<std::string> choices);
  ConfigSchema& at_least(double min);
  ConfigSchema& above(double min);
  ConfigSchema& at_most(double max);
  /// Adds every key of `other` (an error if a name is declared twice).
  ConfigSchema& merge(const ConfigSchema& other);
  const ConfigKey* find(const std::string& name) const;
  const std::vector<ConfigKey>& keys() const { return keys_; }

 private:
  ConfigKey& last_key(ConfigType expected, const char* constraint);
  std::vector<ConfigKey> keys_;
};

/// One line per key, for --help: "  name = default   what it is (its type and allowed values)".
std::string describe_keys(const ConfigSchema& schema);

class Config {
 public:
  /// Every key at its default.
  explicit Config(ConfigSchema schema);
  /// Defaults, then the file's values.
  static Config from_file(const std::filesystem::path& path, const ConfigSchema& schema);

  /// Applies `key = value` lines; `source` names the text in errors (usually the file name).
  void load_text(const std::string& text, const std::string& source);
  /// Sets one key, checking it exists and that the value parses; `origin` says where it came from.
  void set(const std::string& key, const std::string& value, const std::string& origin);
  /// Applies command-line overrides: `--key value` or `--key=value`; dashes in keys read as underscores.
  void apply_overrides(const std::vector<std::string>& args);

  int64_t get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  /// Where the current value of `key` came from: "default", "file.cfg:7", "command line (--key)".
  std::string origin(const std::string& key) const;

  const ConfigSchema& schema() const { return schema_; }
  /// Every key with its typed value.
  nlohmann::json to_json() const;
  /// The resolved configuration as .cfg text that from_file reads back.
  std::string to_text() const;

 private:
  struct Entry {
    std::string value;
    std::string origin;
  };
  const ConfigKey& require_key(const std::string& key, ConfigType type) const;
  ConfigSchema schema_;
  std::map<std::string, Entry> values_;
};

}  // namespace glassbox
