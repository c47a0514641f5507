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
