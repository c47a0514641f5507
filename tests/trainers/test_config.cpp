#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"
#include "trainers/config.h"

namespace glassbox {
namespace {

ConfigSchema schema() {
  ConfigSchema s;
  s.add("epochs", ConfigType::integer, "10", "passes")
      .add("lr", ConfigType::real, "0.002", "learning rate")
      .add("elastic", ConfigType::boolean, "true", "augment")
      .add("dataset", ConfigType::text, "fashion-mnist", "data")
      .add("data_dir", ConfigType::text, "", "where");
  return s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Config, DefaultsThenFileThenOverrides) {
  Config c(schema());
  EXPECT_EQ(c.get_int("epochs"), 10);
  EXPECT_EQ(c.origin("epochs"), "default");
  c.load_text("# a comment\n\n  epochs = 3   # trailing comment\nlr=1e-3\nelastic = off\ndataset = mnist\n", "p.cfg");
  EXPECT_EQ(c.get_int("epochs"), 3);
  EXPECT_EQ(c.origin("epochs"), "p.cfg:3");
  EXPECT_DOUBLE_EQ(c.get_double("lr"), 1e-3);
  EXPECT_FALSE(c.get_bool("elastic"));
  EXPECT_EQ(c.get_string("dataset"), "mnist");
  c.apply_overrides({"--epochs", "7", "--data-dir=/tmp/x#1", "--elastic", "yes"});
  EXPECT_EQ(c.get_int("epochs"), 7);
  EXPECT_EQ(c.origin("epochs"), "command line (--epochs)");
  EXPECT_EQ(c.get_string("data_dir"), "/tmp/x#1");
  EXPECT_TRUE(c.get_bool("elastic"));
}

TEST(Config, ErrorsNameFileLineAndKey) {
  Config c(schema());
  EXPECT_EQ(error_of([&] { c.load_text("epochs = 3\nepoch = 4\n", "p.cfg"); }),
            "p.cfg:2: unknown key 'epoch' (known keys: epochs, lr, elastic, dataset, data_dir)");
  EXPECT_EQ(error_of([&] { c.load_text("\nepochs = ten\n", "p.cfg"); }),
            "p.cfg:2: key 'epochs' expects an integer, got 'ten'");
  EXPECT_EQ(error_of([&] { c.load_text("lr = fast\n", "p.cfg"); }), "p.cfg:1: key 'lr' expects a number, got 'fast'");
  EXPECT_EQ(error_of([&] { c.load_text("elastic = maybe\n", "p.cfg"); }),
            "p.cfg:1: key 'elastic' expects a boolean (true/false), got 'maybe'");
  EXPECT_EQ(error_of([&] { c.load_text("epochs 3\n", "p.cfg"); }), "p.cfg:1: expected 'key = value', got 'epochs 3'");
  EXPECT_EQ(error_of([&] { c.load_text("= 3\n", "p.cfg"); }), "p.cfg:1: missing key before '='");
  EXPECT_EQ(error_of([&] { c.load_text("epochs = 1\nepochs = 2\n", "p.cfg"); }),
            "p.cfg:2: key 'epochs' is set twice (first on line 1)");
  EXPECT_EQ(error_of([&] { c.load_text("epochs = 1.5\n", "p.cfg"); }),
            "p.cfg:1: key 'epochs' expects an integer, got '1.5'");
  EXPECT_EQ(error_of([&] { c.load_text("epochs = 99999999999999999999\n", "p.cfg"); }),
            "p.cfg:1: key 'epochs' expects an integer, got '99999999999999999999'");
}

TEST(Config, OverrideErrors) {
  Config c(schema());
  EXPECT_EQ(error_of([&] {
              c.apply_overrides({"--bogus", "1"});
            }),
            "command line (--bogus): unknown key 'bogus' (known keys: epochs, lr, elastic, dataset, data_dir)");
  EXPECT_EQ(error_of([&] { c.apply_overrides({"--epochs"}); }), "command line: option '--epochs' needs a value");
  EXPECT_EQ(error_of([&] {
              c.apply_overrides({"epochs", "3"});
            }),
            "command line: expected an option '--key value', got 'epochs'");
  EXPECT_EQ(error_of([&] {
              c.apply_overrides({"--lr", "nan"});
            }),
            "command line (--lr): key 'lr' expects a number, got 'nan'");
}

TEST(Config, FileRoundTripAndJson) {
  glassbox::testing::TempDir dir;
  Config c(schema());
  c.apply_overrides({"--epochs", "4", "--lr", "0.5"});
  auto path = dir.write("resolved.cfg", c.to_text());
  Config back = Config::from_file(path, schema());
  EXPECT_EQ(back.get_int("epochs"), 4);
  EXPECT_DOUBLE_EQ(back.get_double("lr"), 0.5);
  EXPECT_EQ(back.origin("lr"), "resolved.cfg:4");
  nlohmann::json j = back.to_json();
  EXPECT_EQ(j["epochs"], 4);
  EXPECT_EQ(j["elastic"], true);
  EXPECT_EQ(j["data_dir"], "");
  EXPECT_NE(error_of([&] { Config::from_file(dir / "missing.cfg", schema()); }).find("missing.cfg: cannot open"),
            std::string::npos);
}

TEST(Config, SchemaAndGetterMisuseAreProgrammingErrors) {
  ConfigSchema s = schema();
  EXPECT_THROW(s.add("epochs", ConfigType::integer, "1", ""), std::logic_error);
  EXPECT_THROW(s.add("steps", ConfigType::integer, "many", ""), std::logic_error);
  Config c(schema());
  EXPECT_THROW(c.get_string("epochs"), std::logic_error);
  EXPECT_THROW(c.get_int("nothing"), std::logic_error);
}

}  // namespace
}  // namespace glassbox
