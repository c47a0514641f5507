#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "trainers/metrics/confusion_matrix.h"

namespace glassbox {
namespace {

TEST(ConfusionMatrix, CountsAccuracyAndPerClassAccuracy) {
  ConfusionMatrix m({"cat", "dog", "owl"});
  // true labels 0 0 0 1 1 2, predictions 0 0 1 1 2 2 -> 4 of 6 right.
  m.add(Tensor::from_vector<int64_t>({0, 0, 1, 1, 2, 2}, {6}, {.dtype = DType::i64}),
        Tensor::from_vector<int64_t>({0, 0, 0, 1, 1, 2}, {6}, {.dtype = DType::i64}));
  EXPECT_EQ(m.total(), 6);
  EXPECT_EQ(m.count(0, 0), 2);
  EXPECT_EQ(m.count(0, 1), 1);
  EXPECT_EQ(m.count(1, 2), 1);
  EXPECT_DOUBLE_EQ(m.accuracy(), 4.0 / 6.0);
  std::vector<double> per_class = m.per_class_accuracy();
  EXPECT_DOUBLE_EQ(per_class[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(per_class[1], 0.5);
  EXPECT_DOUBLE_EQ(per_class[2], 1.0);
  EXPECT_EQ(m.per_class_samples(), (std::vector<int64_t>{3, 2, 1}));

  nlohmann::json j = m.to_json();
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 4.0 / 6.0);
  EXPECT_EQ(j["samples"], 6);
  EXPECT_DOUBLE_EQ(j["per_class_accuracy"]["dog"].get<double>(), 0.5);
  EXPECT_EQ(j["per_class_samples"]["cat"], 3);
  EXPECT_EQ(j["confusion_matrix"][0], (std::vector<int64_t>{2, 1, 0}));
  const std::string table = m.table();
  EXPECT_NE(table.find("accuracy 66.67% (6 samples)"), std::string::npos) << table;
  EXPECT_NE(table.find("dog             50.00% of 2"), std::string::npos) << table;
}

TEST(ConfusionMatrix, RejectsOutOfRangeClassesAndLengthMismatch) {
  ConfusionMatrix m({"a", "b"});
  EXPECT_THROW(m.add(2, 0), std::out_of_range);
  EXPECT_THROW(m.add(0, -1), std::out_of_range);
  EXPECT_THROW(m.add(Tensor::zeros({3}, {.dtype = DType::i64}), Tensor::zeros({2}, {.dtype = DType::i64})),
               std::invalid_argument);
  EXPECT_DOUBLE_EQ(m.accuracy(), 0.0);
}

}  // namespace
}  // namespace glassbox
