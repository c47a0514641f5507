#include "trainers/config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace glassbox {
namespace {

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

bool parse_int(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end == s.c_str() + s.size();
}

bool parse_real(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size() && std::isfinite(out);
}

bool parse_bool(const std::string& s, bool& out) {
  if (s == "true" || s == "yes" || s == "on" || s == "1") return out = true, true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return out = false, true;
  return false;
}

bool valid_for(ConfigType type, const std::string& value) {
  int64_t i;
  double d;
  bool b;
  switch (type) {
    case ConfigType::integer:
      return parse_int(value, i);
    case ConfigType::real:
      return parse_real(value, d);
    case ConfigType::boolean:
      return parse_bool(value, b);
    case ConfigType::text:
      return true;
  }
  return false;
}

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// "a, b or c".
std::string choice_list(const std::vector<std::string>& choices) {
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i)
    list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  return list;
}

// What is wrong with `value` (already known to parse as the key's type) under the key's
// constraints: "" when nothing.
std::string violation(const ConfigKey& k, const std::string& value) {
  if (!k.choices.empty()) {
    for (const std::string& c : k.choices)
      if (value == c) return "";
    return "must be " + choice_list(k.choices);
  }
  if (k.type != ConfigType::integer && k.type != ConfigType::real) return "";
  double v = 0;
  parse_real(value, v);
  if (k.min && (k.min_exclusive ? v <= *k.min : v < *k.min))
    return std::string("must be ") + (k.min_exclusive ? "> " : ">= ") + format_number(*k.min);
  if (k.max && v > *k.max) return "must be <= " + format_number(*k.max);
  return "";
}

std::string known_keys(const ConfigSchema& schema) {
  std::string out;
  for (const ConfigKey& k : schema.keys()) out += (out.empty() ? "" : ", ") + k.name;
  return out.empty() ? "none" : out;
}

}  // namespace

const char* config_type_name(ConfigType type) {
  switch (type) {
    case ConfigType::integer:
      return "an integer";
    case ConfigType::real:
      return "a number";
    case ConfigType::boolean:
      return "a boolean (true/false)";
    case ConfigType::text:
      return "a string";
  }
  return "?";
}

std::string describe_keys(const ConfigSchema& schema) {
  std::ostringstream out;
  for (const ConfigKey& k : schema.keys()) {
    static const char* const kinds[] = {"integer", "number", "true or false", "text"};
    std::string allowed = k.choices.empty() ? kinds[int(k.type)] : choice_list(k.choices);
    if (k.min) allowed += std::string(k.min_exclusive ? " > " : " >= ") + format_number(*k.min);
    if (k.max) allowed += std::string(k.min ? " and" : "") + " <= " + format_number(*k.max);
    const std::string setting = k.name + " = " + k.default_value;
    // A help text that already lists the choices does not get them twice.
    const bool listed = !k.choices.empty() && k.help.find(allowed) != std::string::npos;
    out << "  " << setting << std::string(setting.size() < 28 ? 28 - setting.size() : 1, ' ') << k.help
        << (listed ? "" : " (" + allowed + ")") << "\n";
  }
  return out.str();
}

ConfigSchema& ConfigSchema::add(const std::string& name, ConfigType type, const std::string& default_value,
                                const std::string& help) {
  if (find(name) != nullptr) throw std::logic_error("config schema: key '" + name + "' declared twice");
  if (!valid_for(type, default_value)) {
    throw std::logic_error("config schema: default '" + default_value + "' of key '" + name + "' is not " +
                           config_type_name(type));
  }
  keys_.push_back({name, type, default_value, help});
  return *this;
}

ConfigKey& ConfigSchema::last_key(ConfigType expected, const char* constraint) {
  if (keys_.empty()) throw std::logic_error(std::string("config schema: ") + constraint + " before any key");
  ConfigKey& k = keys_.back();
  const bool number = k.type == ConfigType::integer || k.type == ConfigType::real;
  if (expected == ConfigType::text ? k.type != ConfigType::text : !number)
    throw std::logic_error(std::string("config schema: ") + constraint + " does not apply to key '" + k.name + "'");
  return k;
}

namespace {
// A schema whose own default breaks its constraint is a programming error.
ConfigSchema& checked(ConfigSchema& schema, const ConfigKey& k) {
  if (const std::string wrong = violation(k, k.default_value); !wrong.empty())
    throw std::logic_error("config schema: the default of key '" + k.name + "' " + wrong);
  return schema;
}
}  // namespace

ConfigSchema& ConfigSchema::one_of(std::vector<std::string> choices) {
  ConfigKey& k = last_key(ConfigType::text, "one_of");
  k.choices = std::move(choices);
  return checked(*this, k);
}

ConfigSchema& ConfigSchema::at_least(double min) {
  ConfigKey& k = last_key(ConfigType::real, "at_least");
  k.min = min;
  k.min_exclusive = false;
  return checked(*this, k);
}

ConfigSchema& ConfigSchema::above(double min) {
  ConfigKey& k = last_key(ConfigType::real, "above");
  k.min = min;
  k.min_exclusive = true;
  return checked(*this, k);
}

