// The C++ form of a Program, from the same grouped tables as the Python form: a
// self-contained C++17 file whose main() reads one input per line and prints the
// predicted labels, so it can be checked against the model like the Python program.
#include <sstream>

#include "models/transformer_programs/program_emit.h"
#include "models/transformer_programs/program_emit_parts.h"

namespace glassbox::models {

namespace {

using namespace emit;

// Text-valued categorical variables are std::string, the others int.
std::string type_of(const ProgramVariable& v) { return !v.numerical && v.text_values ? "std::string" : "int"; }
std::string param_type(const ProgramVariable& v) { return type_of(v) == "int" ? "int" : "const std::string&"; }

const char* kHelpers = R"CPP(
static double position_bias(int i, int j) {
  // The model's fixed attention bias: among matching keys the nearest wins, the left
  // one at equal distance, and the query itself only when nothing else matches.
  const int d = j - i;
  if (d == 0) return -2.0;
  if (d > 0) return -double(d - 1) / double(N_CTX - 2);
  return -double(-d - 1) / double(N_CTX - 1);
}

static int visible(int i, int n) { return CAUSAL ? i + 1 : n; }

template <class K, class Q, class P>
std::vector<int> select_closest(const std::vector<K>& keys, const std::vector<Q>& queries, P predicate) {
  std::vector<int> pattern;
  for (int i = 0; i < int(queries.size()); ++i) {
    int best = 0;
    double best_bias = 0;
    bool found = false;
    for (int j = 0; j < visible(i, int(keys.size())); ++j) {
      if (!predicate(queries[i], keys[j])) continue;
      const double bias = position_bias(i, j);
      if (!found || bias > best_bias) {
        best = j;
        best_bias = bias;
        found = true;
      }
    }
    pattern.push_back(best);
  }
  return pattern;
}

template <class V>
std::vector<V> aggregate(const std::vector<int>& pattern, const std::vector<V>& values) {
  std::vector<V> out;
  for (int j : pattern) out.push_back(values[j]);
  return out;
}

template <class K, class Q, class P>
std::vector<std::vector<int>> select(const std::vector<K>& keys, const std::vector<Q>& queries, P predicate) {
  std::vector<std::vector<int>> pattern(queries.size());
  for (int i = 0; i < int(queries.size()); ++i)
    for (int j = 0; j < visible(i, int(keys.size())); ++j)
      if (predicate(queries[i], keys[j])) pattern[i].push_back(j);
  return pattern;
}

static std::vector<int> numerical_aggregate(const std::vector<std::vector<int>>& pattern, const std::vector<int>& values) {
  std::vector<int> out;
  for (const auto& selected : pattern) {
    int sum = 0;
    for (int j : selected) sum += values[j];
    out.push_back(sum);
  }
  return out;
}

static std::string label(const std::string& s) { return s; }
static std::string label(int v) { return std::to_string(v); }
)CPP";

void emit_predicate(std::ostream& out, const Program& p, const ProgramHead& h) {
  const ProgramVariable& q = p.cat_vars[size_t(h.query)];
  const ProgramVariable& k = p.cat_vars[size_t(h.key)];
  const std::string qa = "q_" + argument_name(q), ka = "k_" + argument_name(k);
  out << "\nstatic bool " << head_function(h) << "(" << param_type(q) << " " << qa << ", " << param_type(k) << " " << ka
      << ") {\n";
  for (const PredicateGroup& g : predicate_groups(p, h)) {
    if (g.key_value < 0) continue;
    out << "  if (";
    for (size_t i = 0; i < g.query_values.size(); ++i)
      out << (i ? " || " : "") << qa << " == " << literal(q, g.query_values[i]);
    out << ") return " << ka << " == " << literal(k, g.key_value) << ";\n";
  }
  out << "  return false;\n}\n";
}

void emit_weight_row(std::ostream& out, const std::vector<double>& row);

// A numerical MLP with too many input pairs for a table: its two layers in double precision.
void emit_mlp_arithmetic(std::ostream& out, const Program& p, const ProgramMlp& m) {
  const std::string name = mlp_function(m);
  const size_t h = size_t(m.hidden), k = m.b2.size();
  auto slice = [](const std::vector<double>& v, size_t from, size_t count, size_t stride) {
    std::vector<double> r;
    for (size_t i = 0; i < count; ++i) r.push_back(v[from + i * stride]);
    return r;
  };
  out << "\n// " << name << " reads " << mlp_input(p, m, 0).name << " (0.." << m.size0 - 1 << ") and "
      << mlp_input(p, m, 1).name << " (0.." << m.size1 - 1 << "): too many pairs for a table, so it is\n"
      << "// the MLP itself: Linear -> ReLU -> Linear -> the index of the largest output.\n"
      << "static int " << name << "(int a, int b) {\n  static const std::vector<double> w1a = ";
  emit_weight_row(out, slice(m.w1, 0, h, 1));
  out << ";\n  static const std::vector<double> w1b = ";
  emit_weight_row(out, slice(m.w1, h, h, 1));
  out << ";\n  static const std::vector<double> b1 = ";
  emit_weight_row(out, m.b1);
  out << ";\n  static const std::vector<std::vector<double>> w2t = {\n";
  for (size_t c = 0; c < k; ++c) {
    out << "      ";
    emit_weight_row(out, slice(m.w2, c, h, k));
    out << ",\n";
  }
  out << "  };\n  static const std::vector<double> b2 = ";
  emit_weight_row(out, m.b2);
  out << ";\n  std::vector<double> hidden;\n"
      << "  for (size_t j = 0; j < b1.size(); ++j) hidden.push_back(std::max(0.0, double(a) * w1a[j] + double(b) * w1b[j] + b1[j]));\n"
      << "  int best = 0;\n  double best_value = 0;\n"
      << "  for (size_t c = 0; c < b2.size(); ++c) {\n    double value = 0;\n"
      << "    for (size_t j = 0; j < hidden.size(); ++j) value += hidden[j] * w2t[c][j];\n    value += b2[c];\n"
      << "    if (c == 0 || value > best_value) {\n      best = int(c);\n      best_value = value;\n    }\n  }\n"
      << "  return best;\n}\n";
}

void emit_mlp(std::ostream& out, const Program& p, const ProgramMlp& m) {
  if (!m.is_table()) return emit_mlp_arithmetic(out, p, m);
  const ProgramVariable& a = mlp_input(p, m, 0);
  const ProgramVariable& b = mlp_input(p, m, 1);
  MlpTable t = mlp_table(p, m);
  std::string an = argument_name(a), bn = argument_name(b);
  if (an == bn) bn += "_2";
  const std::string key_type = t.single_input ? type_of(a) : "std::pair<" + type_of(a) + ", " + type_of(b) + ">";
  out << "\nstatic int " << mlp_function(m) << "(" << param_type(a) << " " << an;
  if (!t.single_input) out << ", " << param_type(b) << " " << bn;
  out << ") {\n  const " << key_type << " key = " << (t.single_input ? an : key_type + "(" + an + ", " + bn + ")") << ";\n";
  for (const MlpGroup& g : t.groups) {
    out << "  static const std::set<" << key_type << "> gives_" << g.output << " = {";
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      out << (i ? ", " : "");
      if (t.single_input)
        out << literal(a, g.inputs[i].first);
      else
        out << "{" << literal(a, g.inputs[i].first) << ", " << literal(b, g.inputs[i].second) << "}";
    }
    out << "};\n  if (gives_" << g.output << ".count(key)) return " << g.output << ";\n";
  }
  out << "  return " << t.default_output << ";\n}\n";
}

