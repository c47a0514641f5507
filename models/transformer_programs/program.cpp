#include "models/transformer_programs/program.h"

#include <algorithm>
#include <stdexcept>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"

namespace glassbox::models {

namespace {


std::vector<int64_t> row_argmax(const Tensor& logits) {
  return ops::argmax(logits.detach().to(DType::f64), -1).contiguous().to_vector<int64_t>();
}

int64_t argmax_index(const Tensor& logits_row) { return row_argmax(logits_row.unsqueeze(0))[0]; }

// Bias of categorical attention for query i and key j; the same doubles the model adds.
double attention_bias(int64_t i, int64_t j, int64_t n) {
  const int64_t d = j - i;
  return d == 0 ? -2.0 : d > 0 ? -double(d - 1) / double(n - 2) : -double(-d - 1) / double(n - 1);
}

}  // namespace

int64_t ProgramMlp::lookup(int64_t a, int64_t b) const {
  if (a < 0 || a >= size0 || b < 0 || b >= size1)
    throw std::out_of_range("program: mlp_" + std::to_string(layer) + "_" + std::to_string(index) + " has no entry for (" +
                            std::to_string(a) + ", " + std::to_string(b) + ")");
  if (is_table()) return table[size_t(a * size1 + b)];
  const int64_t k = int64_t(b2.size());
  std::vector<double> h(static_cast<size_t>(hidden));
  for (int64_t j = 0; j < hidden; ++j)
    h[size_t(j)] = std::max(0.0, double(a) * w1[size_t(j)] + double(b) * w1[size_t(hidden + j)] + b1[size_t(j)]);
  int64_t best = 0;
  double best_value = 0;
  for (int64_t c = 0; c < k; ++c) {
    double v = 0;
    for (int64_t j = 0; j < hidden; ++j) v += h[size_t(j)] * w2[size_t(j * k + c)];
    v += b2[size_t(c)];
    if (c == 0 || v > best_value) {
      best = c;
      best_value = v;
    }
  }
  return best;
}

Program extract_program(TransformerProgram& model, const std::string& task, const std::vector<std::string>& vocab,
                        const std::vector<std::string>& classes, int64_t max_table_entries) {
  NoGradGuard no_grad;
  model.set_mode(ChoiceMode::argmax);
  const TransformerProgramOptions& o = model.options();
  Program p;
  p.task = task;
  p.vocab = vocab;
  p.classes = classes;
  p.n_ctx = o.n_ctx;
  p.k = o.k;
  p.causal = o.causal;
  p.layers = o.layers;
  p.masked_classes = o.masked_classes;

  for (const auto& v : model.cat_variables()) p.cat_vars.push_back({v.name, false, v.layer, false, {}, 0});
  for (const auto& v : model.num_variables()) p.num_vars.push_back({v.name, true, v.layer, false, {}, 0});
  // The embeddings: tokens show as strings (never <pad>: the program sees no padding),
  // positions as integers below n_ctx, ones is 1.
  p.cat_vars[0].text_values = true;
  p.cat_vars[0].labels.assign(size_t(o.k), "");
  for (int64_t t = 1; t < int64_t(vocab.size()) && t < o.k; ++t) p.cat_vars[0].labels[size_t(t)] = vocab[size_t(t)];
  p.cat_vars[1].labels.assign(size_t(o.k), "");
  for (int64_t i = 0; i < o.n_ctx; ++i) p.cat_vars[1].labels[size_t(i)] = std::to_string(i);
  p.num_vars[0].max_value = 1;
  auto int_labels = [&] {
    std::vector<std::string> l;
    for (int64_t i = 0; i < o.k; ++i) l.push_back(std::to_string(i));
    return l;
  };

  for (int64_t l = 0; l < o.layers; ++l) {
    const auto& lp = model.layer_params()[size_t(l)];
    const int64_t cat_base = model.cat_inputs(l), num_base = model.num_inputs(l);
    // Head h of a layer's categorical or numerical attention: its reads and predicate.
    auto read_head = [&](bool numerical, int64_t h, const Tensor& q, const Tensor& k, const Tensor& v,
                         const Tensor& pred) {
      ProgramHead head;
      head.numerical = numerical;
      head.layer = l;
      head.index = h;
      head.query = argmax_index(q.select(0, h));
      head.key = argmax_index(k.select(0, h));
      head.value = argmax_index(v.select(0, h));
      head.predicate = row_argmax(pred.select(0, h));
      head.output = (numerical ? num_base : cat_base) + h;
      return head;
    };
    for (int64_t h = 0; h < o.cat_heads; ++h) {
      ProgramHead head = read_head(false, h, lp.cat_q, lp.cat_k, lp.cat_v, lp.cat_pred);
      // The output copies the value variable, so it shows its values the same way.
      p.cat_vars[size_t(head.output)].labels = p.cat_vars[size_t(head.value)].labels;
      p.cat_vars[size_t(head.output)].text_values = p.cat_vars[size_t(head.value)].text_values;
      p.heads.push_back(head);
    }
    for (int64_t h = 0; h < o.num_heads; ++h) {
      ProgramHead head = read_head(true, h, lp.num_q, lp.num_k, lp.num_v, lp.num_pred);
      // A sum over at most n_ctx keys of the value variable (Friedman et al.: max length
      // x the value's range).
      p.num_vars[size_t(head.output)].max_value = o.n_ctx * p.num_vars[size_t(head.value)].max_value;
      p.heads.push_back(head);
    }
    auto add_mlp = [&](const TransformerProgram::LayerParams::Mlp& m, bool numerical, int64_t j, int64_t output) {
      ProgramMlp mlp;
      mlp.numerical = numerical;
      mlp.layer = l;
      mlp.index = j;
      mlp.input0 = argmax_index(m.read.select(0, 0));
      mlp.input1 = argmax_index(m.read.select(0, 1));
      mlp.output = output;
      if (numerical) {
        mlp.size0 = p.num_vars[size_t(mlp.input0)].max_value + 1;
        mlp.size1 = p.num_vars[size_t(mlp.input1)].max_value + 1;
      } else {
        mlp.size0 = mlp.size1 = o.k;
      }
      const int64_t n = mlp.size0 * mlp.size1;
      if (numerical && n > max_table_entries) {
        auto values = [](const Tensor& t) { return t.detach().to(DType::f64).contiguous().to_vector<double>(); };
        mlp.hidden = o.d_mlp;
        mlp.w1 = values(m.w1);
        mlp.b1 = values(m.b1);
        mlp.w2 = values(m.w2);
        mlp.b2 = values(m.b2);
      } else {
        std::vector<int64_t> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
          a[size_t(i)] = i / mlp.size1;
          b[size_t(i)] = i % mlp.size1;
        }
        Tensor ta = Tensor::from_vector(a, {n}), tb = Tensor::from_vector(b, {n});
        // The same inputs the forward builds, variable-major: two one-hot blocks, or the two values.
        Tensor x = numerical ? ops::stack({ta.to(DType::f64), tb.to(DType::f64)}, 0).unsqueeze(-1)
                             : ops::stack({ops::one_hot(ta, o.k, DType::f64), ops::one_hot(tb, o.k, DType::f64)}, 0);
        mlp.table = model.mlp_choice(l, j, numerical, x.to(model.device())).contiguous().to_vector<int64_t>();
      }
      p.cat_vars[size_t(output)].labels = int_labels();
      p.mlps.push_back(std::move(mlp));
    };
    for (int64_t j = 0; j < o.cat_mlps; ++j) add_mlp(lp.cat_mlps[size_t(j)], false, j, cat_base + o.cat_heads + j);
    for (int64_t j = 0; j < o.num_mlps; ++j)
      add_mlp(lp.num_mlps[size_t(j)], true, j, cat_base + o.cat_heads + o.cat_mlps + j);
  }
  const Tensor w = model.classifier().detach().to(DType::f64).contiguous();
  const std::vector<double> wv = w.to_vector<double>();
  const int64_t rows = w.size(0), cols = w.size(1);
  for (int64_t r = 0; r < rows; ++r) p.classifier.emplace_back(wv.begin() + r * cols, wv.begin() + (r + 1) * cols);
  return p;
}

