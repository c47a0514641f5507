#pragma once
// The CLI's verbs. Each takes the arguments after the verb, returns the exit code,
// and throws UsageError (exit code 2) for anything the user should change.
#include <string>
#include <vector>

namespace glassbox::cli {

using Args = std::vector<std::string>;

int train_verb(const Args& args);
int eval_verb(const Args& args);
int export_verb(const Args& args);
int explain_verb(const Args& args);
int compile_verb(const Args& args);
int robustness_verb(const Args& args);
int cluster_verb(const Args& args);
int models_verb(const Args& args);
int bench_verb(const Args& args);

}  // namespace glassbox::cli
