#include "models/transformer_programs/program_model.h"

#include <cmath>
#include <stdexcept>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"

namespace glassbox::models {

namespace {

constexpr double kMasked = -1e30;

Tensor scaled_normal(const Shape& shape, double scale, Generator& gen) { return ops::randn(shape, 0.0, scale, {}, &gen); }

std::string layer_name(const char* prefix, int64_t layer, int64_t index) {
  return std::string(prefix) + "_" + std::to_string(layer) + "_" + std::to_string(index) + "_outputs";
}

}  // namespace

TransformerProgram::TransformerProgram(const TransformerProgramOptions& o, Generator& gen) : options_(o) {
  if (o.k < 2 || o.vocab_size > o.k || o.n_ctx > o.k || o.n_ctx < 3)
    throw std::invalid_argument("transformer_program: need vocab_size <= k, 3 <= n_ctx <= k (got vocab " +
                                std::to_string(o.vocab_size) + ", n_ctx " + std::to_string(o.n_ctx) + ", k " +
                                std::to_string(o.k) + ")");
  if (o.layers < 1 || o.cat_heads < 0 || o.num_heads < 0 || o.cat_mlps < 0 || o.num_mlps < 0 || o.d_mlp < 1 ||
      o.num_classes < 2)
    throw std::invalid_argument("transformer_program: need >= 1 layer, >= 2 classes and non-negative head counts");
  cat_vars_ = {{"tokens", -1}, {"positions", -1}};
  num_vars_ = {{"ones", -1}};
  const double k = double(o.k);
  for (int64_t l = 0; l < o.layers; ++l) {
    const std::string p = "layer" + std::to_string(l) + "_";
    const int64_t m_cat = cat_inputs(l), m_num = num_inputs(l);
    LayerParams lp;
    // Reads: logits over the available variables, randn / sqrt(m) (ConstrainedRead).
    auto reads = [&](const std::string& n, int64_t heads, int64_t m) {
      return register_parameter(p + n, scaled_normal({heads, m}, 1.0 / std::sqrt(double(m)), gen));
    };
    if (o.cat_heads > 0) {
      lp.cat_q = reads("cat_attn_q_read", o.cat_heads, m_cat);
      lp.cat_k = reads("cat_attn_k_read", o.cat_heads, m_cat);
      lp.cat_v = reads("cat_attn_v_read", o.cat_heads, m_cat);
      lp.cat_pred = register_parameter(p + "cat_attn_predicate", scaled_normal({o.cat_heads, o.k, o.k}, 1 / std::sqrt(k), gen));
    }
    if (o.num_heads > 0) {
      lp.num_q = reads("num_attn_q_read", o.num_heads, m_cat);
      lp.num_k = reads("num_attn_k_read", o.num_heads, m_cat);
      lp.num_v = reads("num_attn_v_read", o.num_heads, m_num);
      lp.num_pred = register_parameter(p + "num_attn_predicate", scaled_normal({o.num_heads, o.k, o.k}, 1 / std::sqrt(k), gen));
    }
    auto make_mlp = [&](const std::string& n, int64_t m, int64_t width) {
      LayerParams::Mlp mlp;
      const double d = double(o.d_mlp);
      mlp.read = reads(n + "_read", 2, m);
      mlp.w1 = register_parameter(p + n + "_w1", scaled_normal({2 * width, o.d_mlp}, 1 / std::sqrt(d), gen));
      mlp.b1 = register_parameter(p + n + "_b1", Tensor::zeros({o.d_mlp}));
      mlp.w2 = register_parameter(p + n + "_w2", scaled_normal({o.d_mlp, o.k}, 1 / std::sqrt(k), gen));
      mlp.b2 = register_parameter(p + n + "_b2", Tensor::zeros({o.k}));
      return mlp;
    };
    for (int64_t j = 0; j < o.cat_mlps; ++j)
      lp.cat_mlps.push_back(make_mlp("cat_mlp" + std::to_string(j), m_cat + o.cat_heads, o.k));
    for (int64_t j = 0; j < o.num_mlps; ++j)
      lp.num_mlps.push_back(make_mlp("num_mlp" + std::to_string(j), m_num + o.num_heads, 1));
    layers_.push_back(std::move(lp));

    for (int64_t h = 0; h < o.cat_heads; ++h) cat_vars_.push_back({layer_name("attn", l, h), l});
    for (int64_t j = 0; j < o.cat_mlps; ++j) cat_vars_.push_back({layer_name("mlp", l, j), l});
    for (int64_t j = 0; j < o.num_mlps; ++j) cat_vars_.push_back({layer_name("num_mlp", l, j), l});
    for (int64_t h = 0; h < o.num_heads; ++h) num_vars_.push_back({layer_name("num_attn", l, h), l});
  }
  const int64_t features = int64_t(cat_vars_.size()) * o.k + int64_t(num_vars_.size());
  classifier_ = register_parameter("classifier",
                                   scaled_normal({features, o.num_classes}, 1 / std::sqrt(double(o.num_classes)), gen));
}

int64_t TransformerProgram::cat_inputs(int64_t layer) const {
  return 2 + layer * (options_.cat_heads + options_.cat_mlps + options_.num_mlps);
}
int64_t TransformerProgram::num_inputs(int64_t layer) const { return 1 + layer * options_.num_heads; }

Tensor TransformerProgram::param(const Tensor& p) const { return compute_dtype() == DType::f64 ? p.to(DType::f64) : p; }

Tensor TransformerProgram::choose(const Tensor& logits) const {
  if (mode_ == ChoiceMode::argmax)
    return ops::one_hot_in_range(ops::argmax(logits.detach(), -1), logits.size(-1), logits.dtype());
  if (mode_ == ChoiceMode::softmax) return ops::softmax(ops::mul(logits, 1.0 / tau_), -1);
  return ops::gumbel_softmax(logits, tau_, false, -1);
}

Tensor TransformerProgram::read(const Tensor& vars, const Tensor& read_logits) const {
  // vars [m, B, T, w] (variable-major), choice [H, m] -> [H, B, T, w]: a convex (finally
  // one-hot) mix of variables, one GEMM over every position, [H, m] @ [m, B*T*w].
  Shape out_shape = vars.shape();
  out_shape[0] = read_logits.size(0);
  return ops::matmul(choose(param(read_logits)), vars.reshape({vars.size(0), -1})).view(out_shape);
}

Tensor TransformerProgram::position_bias(int64_t n) {
  // Fixed tie-break of categorical attention (rel_pos_bias = fixed): among matching keys
  // the nearest wins, the left one at equal distance, and the query itself only when
  // nothing else matches. Offset d = key - query.
  std::vector<double> b(size_t(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < n; ++p) {
      const int64_t d = p - i;
      b[size_t(i * n + p)] = d == 0 ? -2.0 : d > 0 ? -double(d - 1) / double(n - 2) : -double(-d - 1) / double(n - 1);
    }
  return Tensor::from_vector(b, {n, n});
}

Tensor TransformerProgram::mlp(const LayerParams::Mlp& p, const Tensor& inputs) const {
  // Linear -> ReLU -> Linear -> log_softmax -> a new categorical value (CatMLP). The first
  // Linear acts on the two inputs side by side, [x0, x1] @ W1 with W1 [2w, d]; it is
  // computed as x0 @ W1[:w] + x1 @ W1[w:], one batched GEMM on the variable-major inputs
  // [2, B, T, w], so neither pass copies them into a [B, T, 2w] layout.
  const int64_t w = inputs.size(-1);
  const Tensor w1 = param(p.w1);
  Tensor halves = ops::matmul(inputs.reshape({2, -1, w}), w1.view({2, w, w1.size(-1)}));  // [2, B*T, d]
  Tensor h = ops::relu(ops::add(ops::sum(halves, {0}), param(p.b1)));
  Tensor out = ops::log_softmax(ops::add(ops::matmul(h, param(p.w2)), param(p.b2)), -1);
  Shape out_shape = inputs.shape();
  out_shape.erase(0);
  out_shape[out_shape.size() - 1] = out.size(-1);
  return choose(out).view(out_shape);  // [B, T, k]
}

ProgramForward TransformerProgram::forward(const Tensor& tokens) const {
  const auto& o = options_;
  if (tokens.dim() != 2 || tokens.size(1) != o.n_ctx || tokens.dtype() != DType::i64)
    throw std::invalid_argument("transformer_program: expected i64 tokens [B, " + std::to_string(o.n_ctx) + "], got " +
                                tokens.shape().str());
  const DType dt = compute_dtype();
  const int64_t B = tokens.size(0), T = o.n_ctx;
  const Tensor is_pad = ops::eq(tokens, 0.0);  // [B, T] bool

  // Embeddings: the token table's +-10 logits (one_hot_embed) through the (Gumbel-)softmax,
  // drawn once per step for the whole vocabulary as the paper's code does (every
  // occurrence of a token shares one sample), then looked up; fixed one-hot positions;
  // and `ones` (0 at padding).
  Tensor table_logits =
      ops::add(ops::mul(ops::one_hot_in_range(Tensor::arange(o.vocab_size, {.dtype = DType::i64, .device = tokens.device()}), o.k, dt), 20.0), -10.0);
  Tensor tok = ops::embedding(choose(table_logits), tokens);
  Tensor pos = ops::one_hot_in_range(Tensor::arange(T, {.dtype = DType::i64, .device = tokens.device()}), o.k, dt).unsqueeze(0).expand({B, T, o.k});
  // The residual stream is held variable-major: categorical variables [m, B, T, k] and
  // numerical ones [n, B, T]. Reading a mix of variables is then one GEMM with no copies
  // (forward and backward), heads work on [H, B, T, k], and new variables append along dim 0.
  Tensor cat = ops::stack({tok, pos}, 0);                                               // [2, B, T, k]
  Tensor num = ops::logical_not(is_pad).to(dt).unsqueeze(0);                           // [1, B, T]

  // Attention masks [1, B, T, T]: padded keys, and later keys when causal.
  Tensor masked = is_pad.unsqueeze(1).unsqueeze(0).expand({1, B, T, T});
  if (o.causal) {
    Tensor later = ops::triu(Tensor::ones({T, T}, {.dtype = dt, .device = tokens.device()}), 1);
    masked = ops::logical_or(masked, ops::gt(later, 0.5));
  }
  const Tensor bias = position_bias(T).to(dt).to(tokens.device());

  auto choose_fn = [this](const Tensor& logits) { return choose(logits); };

  for (int64_t l = 0; l < o.layers; ++l) {
    const LayerParams& lp = layers_[size_t(l)];
    Tensor new_cat, new_num;
    if (o.cat_heads > 0) {
      Tensor att = categorical_attention(read(cat, lp.cat_q), read(cat, lp.cat_k), choose(param(lp.cat_pred)), masked,
                                         bias, o.k, choose_fn);                    // [H, B, T, T]
      new_cat = ops::matmul(att, read(cat, lp.cat_v));                            // [H, B, T, k]
    }
    if (o.num_heads > 0) {
      // Numerical attention: the same predicate, no softmax: a sum (a count with v = ones).
      Tensor v = read(num.unsqueeze(-1), lp.num_v);                                // [H, B, T, 1]
      new_num = numerical_attention(read(cat, lp.num_q), read(cat, lp.num_k), choose(param(lp.num_pred)), masked, v)
                    .squeeze(-1);                                                  // [H, B, T]
    }
    if (new_cat.defined()) cat = ops::concat({cat, new_cat}, 0);
    if (new_num.defined()) num = ops::concat({num, new_num}, 0);
    // MLPs read the stream after this layer's heads, all in parallel.
    std::vector<Tensor> mlp_out;
    for (const auto& m : lp.cat_mlps) mlp_out.push_back(mlp(m, read(cat, m.read)));
    for (const auto& m : lp.num_mlps) mlp_out.push_back(mlp(m, read(num.unsqueeze(-1), m.read)));
    if (!mlp_out.empty()) cat = ops::concat({cat, ops::stack(mlp_out, 0)}, 0);
  }
  ProgramForward out;
  out.cat_vars = cat.permute({1, 2, 0, 3});
  out.num_vars = num.permute({1, 2, 0});
  out.logits = classify(ops::concat({out.cat_vars.flatten(2), out.num_vars}, 2));
  return out;
}

Tensor predicate_scores(const Tensor& q, const Tensor& key, const Tensor& predicate, const Tensor& masked) {
  // S[b,h,i,p] = q_i^T P k_p: with one-hot values, 1 exactly where P maps the query's
  // value to the key's value.
  // q P for every position of a head at once: [H, B*T, k] @ [H, k, k].
  const Shape shape = q.shape();
  Tensor qp = ops::matmul(q.reshape({shape[0], -1, shape[shape.size() - 1]}), predicate).view(shape);
  Tensor s = ops::matmul(qp, key.transpose(-1, -2));
  return ops::masked_fill(s, masked, 0.0);
}

Tensor categorical_attention(const Tensor& q, const Tensor& key, const Tensor& predicate, const Tensor& masked,
                             const Tensor& bias, int64_t k, const std::function<Tensor(const Tensor&)>& choose_keys) {
  Tensor s = predicate_scores(q, key, predicate, masked);
  // Default to BOS when nothing matches: S[i,0] += relu(1 - s_i / (s_i + 1e-10)) (the
  // code's sum-based form of the paper's 1 - max_j S_ij).
  const int64_t T = s.size(-1);
  Tensor total = ops::sum(s, {-1}, true);
  Tensor none = ops::relu(ops::rsub(ops::div(total, ops::add(total, 1e-10)), 1.0));
  Tensor bos_column = ops::one_hot_in_range(Tensor::zeros({1}, {.dtype = DType::i64, .device = s.device()}), T, s.dtype()).view({T});
  s = ops::add(s, ops::mul(none, bos_column));
  Tensor logits = ops::masked_fill(ops::add(ops::log(ops::add(s, 1e-20)), bias), masked, kMasked);
  // Hard attention relaxed at temperature tau * sqrt(k) (attention_temp = sqrt(d_head)).
  return choose_keys(ops::mul(logits, 1.0 / std::sqrt(double(k))));
}

Tensor numerical_attention(const Tensor& q, const Tensor& key, const Tensor& predicate, const Tensor& masked,
                           const Tensor& values) {
  // No softmax and no BOS default: a sum over matching keys (a count when v = ones).
  return ops::matmul(predicate_scores(q, key, predicate, masked), values);
}

Tensor TransformerProgram::classify(const Tensor& features) const {
  Tensor logits = ops::matmul(features, param(classifier_));
  std::vector<uint8_t> mask(size_t(options_.num_classes), 0);
  for (int64_t c : options_.masked_classes)
    if (c >= 0 && c < options_.num_classes) mask[size_t(c)] = 1;
  Tensor class_mask = Tensor::from_vector(mask, {options_.num_classes}).to(DType::boolean).to(logits.device());
  return ops::masked_fill(logits, class_mask, kMasked);
}

Tensor TransformerProgram::mlp_choice(int64_t layer, int64_t j, bool numerical, const Tensor& x) const {
  if (mode_ != ChoiceMode::argmax) throw std::logic_error("transformer_program: mlp_choice needs the argmax mode");
  const LayerParams& lp = layers_.at(size_t(layer));
  NoGradGuard no_grad;
  return ops::argmax(mlp(numerical ? lp.num_mlps.at(size_t(j)) : lp.cat_mlps.at(size_t(j)), x.to(DType::f64)), -1);
}

Tensor TransformerProgram::loss(const Tensor& logits, const Tensor& targets) {
  Tensor logp = ops::log_softmax(logits, -1);
  Tensor picked = ops::gather(logp, -1, targets.unsqueeze(-1)).squeeze(-1);  // [B, T]
  Tensor scored = ops::ne(targets, 0.0).to(logits.dtype());
  Tensor per_sequence = ops::div(ops::sum(ops::mul(picked, scored), {1}),
                                 ops::clamp_min(ops::sum(scored, {1}), 1.0));
  return ops::neg(ops::mean(per_sequence));
}

Tensor TransformerProgram::predict(const Tensor& logits) { return ops::argmax(logits.detach(), -1); }

double gumbel_temperature(int64_t epoch, int64_t batch, int64_t epochs, int64_t batches, double tau_start,
                          double tau_end) {
  if (epochs <= 1) return tau_end;
  auto at_epoch = [&](double e) { return tau_start * std::pow(tau_end / tau_start, e / double(epochs - 1)); };
  if (epoch >= epochs - 1) return tau_end;
  const double within = batches > 1 ? double(batch) / double(batches - 1) : 0.0;
  return at_epoch(double(epoch) + within);
}

}  // namespace glassbox::models
