// The Python form of a Program: readable functions in the style of the paper's
// programs (predicate_*, select_closest/aggregate, MLP lookup tables, classifier
// weights, run), but with select_closest breaking ties exactly as the model does.
#include <cctype>
#include <sstream>

#include "models/transformer_programs/program_emit.h"
#include "models/transformer_programs/program_emit_parts.h"

namespace glassbox::models {

namespace {

using namespace emit;

const char* kHelpers = R"PY(
def position_bias(i, j):
    """The model's fixed attention bias for query i and key j: among matching keys the
    nearest wins, the left one at equal distance, and the query itself only when
    nothing else matches."""
    d = j - i
    if d == 0:
        return -2.0
    if d > 0:
        return -float(d - 1) / float(N_CTX - 2)
    return -float(-d - 1) / float(N_CTX - 1)


def visible(i, n):
    return range(i + 1) if CAUSAL else range(n)


def select_closest(keys, queries, predicate):
    """For each query, the position of the best key it matches, else 0 (BOS)."""
    pattern = []
    for i, q in enumerate(queries):
        best, best_bias = 0, None
        for j in visible(i, len(keys)):
            if predicate(q, keys[j]):
                bias = position_bias(i, j)
                if best_bias is None or bias > best_bias:
                    best, best_bias = j, bias
        pattern.append(best)
    return pattern


def aggregate(pattern, values):
    return [values[j] for j in pattern]


def select(keys, queries, predicate):
    return [[j for j in visible(i, len(keys)) if predicate(q, keys[j])] for i, q in enumerate(queries)]


def numerical_aggregate(pattern, values):
    """The sum of the values at the selected keys (a count when the values are ones)."""
    return [sum(values[j] for j in selected) for selected in pattern]
)PY";

void emit_predicate(std::ostream& out, const Program& p, const ProgramHead& h) {
  const ProgramVariable& q = p.cat_vars[size_t(h.query)];
  const ProgramVariable& k = p.cat_vars[size_t(h.key)];
  const std::string qa = "q_" + argument_name(q), ka = "k_" + argument_name(k);
  out << "\n\ndef " << head_function(h) << "(" << qa << ", " << ka << "):\n";
  bool first = true;
  bool has_false = false;
  for (const PredicateGroup& g : predicate_groups(p, h)) {
    if (g.key_value < 0) {
      has_false = true;
      continue;
    }
    out << "    " << (first ? "if " : "elif ") << qa << " in {";
    for (size_t i = 0; i < g.query_values.size(); ++i) out << (i ? ", " : "") << literal(q, g.query_values[i]);
    out << "}:\n        return " << ka << " == " << literal(k, g.key_value) << "\n";
    first = false;
  }
  out << "    return False" << (has_false ? "  # the other query values match no key\n" : "\n");
}

std::string double_list(const std::vector<double>& v, size_t from, size_t count, size_t stride = 1) {
  std::string s = "[";
  for (size_t i = 0; i < count; ++i) s += (i ? ", " : "") + exact_double(v[from + i * stride]);
  return s + "]";
}

// A numerical MLP with too many input pairs for a table: its two layers, evaluated in
// double precision as the model evaluates them.
void emit_mlp_arithmetic(std::ostream& out, const Program& p, const ProgramMlp& m) {
  const std::string name = mlp_function(m);
  const size_t h = size_t(m.hidden), k = m.b2.size();
  std::string upper = name;
  for (char& c : upper) c = char(std::toupper(c));
  out << "\n\n# " << name << " reads " << mlp_input(p, m, 0).name << " (0.." << m.size0 - 1 << ") and "
      << mlp_input(p, m, 1).name << " (0.." << m.size1 - 1 << "): too many pairs for a table, so it is\n"
      << "# the MLP itself: Linear -> ReLU -> Linear -> the index of the largest output.\n"
      << upper << "_W1 = [" << double_list(m.w1, 0, h) << ",\n    " << double_list(m.w1, h, h) << "]\n"
      << upper << "_B1 = " << double_list(m.b1, 0, h) << "\n" << upper << "_W2T = [\n";
  for (size_t c = 0; c < k; ++c) out << "    " << double_list(m.w2, c, h, k) << ",\n";
  out << "]\n" << upper << "_B2 = " << double_list(m.b2, 0, k) << "\n\n\ndef " << name << "(a, b):\n"
      << "    hidden = [max(0.0, a * w0 + b * w1 + c) for w0, w1, c in zip(" << upper << "_W1[0], " << upper << "_W1[1], "
      << upper << "_B1)]\n"
      << "    best, best_value = 0, None\n"
      << "    for i, (column, c) in enumerate(zip(" << upper << "_W2T, " << upper << "_B2)):\n"
      << "        value = 0.0\n"
      << "        for x, w in zip(hidden, column):\n"
      << "            value += x * w\n"
      << "        value += c\n"
      << "        if best_value is None or value > best_value:\n"
      << "            best, best_value = i, value\n"
      << "    return best\n";
}

void emit_mlp(std::ostream& out, const Program& p, const ProgramMlp& m) {
  if (!m.is_table()) return emit_mlp_arithmetic(out, p, m);
  const ProgramVariable& a = mlp_input(p, m, 0);
  const ProgramVariable& b = mlp_input(p, m, 1);
  const ProgramVariable& result = p.cat_vars[size_t(m.output)];
  MlpTable t = mlp_table(p, m);
  out << "\n\ndef " << mlp_function(m) << "(";
  if (t.single_input) {
    out << argument_name(a) << "):\n    key = " << argument_name(a) << "\n";
  } else {
    std::string an = argument_name(a), bn = argument_name(b);
    if (an == bn) bn += "_2";
    out << an << ", " << bn << "):\n    key = (" << an << ", " << bn << ")\n";
  }
  for (const MlpGroup& g : t.groups) {
    out << "    if key in {";
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      out << (i ? ", " : "");
      if (t.single_input)
        out << literal(a, g.inputs[i].first);
      else
        out << "(" << literal(a, g.inputs[i].first) << ", " << literal(b, g.inputs[i].second) << ")";
    }
    out << "}:\n        return " << literal(result, g.output) << "\n";
  }
  out << "    return " << literal(result, t.default_output) << "\n";
}

