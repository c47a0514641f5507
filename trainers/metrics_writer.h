#pragma once
// metrics.jsonl: one JSON object per line (per step or per epoch), flushed as it
// is written so that a crashed or interrupted run keeps every line it logged and
// tools can tail the file while training runs.
#include <filesystem>
#include <fstream>
#include <functional>
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

/// Cuts metrics.jsonl back to where a run restarts from: after the last record of step `step`
/// (step 0 empties it). A run that crashed, rather than stopping with a checkpoint, logged steps
/// past its last checkpoint that the resumed run logs again, and a finished run that is extended
/// has its closing records after its last step: without the cut, both would be in the file
/// twice or mid-file. A last line without its newline (the process died writing it) is cut too.
/// `on_kept` sees each record kept, in order. The file is truncated in place (one system call),
/// and only when something is cut; a malformed complete line is an error naming file and line.
void rewind_metrics(const std::filesystem::path& path, int64_t step,
                    const std::function<void(const nlohmann::json&)>& on_kept = {});

}  // namespace glassbox
