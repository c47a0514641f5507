#pragma once
// Transformer Programs (Friedman, Wettig & Chen, "Learning Transformer Programs",
// NeurIPS 2023; code princeton-nlp/TransformerPrograms, src/models/programs.py).
//
// A transformer whose residual stream is a list of named variables: categorical ones
// (one-hot blocks of width k) and numerical ones (scalars). Every attention head and
// MLP reads variables it chooses and writes one NEW variable; nothing is summed into
// the stream and there is no LayerNorm. Every discrete choice (which variable a head
// reads, the predicate of an attention head, the attended key, an MLP's output value)
// is a Gumbel-softmax relaxation during training and an argmax afterwards, which makes
// the discrete model a program (models/transformer_programs/program.h extracts it).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "engine/ops/random.h"
#include "engine/tensor.h"

namespace glassbox::models {

struct TransformerProgramOptions {
  int64_t vocab_size = 8;   // input token ids (<= k); id 0 is <pad>
  int64_t num_classes = 8;  // target ids; id 0 is <pad>
  int64_t n_ctx = 8;        // padded sequence length (<= k: positions are categorical)
  int64_t k = 8;            // cardinality of every categorical variable (the paper's d_var)
  int64_t layers = 2;
  int64_t cat_heads = 2;  // categorical attention heads per layer
  int64_t num_heads = 2;  // numerical attention heads per layer
  int64_t cat_mlps = 1;   // categorical MLPs per layer
  int64_t num_mlps = 1;   // numerical MLPs per layer
  int64_t d_mlp = 64;     // hidden width of every MLP
  bool causal = false;    // keys after the query are masked (Dyck, induction)
  std::vector<int64_t> masked_classes{0};  // classes never predicted (<pad>, <unk>)
};

/// What a variable is, for naming and for the program's value types.
struct VariableInfo {
  std::string name;    // tokens, positions, ones, attn_0_1_outputs, mlp_1_0_outputs, ...
  int64_t layer = -1;  // -1 for the embeddings
};

/// How every relaxed choice is taken: Gumbel-softmax samples at temperature tau
/// (training), the argmax, ties to the first index (the discrete model), or the softmax
/// at temperature tau without noise (the paper's code's sample_fn = softmax: a
/// deterministic relaxation, which the tests compare with that code's numbers).
enum class ChoiceMode { gumbel, argmax, softmax };

struct ProgramForward {
  Tensor logits;     // [B, T, C]; masked classes at -1e30
  Tensor cat_vars;   // [B, T, m_cat, k] every categorical variable's (relaxed) one-hot
  Tensor num_vars;   // [B, T, m_num] every numerical variable's value
};

class TransformerProgram : public nn::Module {
 public:
  TransformerProgram(const TransformerProgramOptions& options, Generator& init);
  std::string name() const override { return "TransformerProgram"; }

  const TransformerProgramOptions& options() const { return options_; }
  const std::vector<VariableInfo>& cat_variables() const { return cat_vars_; }
  const std::vector<VariableInfo>& num_variables() const { return num_vars_; }

  /// The Gumbel temperature (annealed by the trainer) and the choice mode.
  void set_temperature(double tau) { tau_ = tau; }
  double temperature() const { return tau_; }
  void set_mode(ChoiceMode mode) { mode_ = mode; }
  ChoiceMode mode() const { return mode_; }
  /// Runs the relaxed model in double precision too (for gradient checks).
  void set_double_precision(bool on) { double_precision_ = on; }
  /// f64 in the argmax mode or when asked for, f32 otherwise.
  DType compute_dtype() const { return mode_ == ChoiceMode::argmax || double_precision_ ? DType::f64 : DType::f32; }

  /// tokens i64 [B, T] (T = n_ctx, 0 = <pad>). In argmax mode everything runs in f64 so
  /// that the extracted program (which evaluates the same weights in double precision)
  /// agrees with the model exactly.
  ProgramForward forward(const Tensor& tokens) const;

