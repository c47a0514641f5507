#pragma once
// metrics.jsonl: one JSON object per line (per step or per epoch), flushed as it
// is written so that a crashed or interrupted run keeps every line it logged and
// tools can tail the file while training runs.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace glassbox {

class MetricsWriter {
 public:
  /// Opens `path` for appending (a resumed run continues the same file).
  explicit MetricsWriter(const std::filesystem::path& path);
  /// Writes `record` as one line and flushes.
  void write(const nlohmann::json& record);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

/// Every record of a metrics.jsonl file (throws naming the file and line on a malformed one).
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& path);

}  // namespace glassbox
