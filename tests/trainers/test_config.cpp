#include <gtest/gtest.h>

#include <algorithm>
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

TEST(Config, RangesAndChoicesAreCheckedWhereTheValueIsSet) {
  ConfigSchema s;
  s.add("layers", ConfigType::integer, "2", "")
      .at_least(1)
      .add("lr", ConfigType::real, "0.1", "")
      .above(0)
      .add("rho", ConfigType::real, "0.9", "")
      .at_least(0)
      .at_most(1)
      .add("mode", ConfigType::text, "fast", "")
      .one_of({"fast", "exact", "off"});
  Config c(s);
  EXPECT_EQ(error_of([&] {
              c.apply_overrides({"--layers", "0"});
            }),
            "command line (--layers): layers must be >= 1, got '0'");
  EXPECT_EQ(error_of([&] { c.load_text("lr = 0\n", "p.cfg"); }), "p.cfg:1: lr must be > 0, got '0'");
  EXPECT_EQ(error_of([&] { c.load_text("rho = 1.5\n", "p.cfg"); }), "p.cfg:1: rho must be <= 1, got '1.5'");
  EXPECT_EQ(error_of([&] { c.load_text("rho = -0.5\n", "p.cfg"); }), "p.cfg:1: rho must be >= 0, got '-0.5'");
  EXPECT_EQ(error_of([&] {
              c.apply_overrides({"--mode", "slow"});
            }),
            "command line (--mode): mode must be fast, exact or off, got 'slow'");
  EXPECT_EQ(c.get_int("layers"), 2) << "a rejected value leaves the old one in place";
  EXPECT_EQ(c.origin("layers"), "default");
  // The bounds themselves are allowed.
  c.apply_overrides({"--layers", "1", "--rho", "0", "--mode", "off", "--lr", "1e-9"});
  EXPECT_EQ(c.get_int("layers"), 1);
  EXPECT_EQ(c.get_string("mode"), "off");
  EXPECT_EQ(c.origin("lr"), "command line (--lr)");
  // merge keeps the constraints.
  ConfigSchema merged;
  merged.merge(s);
  EXPECT_THROW(Config(merged).apply_overrides({"--layers", "0"}), ConfigError);
}

TEST(Config, ConstraintsThatDoNotFitTheKeyAreProgrammingErrors) {
  ConfigSchema s;
  EXPECT_THROW(s.at_least(0), std::logic_error) << "no key yet";
  s.add("mode", ConfigType::text, "fast", "");
  EXPECT_THROW(s.at_least(0), std::logic_error) << "a range on a text key";
  EXPECT_THROW(s.one_of({"exact"}), std::logic_error) << "the default is not among the choices";
  s.add("n", ConfigType::integer, "0", "");
  EXPECT_THROW(s.one_of({"0"}), std::logic_error) << "choices on a number";
  EXPECT_THROW(s.above(0), std::logic_error) << "the default is out of range";
}

// `glassbox train MODEL --help` lists the schema: each key with its default, help, type and allowed values.
TEST(Config, DescribeKeysListsEveryKeyWithItsDefaultAndAllowedValues) {
  ConfigSchema s;
  s.add("epochs", ConfigType::integer, "10", "passes over the data")
      .at_least(1)
      .add("rho", ConfigType::real, "0.9", "decay")
      .at_least(0)
      .at_most(1)
      .add("lr", ConfigType::real, "0.1", "step size")
      .above(0)
      .add("activation", ConfigType::text, "relu", "nonlinearity")
      .one_of({"sigmoid", "relu", "tanh"})
      .add("mode", ConfigType::text, "a", "a or b")
      .one_of({"a", "b"})
      .add("shuffle", ConfigType::boolean, "true", "reorder each epoch");
  const std::string text = describe_keys(s);
  EXPECT_NE(text.find("  epochs = 10                 passes over the data (integer >= 1)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("rho = 0.9"), std::string::npos) << text;
  EXPECT_NE(text.find("decay (number >= 0 and <= 1)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("step size (number > 0)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("nonlinearity (sigmoid, relu or tanh)\n"), std::string::npos) << text;
  // Choices the help already names are not repeated.
  EXPECT_NE(text.find("mode = a                    a or b\n"), std::string::npos) << text;
  EXPECT_NE(text.find("reorder each epoch (true or false)\n"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 6);
}

}  // namespace
}  // namespace glassbox
