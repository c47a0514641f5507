// The RASP task generators (Friedman et al. 2023, Table 1): hand examples of every
// target rule, the vocabularies, splits and uniqueness of the generated sets.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "trainers/data/sequence_tasks.h"
#include "trainers/usage_error.h"

using namespace glassbox;
using namespace glassbox::data;

namespace {

std::vector<std::string> chars(const std::string& s) {
  std::vector<std::string> out;
  for (char c : s) out.push_back(std::string(1, c));
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& t : v) s += t;
  return s;
}

}  // namespace

TEST(SequenceTasks, TargetsOfThePapersExamples) {
  // Paper Table 1 with a=0, b=1, c=2.
  EXPECT_EQ(joined(sequence_task_targets("reverse", chars("0112"))), "2110");
  EXPECT_EQ(joined(sequence_task_targets("hist", chars("0112"))), "1221");
  EXPECT_EQ(joined(sequence_task_targets("double_hist", chars("0112"))), "2112");
  EXPECT_EQ(joined(sequence_task_targets("sort", chars("2101"))), "0112");
  // most_freq: distinct tokens by count then first occurrence, padded with BOS.
  auto most = sequence_task_targets("most_freq", chars("0112"));
  EXPECT_EQ(most, (std::vector<std::string>{"1", "0", "2", "<s>"}));
  EXPECT_EQ(joined(sequence_task_targets("most_freq", chars("3030"))), "30<s><s>");
  // Dyck: P while completable, T when balanced, F from the first error on.
  EXPECT_EQ(joined(sequence_task_targets("dyck1", chars("()"))), "PT");
  EXPECT_EQ(joined(sequence_task_targets("dyck1", chars("())("))), "PTFF");
  EXPECT_EQ(joined(sequence_task_targets("dyck2", chars("({})"))), "PPPT");
  EXPECT_EQ(joined(sequence_task_targets("dyck2", chars("(}()"))), "PFFF");
  EXPECT_THROW(sequence_task_targets("nope", chars("01")), UsageError);
}

TEST(SequenceTasks, SortHasThePapersVocabularyAndSplits) {
  SequenceTaskOptions o;
  o.task = "sort";
  o.dataset_size = 2000;
  SequenceSplits s = make_sequence_task(o);
  EXPECT_EQ(s.train.vocab, (std::vector<std::string>{"<pad>", "0", "1", "2", "3", "4", "</s>", "<s>"}));
  EXPECT_EQ(s.train.labels, (std::vector<std::string>{"<pad>", "0", "1", "2", "3", "4"}));
  EXPECT_EQ(s.test.size(), 200);
  EXPECT_EQ(s.validation.size(), 180);
  EXPECT_EQ(s.train.size(), 1620);
  EXPECT_EQ(s.train.n_ctx, 8);
  EXPECT_FALSE(s.train.causal);
  // Every example: BOS, 1..6 content tokens, EOS; targets are the sorted content.
  std::set<std::vector<std::string>> seen;
  for (const SequenceDataset* d : {&s.train, &s.validation, &s.test})
    for (int64_t i = 0; i < d->size(); ++i) {
      SequenceExample e = d->example(i);
      ASSERT_GE(e.tokens.size(), 3u);
      ASSERT_LE(e.tokens.size(), 8u);
      EXPECT_EQ(e.tokens.front(), "<s>");
      EXPECT_EQ(e.tokens.back(), "</s>");
      EXPECT_EQ(e.targets.front(), "<pad>");
      EXPECT_EQ(e.targets.back(), "<pad>");
      std::vector<std::string> content(e.tokens.begin() + 1, e.tokens.end() - 1);
      std::vector<std::string> want = sequence_task_targets("sort", content);
      EXPECT_EQ(std::vector<std::string>(e.targets.begin() + 1, e.targets.end() - 1), want);
      EXPECT_TRUE(seen.insert(e.tokens).second) << "duplicate input";
    }
}

