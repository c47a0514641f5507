#pragma once
// What the Python and C++ emitters share: names, and the predicate and MLP tables
// grouped by their result (query values that select the same key value; MLP inputs
// with the same output, the most frequent output being the default branch).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/transformer_programs/program.h"

namespace glassbox::models::emit {

/// A variable's name as a function argument: tokens -> token, attn_0_1_outputs -> attn_0_1_output.
std::string argument_name(const ProgramVariable& v);
std::string head_function(const ProgramHead& h);  // predicate_0_1 / num_predicate_0_1
std::string mlp_function(const ProgramMlp& m);    // mlp_0_1 / num_mlp_0_1

/// The values a variable can take in the program (ids with a label; 0..max for numbers).
std::vector<int64_t> possible_values(const ProgramVariable& v);

struct PredicateGroup {
  int64_t key_value = -1;            // -1: these queries match nothing
  std::vector<int64_t> query_values;
};
/// Query values grouped by the key value they match, in order of first query value.
std::vector<PredicateGroup> predicate_groups(const Program& p, const ProgramHead& h);

struct MlpGroup {
  int64_t output = 0;
  std::vector<std::pair<int64_t, int64_t>> inputs;  // (a, b); b == a when the MLP reads one variable twice
};
struct MlpTable {
  bool single_input = false;  // both reads are the same variable
  int64_t default_output = 0;
  std::vector<MlpGroup> groups;  // every non-default output with its inputs
};
MlpTable mlp_table(const Program& p, const ProgramMlp& m);

/// Input `which` (0 or 1) of an MLP.
const ProgramVariable& mlp_input(const Program& p, const ProgramMlp& m, int which);

/// `s` in double quotes with '"' and '\\' escaped: a string literal in Python and in C++ alike.
std::string quoted(const std::string& s);
/// The literal of one of `v`'s values: the number, the quoted label of a text-valued variable, or the bare label.
std::string literal(const ProgramVariable& v, int64_t value);

/// A double that reads back exactly (17 significant digits).
std::string exact_double(double v);

}  // namespace glassbox::models::emit