  /// Per-token cross-entropy over scored positions (target != 0), averaged per sequence
  /// and then over the batch (the paper's loss_agg = per_token).
  static Tensor loss(const Tensor& logits, const Tensor& targets);
  /// Predicted class ids [B, T] (argmax of the logits).
  static Tensor predict(const Tensor& logits);

  // The learned choices, read by the program extractor (argmax over the last dim).
  struct LayerParams {
    Parameter cat_q, cat_k, cat_v, cat_pred;  // [Hc, m], [Hc, m], [Hc, m], [Hc, k, k]
    Parameter num_q, num_k, num_v, num_pred;  // [Hn, m], [Hn, m], [Hn, n], [Hn, k, k]
    struct Mlp {
      Parameter read, w1, b1, w2, b2;  // [2, m], [2w, d], [d], [d, k], [k]
    };
    std::vector<Mlp> cat_mlps, num_mlps;
  };
  const std::vector<LayerParams>& layer_params() const { return layers_; }
  const Parameter& classifier() const { return classifier_; }  // [m_cat*k + m_num, C]

  /// Categorical variables at the input of layer l (before its heads), and numerical ones.
  int64_t cat_inputs(int64_t layer) const;
  int64_t num_inputs(int64_t layer) const;

  /// MLP `j` of `layer` (numerical when `numerical`) on explicit inputs x [2, N, k] (the two
  /// one-hots) or [2, N, 1] (the two values): the output value ids [N]. The same arithmetic
  /// as the argmax forward, so the program's lookup tables are exactly the model's.
  Tensor mlp_choice(int64_t layer, int64_t j, bool numerical, const Tensor& x) const;
  /// The discrete classifier's logits for features [N, D] in f64 (masked classes -1e30).
  Tensor classify(const Tensor& features) const;

  /// The fixed relative-position bias [T, T] of categorical attention (see the .cpp).
  static Tensor position_bias(int64_t n_ctx);

 private:
  Tensor choose(const Tensor& logits) const;  // along the last dim
  Tensor param(const Tensor& p) const;  // the parameter in the forward's dtype
  Tensor read(const Tensor& vars, const Tensor& read_logits) const;
  Tensor mlp(const LayerParams::Mlp& p, const Tensor& inputs) const;  // inputs [2, B, T, w]

  TransformerProgramOptions options_;
  std::vector<VariableInfo> cat_vars_, num_vars_;
  std::vector<LayerParams> layers_;
  Parameter classifier_;
  double tau_ = 3.0;
  ChoiceMode mode_ = ChoiceMode::gumbel;
  bool double_precision_ = false;
};

/// S [H, B, T, T] = q_i^T P k_p for relaxed one-hot queries and keys q, key [H, B, T, k]
/// and a chosen predicate P [H, k, k] (rows: query value -> key value); 0 where masked
/// (bool [1, B, T, T], broadcast to S: padded keys, later keys when causal).
Tensor predicate_scores(const Tensor& q, const Tensor& key, const Tensor& predicate, const Tensor& masked);

/// Categorical attention weights [H, B, T, T] (paper section 3.2): the predicate's
/// scores, BOS when nothing matches, log + the fixed position bias [T, T], masked, and
/// then `choose_keys` over the keys (Gumbel-softmax at tau * sqrt(k), or the argmax).
Tensor categorical_attention(const Tensor& q, const Tensor& key, const Tensor& predicate, const Tensor& masked,
                             const Tensor& bias, int64_t k, const std::function<Tensor(const Tensor&)>& choose_keys);

/// Numerical attention [H, B, T, 1]: the sum of values [H, B, T, 1] over matching keys.
Tensor numerical_attention(const Tensor& q, const Tensor& key, const Tensor& predicate, const Tensor& masked,
                           const Tensor& values);

/// The Gumbel temperature at step `batch` of epoch `epoch`: geometric from tau_start to
/// tau_end over the epochs, and geometric within each epoch between the two epochs'
/// values, so it falls at every step; the last epoch stays at tau_end (the paper's
/// smooth_temps schedule).
double gumbel_temperature(int64_t epoch, int64_t batch, int64_t epochs, int64_t batches, double tau_start = 3.0,
                          double tau_end = 0.01);

}  // namespace glassbox::models