std::vector<int64_t> run_program(const Program& p, const std::vector<int64_t>& tokens) {
  const int64_t n = int64_t(tokens.size());
  if (n < 1 || n > p.n_ctx) throw std::invalid_argument("program: inputs need 1.." + std::to_string(p.n_ctx) + " tokens");
  std::vector<std::vector<int64_t>> cat(p.cat_vars.size()), num(p.num_vars.size());
  cat[0] = tokens;
  for (int64_t i = 0; i < n; ++i) cat[1].push_back(i);
  num[0].assign(size_t(n), 1);
  auto visible = [&](int64_t i) { return p.causal ? i + 1 : n; };

  size_t next_head = 0, next_mlp = 0;
  for (int64_t l = 0; l < p.layers; ++l) {
    for (; next_head < p.heads.size() && p.heads[next_head].layer == l; ++next_head) {
      const ProgramHead& h = p.heads[next_head];
      const auto& q = cat[size_t(h.query)];
      const auto& key = cat[size_t(h.key)];
      std::vector<int64_t> out(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        const int64_t wanted = h.predicate[size_t(q[size_t(i)])];
        if (h.numerical) {
          int64_t sum = 0;
          for (int64_t j = 0; j < visible(i); ++j)
            if (key[size_t(j)] == wanted) sum += num[size_t(h.value)][size_t(j)];
          out[size_t(i)] = sum;
        } else {
          int64_t best = 0;
          double best_bias = 0;
          bool found = false;
          for (int64_t j = 0; j < visible(i); ++j) {
            if (key[size_t(j)] != wanted) continue;
            const double b = attention_bias(i, j, p.n_ctx);
            if (!found || b > best_bias) {
              best = j;
              best_bias = b;
              found = true;
            }
          }
          out[size_t(i)] = cat[size_t(h.value)][size_t(best)];
        }
      }
      (h.numerical ? num : cat)[size_t(h.output)] = std::move(out);
    }
    for (; next_mlp < p.mlps.size() && p.mlps[next_mlp].layer == l; ++next_mlp) {
      const ProgramMlp& m = p.mlps[next_mlp];
      const auto& a = (m.numerical ? num : cat)[size_t(m.input0)];
      const auto& b = (m.numerical ? num : cat)[size_t(m.input1)];
      std::vector<int64_t> out(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) out[size_t(i)] = m.lookup(a[size_t(i)], b[size_t(i)]);
      cat[size_t(m.output)] = std::move(out);
    }
  }

  const int64_t classes = int64_t(p.classes.size());
  const int64_t num_offset = int64_t(p.cat_vars.size()) * p.k;
  std::vector<int64_t> predictions(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> logits(size_t(classes), 0.0);
    for (size_t v = 0; v < cat.size(); ++v)
      for (int64_t c = 0; c < classes; ++c) logits[size_t(c)] += p.classifier[size_t(int64_t(v) * p.k + cat[v][size_t(i)])][size_t(c)];
    for (size_t u = 0; u < num.size(); ++u)
      for (int64_t c = 0; c < classes; ++c)
        logits[size_t(c)] += double(num[u][size_t(i)]) * p.classifier[size_t(num_offset + int64_t(u))][size_t(c)];
    int64_t best = -1;
    for (int64_t c = 0; c < classes; ++c) {
      if (std::find(p.masked_classes.begin(), p.masked_classes.end(), c) != p.masked_classes.end()) continue;
      if (best < 0 || logits[size_t(c)] > logits[size_t(best)]) best = c;
    }
    predictions[size_t(i)] = best;
  }
  return predictions;
}

std::vector<std::vector<int64_t>> model_predictions(TransformerProgram& model, const Tensor& tokens) {
  NoGradGuard no_grad;
  model.set_mode(ChoiceMode::argmax);
  const int64_t batch = 1024, n = tokens.size(0), t = tokens.size(1);
  std::vector<std::vector<int64_t>> out;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t len = std::min(batch, n - start);
    Tensor chunk = tokens.narrow(0, start, len).contiguous();
    std::vector<int64_t> pred = TransformerProgram::predict(model.forward(chunk.to(model.device())).logits).contiguous().to_vector<int64_t>();
    std::vector<int64_t> tok = chunk.to_vector<int64_t>();
    for (int64_t r = 0; r < len; ++r) {
      std::vector<int64_t> row;
      for (int64_t i = 0; i < t && tok[size_t(r * t + i)] != 0; ++i) row.push_back(pred[size_t(r * t + i)]);
      out.push_back(std::move(row));
    }
  }
  return out;
}

}  // namespace glassbox::models
