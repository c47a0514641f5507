#pragma once
// The program a trained Transformer Program is (Friedman et al. 2023, section 3.4): its
// argmax choices read out into an intermediate representation that the emitters turn
// into Python or C++ source and that `run_program` executes directly. The IR keeps the
// model's exact semantics: select_closest breaks ties as the argmax attention does
// (nearest matching key, the left one at equal distance, the query itself only when
// nothing else matches, else BOS), numerical-MLP tables cover every value their inputs
// can take, and the classifier's weights are kept in double precision.
#include <cstdint>
#include <string>
#include <vector>

#include "models/transformer_programs/program_model.h"

namespace glassbox::models {

/// A variable of the program. Categorical values are ids 0..k-1 shown through `labels`
/// (token strings for tokens and for heads that copy tokens, integers otherwise);
/// numerical values are integers 0..max_value.
struct ProgramVariable {
  std::string name;
  bool numerical = false;
  int64_t layer = -1;
  bool text_values = false;            // categorical values print as strings (token-like)
  std::vector<std::string> labels;     // categorical: id -> label ("" where the id cannot occur)
  int64_t max_value = 0;               // numerical: the largest value it can take
};

/// One attention head: categorical heads select the closest key whose value the
/// predicate maps the query's value to and copy the value variable there; numerical
/// heads sum the value variable over every matching key.
struct ProgramHead {
  bool numerical = false;
  int64_t layer = 0, index = 0;
  int64_t query = 0, key = 0;      // categorical variable ids
  int64_t value = 0;               // categorical (cat heads) or numerical (num heads) variable id
  std::vector<int64_t> predicate;  // query value -> the one key value it matches
  int64_t output = 0;              // the variable it writes
};

/// One MLP: a lookup table over its two inputs (one when both reads coincide), or, for a
/// numerical MLP whose inputs take too many values for a readable table, its two layers
/// (Linear -> ReLU -> Linear -> argmax) in double precision.
struct ProgramMlp {
  bool numerical = false;
  int64_t layer = 0, index = 0;
  int64_t input0 = 0, input1 = 0;  // variable ids (numerical for numerical MLPs)
  int64_t size0 = 0, size1 = 0;    // values per input (k, or max_value + 1)
  std::vector<int64_t> table;      // [size0 * size1] output value ids, row-major (empty: arithmetic)
  int64_t output = 0;
  // The arithmetic form: w1 [2][hidden], b1 [hidden], w2 [hidden][k], b2 [k], row-major.
  int64_t hidden = 0;
  std::vector<double> w1, b1, w2, b2;
  bool is_table() const { return !table.empty(); }
  /// The output value id for inputs (a, b); an error outside the inputs' ranges.
  int64_t lookup(int64_t a, int64_t b) const;
};

struct Program {
  std::string task;
  std::vector<std::string> vocab, classes;
  int64_t n_ctx = 0, k = 0;
  bool causal = false;
  std::vector<ProgramVariable> cat_vars, num_vars;
  std::vector<ProgramHead> heads;  // in execution order: per layer the categorical, then numerical heads
  std::vector<ProgramMlp> mlps;    // per layer: categorical, then numerical MLPs
  int64_t layers = 0;
  std::vector<std::vector<double>> classifier;  // [m_cat * k + m_num][classes]
  std::vector<int64_t> masked_classes;
};

/// Numerical MLPs with more input pairs than this are kept as arithmetic, not tables: a
/// head that sums another head's counts reaches n_ctx^2 values (n_ctx^3 one layer up:
/// 4,097 at n_ctx 16), far too many for a table anyone would read.
inline constexpr int64_t kMaxMlpTableEntries = int64_t(1) << 16;

/// Reads the program out of a trained model (which is switched to the argmax mode).
Program extract_program(TransformerProgram& model, const std::string& task, const std::vector<std::string>& vocab,
                        const std::vector<std::string>& classes, int64_t max_table_entries = kMaxMlpTableEntries);

/// Runs the program on one input (token ids, starting with BOS, no padding); the
/// predicted class id at every position.
std::vector<int64_t> run_program(const Program& program, const std::vector<int64_t>& tokens);

/// The argmax model's predicted class ids for token ids [N, n_ctx] (0 = pad), row by row.
std::vector<std::vector<int64_t>> model_predictions(TransformerProgram& model, const Tensor& tokens);

}  // namespace glassbox::models
