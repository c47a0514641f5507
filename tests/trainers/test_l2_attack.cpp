// APGD-L2 and PGD-L2 against classifiers whose distance to the decision boundary is
// known, and the faithfulness check.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops/ops.h"
#include "trainers/metrics/l2_attack.h"

using namespace glassbox;

namespace {

/// scores = (x0, x1): the boundary is x0 = x1, so (0.7, 0.3) is 0.4 / sqrt(2) ~ 0.2828 from it.
Tensor linear_scores(const Tensor& x) { return x; }

std::vector<int64_t> flags(const Tensor& t) { return t.to_vector<int64_t>(); }

}  // namespace

TEST(L2Attack, BreaksExactlyBeyondTheBoundaryDistance) {
  Tensor x = Tensor::from_vector(std::vector<float>{0.7f, 0.3f, 0.2f, 0.9f}, {2, 2});
  Tensor y = Tensor::from_vector(std::vector<int64_t>{0, 1}, {2});
  for (auto method : {metrics::L2AttackMethod::apgd, metrics::L2AttackMethod::pgd}) {
    SCOPED_TRACE(metrics::l2_attack_method_name(method));
    metrics::L2AttackOptions o;
    o.method = method;
    o.steps = 50;
    o.restarts = 2;
    Generator gen(3);
    const double d0 = 0.4 / std::sqrt(2.0), d1 = 0.7 / std::sqrt(2.0);
    EXPECT_EQ(flags(metrics::l2_attack_broken(linear_scores, x, y, d0 * 0.95, o, gen)), (std::vector<int64_t>{0, 0}));
    EXPECT_EQ(flags(metrics::l2_attack_broken(linear_scores, x, y, d0 * 1.05, o, gen)), (std::vector<int64_t>{1, 0}));
    EXPECT_EQ(flags(metrics::l2_attack_broken(linear_scores, x, y, d1 * 1.05, o, gen)), (std::vector<int64_t>{1, 1}));
    // A misclassified sample counts as broken at eps 0.
    Tensor wrong = Tensor::from_vector(std::vector<int64_t>{1, 1}, {2});
    EXPECT_EQ(flags(metrics::l2_attack_broken(linear_scores, x, wrong, 0.0, o, gen)), (std::vector<int64_t>{1, 0}));
  }
}

/// Three classes scored by closeness to three points: the class of the nearest point wins,
/// so the distance to the boundary is half the gap between the nearest two points along
/// their connecting line (for a point on it). Scores are squashed through exp so the
/// objective is curved and small far from the boundary.
Tensor nearest_point_scores(const Tensor& x) {
  Tensor centres = Tensor::from_vector(std::vector<float>{0.2f, 0.2f, 0.8f, 0.2f, 0.5f, 0.9f}, {3, 2});
  return ops::exp(ops::neg(ops::pairwise_sq_distance(x, centres) * 4.0));
}

TEST(L2Attack, ApgdFindsTheBoundaryOfACurvedClassifierWithFewSteps) {
  // x = (0.3, 0.2) is 0.1 from centre 0 and 0.5 from centre 1: the boundary x0 = 0.5 is 0.2 away.
  Tensor x = Tensor::from_vector(std::vector<float>{0.3f, 0.2f}, {1, 2});
  Tensor y = Tensor::from_vector(std::vector<int64_t>{0}, {1});
  metrics::L2AttackOptions o;
  o.steps = 20;
  o.restarts = 2;  // the second runs the DLR objective from a random start
  Generator gen(5);
  EXPECT_EQ(flags(metrics::l2_attack_broken(nearest_point_scores, x, y, 0.19, o, gen)), std::vector<int64_t>{0});
  EXPECT_EQ(flags(metrics::l2_attack_broken(nearest_point_scores, x, y, 0.21, o, gen)), std::vector<int64_t>{1});
  o.restarts = 1;
  EXPECT_EQ(flags(metrics::l2_attack_broken(nearest_point_scores, x, y, 0.21, o, gen)), std::vector<int64_t>{1});
}

TEST(L2Attack, MethodNamesParse) {
  EXPECT_EQ(metrics::parse_l2_attack_method("apgd"), metrics::L2AttackMethod::apgd);
  EXPECT_EQ(metrics::parse_l2_attack_method("pgd"), metrics::L2AttackMethod::pgd);
  EXPECT_THROW(metrics::parse_l2_attack_method("fgsm"), std::invalid_argument);
}

TEST(L2Attack, FaithfulnessCheckFailsLoudly) {
  auto b = [](std::vector<uint8_t> v) {
    return Tensor::from_vector(v, {int64_t(v.size())}).to(DType::boolean);
  };
  EXPECT_NO_THROW(metrics::check_faithfulness(b({1, 0, 0}), b({0, 1, 0}), 0.5, 0));
  try {
    metrics::check_faithfulness(b({0, 1, 0}), b({0, 1, 1}), 0.5, 100);
    FAIL() << "expected a faithfulness violation";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 101"), std::string::npos) << e.what();
  }
}
