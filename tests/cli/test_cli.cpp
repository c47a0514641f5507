#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include "examples/glassbox/verbs.h"
#include "kernels/registry.h"
#include "tests/support/temp_dir.h"
#include "trainers/data/image_dataset.h"
#include "trainers/metrics_writer.h"
#include "trainers/model_registry.h"
#include "trainers/training_schema.h"

namespace glassbox::cli {
namespace {

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs the built glassbox binary with `args` (a shell-quoted string), after `env`
// assignments ("NAME=value ...") when given.
CommandResult run_glassbox(const std::string& args, const std::string& env = "") {
  const std::string command = env + (env.empty() ? "" : " ") + std::string(GLASSBOX_CLI_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  std::string output;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(CliBinary, UnknownVerbExitsTwoAndListsVerbs) {
  CommandResult r = run_glassbox("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("glassbox: unknown verb 'frobnicate'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("train"), std::string::npos) << r.output;
  EXPECT_EQ(run_glassbox("").exit_code, 2);
}

TEST(CliBinary, EveryVerbHasHelp) {
  for (const char* verb :
       {"train", "eval", "export", "explain", "robustness", "cluster", "compile", "models", "bench"}) {
    CommandResult r = run_glassbox(std::string(verb) + " --help");
    EXPECT_EQ(r.exit_code, 0) << verb << ": " << r.output;
    EXPECT_NE(r.output.find(std::string("usage: glassbox ") + verb), std::string::npos) << r.output;
  }
  EXPECT_EQ(run_glassbox("--help").exit_code, 0);
}

TEST(CliBinary, ModelsSaysNoneIsAvailableInThisBuild) {
  CommandResult r = run_glassbox("models");
  EXPECT_EQ(r.exit_code, 0);
  // The plain binary has no model linked in until models/ registers one.
  if (r.output.find("No model is available") == std::string::npos) {
    EXPECT_FALSE(r.output.empty());
  }
}

// `glassbox train MODEL --help` lists the model's keys with their defaults and allowed values.
TEST(CliBinary, TrainHelpForAModelListsItsKeys) {
  CommandResult r = run_glassbox("train tell --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("tell's keys"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  num_clusters = 10"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(integer >= 2)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  fixed_autoencoder = false"), std::string::npos) << r.output;
  // Without a model, the verb's own help; an unknown model is an error.
  r = run_glassbox("train --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("'s keys"), std::string::npos) << r.output;
  EXPECT_EQ(run_glassbox("train nosuchmodel --help").exit_code, 2);
}

TEST(CliBinary, AskingForCudaWithoutAGpuIsAUsageError) {
  if (kernels::cuda_available()) GTEST_SKIP() << "a GPU is visible";
  CommandResult r = run_glassbox("bench protonet --device cuda --steps 1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("cuda:0 asked for"), std::string::npos) << r.output;
  r = run_glassbox("bench protonet --device cuda:3 --steps 1", "GLASSBOX_EMULATE_CUDA=1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("1 CUDA device(s) are visible"), std::string::npos) << r.output;
}

// A training step (forward, loss, backward, optimiser) of every model reads nothing back from
// the device: each read would make a GPU wait for its queue to drain mid-step. `bench` counts
// the step's device-to-host copies (the trainer reads the loss once, after the step).
TEST(CliBinary, NoModelsTrainingStepReadsTheDevice) {
  if (!std::filesystem::exists(data::default_data_dir("fashion-mnist") / "t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string configs = std::string(GLASSBOX_SOURCE_DIR) + "/examples/configs/";
  for (const std::string model : {"protonet", "cbc", "prob_psenn", "tell"}) {
    CommandResult r = run_glassbox("bench " + model + " --config " + configs + model +
                                       "_demo.cfg --dataset fashion-mnist --device cuda --steps 2 --threads 1",
                                   "GLASSBOX_EMULATE_CUDA=1");
    ASSERT_EQ(r.exit_code, 0) << model << ": " << r.output;
    EXPECT_NE(r.output.find("\"host_reads_per_step\":0.0"), std::string::npos) << model << ": " << r.output;
  }
  for (const std::string task : {"demo", "dyck2"}) {
    CommandResult r = run_glassbox("bench transformer_program --config " + configs + "tp_" + task +
                                       ".cfg --device cuda --steps 2 --threads 1",
                                   "GLASSBOX_EMULATE_CUDA=1");
    ASSERT_EQ(r.exit_code, 0) << task << ": " << r.output;
    EXPECT_NE(r.output.find("\"host_reads_per_step\":0.0"), std::string::npos) << task << ": " << r.output;
  }
}

// Every model trains, evaluates and exports with --device cuda (on the emulated device
// here, so a CPU tensor reaching a device op fails exactly as on a GPU), and its run
// opens on a machine without a GPU (the run verbs fall back to the CPU).
TEST(CliBinary, EveryModelRunsOnTheCudaDevice) {
  if (!std::filesystem::exists(data::default_data_dir("fashion-mnist") / "t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string emulate = "GLASSBOX_EMULATE_CUDA=1";
  const std::string configs = std::string(GLASSBOX_SOURCE_DIR) + "/examples/configs/";
  const std::string images = " --dataset fashion-mnist --validation_size 100 --epochs 1 --threads 1";
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"protonet", "--config " + configs + "protonet_demo.cfg --train_subset 200" + images},
      {"cbc", "--config " + configs + "cbc_demo.cfg --train_subset 200 --attack_samples 10 --attack_steps 2" + images},
      {"prob_psenn", "--config " + configs + "prob_psenn_demo.cfg --train_subset 200 --eval_samples 2" + images},
      {"tell", "--config " + configs + "tell_demo.cfg --subset 300 --dataset fashion-mnist --epochs 1 --threads 1"},
      {"transformer_program", "--config " + configs + "tp_demo.cfg --epochs 1 --threads 1"}};
  testing::TempDir dir;
  for (const auto& [model, args] : runs) {
    const std::string out = (dir.path() / model).string();
    CommandResult r = run_glassbox("train " + model + " " + args + " --device cuda --out " + out, emulate);
    ASSERT_EQ(r.exit_code, 0) << model << ": " << r.output;
    r = run_glassbox("eval " + out + " --json", emulate);
    EXPECT_EQ(r.exit_code, 0) << model << ": " << r.output;
    r = run_glassbox("eval " + out + " --json");
    EXPECT_EQ(r.exit_code, 0) << model << ": " << r.output;
    EXPECT_NE(r.output.find("runs on the CPU"), std::string::npos) << model << ": " << r.output;
  }
}

// `glassbox eval RUN --split val --json FLAGS`'s accuracy.
double val_accuracy(const std::string& run, const std::string& flags = "") {
  CommandResult e = run_glassbox("eval " + run + " --split val --json " + flags);
  EXPECT_EQ(e.exit_code, 0) << e.output;
  return nlohmann::json::parse(e.output.substr(e.output.find('{')))["accuracy"].get<double>();
}

// `glassbox train transformer_program` on tp_demo.cfg, 1 thread, with `flags`, into `out`.
CommandResult train_tp_demo(const std::string& out, const std::string& flags) {
  const std::string config = std::string(GLASSBOX_SOURCE_DIR) + "/examples/configs/tp_demo.cfg";
  return run_glassbox("train transformer_program --config " + config + " --threads 1 " + flags + " --out " + out);
}

// The paper's Table 1 selection (best of 5 seeds by validation accuracy) as --restarts:
// the run becomes the chosen restart, so eval and compile on it see that model and its
// data split (the seed draws the split).
TEST(CliBinary, TransformerProgramRestartsKeepTheBestValidationRun) {
  testing::TempDir dir;
  const std::string out = (dir.path() / "tp").string();
  CommandResult r = train_tp_demo(out, "--epochs 1 --restarts 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json selection = read_metrics(std::filesystem::path(out) / "metrics.jsonl").back();
  ASSERT_EQ(selection["restarts"].size(), 2u) << selection;
  const int64_t chosen = selection["chosen_restart"];
  const double kept = val_accuracy(out);
  EXPECT_DOUBLE_EQ(kept, val_accuracy(out + "/restart-" + std::to_string(chosen)));
  EXPECT_DOUBLE_EQ(kept, selection["restarts"][size_t(chosen)]["val_accuracy"].get<double>());
  EXPECT_GE(kept, selection["restarts"][size_t(1 - chosen)]["val_accuracy"].get<double>());
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(out) / "exports" / "program.py"));
  r = run_glassbox("compile " + out + " -o " + out + "/p.py --verify");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("(100.00%)"), std::string::npos) << r.output;
}

// --restart_jobs 2 trains the restarts two at a time in child processes (each logging to
// RUN/restart-R.log); the selection, and every restart's result, is the same as one by one.
TEST(CliBinary, RestartsInParallelProcessesMatchRestartsInTurn) {
  testing::TempDir dir;
  const std::string in_turn = (dir.path() / "in_turn").string(), parallel = (dir.path() / "parallel").string();
  CommandResult r = train_tp_demo(in_turn, "--epochs 1 --restarts 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = train_tp_demo(parallel, "--epochs 1 --restarts 3 --restart_jobs 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("restart 2 (seed 2): training in a process of its own"), std::string::npos) << r.output;
  const nlohmann::json a = read_metrics(std::filesystem::path(in_turn) / "metrics.jsonl").back();
  const nlohmann::json b = read_metrics(std::filesystem::path(parallel) / "metrics.jsonl").back();
  EXPECT_EQ(a["chosen_restart"], b["chosen_restart"]);
  ASSERT_EQ(b["restarts"].size(), 3u) << b;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a["restarts"][i]["val_accuracy"], b["restarts"][i]["val_accuracy"]) << i;
    EXPECT_EQ(a["restarts"][i]["test_accuracy"], b["restarts"][i]["test_accuracy"]) << i;
    EXPECT_TRUE(std::filesystem::exists(parallel + "/restart-" + std::to_string(i) + ".log")) << i;
  }
  EXPECT_DOUBLE_EQ(val_accuracy(in_turn), val_accuracy(parallel));
}

// A restart that died before its first checkpoint (its folder holds the configuration and a
// few logged steps) is resumed in a process of its own like the others: it starts over, and
// ends with the metrics and result of a restart that never stopped.
TEST(CliBinary, ARestartStoppedBeforeItsFirstCheckpointResumesInItsOwnProcess) {
  namespace fs = std::filesystem;
  testing::TempDir dir;
  const fs::path whole = dir.path() / "whole", stopped = dir.path() / "stopped";
  CommandResult r = train_tp_demo(whole.string(), "--epochs 1 --restarts 2 --restart_jobs 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The stopped run: restart 0 finished, restart 1 logged two steps and no checkpoint.
  fs::create_directories(stopped / "restart-1");
  for (const char* file : {"run.json", "config.cfg"}) {
    fs::copy_file(whole / file, stopped / file);
    fs::copy_file(whole / "restart-1" / file, stopped / "restart-1" / file);
  }
  fs::copy(whole / "restart-0", stopped / "restart-0", fs::copy_options::recursive);
  const std::vector<nlohmann::json> logged = read_metrics(whole / "restart-1" / "metrics.jsonl");
  ASSERT_GE(logged.size(), 2u);
  std::ofstream(stopped / "restart-1" / "metrics.jsonl") << logged[0].dump() << "\n" << logged[1].dump() << "\n";

  r = train_tp_demo(stopped.string(), "--epochs 1 --restarts 2 --restart_jobs 2 --resume");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("restart 1 (seed 1): training in a process of its own"), std::string::npos) << r.output;
  auto without_times = [](std::vector<nlohmann::json> records) {
    for (nlohmann::json& m : records) {
      m.erase("epoch_seconds");
      m.erase("seconds");
    }
    return records;
  };
  EXPECT_EQ(without_times(read_metrics(stopped / "restart-1" / "metrics.jsonl")), without_times(logged));
  const nlohmann::json a = read_metrics(whole / "metrics.jsonl").back();
  const nlohmann::json b = read_metrics(stopped / "metrics.jsonl").back();
  EXPECT_EQ(a["chosen_restart"], b["chosen_restart"]);
  EXPECT_EQ(a["restarts"][1]["val_accuracy"], b["restarts"][1]["val_accuracy"]);
  EXPECT_DOUBLE_EQ(val_accuracy(whole.string()), val_accuracy(stopped.string()));
}

// The run verbs load the latest checkpoint, or with --checkpoint an epoch's kept copy.
TEST(CliBinary, RunVerbsLoadAnEarlierCheckpointOnRequest) {
  testing::TempDir dir;
  const std::string out = (dir.path() / "tp").string();
  CommandResult r = train_tp_demo(out, "--epochs 2 --eval_every 1 --checkpoint_every 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto accuracy = [&](const std::string& flags) { return val_accuracy(out, flags); };
  const std::vector<nlohmann::json> metrics = read_metrics(std::filesystem::path(out) / "metrics.jsonl");
  double val_after_first_epoch = -1;
  for (const nlohmann::json& m : metrics)
    if (m.value("epoch", 0.0) == 1.0 && m.contains("val_accuracy")) val_after_first_epoch = m["val_accuracy"];
  ASSERT_GE(val_after_first_epoch, 0.0) << "no validation accuracy logged after epoch 1";
  EXPECT_DOUBLE_EQ(accuracy("--checkpoint 1"), val_after_first_epoch);
  EXPECT_DOUBLE_EQ(accuracy("--checkpoint epoch-0002"), accuracy(""));
  EXPECT_DOUBLE_EQ(accuracy("--checkpoint latest"), accuracy(""));
  // best: the kept epoch whose logged validation accuracy is highest (the earlier on a tie).
  double val_after_second_epoch = -1;
  for (const nlohmann::json& m : metrics)
    if (m.value("epoch", 0.0) == 2.0 && m.contains("val_accuracy")) val_after_second_epoch = m["val_accuracy"];
  const int best_epoch = val_after_second_epoch > val_after_first_epoch ? 2 : 1;
  EXPECT_DOUBLE_EQ(accuracy("--checkpoint best"), std::max(val_after_first_epoch, val_after_second_epoch));
  r = run_glassbox("eval " + out + " --split val --checkpoint best --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("best by validation: epoch " + std::to_string(best_epoch)), std::string::npos) << r.output;
  // --json says which checkpoint it evaluated.
  const nlohmann::json j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(j["checkpoint"]["name"], "epoch-000" + std::to_string(best_epoch));
  EXPECT_EQ(j["checkpoint"]["epoch"], best_epoch);
  r = run_glassbox("eval " + out + " --split val --json");
  const nlohmann::json latest = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(latest["checkpoint"]["name"], "latest");
  EXPECT_EQ(latest["checkpoint"]["epoch"], 2);
  r = run_glassbox("eval " + out + " --checkpoint 7");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("epoch-0007.safetensors: no such checkpoint; the run has: epoch-0001, epoch-0002, latest"),
            std::string::npos)
      << r.output;
  r = run_glassbox("eval " + out + " --checkpoint ../x");
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST(CliBinary, UnknownModelFlagAndRunAreUsageErrors) {
  CommandResult r = run_glassbox("train no_such_model --epochs 1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown model 'no_such_model'"), std::string::npos) << r.output;
  r = run_glassbox("eval some_run --bogus");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unrecognised option '--bogus'"), std::string::npos) << r.output;
  r = run_glassbox("eval /nonexistent/run");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/nonexistent/run: no such run folder"), std::string::npos) << r.output;
  r = run_glassbox("explain /nonexistent/run");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--index"), std::string::npos) << r.output;
  r = run_glassbox("train");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("which model?"), std::string::npos) << r.output;
  r = run_glassbox("cluster /nonexistent/run");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--input"), std::string::npos) << r.output;
  r = run_glassbox("compile /nonexistent/run");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("-o PROGRAM.py"), std::string::npos) << r.output;
}

// In-process: a stand-in model registered by this test, to drive the verbs through
// the config and run-folder paths a real model takes.
struct Recorded {
  std::optional<int64_t> epochs;
  std::optional<double> lr;
  std::string data_dir;
  std::optional<int64_t> threads;
  std::string eval_split;
  std::string ood_dataset, ood_data_dir;
};
Recorded recorded;

const bool registered = [] {
  ConfigSchema schema = common_training_schema();
  schema.add("lr", ConfigType::real, "0.002", "learning rate").above(0);
  register_model({.name = "cli_test_model",
                  .summary = "stand-in for the CLI tests",
                  .schema = schema,
                  .train =
                      [](const TrainRequest& r) {
                        recorded.epochs = r.config.get_int("epochs");
                        recorded.lr = r.config.get_double("lr");
                        recorded.data_dir = r.config.get_string("data_dir");
                        if (r.config.get_string("dataset") == "mnist") {
                          data::load_dataset("mnist", data::Split::train, recorded.data_dir);
                        }
                        // As a real model's training does: the folder now holds a started run.
                        std::ofstream(r.run.metrics_file(), std::ios::app) << "{}\n";
                      },
                  .eval =
                      [](const EvalRequest& r) {
                        recorded.eval_split = r.split;
                        recorded.data_dir = r.config.get_string("data_dir");
                        recorded.threads = r.config.get_int("threads");
                      },
                  .eval_ood =
                      [](const OodEvalRequest& r) {
                        recorded.eval_split = r.split;
                        recorded.ood_dataset = r.ood_dataset;
                        recorded.ood_data_dir = r.ood_data_dir;
                      }});
  return true;
}();

std::string usage_error_of(int (*verb)(const Args&), const Args& args) {
  try {
    verb(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CliVerbs, TrainAppliesConfigFileThenFlagsThenOverrides) {
  glassbox::testing::TempDir dir;
  auto cfg = dir.write("m.cfg", "epochs = 5\nlr = 0.1\n");
  const std::string out = (dir / "run").string();
  recorded = {};
  EXPECT_EQ(train_verb({"cli_test_model", "--config", cfg.string(), "--epochs", "3", "--out", out, "--lr=0.25",
                        "--data-dir", "/somewhere"}),
            0);
  EXPECT_EQ(recorded.epochs, 3);
  EXPECT_EQ(recorded.lr, 0.25);
  EXPECT_EQ(recorded.data_dir, "/somewhere");
  RunFolder run = RunFolder::open(out);
  EXPECT_EQ(run.model_name(), "cli_test_model");
  EXPECT_EQ(run.info()["config"]["epochs"], 3);

  // eval finds the model through the run folder.
  EXPECT_EQ(eval_verb({out, "--split", "val"}), 0);
  EXPECT_EQ(recorded.eval_split, "val");
  EXPECT_EQ(recorded.data_dir, "/somewhere");
  EXPECT_TRUE(recorded.ood_dataset.empty());
  // --threads and --data-dir replace the run's settings for this command only.
  EXPECT_EQ(eval_verb({out, "--data-dir", "/elsewhere", "--threads", "1"}), 0);
  EXPECT_EQ(recorded.data_dir, "/elsewhere");
  EXPECT_EQ(recorded.threads, 1);
  EXPECT_EQ(RunFolder::open(out).info()["config"]["data_dir"], "/somewhere");
  EXPECT_NE(usage_error_of(eval_verb, {out, "--threads", "-1"}).find("threads must be >= 0"), std::string::npos);
  // --ood-dataset goes to the model's out-of-distribution evaluation instead.
  EXPECT_EQ(eval_verb({out, "--ood-dataset", "fashion-mnist", "--ood-data-dir", "/ood"}), 0);
  EXPECT_EQ(recorded.eval_split, "test");
  EXPECT_EQ(recorded.ood_dataset, "fashion-mnist");
  EXPECT_EQ(recorded.ood_data_dir, "/ood");
  EXPECT_NE(usage_error_of(export_verb, {out}).find("does not support `glassbox export`"), std::string::npos);

  // The same folder again needs --resume, which keeps the saved config.
  EXPECT_NE(usage_error_of(train_verb, {"cli_test_model", "--out", out}).find("--resume"), std::string::npos);
  recorded = {};
  EXPECT_EQ(train_verb({"cli_test_model", "--out", out, "--resume", "--epochs", "4"}), 0);
  EXPECT_EQ(recorded.epochs, 4);
  EXPECT_EQ(recorded.lr, 0.25);
}

TEST(CliVerbs, UnknownKeysAndBadValuesAreRejectedNamingTheKey) {
  glassbox::testing::TempDir dir;
  const std::string out = (dir / "run").string();
  std::string m = usage_error_of(train_verb, {"cli_test_model", "--out", out, "--lrate", "0.1"});
  EXPECT_NE(m.find("unknown key 'lrate'"), std::string::npos) << m;
  m = usage_error_of(train_verb, {"cli_test_model", "--out", out, "--epochs", "ten"});
  EXPECT_NE(m.find("key 'epochs' expects an integer, got 'ten'"), std::string::npos) << m;
  auto cfg = dir.write("bad.cfg", "epochs = 2\nmomentum = 0.9\n");
  m = usage_error_of(train_verb, {"cli_test_model", "--config", cfg.string(), "--out", out});
  EXPECT_NE(m.find("bad.cfg:2: unknown key 'momentum'"), std::string::npos) << m;
  m = usage_error_of(train_verb, {"cli_test_model", "--out", out, "--device", "tpu"});
  EXPECT_NE(m.find("unknown device 'tpu'"), std::string::npos) << m;
  m = usage_error_of(train_verb, {"cli_test_model", "--out", out, "--threads", "-2"});
  EXPECT_NE(m.find("threads must be >= 0"), std::string::npos) << m;
  m = usage_error_of(train_verb, {"cli_test_model", "--out", out, "--epochs", "0"});
  EXPECT_NE(m.find("command line (--epochs): epochs must be >= 1, got '0'"), std::string::npos) << m;
  m = usage_error_of(train_verb, {"cli_test_model", "--out", out, "--batch_size", "-5"});
  EXPECT_NE(m.find("batch_size must be >= 1, got '-5'"), std::string::npos) << m;
  // The model's own keys too: ranges and choices are checked before anything is made.
  m = usage_error_of(train_verb, {"cli_test_model", "--out", out, "--lr", "0"});
  EXPECT_NE(m.find("command line (--lr): lr must be > 0, got '0'"), std::string::npos) << m;
  m = usage_error_of(train_verb, {"cli_test_model", "--out", out, "--dataset", "cifar"});
  EXPECT_NE(m.find("dataset must be fashion-mnist or mnist, got 'cifar'"), std::string::npos) << m;
  EXPECT_FALSE(std::filesystem::exists(dir / "run")) << "a rejected command must not create its run folder";
}

TEST(CliVerbs, MissingDataSaysHowToGetIt) {
  glassbox::testing::TempDir dir;
  std::string m = usage_error_of(train_verb, {"cli_test_model", "--out", (dir / "run").string(), "--dataset", "mnist",
                                              "--data-dir", (dir / "no-data").string()});
  EXPECT_NE(m.find("data set 'mnist' not found"), std::string::npos) << m;
  EXPECT_NE(m.find("./run data mnist"), std::string::npos) << m;
  // The failed start left only its configuration: the corrected command may use the same folder.
  EXPECT_EQ(train_verb({"cli_test_model", "--out", (dir / "run").string()}), 0);
  EXPECT_TRUE(RunFolder::open(dir / "run").started());
}

TEST(CliVerbs, ModelSpecificVerbsSayWhenAModelLacksThem) {
  glassbox::testing::TempDir dir;
  const std::string out = (dir / "run").string();
  ASSERT_EQ(train_verb({"cli_test_model", "--out", out}), 0);
  EXPECT_NE(usage_error_of(robustness_verb, {out}).find("does not support `glassbox robustness`"), std::string::npos);
  EXPECT_NE(usage_error_of(cluster_verb, {out, "--input", "x.idx"}).find("does not support `glassbox cluster`"),
            std::string::npos);
  EXPECT_NE(usage_error_of(compile_verb, {out, "-o", "p.py"}).find("does not support `glassbox compile`"),
            std::string::npos);
  EXPECT_NE(usage_error_of(robustness_verb, {out, "--split", "dev"}).find("--split must be test, val or train"),
            std::string::npos);
}

}  // namespace
}  // namespace glassbox::cli
