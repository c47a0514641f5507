#include "trainers/data/sequence_tasks.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "trainers/data/batch_sampler.h"
#include "trainers/data/seeded_hash.h"
#include "trainers/usage_error.h"

namespace glassbox::data {

namespace {

/// Uniform draws from one seeded stream.
class Draws {
 public:
  explicit Draws(uint64_t seed) : key_(stream_key(seed, uint64_t(StreamPurpose::sequence_task))) {}
  int64_t below(int64_t n) { return int64_t(to_below(stream_bits(key_, counter_++), uint64_t(n))); }
  /// Uniform in [lo, hi] inclusive.
  int64_t between(int64_t lo, int64_t hi) { return lo + below(hi - lo + 1); }
  bool coin() { return below(2) == 1; }

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
};

std::vector<std::string> digits(int64_t n) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(std::to_string(i));
  return out;
}

std::map<std::string, int64_t> counts(const std::vector<std::string>& w) {
  std::map<std::string, int64_t> c;
  for (const auto& t : w) ++c[t];
  return c;
}

// The Dyck labels per prefix (paper Table 1): P while the prefix can still be completed,
// T when it is balanced, F from the first unmatched closing bracket on.
std::vector<std::string> dyck_targets(const std::vector<std::string>& w) {
  std::vector<std::string> out, stack;
  bool failed = false;
  for (const auto& t : w) {
    if (!failed) {
      if (t == "(" || t == "{") {
        stack.push_back(t);
      } else {
        const std::string open = t == ")" ? "(" : "{";
        if (stack.empty() || stack.back() != open)
          failed = true;
        else
          stack.pop_back();
      }
    }
    out.push_back(failed ? "F" : (stack.empty() ? "T" : "P"));
  }
  return out;
}

struct TaskShape {
  std::vector<std::string> content;  // symbols a sequence is made of
  bool eos = false;                  // inputs end with </s> (reverse, sort)
  bool causal = false;
  int64_t min_len = 1, max_len = 1;  // content length range (inclusive)
};

TaskShape task_shape(const SequenceTaskOptions& o) {
  const std::string& t = o.task;
  if (t == "reverse" || t == "sort") return {digits(o.vocab_size - 3), true, false, 1, o.max_length - 2};
  if (t == "hist" || t == "double_hist" || t == "most_freq") return {digits(o.vocab_size - 2), false, false, 1, o.max_length - 1};
  if (t == "dyck1") return {{"(", ")"}, false, true, o.max_length - 1, o.max_length - 1};
  if (t == "dyck2") return {{"(", ")", "{", "}"}, false, true, o.max_length - 1, o.max_length - 1};
  if (t == "induction") return {{"0", "1", "2", "3", "a", "b", "c", "d"}, false, true, 9, 9};
  throw UsageError("unknown sequence task '" + t + "' (known: reverse, hist, double_hist, sort, most_freq, dyck1, dyck2, induction)");
}

// The valid half of the Dyck inputs, as the paper's code draws them (sample_dyck, with its
// --min_length = --max_length = n_ctx): n_ctx / 2 bracket pairs, each of a random type and
// either appended or wrapped around the string so far, then cut to the content length. For
// length 16 that is 8 pairs cut to 15 symbols: every prefix is valid (P or T) and the
// whole is one closing bracket short of balanced. Only a shorter string would be padded
// with random brackets.
std::vector<std::string> sample_dyck(Draws& d, const TaskShape& s, int64_t n_ctx) {
  const int64_t len = s.max_len;
  std::vector<std::string> w;
  const int64_t types = int64_t(s.content.size()) / 2;
  for (int64_t i = 0; i < n_ctx / 2; ++i) {
    const int64_t b = d.below(types);
    const std::string open = s.content[size_t(2 * b)], close = s.content[size_t(2 * b + 1)];
    if (d.coin()) {
      w.insert(w.begin(), open);
      w.push_back(close);
    } else {
      w.push_back(open);
      w.push_back(close);
    }
  }
  if (int64_t(w.size()) > len) w.resize(size_t(len));
  while (int64_t(w.size()) < len) w.push_back(s.content[size_t(d.below(int64_t(s.content.size())))]);
  return w;
}

// Induction (paper section 4.1): letter -> number pairs under a random map, then either a
// query letter at the end or a number right after BOS; a letter's target is the number
// that followed it before, <unk> the first time it appears.
SequenceExample sample_induction(Draws& d) {
  const std::vector<std::string> letters = {"a", "b", "c", "d"}, numbers = {"0", "1", "2", "3"};
  std::vector<std::string> map;
  for (size_t i = 0; i < letters.size(); ++i) map.push_back(numbers[size_t(d.below(4))]);
  std::vector<std::string> w;
  const bool lead_number = d.coin();
  if (lead_number) w.push_back(numbers[size_t(d.below(4))]);
  for (int i = 0; i < 4; ++i) {
    const int64_t l = d.below(4);
    w.push_back(letters[size_t(l)]);
    w.push_back(map[size_t(l)]);
  }
  if (!lead_number) w.push_back(letters[size_t(d.below(4))]);
  SequenceExample e;
  e.tokens.push_back(kBos);
  e.targets.push_back(kPad);
  std::map<std::string, std::string> seen;
  for (size_t i = 0; i < w.size(); ++i) {
    e.tokens.push_back(w[i]);
    const bool letter = w[i] >= "a";
    if (!letter) {
      e.targets.push_back(kPad);
      continue;
    }
    auto it = seen.find(w[i]);
    e.targets.push_back(it == seen.end() ? kUnk : it->second);
    if (i + 1 < w.size() && it == seen.end()) seen[w[i]] = w[i + 1];
  }
  return e;
}

SequenceExample sample(Draws& d, const SequenceTaskOptions& o, const TaskShape& s) {
  if (o.task == "induction") return sample_induction(d);
  std::vector<std::string> w;
  if (o.task == "dyck1" || o.task == "dyck2") {
    if (d.coin()) {
      for (int64_t i = 0; i < s.max_len; ++i) w.push_back(s.content[size_t(d.below(int64_t(s.content.size())))]);
    } else {
      w = sample_dyck(d, s, o.max_length);
    }
  } else {
    const int64_t len = d.between(s.min_len, s.max_len);
    for (int64_t i = 0; i < len; ++i) w.push_back(s.content[size_t(d.below(int64_t(s.content.size())))]);
  }
  SequenceExample e;
  e.tokens.push_back(kBos);
  e.tokens.insert(e.tokens.end(), w.begin(), w.end());
  e.targets.push_back(kPad);
  std::vector<std::string> t = sequence_task_targets(o.task, w);
  e.targets.insert(e.targets.end(), t.begin(), t.end());
  if (s.eos) {
    e.tokens.push_back(kEos);
    e.targets.push_back(kPad);
  }
  return e;
}

int64_t index_of(const std::vector<std::string>& v, const std::string& s) {
  return std::lower_bound(v.begin() + 1, v.end(), s) - v.begin();
}

}  // namespace

