#pragma once
// The CLI side of Transformer Programs: config schema, training with the annealed
// Gumbel temperature, evaluation of the argmax model, and compilation of a run into
// a Python or C++ program with a token-by-token check against the model.
#include <memory>
#include <optional>
#include <string>

#include "models/transformer_programs/program.h"
#include "trainers/config.h"
#include "trainers/data/sequence_tasks.h"
#include "trainers/metrics/confusion_matrix.h"
#include "trainers/model_registry.h"

namespace glassbox::models {

ConfigSchema transformer_program_schema();

/// The task's data as the config describes it (generated; the same for the same seed).
data::SequenceSplits transformer_program_data(const Config& config);
/// Model options for a config and its task's data.
TransformerProgramOptions transformer_program_options(const Config& config, const data::SequenceDataset& data);

struct SequenceAccuracy {
  double token = 0;     // over scored positions (target != <pad>)
  double sequence = 0;  // every scored position of the example right
  int64_t tokens = 0, sequences = 0;
  double loss = 0;  // the training loss (masked cross-entropy) of the argmax model's logits
  /// The scored positions by target label (rows) and prediction: which answers the model gets wrong.
  std::optional<ConfusionMatrix> confusion;
};
/// Accuracy (and loss) of the argmax model on a data set.
SequenceAccuracy argmax_accuracy(TransformerProgram& model, const data::SequenceDataset& data);

struct VerifyReport {
  int64_t positions = 0, agreeing = 0, examples = 0;
  double agreement() const { return positions ? double(agreeing) / double(positions) : 1.0; }
};
/// Runs the emitted program (`path`, .py with python3 or .cpp compiled with c++) on every
/// example of `data` and compares its labels with the argmax model's, position by position.
VerifyReport verify_program(TransformerProgram& model, const data::SequenceDataset& data, const std::string& path);

void train_transformer_program(const TrainRequest& request);
void eval_transformer_program(const EvalRequest& request);
void export_transformer_program(const ExportRequest& request);
void compile_transformer_program(const CompileRequest& request);
void bench_transformer_program(const BenchRequest& request);

}  // namespace glassbox::models