std::string variable_list(const std::vector<ProgramVariable>& vars) {
  std::string s;
  for (const auto& v : vars) s += (s.empty() ? "" : ", ") + std::string("(") + quoted(v.name) + ", " + v.name + ")";
  return s;
}

}  // namespace

std::string emit_python(const Program& p, const std::string& source) {
  std::ostringstream out;
  out << "\"\"\"Transformer Program for the `" << p.task << "` task, compiled by glassbox from " << source << ".\n\n"
      << "It computes exactly what the argmax model computes: `glassbox compile RUN --verify`\n"
      << "runs it on every test example and compares it with the model token by token.\n"
      << "Call run(tokens) with the input as strings, \"<s>\" first; it returns one label per position.\n"
      << "\"\"\"\n\nN_CTX = " << p.n_ctx << "\nCAUSAL = " << (p.causal ? "True" : "False") << "\nCLASSES = [";
  for (size_t c = 0; c < p.classes.size(); ++c) out << (c ? ", " : "") << quoted(p.classes[c]);
  out << "]\nMASKED_CLASSES = ";
  if (p.masked_classes.empty()) {
    out << "set()";  // `{}` would be an empty dict
  } else {
    out << "{";
    for (size_t c = 0; c < p.masked_classes.size(); ++c) out << (c ? ", " : "") << p.masked_classes[c];
    out << "}";
  }
  out << "  # never predicted\n" << kHelpers;

  for (int64_t l = 0; l < p.layers; ++l) {
    out << "\n\n# Layer " << l << "\n";
    for (const auto& h : p.heads)
      if (h.layer == l) emit_predicate(out, p, h);
    for (const auto& m : p.mlps)
      if (m.layer == l) emit_mlp(out, p, m);
  }

  // Classifier: a weight row per (variable, value), one weight per class.
  out << "\n\n# Classifier weights: (variable, value) -> one weight per class; numerical\n"
      << "# variables have the value \"_\" and multiply their row by their value.\nCLASSIFIER_WEIGHTS = {\n";
  for (size_t v = 0; v < p.cat_vars.size(); ++v)
    for (int64_t value : possible_values(p.cat_vars[v])) {
      out << "    (" << quoted(p.cat_vars[v].name) << ", " << literal(p.cat_vars[v], value) << "): [";
      const auto& row = p.classifier[size_t(int64_t(v) * p.k + value)];
      for (size_t c = 0; c < row.size(); ++c) out << (c ? ", " : "") << exact_double(row[c]);
      out << "],\n";
    }
  for (size_t u = 0; u < p.num_vars.size(); ++u) {
    out << "    (" << quoted(p.num_vars[u].name) << ", \"_\"): [";
    const auto& row = p.classifier[size_t(int64_t(p.cat_vars.size()) * p.k + int64_t(u))];
    for (size_t c = 0; c < row.size(); ++c) out << (c ? ", " : "") << exact_double(row[c]);
    out << "],\n";
  }
  out << "}\n";

  out << "\n\ndef run(tokens):\n    positions = list(range(len(tokens)))\n    ones = [1] * len(tokens)\n";
  for (int64_t l = 0; l < p.layers; ++l) {
    out << "\n    # Layer " << l << "\n";
    for (const auto& h : p.heads) {
      if (h.layer != l) continue;
      const std::string q = p.cat_vars[size_t(h.query)].name, k = p.cat_vars[size_t(h.key)].name;
      const std::string pattern = (h.numerical ? "num_attn_" : "attn_") + std::to_string(l) + "_" + std::to_string(h.index) + "_pattern";
      if (h.numerical) {
        out << "    " << pattern << " = select(" << k << ", " << q << ", " << head_function(h) << ")\n"
            << "    " << p.num_vars[size_t(h.output)].name << " = numerical_aggregate(" << pattern << ", "
            << p.num_vars[size_t(h.value)].name << ")\n";
      } else {
        out << "    " << pattern << " = select_closest(" << k << ", " << q << ", " << head_function(h) << ")\n"
            << "    " << p.cat_vars[size_t(h.output)].name << " = aggregate(" << pattern << ", "
            << p.cat_vars[size_t(h.value)].name << ")\n";
      }
    }
    for (const auto& m : p.mlps) {
      if (m.layer != l) continue;
      const std::string a = mlp_input(p, m, 0).name, b = mlp_input(p, m, 1).name;
      out << "    " << p.cat_vars[size_t(m.output)].name << " = [" << mlp_function(m);
      if (m.input0 == m.input1 && m.is_table())
        out << "(x) for x in " << a << "]\n";
      else
        out << "(a, b) for a, b in zip(" << a << ", " << b << ")]\n";
    }
  }
  out << "\n    categorical = [" << variable_list(p.cat_vars) << "]\n"
      << "    numerical = [" << variable_list(p.num_vars) << "]\n"
      << "    predictions = []\n"
      << "    for i in range(len(tokens)):\n"
      << "        logits = [0.0] * len(CLASSES)\n"
      << "        for name, values in categorical:\n"
      << "            for c, w in enumerate(CLASSIFIER_WEIGHTS[(name, values[i])]):\n"
      << "                logits[c] += w\n"
      << "        for name, values in numerical:\n"
      << "            for c, w in enumerate(CLASSIFIER_WEIGHTS[(name, \"_\")]):\n"
      << "                logits[c] += values[i] * w\n"
      << "        best = None\n"
      << "        for c in range(len(CLASSES)):\n"
      << "            if c not in MASKED_CLASSES and (best is None or logits[c] > logits[best]):\n"
      << "                best = c\n"
      << "        predictions.append(CLASSES[best])\n"
      << "    return predictions\n"
      << "\n\nif __name__ == \"__main__\":\n"
      << "    import sys\n"
      << "    for line in sys.stdin:\n"
      << "        if line.strip():\n"
      << "            print(\" \".join(run(line.split())))\n";
  return out.str();
}

}  // namespace glassbox::models
