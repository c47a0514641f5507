#pragma once
// Reference values saved from PyTorch under tests/fixtures/ (each JSON file sits beside
// the script that wrote it). A tensor is stored as {"shape": [...], "values": [...]}.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/tensor.h"

namespace glassbox::testing {

/// The "cases" object of tests/fixtures/<file>.
inline nlohmann::json load_fixture_cases(const std::string& file) {
  const auto path = std::filesystem::path(__FILE__).parent_path().parent_path() / "fixtures" / file;
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot open the fixture");
  return nlohmann::json::parse(in).at("cases");
}

inline Tensor fixture_tensor(const nlohmann::json& j, DType dtype = DType::f64) {
  Shape shape;
  for (int64_t s : j.at("shape")) shape.push_back(s);
  return Tensor::from_vector(j.at("values").get<std::vector<double>>(), shape, {dtype});
}

/// Same shape and |actual - expected| <= atol + rtol * |expected| everywhere.
inline ::testing::AssertionResult matches_fixture(const Tensor& actual, const nlohmann::json& expected,
                                                  double atol = 1e-10, double rtol = 1e-8) {
  Tensor want = fixture_tensor(expected);
  if (!(actual.shape() == want.shape()))
    return ::testing::AssertionFailure() << "shape " << actual.shape().str() << " != expected " << want.shape().str();
  std::vector<double> a = actual.to_vector<double>(), e = want.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::abs(a[i] - e[i]) <= atol + rtol * std::abs(e[i])))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs expected " << e[i];
  return ::testing::AssertionSuccess();
}

}  // namespace glassbox::testing
