#pragma once
// The synthetic sequence tasks of "Learning Transformer Programs" (Friedman, Wettig
// & Chen, NeurIPS 2023; tasks from Weiss et al.'s RASP): reverse, hist, double_hist,
// sort, most_freq, dyck1, dyck2, and the in-context-learning induction task. Each
// generator follows the paper's code (princeton-nlp/TransformerPrograms,
// src/utils/data_utils.py): the same vocabularies, lengths, BOS/EOS conventions and
// per-position targets, drawn from our own seeded stream.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace glassbox::data {

inline constexpr const char* kPad = "<pad>";
inline constexpr const char* kBos = "<s>";
inline constexpr const char* kEos = "</s>";
inline constexpr const char* kUnk = "<unk>";

/// One example as strings: input tokens (starting with BOS) and one target per input
/// position (kPad where nothing is predicted, e.g. at BOS and EOS).
struct SequenceExample {
  std::vector<std::string> tokens;
  std::vector<std::string> targets;
};

/// A task's examples encoded as ids, padded to n_ctx with id 0 (<pad>).
struct SequenceDataset {
  std::string name;                 // e.g. "sort/train"
  std::vector<std::string> vocab;   // input ids -> strings; vocab[0] == "<pad>"
  std::vector<std::string> labels;  // target ids -> strings; labels[0] == "<pad>"
  int64_t n_ctx = 0;                // padded length
  bool causal = false;              // attention sees only earlier positions (Dyck, induction)
  Tensor tokens;                    // i64 [N, n_ctx]
  Tensor targets;                   // i64 [N, n_ctx], 0 where nothing is scored

  int64_t size() const { return tokens.defined() ? tokens.size(0) : 0; }
  /// The examples at `indices`, in that order.
  SequenceDataset subset(const std::vector<int64_t>& indices, const std::string& suffix) const;
  /// Example i decoded back to strings, without padding.
  SequenceExample example(int64_t i) const;
};

struct SequenceTaskOptions {
  std::string task = "sort";  // reverse, hist, double_hist, sort, most_freq, dyck1, dyck2, induction
  int64_t vocab_size = 8;     // the paper's --vocab_size (content symbols + specials)
  int64_t max_length = 8;     // n_ctx including BOS (and EOS)
  int64_t dataset_size = 20000;
  uint64_t seed = 0;
};

struct SequenceSplits {
  SequenceDataset train, validation, test;
};

/// The task names `make_sequence_task` knows.
std::vector<std::string> sequence_task_names();

/// Targets of one task for one input (content tokens, without BOS/EOS): the
/// definitions the generators use, exposed so they can be checked by hand.
std::vector<std::string> sequence_task_targets(const std::string& task, const std::vector<std::string>& content);

/// Draws up to dataset_size unique examples (fewer when fewer exist: sort and reverse
/// at length 8 have 19,530 inputs) and splits them 81/9/10 % into train/val/test as the
/// paper's code does (10 % test, then 10 % of the rest for validation).
SequenceSplits make_sequence_task(const SequenceTaskOptions& options);

}  // namespace glassbox::data