std::vector<std::string> sequence_task_names() {
  return {"reverse", "hist", "double_hist", "sort", "most_freq", "dyck1", "dyck2", "induction"};
}

std::vector<std::string> sequence_task_targets(const std::string& task, const std::vector<std::string>& w) {
  std::vector<std::string> out;
  if (task == "reverse") return {w.rbegin(), w.rend()};
  if (task == "sort") {
    out = w;
    std::sort(out.begin(), out.end());
    return out;
  }
  if (task == "hist") {
    auto c = counts(w);
    for (const auto& t : w) out.push_back(std::to_string(c[t]));
    return out;
  }
  if (task == "double_hist") {
    auto c = counts(w);
    for (const auto& t : w) {
      int64_t same = 0;
      for (const auto& [u, n] : c) same += n == c[t];
      out.push_back(std::to_string(same));
    }
    return out;
  }
  if (task == "most_freq") {
    // Distinct tokens by decreasing count, ties by first occurrence; then BOS up to the length.
    auto c = counts(w);
    std::vector<std::string> distinct;
    for (const auto& t : w)
      if (std::find(distinct.begin(), distinct.end(), t) == distinct.end()) distinct.push_back(t);
    std::stable_sort(distinct.begin(), distinct.end(), [&](const auto& a, const auto& b) { return c[a] > c[b]; });
    out = distinct;
    while (out.size() < w.size()) out.push_back(kBos);
    return out;
  }
  if (task == "dyck1" || task == "dyck2") return dyck_targets(w);
  throw UsageError("sequence task '" + task + "' has no per-input target rule");
}