TEST(SequenceTasks, SameSeedSameData_OtherSeedOtherData) {
  SequenceTaskOptions o;
  o.task = "hist";
  o.dataset_size = 300;
  SequenceSplits a = make_sequence_task(o), b = make_sequence_task(o);
  EXPECT_EQ(a.train.tokens.to_vector<int64_t>(), b.train.tokens.to_vector<int64_t>());
  o.seed = 1;
  SequenceSplits c = make_sequence_task(o);
  EXPECT_NE(a.train.tokens.to_vector<int64_t>(), c.train.tokens.to_vector<int64_t>());
  // hist: BOS + 1..7 of 6 symbols; labels are counts.
  EXPECT_EQ(a.train.vocab, (std::vector<std::string>{"<pad>", "0", "1", "2", "3", "4", "5", "<s>"}));
  for (size_t i = 1; i < a.train.labels.size(); ++i) EXPECT_GE(std::stoi(a.train.labels[i]), 1);
}

TEST(SequenceTasks, SortAndReverseRunOutOfDistinctInputs) {
  // At vocab 4 there are 2 + 4 + ... + 2^6 = 126 inputs: the set holds no more.
  SequenceTaskOptions o;
  o.task = "reverse";
  o.vocab_size = 5;
  o.dataset_size = 1000;
  SequenceSplits s = make_sequence_task(o);
  EXPECT_LE(s.train.size() + s.validation.size() + s.test.size(), 126);
  EXPECT_GE(s.train.size() + s.validation.size() + s.test.size(), 120);
}

TEST(SequenceTasks, DyckIsCausalWithFifteenSymbols) {
  SequenceTaskOptions o;
  o.task = "dyck2";
  o.max_length = 16;
  o.dataset_size = 400;
  SequenceSplits s = make_sequence_task(o);
  EXPECT_TRUE(s.train.causal);
  EXPECT_EQ(s.train.labels, (std::vector<std::string>{"<pad>", "F", "P", "T"}));
  int64_t all_valid = 0, one_short = 0;
  for (int64_t i = 0; i < s.train.size(); ++i) {
    SequenceExample e = s.train.example(i);
    ASSERT_EQ(e.tokens.size(), 16u);
    std::vector<std::string> content(e.tokens.begin() + 1, e.tokens.end());
    std::vector<std::string> targets(e.targets.begin() + 1, e.targets.end());
    EXPECT_EQ(targets, sequence_task_targets("dyck2", content));
    if (std::find(targets.begin(), targets.end(), "F") != targets.end()) continue;
    ++all_valid;
    int64_t depth = 0;
    for (const auto& t : content) depth += (t == "(" || t == "{") ? 1 : -1;
    one_short += depth == 1;
  }
  // The paper's code draws half the inputs as 8 bracket pairs cut to 15 symbols (valid at
  // every prefix, one closing bracket short of balanced) and half as 15 random brackets
  // (with two types almost never valid throughout).
  EXPECT_GT(all_valid, s.train.size() * 35 / 100);
  EXPECT_LT(all_valid, s.train.size() * 65 / 100);
  EXPECT_GE(one_short, all_valid * 95 / 100);
}

TEST(SequenceTasks, InductionTargetsFollowTheMap) {
  SequenceTaskOptions o;
  o.task = "induction";
  o.dataset_size = 300;
  SequenceSplits s = make_sequence_task(o);
  EXPECT_EQ(s.train.n_ctx, 10);
  EXPECT_EQ(s.train.vocab.size(), 10u);
  EXPECT_TRUE(s.train.causal);
  for (int64_t i = 0; i < s.train.size(); ++i) {
    SequenceExample e = s.train.example(i);
    ASSERT_EQ(e.tokens.size(), 10u);
    for (size_t p = 1; p < e.tokens.size(); ++p) {
      const bool letter = e.tokens[p] >= "a";
      if (!letter) {
        EXPECT_EQ(e.targets[p], "<pad>");
        continue;
      }
      // The number after the letter's first earlier occurrence, else <unk>.
      std::string want = "<unk>";
      for (size_t q = 1; q < p; ++q)
        if (e.tokens[q] == e.tokens[p] && q + 1 < e.tokens.size()) {
          want = e.tokens[q + 1];
          break;
        }
      EXPECT_EQ(e.targets[p], want);
    }
  }
}

TEST(SequenceTasks, BadOptionsAreUsageErrors) {
  SequenceTaskOptions o;
  o.task = "palindrome";
  EXPECT_THROW(make_sequence_task(o), UsageError);
  o.task = "sort";
  o.vocab_size = 2;
  EXPECT_THROW(make_sequence_task(o), UsageError);
}
