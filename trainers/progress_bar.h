#pragma once
// A training progress display: batches done of total, the running loss, the rate
// and the time left. On a terminal it redraws one line in place; otherwise (logs,
// CI) it prints a plain line every `log_every` batches and at the end.
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

namespace glassbox {

class ProgressBar {
 public:
  /// `out` is written to; `is_tty` picks in-place redraws over plain lines.
  ProgressBar(std::string label, int64_t total, std::ostream& out, bool is_tty, int64_t log_every = 50);
  /// A bar on stderr that detects whether stderr is a terminal.
  ProgressBar(std::string label, int64_t total);

  /// Records that `done` batches are finished with this loss.
  void update(int64_t done, double loss);
  /// Records progress of work that has no loss (evaluation); the loss field is left out.
  void update(int64_t done);
  /// Ends the line (called by the destructor if not before).
  void finish();
  ~ProgressBar();

  /// "12:05", "1:02:03": what ETA and elapsed fields print.
  static std::string format_duration(double seconds);

 private:
  std::string render() const;
  std::string label_;
  int64_t total_, log_every_;
  std::ostream& out_;
  bool is_tty_, finished_ = false;
  int64_t done_ = 0;
  std::optional<double> loss_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace glassbox