ConfigSchema& ConfigSchema::at_most(double max) {
  ConfigKey& k = last_key(ConfigType::real, "at_most");
  k.max = max;
  return checked(*this, k);
}

ConfigSchema& ConfigSchema::merge(const ConfigSchema& other) {
  for (const ConfigKey& k : other.keys()) {
    add(k.name, k.type, k.default_value, k.help);
    keys_.back() = k;
  }
  return *this;
}

const ConfigKey* ConfigSchema::find(const std::string& name) const {
  for (const ConfigKey& k : keys_)
    if (k.name == name) return &k;
  return nullptr;
}

Config::Config(ConfigSchema schema) : schema_(std::move(schema)) {
  for (const ConfigKey& k : schema_.keys()) values_[k.name] = {k.default_value, "default"};
}

Config Config::from_file(const std::filesystem::path& path, const ConfigSchema& schema) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path.string() + ": cannot open config file");
  std::stringstream text;
  text << in.rdbuf();
  Config config(schema);
  config.load_text(text.str(), path.filename().string());
  return config;
}

void Config::load_text(const std::string& text, const std::string& source) {
  std::istringstream lines(text);
  std::string line;
  std::map<std::string, int> seen_on_line;
  for (int number = 1; std::getline(lines, line); ++number) {
    const std::string where = source + ":" + std::to_string(number);
    // '#' opens a comment at the start of a line or after whitespace, so values may hold '#'.
    for (size_t pos = line.find('#'); pos != std::string::npos; pos = line.find('#', pos + 1)) {
      if (pos == 0 || line[pos - 1] == ' ' || line[pos - 1] == '\t') {
        line.erase(pos);
        break;
      }
    }
    if (trim(line).empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) throw ConfigError(where + ": expected 'key = value', got '" + trim(line) + "'");
    const std::string key = trim(line.substr(0, eq));
    if (key.empty()) throw ConfigError(where + ": missing key before '='");
    if (auto it = seen_on_line.find(key); it != seen_on_line.end()) {
      throw ConfigError(where + ": key '" + key + "' is set twice (first on line " + std::to_string(it->second) + ")");
    }
    seen_on_line[key] = number;
    set(key, trim(line.substr(eq + 1)), where);
  }
}

void Config::set(const std::string& key, const std::string& value, const std::string& origin) {
  const ConfigKey* k = schema_.find(key);
  if (k == nullptr) throw ConfigError(origin + ": unknown key '" + key + "' (known keys: " + known_keys(schema_) + ")");
  if (!valid_for(k->type, value)) {
    throw ConfigError(origin + ": key '" + key + "' expects " + config_type_name(k->type) + ", got '" + value + "'");
  }
  if (const std::string wrong = violation(*k, value); !wrong.empty())
    throw ConfigError(origin + ": " + key + " " + wrong + ", got '" + value + "'");
  values_[key] = {value, origin};
}

void Config::apply_overrides(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      throw ConfigError("command line: expected an option '--key value', got '" + arg + "'");
    }
    std::string key = arg.substr(2);
    std::string value;
    if (const size_t eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.erase(eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw ConfigError("command line: option '" + arg + "' needs a value");
    }
    for (char& c : key)
      if (c == '-') c = '_';
    set(key, value, "command line (--" + key + ")");
  }
}

const ConfigKey& Config::require_key(const std::string& key, ConfigType type) const {
  const ConfigKey* k = schema_.find(key);
  if (k == nullptr) throw std::logic_error("config: no key '" + key + "' in the schema");
  if (k->type != type) {
    throw std::logic_error(std::string("config: key '") + key + "' is " + config_type_name(k->type) + ", read as " +
                           config_type_name(type));
  }
  return *k;
}

int64_t Config::get_int(const std::string& key) const {
  require_key(key, ConfigType::integer);
  int64_t v = 0;
  parse_int(values_.at(key).value, v);
  return v;
}

double Config::get_double(const std::string& key) const {
  require_key(key, ConfigType::real);
  double v = 0;
  parse_real(values_.at(key).value, v);
  return v;
}

bool Config::get_bool(const std::string& key) const {
  require_key(key, ConfigType::boolean);
  bool v = false;
  parse_bool(values_.at(key).value, v);
  return v;
}

std::string Config::get_string(const std::string& key) const {
  require_key(key, ConfigType::text);
  return values_.at(key).value;
}

std::string Config::origin(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("config: no key '" + key + "' in the schema");
  return it->second.origin;
}

nlohmann::json Config::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const ConfigKey& k : schema_.keys()) {
    switch (k.type) {
      case ConfigType::integer:
        out[k.name] = get_int(k.name);
        break;
      case ConfigType::real:
        out[k.name] = get_double(k.name);
        break;
      case ConfigType::boolean:
        out[k.name] = get_bool(k.name);
        break;
      case ConfigType::text:
        out[k.name] = get_string(k.name);
        break;
    }
  }
  return out;
}

std::string Config::to_text() const {
  std::string out;
  for (const ConfigKey& k : schema_.keys()) {
    if (!k.help.empty()) out += "# " + k.help + "\n";
    out += k.name + " = " + values_.at(k.name).value + "\n";
  }
  return out;
}

}  // namespace glassbox
