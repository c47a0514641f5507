#include "trainers/progress_bar.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace glassbox {

ProgressBar::ProgressBar(std::string label, int64_t total, std::ostream& out, bool is_tty, int64_t log_every)
    : label_(std::move(label)),
      total_(total),
      log_every_(log_every > 0 ? log_every : 1),
      out_(out),
      is_tty_(is_tty),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::ProgressBar(std::string label, int64_t total)
    : ProgressBar(std::move(label), total, std::cerr, isatty(fileno(stderr)) != 0) {}

ProgressBar::~ProgressBar() { finish(); }

std::string ProgressBar::format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--:--";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  }
  return buf;
}

std::string ProgressBar::render() const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0;
  const double eta = rate > 0 ? (total_ - done_) / rate : -1;
  constexpr int kWidth = 24;
  const int filled = total_ > 0 ? static_cast<int>(kWidth * done_ / total_) : kWidth;
  char loss[32] = "";
  if (loss_) std::snprintf(loss, sizeof loss, " loss %.4f", *loss_);
  char buf[256];
  // While running, the time left; once done, the time it took.
  const bool done = done_ >= total_;
  std::snprintf(buf, sizeof buf, "%s [%s%s] %lld/%lld%s %.1f it/s %s %s", label_.c_str(),
                std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
                static_cast<long long>(done_), static_cast<long long>(total_), loss, rate, done ? "in" : "ETA",
                format_duration(done ? elapsed : eta).c_str());
  return buf;
}

void ProgressBar::update(int64_t done, double loss) {
  loss_ = loss;
  update(done);
}

void ProgressBar::update(int64_t done) {
  done_ = done;
  if (is_tty_) {
    // Redraw at most ~10 times a second: terminals are slow and training steps can be fast.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100) && done_ < total_) return;
    last_draw_ = now;
    out_ << "\r\033[K" << render() << std::flush;
  } else if (done_ % log_every_ == 0 || done_ == total_) {
    out_ << render() << "\n" << std::flush;
  }
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (is_tty_) out_ << "\r\033[K" << render() << "\n" << std::flush;
}

}  // namespace glassbox
