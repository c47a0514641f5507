#include "examples/glassbox/verb_train_restarts.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <stdexcept>
#include <vector>

#include "engine/io/atomic_file.h"
#include "trainers/restarts.h"
#include "trainers/trainer.h"
#include "trainers/usage_error.h"

namespace glassbox::cli {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t interrupted = 0;
extern "C" void note_interrupt(int) { interrupted = 1; }

struct Job {
  int64_t restart = 0;
  std::vector<std::string> args;  // after the program name
  fs::path log;
};

/// Starts `glassbox ARGS...` (this same binary) with stdout and stderr appended to the log.
/// Everything the child needs is prepared before fork: between fork and exec it calls only
/// functions that are safe there (the parent may have other threads, e.g. OpenMP's).
pid_t spawn(const Job& job) {
  std::vector<char*> argv{const_cast<char*>("glassbox")};
  for (const std::string& a : job.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string log = job.log.string();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("restart " + std::to_string(job.restart) + ": cannot start a process");
  if (pid > 0) return pid;
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  std::signal(SIGINT, SIG_DFL);  // the child's trainer installs its own Ctrl-C handling
  execv("/proc/self/exe", argv.data());
  _exit(127);
}

}  // namespace

bool train_restarts_in_processes(const std::string& model, const Config& config, const RunFolder& run) {
  const int64_t restarts = config.get_int("restarts"), jobs = config.get_int("restart_jobs");
  const int64_t base_seed = config.get_int("seed");
  std::deque<Job> queue;
  for (int64_t r = 0; r < restarts; ++r) {
    const fs::path root = train::restart_folder(run, r);
    Job job{r, {"train", model, "--out", root.string()}, root.string() + ".log"};
    if (fs::exists(root / "run.json")) {
      // Started before: the child resumes it (a finished one has nothing left to train; one
      // that stopped before its first checkpoint starts over).
      job.args.push_back("--resume");
    } else {
      Config c = train::restart_config(config, r);
      c.set("restart_jobs", "1", c.origin("restarts"));
      const fs::path cfg = root.string() + ".cfg";
      io::write_bytes_atomic(cfg.string(), "# " + c.origin("restarts") + " (glassbox train --restart_jobs)\n" +
                                               c.to_text());
      job.args.insert(job.args.end(), {"--config", cfg.string()});
    }
    queue.push_back(std::move(job));
  }

  interrupted = 0;
  auto* previous = std::signal(SIGINT, note_interrupt);  // Ctrl-C reaches the children too
  std::map<pid_t, Job> running;
  std::vector<std::string> failures;
  while (!queue.empty() || !running.empty()) {
    while (!queue.empty() && int64_t(running.size()) < jobs && !interrupted && failures.empty()) {
      Job job = std::move(queue.front());
      queue.pop_front();
      std::cout << "restart " << job.restart << " (seed " << base_seed + job.restart
                << "): training in a process of its own, output in " << job.log.string() << std::endl;
      const pid_t pid = spawn(job);
      running.emplace(pid, std::move(job));
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && !interrupted)
      failures.push_back("restart " + std::to_string(it->second.restart) + " failed (see " + it->second.log.string() +
                         ")");
    running.erase(it);
  }
  std::signal(SIGINT, previous);
  if (!failures.empty()) {
    std::string message;
    for (const std::string& f : failures) message += (message.empty() ? "" : "; ") + f;
    throw std::runtime_error(message);
  }
  return !interrupted;
}

}  // namespace glassbox::cli
