#include "models/transformer_programs/program_emit_parts.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "models/transformer_programs/program_emit.h"

namespace glassbox::models::emit {

std::string argument_name(const ProgramVariable& v) {
  const std::string& n = v.name;
  if (n.size() > 1 && n.back() == 's') return n.substr(0, n.size() - 1);
  return n;
}

std::string head_function(const ProgramHead& h) {
  return std::string(h.numerical ? "num_predicate_" : "predicate_") + std::to_string(h.layer) + "_" +
         std::to_string(h.index);
}

std::string mlp_function(const ProgramMlp& m) {
  return std::string(m.numerical ? "num_mlp_" : "mlp_") + std::to_string(m.layer) + "_" + std::to_string(m.index);
}

std::vector<int64_t> possible_values(const ProgramVariable& v) {
  std::vector<int64_t> out;
  if (v.numerical) {
    for (int64_t i = 0; i <= v.max_value; ++i) out.push_back(i);
  } else {
    for (size_t i = 0; i < v.labels.size(); ++i)
      if (!v.labels[i].empty()) out.push_back(int64_t(i));
  }
  return out;
}

std::vector<PredicateGroup> predicate_groups(const Program& p, const ProgramHead& h) {
  const ProgramVariable& q = p.cat_vars[size_t(h.query)];
  const ProgramVariable& k = p.cat_vars[size_t(h.key)];
  std::vector<PredicateGroup> groups;
  for (int64_t qv : possible_values(q)) {
    int64_t kv = h.predicate[size_t(qv)];
    if (kv >= int64_t(k.labels.size()) || k.labels[size_t(kv)].empty()) kv = -1;  // a key value no key has
    auto it = std::find_if(groups.begin(), groups.end(), [&](const PredicateGroup& g) { return g.key_value == kv; });
    if (it == groups.end()) {
      groups.push_back({kv, {qv}});
    } else {
      it->query_values.push_back(qv);
    }
  }
  return groups;
}

const ProgramVariable& mlp_input(const Program& p, const ProgramMlp& m, int which) {
  const int64_t id = which == 0 ? m.input0 : m.input1;
  return m.numerical ? p.num_vars[size_t(id)] : p.cat_vars[size_t(id)];
}

MlpTable mlp_table(const Program& p, const ProgramMlp& m) {
  MlpTable t;
  t.single_input = m.input0 == m.input1;
  std::vector<std::pair<int64_t, int64_t>> inputs;
  const auto a_values = possible_values(mlp_input(p, m, 0));
  const auto b_values = possible_values(mlp_input(p, m, 1));
  for (int64_t a : a_values) {
    if (t.single_input) {
      inputs.push_back({a, a});
      continue;
    }
    for (int64_t b : b_values) inputs.push_back({a, b});
  }
  std::map<int64_t, int64_t> frequency;
  for (auto [a, b] : inputs) ++frequency[m.lookup(a, b)];
  int64_t best = -1;
  for (auto [out, n] : frequency)
    if (best < 0 || n > frequency[best]) best = out;
  t.default_output = best < 0 ? 0 : best;
  for (auto [a, b] : inputs) {
    const int64_t out = m.lookup(a, b);
    if (out == t.default_output) continue;
    auto it = std::find_if(t.groups.begin(), t.groups.end(), [&](const MlpGroup& g) { return g.output == out; });
    if (it == t.groups.end()) {
      t.groups.push_back({out, {{a, b}}});
    } else {
      it->inputs.push_back({a, b});
    }
  }
  return t;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string literal(const ProgramVariable& v, int64_t value) {
  if (v.numerical) return std::to_string(value);
  const std::string& label = v.labels[size_t(value)];
  return v.text_values ? quoted(label) : label;
}

std::string exact_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace glassbox::models::emit

namespace glassbox::models {

int64_t count_lines(const std::string& text) {
  return int64_t(std::count(text.begin(), text.end(), '\n')) + (text.empty() || text.back() == '\n' ? 0 : 1);
}

}  // namespace glassbox::models
