// What the trainer does with each step: gradient clipping (TrainerOptions::max_grad_norm) is
// off by default, and when on, each step's gradients are scaled to that global norm before
// the update, with the norm before clipping logged as grad_norm; the step's device scalars
// are logged beside its loss.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "engine/nn/module.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "engine/optim/sgd.h"
#include "tests/support/temp_dir.h"
#include "trainers/metrics_writer.h"
#include "trainers/trainer.h"
#include "trainers/training_schema.h"

namespace glassbox {
namespace {

struct TwoWeights : nn::Module {
  TwoWeights() { w = register_parameter("w", Tensor::from_vector<double>({1.0, 2.0}, {2}, {DType::f64})); }
  nn::Parameter w;
};

/// One SGD step (lr 1) of `model` on the step `step` builds; returns metrics.jsonl's records.
std::vector<nlohmann::json> one_step(TwoWeights& model, double max_grad_norm,
                                     const std::function<train::StepResult()>& step) {
  glassbox::testing::TempDir dir;
  const RunFolder run = RunFolder::create(dir / "run", false);
  ConfigSchema schema = training_loop_schema("1", "1");
  Config config(schema);
  run.write_config("clip", config);
  optim::SgdOptions sgd;
  sgd.lr = 1.0;
  optim::SGD optimizer(model.parameters(), sgd);
  train::TrainerOptions options;
  options.model_name = "clip";
  options.epochs = 1;
  options.show_progress = false;
  options.max_grad_norm = max_grad_norm;
  train::Trainer trainer(model, optimizer, run, config, options);
  trainer.fit(
      1, [&](int64_t, int64_t) { return step(); }, [](int64_t) { return nlohmann::json::object(); }, false);
  return read_metrics(run.metrics_file());
}

Tensor slope() { return Tensor::from_vector<double>({30.0, 40.0}, {2}, {DType::f64}); }

// One SGD step (lr 1) on loss = 30 w0 + 40 w1, whose gradient (30, 40) has norm 50.
std::vector<double> weights_after_one_step(double max_grad_norm, std::vector<nlohmann::json>* metrics) {
  TwoWeights model;
  std::vector<nlohmann::json> m =
      one_step(model, max_grad_norm, [&] { return train::StepResult{ops::sum(ops::mul(model.w, slope()))}; });
  if (metrics) *metrics = m;
  return model.w.to_vector<double>();
}

TEST(TrainerClipping, OffByDefaultThenScalesTheStepToTheGivenNorm) {
  std::vector<nlohmann::json> metrics;
  std::vector<double> w = weights_after_one_step(0, &metrics);
  EXPECT_DOUBLE_EQ(w[0], 1.0 - 30.0);
  EXPECT_DOUBLE_EQ(w[1], 2.0 - 40.0);
  for (const auto& m : metrics) EXPECT_FALSE(m.contains("grad_norm"));

  // Clipped to norm 5: the gradient becomes (3, 4), up to the 1e-6 that clip_grad_norm_ adds
  // to the norm it divides by (as PyTorch does).
  w = weights_after_one_step(5, &metrics);
  EXPECT_NEAR(w[0], 1.0 - 3.0, 1e-6);
  EXPECT_NEAR(w[1], 2.0 - 4.0, 1e-6);
  bool logged = false;
  for (const auto& m : metrics)
    if (m.contains("grad_norm")) {
      EXPECT_NEAR(m["grad_norm"].get<double>(), 50.0, 1e-9);
      logged = true;
    }
  EXPECT_TRUE(logged) << "the norm before clipping goes to metrics.jsonl";

  // A norm already under the limit is left alone.
  w = weights_after_one_step(100, nullptr);
  EXPECT_NEAR(w[0], 1.0 - 30.0, 1e-12);
  EXPECT_NEAR(w[1], 2.0 - 40.0, 1e-12);
}

TEST(TrainerSteps, DeviceScalarsAreLoggedBesideTheLoss) {
  TwoWeights model;
  std::vector<nlohmann::json> metrics = one_step(model, 0, [&] {
    train::StepResult r{ops::sum(ops::mul(model.w, slope()))};  // 30 * 1 + 40 * 2 = 110
    r.metrics["tau"] = 0.5;
    r.scalars = {{"term", Tensor::from_vector<float>({0.1f}, {1})}, {"half", ops::mul(r.loss.detach(), 0.5)}};
    return r;
  });
  ASSERT_FALSE(metrics.empty());
  const nlohmann::json& step = metrics.front();
  ASSERT_TRUE(step.contains("step")) << step.dump();
  EXPECT_EQ(step["loss"].get<double>(), 110.0);
  EXPECT_EQ(step["half"].get<double>(), 55.0);
  EXPECT_EQ(step["term"].get<double>(), double(0.1f));  // the f32 value, exactly
  EXPECT_EQ(step["tau"].get<double>(), 0.5);

  TwoWeights other;
  EXPECT_THROW(one_step(other, 0,
                        [&] {
                          train::StepResult r{ops::sum(ops::mul(other.w, slope()))};
                          r.scalars = {{"pair", Tensor::zeros({2})}};
                          return r;
                        }),
               std::logic_error);
}

}  // namespace
}  // namespace glassbox
