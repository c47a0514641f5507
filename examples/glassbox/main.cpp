// glassbox: train, evaluate, export and explain interpretable models.
// `glassbox VERB --help` documents each verb. Exit codes: 0 success, 1 failure,
// 2 a usage problem (unknown verb, model, option or config key; bad value; missing data).
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

}  // namespace

int main(int argc, char** argv) {
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
