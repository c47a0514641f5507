#pragma once
// JSON sidecar files (checkpoint metadata, configs, exports).
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace glassbox::io {

/// Writes `value` as indented JSON to `path` atomically (temporary file + rename).
void write_json_atomic(const std::string& path, const nlohmann::json& value, int indent = 2);
/// Parses the JSON file at `path`; errors name the file.
nlohmann::json read_json(const std::string& path);

}  // namespace glassbox::io