SequenceSplits make_sequence_task(const SequenceTaskOptions& o) {
  if (o.task == "dyck1" || o.task == "dyck2" || o.task == "induction") {
    // Their vocabularies are fixed by the task; --vocab_size does not apply.
  } else if (o.vocab_size < 4) {
    throw UsageError(o.task + ": vocab_size must be at least 4, got " + std::to_string(o.vocab_size));
  }
  const int64_t n_ctx = o.task == "induction" ? 10 : o.max_length;
  if (n_ctx < 3) throw UsageError(o.task + ": max_length must be at least 3, got " + std::to_string(o.max_length));
  if (o.dataset_size < 10) throw UsageError(o.task + ": dataset_size must be at least 10");
  const TaskShape shape = task_shape(o);

  // Unique inputs, as the paper's --unique 1: stop at dataset_size or after 5x as many draws.
  Draws d(o.seed);
  std::vector<SequenceExample> examples;
  std::set<std::vector<std::string>> seen;
  for (int64_t attempt = 0; attempt < 5 * o.dataset_size && int64_t(examples.size()) < o.dataset_size; ++attempt) {
    SequenceExample e = sample(d, o, shape);
    if (seen.insert(e.tokens).second) examples.push_back(std::move(e));
  }

  std::set<std::string> vocab_set = {kPad, kBos}, label_set = {kPad};
  if (shape.eos) vocab_set.insert(kEos);
  vocab_set.insert(shape.content.begin(), shape.content.end());
  for (const auto& e : examples) label_set.insert(e.targets.begin(), e.targets.end());
  label_set.erase(kPad);
  SequenceDataset all;
  all.name = o.task;
  all.vocab = {kPad};
  for (const auto& v : vocab_set)
    if (v != kPad) all.vocab.push_back(v);
  all.labels = {kPad};
  all.labels.insert(all.labels.end(), label_set.begin(), label_set.end());
  all.n_ctx = n_ctx;
  all.causal = shape.causal;

  const int64_t n = int64_t(examples.size());
  all.tokens = Tensor::zeros({n, n_ctx}, {.dtype = DType::i64});
  all.targets = Tensor::zeros({n, n_ctx}, {.dtype = DType::i64});
  int64_t* tok = all.tokens.data_ptr<int64_t>();
  int64_t* tgt = all.targets.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& e = examples[size_t(i)];
    for (size_t p = 0; p < e.tokens.size(); ++p) {
      tok[i * n_ctx + int64_t(p)] = index_of(all.vocab, e.tokens[p]);
      tgt[i * n_ctx + int64_t(p)] = e.targets[p] == kPad ? 0 : index_of(all.labels, e.targets[p]);
    }
  }

  // 10 % test, then 10 % of the rest for validation (train_test_split twice in the paper's code).
  const std::vector<int64_t> order = seeded_permutation(n, o.seed, uint64_t(StreamPurpose::sequence_task), 1);
  const int64_t n_test = (n + 9) / 10, n_val = (n - n_test + 9) / 10;
  auto part = [&](int64_t from, int64_t count) {
    return std::vector<int64_t>(order.begin() + from, order.begin() + from + count);
  };
  SequenceSplits s;
  s.test = all.subset(part(0, n_test), "/test");
  s.validation = all.subset(part(n_test, n_val), "/val");
  s.train = all.subset(part(n_test + n_val, n - n_test - n_val), "/train");
  return s;
}

SequenceDataset SequenceDataset::subset(const std::vector<int64_t>& indices, const std::string& suffix) const {
  SequenceDataset out{name + suffix, vocab, labels, n_ctx, causal, {}, {}};
  const int64_t m = int64_t(indices.size());
  out.tokens = Tensor::zeros({m, n_ctx}, {.dtype = DType::i64});
  out.targets = Tensor::zeros({m, n_ctx}, {.dtype = DType::i64});
  const Tensor tok = tokens.contiguous(), tgt = targets.contiguous();
  for (int64_t i = 0; i < m; ++i) {
    const int64_t j = indices[size_t(i)];
    if (j < 0 || j >= size()) throw std::out_of_range(name + ": example " + std::to_string(j) + " out of range");
    std::copy_n(tok.data_ptr<int64_t>() + j * n_ctx, n_ctx, out.tokens.data_ptr<int64_t>() + i * n_ctx);
    std::copy_n(tgt.data_ptr<int64_t>() + j * n_ctx, n_ctx, out.targets.data_ptr<int64_t>() + i * n_ctx);
  }
  return out;
}

SequenceExample SequenceDataset::example(int64_t i) const {
  if (i < 0 || i >= size()) throw std::out_of_range(name + ": example " + std::to_string(i) + " out of range");
  const Tensor tok = tokens.contiguous(), tgt = targets.contiguous();
  SequenceExample e;
  for (int64_t p = 0; p < n_ctx; ++p) {
    const int64_t t = tok.data_ptr<int64_t>()[i * n_ctx + p];
    if (t == 0) break;
    e.tokens.push_back(vocab[size_t(t)]);
    e.targets.push_back(labels[size_t(tgt.data_ptr<int64_t>()[i * n_ctx + p])]);
  }
  return e;
}

}  // namespace glassbox::data
