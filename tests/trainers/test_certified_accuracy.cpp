// Certified robust accuracy: counts against hand-computed fractions, and radius parsing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "trainers/metrics/certified_accuracy.h"

using glassbox::Tensor;
using glassbox::metrics::CertifiedAccuracy;
using glassbox::metrics::parse_radii;

TEST(CertifiedAccuracy, CountsCorrectAndCertifiedSamples) {
  CertifiedAccuracy acc({0.0, 0.5, 1.0, 3.0});
  // correct with radius 0.6 and 2, wrong (with a large radius that must not count), correct with 0.2.
  acc.add(Tensor::from_vector(std::vector<uint8_t>{1, 1, 0}, {3}).to(glassbox::DType::boolean),
          Tensor::from_vector(std::vector<float>{0.6f, 2.0f, 5.0f}, {3}));
  acc.add(true, 0.2);
  EXPECT_EQ(acc.total(), 4);
  EXPECT_DOUBLE_EQ(acc.clean_accuracy(), 0.75);
  std::vector<double> c = acc.certified_accuracy();
  EXPECT_DOUBLE_EQ(c[0], 0.75);
  EXPECT_DOUBLE_EQ(c[1], 0.5);
  EXPECT_DOUBLE_EQ(c[2], 0.25);
  EXPECT_DOUBLE_EQ(c[3], 0.0);
  EXPECT_NEAR(acc.mean_correct_radius(), (0.6 + 2.0 + 0.2) / 3, 1e-6);
  nlohmann::json j = acc.to_json();
  EXPECT_EQ(j["samples"], 4);
  EXPECT_DOUBLE_EQ(j["certified_accuracy"][1]["eps"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["certified_accuracy"][1]["accuracy"].get<double>(), 0.5);
  EXPECT_NE(acc.table().find("50.00%"), std::string::npos);
  EXPECT_THROW(CertifiedAccuracy({-1.0}), std::invalid_argument);
}

TEST(CertifiedAccuracy, ParsesRadiusLists) {
  EXPECT_EQ(parse_radii("0.5,1, 1.58"), (std::vector<double>{0.5, 1.0, 1.58}));
  EXPECT_THROW(parse_radii("0.5,x"), std::invalid_argument);
  EXPECT_THROW(parse_radii("0.5,-1"), std::invalid_argument);
  EXPECT_THROW(parse_radii("1.5abc"), std::invalid_argument);
}
