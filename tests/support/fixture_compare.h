#pragma once
// Comparing results with PyTorch fixtures whose tensors are stored as
// {"shape": [...], "values": [...]} (see tests/fixtures/make_conv_fixtures.py).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/support/fixtures.h"

namespace glassbox::testing {

/// A fixture tensor {"shape", "values"} as `dtype`.
inline Tensor fixture_tensor(const nlohmann::json& j, DType dtype = DType::f64) {
  return json_tensor(j.at("values"), json_shape(j.at("shape"))).to(dtype);
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
