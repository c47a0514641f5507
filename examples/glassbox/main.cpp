// glassbox: train, evaluate, export and explain interpretable models.
// `glassbox VERB --help` documents each verb. Exit codes: 0 success, 1 failure,
// 2 a usage problem (unknown verb, model, option or config key; bad value; missing data).
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "examples/glassbox/verbs.h"
#include "trainers/usage_error.h"

namespace {

struct Verb {
  const char* name;
  int (*run)(const glassbox::cli::Args&);
  const char* summary;
};

const std::vector<Verb>& verbs() {
  using namespace glassbox::cli;
  static const std::vector<Verb> all = {
      {"train", train_verb, "train a model: glassbox train MODEL --config FILE [--epochs N] [--out DIR] ..."},
      {"eval", eval_verb, "evaluate a trained run: accuracy, confusion matrix (--json for one JSON object)"},
      {"export", export_verb, "write a run's exports (prototype images, JSON) into RUN/exports"},
      {"explain", explain_verb, "explain one prediction of a trained run"},
      {"robustness", robustness_verb, "certified robustness table of a trained run (CBC / RBF networks)"},
      {"cluster", cluster_verb, "assign new images to a trained clustering run: glassbox cluster RUN --input IDX"},
      {"compile", compile_verb, "compile a trained Transformer Program to Python or C++: glassbox compile RUN -o p.py"},
      {"models", models_verb, "list the models that can be trained"},
      {"bench", bench_verb, "time training steps of a model"},
  };
  return all;
}

void print_usage(std::ostream& out) {
  out << "usage: glassbox VERB [options]   (glassbox VERB --help for a verb's options)\n\nverbs:\n";
  for (const Verb& v : verbs())
    out << "  " << v.name << std::string(12 - std::string(v.name).size(), ' ') << v.summary << "\n";
}

/// OpenMP threads (ours, oneDNN's, OpenBLAS's) spin at every barrier before they sleep;
/// libgomp's default (300,000 spins) assumes each thread owns a core. When other
/// processes share the cores, a spinning thread burns the time slice its descheduled
/// partner needs: on 2 cores with one busy process, ProtoNet's 2-thread step took 620 ms
/// instead of 48, and with 10,000 spins 164 ms at an unchanged idle speed (OMP_WAIT_POLICY
/// =passive: 108 ms loaded but 15% slower idle). libgomp reads its settings when it loads,
/// before main, so the process starts itself once more with GOMP_SPINCOUNT set, unless
/// the user chose a wait policy or spin count.
void use_short_openmp_spins(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  if (setenv("GOMP_SPINCOUNT", "10000", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: then run with the defaults
}

}  // namespace

int main(int argc, char** argv) {
  use_short_openmp_spins(argv);
  if (argc < 2) {
    print_usage(std::cerr);
    return 2;
  }
  const std::string verb = argv[1];
  if (verb == "--help" || verb == "-h" || verb == "help") {
    print_usage(std::cout);
    return 0;
  }
  const glassbox::cli::Args args(argv + 2, argv + argc);
  for (const Verb& v : verbs()) {
    if (verb != v.name) continue;
    try {
      return v.run(args);
    } catch (const glassbox::UsageError& e) {
      std::cerr << "glassbox " << verb << ": error: " << e.what() << "\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "glassbox " << verb << ": failed: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "glassbox: unknown verb '" << verb << "'\n\n";
  print_usage(std::cerr);
  return 2;
}