void emit_weight_row(std::ostream& out, const std::vector<double>& row) {
  out << "{";
  for (size_t c = 0; c < row.size(); ++c) out << (c ? ", " : "") << exact_double(row[c]);
  out << "}";
}

}  // namespace

std::string emit_cpp(const Program& p, const std::string& source) {
  std::ostringstream out;
  out << "// Transformer Program for the `" << p.task << "` task, compiled by glassbox from " << source << ".\n"
      << "// It computes exactly what the argmax model computes (`glassbox compile RUN -o program.cpp --verify`).\n"
      << "// Build: c++ -std=c++17 -O1 program.cpp -o program; run: one input per line, tokens separated by\n"
      << "// spaces, \"<s>\" first; it prints one label per position.\n"
      << "#include <algorithm>\n#include <iostream>\n#include <map>\n#include <set>\n#include <sstream>\n#include <string>\n"
      << "#include <utility>\n#include <vector>\n\n"
      << "static const int N_CTX = " << p.n_ctx << ";\nstatic const bool CAUSAL = " << (p.causal ? "true" : "false")
      << ";\nstatic const std::vector<std::string> CLASSES = {";
  for (size_t c = 0; c < p.classes.size(); ++c) out << (c ? ", " : "") << quoted(p.classes[c]);
  out << "};\nstatic const std::set<int> MASKED_CLASSES = {";
  for (size_t c = 0; c < p.masked_classes.size(); ++c) out << (c ? ", " : "") << p.masked_classes[c];
  out << "};  // never predicted\n" << kHelpers;

  for (int64_t l = 0; l < p.layers; ++l) {
    out << "\n// Layer " << l << "\n";
    for (const auto& h : p.heads)
      if (h.layer == l) emit_predicate(out, p, h);
    for (const auto& m : p.mlps)
      if (m.layer == l) emit_mlp(out, p, m);
  }

  out << "\n// Classifier weights: a row per (variable, value label), one weight per class; a numerical\n"
      << "// variable's row is multiplied by its value.\n";
  for (size_t v = 0; v < p.cat_vars.size(); ++v) {
    out << "static const std::map<std::string, std::vector<double>> W_" << p.cat_vars[v].name << " = {\n";
    for (int64_t value : possible_values(p.cat_vars[v])) {
      out << "    {" << quoted(p.cat_vars[v].labels[size_t(value)]) << ", ";
      emit_weight_row(out, p.classifier[size_t(int64_t(v) * p.k + value)]);
      out << "},\n";
    }
    out << "};\n";
  }
  for (size_t u = 0; u < p.num_vars.size(); ++u) {
    out << "static const std::vector<double> W_" << p.num_vars[u].name << " = ";
    emit_weight_row(out, p.classifier[size_t(int64_t(p.cat_vars.size()) * p.k + int64_t(u))]);
    out << ";\n";
  }

  out << "\nstd::vector<std::string> run(const std::vector<std::string>& tokens) {\n"
      << "  const int n = int(tokens.size());\n"
      << "  std::vector<int> positions, ones(n, 1);\n"
      << "  for (int i = 0; i < n; ++i) positions.push_back(i);\n";
  for (int64_t l = 0; l < p.layers; ++l) {
    out << "\n  // Layer " << l << "\n";
    for (const auto& h : p.heads) {
      if (h.layer != l) continue;
      const std::string q = p.cat_vars[size_t(h.query)].name, k = p.cat_vars[size_t(h.key)].name;
      if (h.numerical) {
        out << "  const std::vector<int> " << p.num_vars[size_t(h.output)].name << " = numerical_aggregate(select(" << k
            << ", " << q << ", " << head_function(h) << "), " << p.num_vars[size_t(h.value)].name << ");\n";
      } else {
        const ProgramVariable& out_var = p.cat_vars[size_t(h.output)];
        out << "  const std::vector<" << type_of(out_var) << "> " << out_var.name << " = aggregate(select_closest(" << k
            << ", " << q << ", " << head_function(h) << "), " << p.cat_vars[size_t(h.value)].name << ");\n";
      }
    }
    for (const auto& m : p.mlps) {
      if (m.layer != l) continue;
      const std::string a = mlp_input(p, m, 0).name, b = mlp_input(p, m, 1).name;
      const std::string name = p.cat_vars[size_t(m.output)].name;
      out << "  std::vector<int> " << name << ";\n  for (int i = 0; i < n; ++i) " << name << ".push_back("
          << mlp_function(m) << "(" << a << "[i]" << (m.input0 == m.input1 && m.is_table() ? "" : ", " + b + "[i]") << "));\n";
    }
  }
  out << "\n  std::vector<std::string> predictions;\n  for (int i = 0; i < n; ++i) {\n"
      << "    std::vector<double> logits(CLASSES.size(), 0.0);\n"
      << "    auto add = [&](const std::vector<double>& row, double times) {\n"
      << "      for (size_t c = 0; c < row.size(); ++c) logits[c] += times * row[c];\n"
      << "    };\n";
  for (const auto& v : p.cat_vars) out << "    add(W_" << v.name << ".at(label(" << v.name << "[i])), 1.0);\n";
  for (const auto& u : p.num_vars) out << "    add(W_" << u.name << ", double(" << u.name << "[i]));\n";
  out << "    int best = -1;\n"
      << "    for (int c = 0; c < int(CLASSES.size()); ++c)\n"
      << "      if (!MASKED_CLASSES.count(c) && (best < 0 || logits[c] > logits[best])) best = c;\n"
      << "    predictions.push_back(CLASSES[best]);\n  }\n  return predictions;\n}\n\n"
      << "int main() {\n  std::string line;\n  while (std::getline(std::cin, line)) {\n"
      << "    std::istringstream words(line);\n    std::vector<std::string> tokens;\n"
      << "    for (std::string w; words >> w;) tokens.push_back(w);\n    if (tokens.empty()) continue;\n"
      << "    const std::vector<std::string> labels = run(tokens);\n"
      << "    for (size_t i = 0; i < labels.size(); ++i) std::cout << (i ? \" \" : \"\") << labels[i];\n"
      << "    std::cout << \"\\n\";\n  }\n}\n";
  return out.str();
}

}  // namespace glassbox::models
