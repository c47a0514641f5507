#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"
#include "trainers/model_registry.h"
#include "trainers/run_folder.h"
#include "trainers/training_schema.h"

namespace glassbox {
namespace {

TEST(RunFolder, CreateWriteConfigAndReopen) {
  glassbox::testing::TempDir dir;
  const auto root = dir / "runs/demo";
  RunFolder run = RunFolder::create(root, false);
  EXPECT_TRUE(std::filesystem::is_directory(run.checkpoints_dir()));
  EXPECT_TRUE(std::filesystem::is_directory(run.exports_dir()));
  Config config(common_training_schema());
  config.apply_overrides({"--epochs", "2"});
  run.write_config("protonet", config);
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << "left behind: " << entry.path();
  }
  RunFolder opened = RunFolder::open(root);
  EXPECT_EQ(opened.model_name(), "protonet");
  EXPECT_EQ(opened.info()["config"]["epochs"], 2);
  EXPECT_EQ(opened.load_config(common_training_schema()).get_int("epochs"), 2);
}

TEST(RunFolder, RefusesToOverwriteAndResumesOnlyExistingRuns) {
  glassbox::testing::TempDir dir;
  const auto root = dir / "run";
  EXPECT_THROW(RunFolder::create(root, true), UsageError);
  RunFolder::create(root, false).write_config("m", Config(common_training_schema()));
  // Only a configuration (the model rejected an option before training): the folder is taken over.
  EXPECT_FALSE(RunFolder::open(root).started());
  EXPECT_NO_THROW(RunFolder::create(root, false));
  // Once training has written anything, starting over needs another folder; --resume continues it.
  for (const std::string begun : {"metrics.jsonl", "checkpoints/latest.json", "restart-0"}) {
    SCOPED_TRACE(begun);
    const auto path = dir / ("started-" + std::to_string(begun.size()));
    RunFolder::create(path, false).write_config("m", Config(common_training_schema()));
    if (begun == "restart-0")
      std::filesystem::create_directories(path / begun);
    else
      std::ofstream(path / begun) << "{}\n";
    EXPECT_TRUE(RunFolder::open(path).started());
    EXPECT_THROW(RunFolder::create(path, false), UsageError);
    EXPECT_NO_THROW(RunFolder::create(path, true));
  }
  EXPECT_NO_THROW(RunFolder::create(root, true));
  EXPECT_THROW(RunFolder::open(dir / "nothing"), UsageError);
  EXPECT_THROW(RunFolder::open(dir.path()), UsageError);
}

// --checkpoint best: the kept epoch with the highest validation accuracy; epochs without a
// kept copy cannot be loaded, so they do not count however well they validated.
TEST(RunFolder, BestCheckpointIsTheKeptEpochWithTheHighestValidationAccuracy) {
  glassbox::testing::TempDir dir;
  RunFolder run = RunFolder::create(dir / "run", false);
  run.write_config("m", Config(common_training_schema()));
  EXPECT_THROW(run.best_validated_checkpoint(), UsageError);  // no metrics.jsonl yet
  {
    std::ofstream metrics(run.metrics_file());
    metrics << R"({"step":1,"loss":2.0})"
            << "\n"
            << R"({"epoch":1,"train_loss":2.0})"
            << "\n";  // an epoch without validation
  }
  try {
    run.best_validated_checkpoint();
    ADD_FAILURE() << "expected an error: no validation records";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("this run logged none"), std::string::npos) << e.what();
  }
  {
    std::ofstream metrics(run.metrics_file(), std::ios::app);
    for (const char* line : {R"({"epoch":2,"val_accuracy":0.90})", R"({"epoch":3,"val_accuracy":0.97})",
                             R"({"epoch":4,"val_accuracy":0.95})", R"({"epoch":6,"val_accuracy":0.95})",
                             R"({"epoch":8,"val_accuracy":0.93})"})
      metrics << line << "\n";
  }
  try {
    run.best_validated_checkpoint();
    ADD_FAILURE() << "expected an error: no kept checkpoint";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("none of them a kept checkpoint"), std::string::npos) << e.what();
  }
  // Copies kept every 2 epochs: epoch 3's 0.97 has none; 4 and 6 tie at 0.95 and the earlier wins.
  for (int epoch : {2, 4, 6, 8})
    std::ofstream(run.checkpoints_dir() / (RunFolder::epoch_checkpoint_stem(epoch) + ".safetensors"));
  const RunFolder::ValidatedCheckpoint best = run.best_validated_checkpoint();
  EXPECT_EQ(best.epoch, 4);
  EXPECT_DOUBLE_EQ(best.val_accuracy, 0.95);
  EXPECT_EQ(best.candidates, 4);
  run.select_checkpoint("best");
  EXPECT_EQ(run.model_checkpoint(), run.checkpoints_dir() / "epoch-0004.safetensors");
}

TEST(RunFolder, DefaultPathNamesModelAndTime) {
  const std::string p = RunFolder::default_path("protonet").string();
  EXPECT_EQ(p.rfind("runs/protonet-", 0), 0u) << p;
  EXPECT_EQ(p.size(), std::string("runs/protonet-20260101-120000").size()) << p;
}

TEST(ModelRegistry, RegisterFindAndReject) {
  ModelEntry entry{.name = "registry_test_model", .summary = "a test", .schema = common_training_schema()};
  register_model(entry);
  EXPECT_THROW(register_model(entry), std::logic_error);
  ASSERT_NE(find_model("registry_test_model"), nullptr);
  EXPECT_EQ(require_model("registry_test_model").summary, "a test");
  EXPECT_EQ(find_model("nope"), nullptr);
  try {
    require_model("nope");
    FAIL() << "expected an error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown model 'nope' (available: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("registry_test_model"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace glassbox
