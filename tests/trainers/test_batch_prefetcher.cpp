// BatchPrefetcher hands out exactly the loader's batches, whatever the order they are asked
// for in, passes the loader's errors on, and a training run with it takes the same steps as
// one without (it is on by default on a GPU, see TrainerOptions::prefetch_batches).
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "engine/nn/module.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "engine/optim/sgd.h"
#include "tests/support/synthetic_images.h"
#include "tests/support/temp_dir.h"
#include "trainers/data/batch_prefetcher.h"
#include "trainers/metrics_writer.h"
#include "trainers/trainer.h"
#include "trainers/training_schema.h"

namespace glassbox {
namespace {

const data::LoaderOptions kDeformed{.batch_size = 7, .seed = 5, .elastic = data::ElasticParams{.alpha = 8.0, .sigma = 2.0}};

void expect_same_batch(const data::Batch& got, const data::Batch& expected) {
  EXPECT_EQ(got.images.to_vector<float>(), expected.images.to_vector<float>());
  EXPECT_EQ(got.labels.to_vector<int64_t>(), expected.labels.to_vector<int64_t>());
}

TEST(BatchPrefetcher, GivesTheLoadersBatchesInAnyOrder) {
  const data::ImageDataset d = testing::synthetic_images(30, 3, 1);
  data::DataLoader reference(d, kDeformed), prefetched(d, kDeformed);
  data::BatchPrefetcher prefetcher(prefetched);
  ASSERT_EQ(reference.num_batches(), 5);
  // In order across an epoch boundary (the prefetched case), then jumps as a resume makes.
  const std::vector<std::pair<int64_t, int64_t>> order{{0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {1, 0}, {1, 1},
                                                       {3, 2}, {3, 3}, {0, 4}, {2, 0}, {2, 0}};
  for (auto [epoch, b] : order) {
    SCOPED_TRACE("epoch " + std::to_string(epoch) + ", batch " + std::to_string(b));
    expect_same_batch(prefetcher.take(epoch, b), reference.batch(epoch, b));
  }
}

TEST(BatchPrefetcher, PassesTheLoadersErrorsOn) {
  const data::ImageDataset d = testing::synthetic_images(10, 2, 1);
  data::DataLoader loader(d, {.batch_size = 5});
  data::BatchPrefetcher prefetcher(loader);
  EXPECT_THROW(prefetcher.take(0, 2), std::out_of_range);
  data::DataLoader reference(d, {.batch_size = 5});
  expect_same_batch(prefetcher.take(0, 1), reference.batch(0, 1));
}

struct MeanPixelWeight : nn::Module {
  MeanPixelWeight() { w = register_parameter("w", Tensor::from_vector<float>({0.5f}, {1})); }
  nn::Parameter w;
};

/// Three epochs of SGD on (w * mean pixel - label)^2 over deformed batches; the losses logged.
std::vector<double> losses(bool prefetch) {
  glassbox::testing::TempDir dir;
  const RunFolder run = RunFolder::create(dir / "run", false);
  ConfigSchema schema = training_loop_schema("3", "7");
  Config config(schema);
  run.write_config("prefetch", config);
  MeanPixelWeight model;
  optim::SgdOptions sgd;
  sgd.lr = 0.1;
  optim::SGD optimizer(model.parameters(), sgd);
  train::TrainerOptions options;
  options.model_name = "prefetch";
  options.epochs = 3;
  options.show_progress = false;
  options.prefetch_batches = prefetch;
  train::Trainer trainer(model, optimizer, run, config, options);
  const data::ImageDataset d = testing::synthetic_images(30, 3, 2);
  data::DataLoader loader(d, kDeformed);
  trainer.fit(
      loader,
      [&](const data::Batch& batch, int64_t) {
        Tensor pixel_mean = ops::mean(batch.images);
        Tensor label_mean = ops::mean(batch.labels.to(DType::f32));
        Tensor err = ops::sub(ops::mul(model.w, pixel_mean), label_mean);
        return train::StepResult{ops::sum(ops::mul(err, err))};
      },
      nullptr, false);
  std::vector<double> out;
  for (const auto& m : read_metrics(run.metrics_file()))
    if (m.contains("loss")) out.push_back(m["loss"].get<double>());
  return out;
}

TEST(BatchPrefetcher, TrainingWithItTakesTheSameSteps) {
  const std::vector<double> without = losses(false);
  ASSERT_EQ(without.size(), 15u);
  EXPECT_EQ(losses(true), without);
}

TEST(BatchPrefetcher, TheConfigKeyTurnsItOnOrOff) {
  Config config(common_training_schema());
  EXPECT_FALSE(trainer_options(config, "m").prefetch_batches) << "auto: off on the CPU";
  config.apply_overrides({"--prefetch_batches", "true"});
  EXPECT_TRUE(trainer_options(config, "m").prefetch_batches);
  config.apply_overrides({"--prefetch_batches", "false"});
  EXPECT_FALSE(trainer_options(config, "m").prefetch_batches);
  try {
    config.apply_overrides({"--prefetch_batches", "sometimes"});
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "command line (--prefetch_batches): prefetch_batches must be auto, true or false, got 'sometimes'");
  }
}

}  // namespace
}  // namespace glassbox
