#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "models/cbc/cbc_task.h"
#include "models/prob_psenn/prob_psenn_task.h"
#include "models/protonet/protonet_task.h"
#include "models/tell/tell_task.h"
#include "models/transformer_programs/program_task.h"

namespace glassbox {
namespace {

// Every config in examples/configs loads against its model's schema (a mistyped key or
// value in a shipped file would otherwise surface only when a user runs it). The model is
// named by the file's prefix.
TEST(ShippedConfigs, EveryFileLoadsAgainstItsModelsSchema) {
  const std::map<std::string, std::function<ConfigSchema()>> schema_of_prefix = {
      {"protonet_", models::protonet_schema},     {"prob_psenn_", models::prob_psenn_schema},
      {"cbc_", models::cbc_schema},               {"tell_", models::tell_schema},
      {"tp_", models::transformer_program_schema}};
  const std::filesystem::path dir = std::filesystem::path(GLASSBOX_SOURCE_DIR) / "examples" / "configs";
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".cfg") continue;
    const std::string name = entry.path().filename().string();
    const std::function<ConfigSchema()>* schema = nullptr;
    for (const auto& [prefix, make] : schema_of_prefix)
      if (name.rfind(prefix, 0) == 0) schema = &make;
    ASSERT_NE(schema, nullptr) << name << ": no model for this file name's prefix";
    EXPECT_NO_THROW(Config::from_file(entry.path(), (*schema)())) << name;
    ++loaded;
  }
  EXPECT_GE(loaded, 20);
}

}  // namespace
}  // namespace glassbox
