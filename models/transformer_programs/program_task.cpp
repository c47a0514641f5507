#include "models/transformer_programs/program_task.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "engine/autograd/grad_mode.h"
#include "engine/io/atomic_file.h"
#include "engine/io/json_file.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "engine/storage.h"
#include "models/transformer_programs/program_emit.h"
#include "trainers/data/batch_sampler.h"
#include "trainers/metrics_writer.h"
#include "trainers/restarts.h"
#include "trainers/step_benchmark.h"
#include "trainers/trainer.h"
#include "trainers/training_schema.h"
#include "trainers/usage_error.h"

namespace glassbox::models {

namespace {

constexpr const char* kModelName = "transformer_program";
constexpr int64_t kEvalBatch = 512;

std::unique_ptr<TransformerProgram> build_model(const Config& config, const data::SequenceDataset& data) {
  Generator gen(uint64_t(config.get_int("seed")));
  auto model = std::make_unique<TransformerProgram>(transformer_program_options(config, data), gen);
  model->to(training_device(config));
  return model;
}

std::unique_ptr<TransformerProgram> load_trained(const Config& config, const RunFolder& run,
                                                 const data::SequenceDataset& data) {
  auto model = build_model(config, data);
  train::Trainer::load_model(*model, run);
  model->eval();
  model->set_mode(ChoiceMode::argmax);
  return model;
}

const data::SequenceDataset& split_of(const data::SequenceSplits& s, const std::string& split) {
  if (split == "train") return s.train;
  if (split == "val") return s.validation;
  return s.test;
}

std::string percent(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << 100.0 * v << "%";
  return s.str();
}

// One example per line, its words separated by spaces: the tokens (what the emitted programs'
// main reads) or the targets (one label per position, as the programs print their predictions;
// <pad> where nothing is scored, such as BOS).
std::string example_lines(const data::SequenceDataset& data, std::vector<std::string> data::SequenceExample::*words) {
  std::string text;
  for (int64_t i = 0; i < data.size(); ++i) {
    const data::SequenceExample e = data.example(i);
    const std::vector<std::string>& line = e.*words;
    for (size_t t = 0; t < line.size(); ++t) text += (t ? " " : "") + line[t];
    text += "\n";
  }
  return text;
}

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void run_command(const std::string& command, const std::string& what) {
  const int rc = std::system(command.c_str());
  if (rc != 0) throw std::runtime_error(what + " failed (exit status " + std::to_string(rc) + "): " + command);
}

Program extract(TransformerProgram& model, const Config& config, const data::SequenceDataset& data) {
  return extract_program(model, config.get_string("task"), data.vocab, data.labels);
}

void write_program(const Program& program, const std::string& path, const std::string& source) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext != ".py" && ext != ".cpp")
    throw UsageError("-o " + path + ": the program's file name must end in .py (Python) or .cpp (C++)");
  const std::string text = ext == ".py" ? emit_python(program, source) : emit_cpp(program, source);
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  io::write_bytes_atomic(path, text);
}

nlohmann::json accuracy_json(const SequenceAccuracy& a) {
  return {{"token_accuracy", a.token}, {"sequence_accuracy", a.sequence}, {"tokens", a.tokens}, {"sequences", a.sequences}};
}

}  // namespace

ConfigSchema transformer_program_schema() {
  ConfigSchema s = training_loop_schema("250", "512");
  s.add("task", ConfigType::text, "sort", "reverse, hist, double_hist, sort, most_freq, dyck1, dyck2 or induction")
      .one_of({"reverse", "hist", "double_hist", "sort", "most_freq", "dyck1", "dyck2", "induction"})
      .add("vocab_size", ConfigType::integer, "8", "input vocabulary incl. <pad>, <s> (and </s>) (paper: 8)")
      .add("max_length", ConfigType::integer, "8", "padded length n_ctx incl. <s> (paper: 8; Dyck 16)")
      .add("dataset_size", ConfigType::integer, "20000", "unique examples drawn (split 81/9/10 % train/val/test)")
      .at_least(1)
      .add("k", ConfigType::integer, "0", "cardinality of categorical variables (0: max(max_length, vocabulary))")
      .at_least(0)
      .add("layers", ConfigType::integer, "3", "L, transformer layers")
      .at_least(1)
      .add("cat_heads", ConfigType::integer, "4", "categorical attention heads per layer (H/2 in the paper's tables)")
      .at_least(0)
      .add("num_heads", ConfigType::integer, "4", "numerical attention heads per layer")
      .at_least(0)
      .add("cat_mlps", ConfigType::integer, "2", "categorical MLPs per layer (M/2)")
      .at_least(0)
      .add("num_mlps", ConfigType::integer, "2", "numerical MLPs per layer")
      .at_least(0)
      .add("d_mlp", ConfigType::integer, "64", "hidden width of the MLPs (paper: 64)")
      .at_least(1)
      .add("lr", ConfigType::real, "0.05", "Adam learning rate (paper: 5e-2)")
      .above(0)
      .add("tau_start", ConfigType::real, "3.0", "Gumbel temperature at the first step (paper: 3)")
      .above(0)
      .add("tau_end", ConfigType::real, "0.01", "Gumbel temperature at the last epoch (paper: 0.01)")
      .above(0)
      .add("max_grad_norm", ConfigType::real, "0",
           "clip the gradients' global norm to this before each step (0: off, as in the paper's scripts; its "
           "code's --max_grad_norm)")
      .at_least(0)
      .add("unembed_mask", ConfigType::boolean, "true",
           "never predict <pad> or <unk> (the paper's --unembed_mask; its induction script turns it off)")
      .add("eval_every", ConfigType::integer, "10", "epochs between validation evaluations of the argmax model")
      .at_least(1);
  return train::add_restart_keys(s, "the best validation accuracy is kept");
}

data::SequenceSplits transformer_program_data(const Config& config) {
  data::SequenceTaskOptions o;
  o.task = config.get_string("task");
  o.vocab_size = config.get_int("vocab_size");
  o.max_length = config.get_int("max_length");
  o.dataset_size = config.get_int("dataset_size");
  o.seed = uint64_t(config.get_int("seed"));
  return data::make_sequence_task(o);
}

TransformerProgramOptions transformer_program_options(const Config& config, const data::SequenceDataset& data) {
  TransformerProgramOptions o;
  o.vocab_size = int64_t(data.vocab.size());
  o.num_classes = int64_t(data.labels.size());
  o.n_ctx = data.n_ctx;
  o.k = config.get_int("k");
  if (o.k == 0) o.k = std::max(o.n_ctx, o.vocab_size);
  if (o.k < o.n_ctx || o.k < o.vocab_size)
    throw ConfigError(config.origin("k") + ": k = " + std::to_string(o.k) + " is below the sequence length (" +
                      std::to_string(o.n_ctx) + ") or the vocabulary (" + std::to_string(o.vocab_size) + ")");
  o.layers = config.get_int("layers");
  o.cat_heads = config.get_int("cat_heads");
  o.num_heads = config.get_int("num_heads");
  o.cat_mlps = config.get_int("cat_mlps");
  o.num_mlps = config.get_int("num_mlps");
  o.d_mlp = config.get_int("d_mlp");
  o.causal = data.causal;
  // The paper's code (--unembed_mask, on by default) masks the <pad> and <unk> outputs; its
  // induction script turns that off, and then every output, <pad> included, can be predicted.
  o.masked_classes = {};
  if (config.get_bool("unembed_mask")) {
    o.masked_classes.push_back(0);  // <pad>
    for (size_t c = 1; c < data.labels.size(); ++c)
      if (data.labels[c] == data::kUnk) o.masked_classes.push_back(int64_t(c));
  }
  return o;
}

SequenceAccuracy argmax_accuracy(TransformerProgram& model, const data::SequenceDataset& data) {
  NoGradGuard no_grad;
  model.set_mode(ChoiceMode::argmax);
  SequenceAccuracy a;
  a.confusion.emplace(data.labels);
  int64_t right_sequences = 0;
  for (int64_t start = 0; start < data.size(); start += kEvalBatch) {
    const int64_t len = std::min(kEvalBatch, data.size() - start);
    const Tensor logits = model.forward(data.tokens.narrow(0, start, len).to(model.device())).logits;
    const Tensor targets = data.targets.narrow(0, start, len).contiguous();
    const std::vector<int64_t> pred = TransformerProgram::predict(logits).to_vector<int64_t>();
    const std::vector<int64_t> tgt = targets.to_vector<int64_t>();
    // The loss is a mean over sequences: weight each batch by its sequences.
    a.loss += TransformerProgram::loss(logits, targets.to(model.device())).item() * double(len);
    for (int64_t r = 0; r < len; ++r) {
      bool all = true;
      for (int64_t t = 0; t < data.n_ctx; ++t) {
        const size_t i = size_t(r * data.n_ctx + t);
        if (tgt[i] == 0) continue;
        a.confusion->add(pred[i], tgt[i]);
        all = all && pred[i] == tgt[i];
      }
      right_sequences += all;
      ++a.sequences;
    }
  }
  // Token accuracy over the scored positions is the confusion matrix's (0 when there are none).
  a.tokens = a.confusion->total();
  a.token = a.confusion->accuracy();
  a.sequence = a.sequences ? double(right_sequences) / double(a.sequences) : 0.0;
  a.loss = data.size() > 0 ? a.loss / double(data.size()) : 0.0;
  return a;
}

VerifyReport verify_program(TransformerProgram& model, const data::SequenceDataset& data, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path program = fs::absolute(path);
  const fs::path work = fs::temp_directory_path() / ("glassbox-verify-" + std::to_string(::getpid()));
  fs::create_directories(work);
  const fs::path inputs = work / "inputs.txt", outputs = work / "outputs.txt";
  {
    std::ofstream f(inputs);
    f << example_lines(data, &data::SequenceExample::tokens);
  }
  if (program.extension() == ".py") {
    run_command("python3 " + shell_quoted(program.string()) + " < " + shell_quoted(inputs.string()) + " > " +
                    shell_quoted(outputs.string()),
                "running the program with python3");
  } else {
    const fs::path binary = work / "program";
    run_command("c++ -std=c++17 -O1 -o " + shell_quoted(binary.string()) + " " + shell_quoted(program.string()),
                "compiling the program with c++");
    run_command(shell_quoted(binary.string()) + " < " + shell_quoted(inputs.string()) + " > " +
                    shell_quoted(outputs.string()),
                "running the compiled program");
  }
  const auto expected = model_predictions(model, data.tokens);
  std::ifstream f(outputs);
  VerifyReport r;
  std::string line;
  for (int64_t i = 0; i < data.size(); ++i) {
    if (!std::getline(f, line))
      throw std::runtime_error(program.string() + ": printed " + std::to_string(i) + " lines for " +
                               std::to_string(data.size()) + " inputs");
    std::istringstream words(line);
    std::vector<std::string> got{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
    const auto& want = expected[size_t(i)];
    if (got.size() != want.size())
      throw std::runtime_error(program.string() + ": input " + std::to_string(i) + " got " + std::to_string(got.size()) +
                               " labels for " + std::to_string(want.size()) + " tokens");
    for (size_t t = 0; t < want.size(); ++t) {
      ++r.positions;
      r.agreeing += got[t] == data.labels[size_t(want[t])];
    }
    ++r.examples;
  }
  fs::remove_all(work);
  return r;
}

namespace {

/// One training run: the Gumbel-softmax model trained, its argmax model scored and exported.
train::RestartOutcome train_program_run(const Config& config, const RunFolder& run, bool resume) {
  const data::SequenceSplits data = transformer_program_data(config);
  const uint64_t seed = uint64_t(config.get_int("seed"));
  manual_seed(seed);
  auto model = build_model(config, data.train);
  optim::AdamOptions adam;
  adam.lr = config.get_double("lr");
  optim::Adam optimizer(model->parameters(), adam);
  data::BatchSampler sampler(data.train.size(), config.get_int("batch_size"), seed);
  train::TrainerOptions to = trainer_options(config, kModelName);
  to.max_grad_norm = config.get_double("max_grad_norm");
  train::Trainer trainer(*model, optimizer, run, config, to);
  const int64_t batches = sampler.num_batches();
  const double tau_start = config.get_double("tau_start"), tau_end = config.get_double("tau_end");
  const int64_t eval_every = config.get_int("eval_every");  // >= 1 by the schema
  std::cerr << kModelName << ": " << config.get_string("task") << ", " << model->num_parameters() << " parameters, "
            << data.train.size() << " / " << data.validation.size() << " / " << data.test.size()
            << " train / val / test sequences, " << model->cat_variables().size() << " categorical and "
            << model->num_variables().size() << " numerical variables\n";

  int64_t cached_epoch = -1;
  std::vector<std::vector<int64_t>> epoch_batches;
  auto summary = trainer.fit(
      batches,
      [&](int64_t epoch, int64_t b) {
        if (epoch != cached_epoch) {
          epoch_batches = sampler.epoch_batches(epoch);
          cached_epoch = epoch;
        }
        const data::SequenceDataset batch = data.train.subset(epoch_batches[size_t(b)], "");
        const double tau = gumbel_temperature(epoch, b, to.epochs, batches, tau_start, tau_end);
        model->set_mode(ChoiceMode::gumbel);
        model->set_temperature(tau);
        const Device device = model->device();
        Tensor loss = TransformerProgram::loss(model->forward(batch.tokens.to(device)).logits, batch.targets.to(device));
        return train::StepResult{loss, {{"tau", tau}}};
      },
      [&](int64_t epochs_done) {
        nlohmann::json m = nlohmann::json::object();
        if (epochs_done % eval_every == 0 || epochs_done == to.epochs) {
          SequenceAccuracy val = argmax_accuracy(*model, data.validation);
          m["val_accuracy"] = val.token;
          std::cerr << "epoch " << epochs_done << ": argmax model validation accuracy " << percent(val.token) << "\n";
        }
        return m;
      },
      resume);
  if (summary.interrupted) return {true, 0.0, {}, 0.0};

  // The paper reports the discrete (argmax) model.
  release_cached_memory();  // the training step's cached blocks; the f64 argmax model needs others
  // The training time over every session of the run (a resumed run's summary has only its own).
  double seconds = 0;
  for (const nlohmann::json& r : read_metrics(run.metrics_file()))
    if (r.contains("epoch_seconds")) seconds += r["epoch_seconds"].get<double>();
  nlohmann::json final_record = {{"final", true}, {"seconds", seconds}};
  std::cout << "argmax model after " << summary.epochs_done << " epochs (" << std::fixed << std::setprecision(1)
            << seconds << " s of training):\n";
  for (const auto& [name, split] : {std::pair{"train", &data.train}, {"val", &data.validation}, {"test", &data.test}}) {
    SequenceAccuracy a = argmax_accuracy(*model, *split);
    final_record[std::string(name) + "_accuracy"] = a.token;
    final_record[std::string(name) + "_loss"] = a.loss;
    std::cout << "  " << name << ": " << percent(a.token) << " of " << a.tokens << " tokens, " << percent(a.sequence)
              << " of sequences\n";
  }
  MetricsWriter(run.metrics_file()).write(final_record);
  export_transformer_program({config, run});
  return {false, final_record["val_accuracy"].get<double>(),
          {{"test_accuracy", final_record["test_accuracy"]}, {"seconds", seconds}},
          final_record["val_loss"].get<double>()};
}

}  // namespace

void train_transformer_program(const TrainRequest& request) {
  // The paper's Table 1 reports the best of 5 seeds by validation accuracy (--restarts 5).
  // Easy tasks often tie at 100% validation accuracy; the argmax model's validation loss
  // breaks such ties (no test data is looked at).
  const train::RestartsResult result = train::train_with_restarts(
      kModelName, request.config, request.run, request.resume, {"val_accuracy", /*lower_is_better=*/false, "val_loss"},
      train_program_run);
  if (result.interrupted || request.config.get_int("restarts") == 1) return;
  // The run now holds the chosen restart's checkpoint and configuration (its seed fixes the data split).
  export_transformer_program({request.run.load_config(transformer_program_schema()), request.run});
}

void eval_transformer_program(const EvalRequest& request) {
  const data::SequenceSplits data = transformer_program_data(request.config);
  const data::SequenceDataset& split = split_of(data, request.split);
  auto model = load_trained(request.config, request.run, data.train);
  SequenceAccuracy a = argmax_accuracy(*model, split);
  if (request.json) {
    // The confusion matrix's keys (per_class_accuracy, per_class_samples, ...) over the scored positions.
    nlohmann::json j = a.confusion->to_json();
    j.update(accuracy_json(a));
    j["split"] = request.split;
    j["checkpoint"] = train::Trainer::checkpoint_position(request.run);
    j["accuracy"] = a.token;
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << request.split << " (argmax model): accuracy " << percent(a.token) << " of " << a.tokens
            << " tokens, " << percent(a.sequence) << " of " << a.sequences << " sequences\n\n"
            << "scored positions by target label\n"
            << a.confusion->table();
}

void export_transformer_program(const ExportRequest& request) {
  const data::SequenceSplits data = transformer_program_data(request.config);
  auto model = load_trained(request.config, request.run, data.train);
  const Program program = extract(*model, request.config, data.train);
  const std::filesystem::path dir = request.run.exports_dir();
  std::filesystem::create_directories(dir);
  const std::string source = request.run.root().string();
  nlohmann::json summary = {{"model", kModelName}, {"task", program.task}};
  for (const char* ext : {".py", ".cpp"}) {
    const std::string path = (dir / (std::string("program") + ext)).string();
    write_program(program, path, source);
    std::ifstream f(path);
    std::stringstream text;
    text << f.rdbuf();
    summary[std::string("lines") + ext] = count_lines(text.str());
  }
  summary["test"] = accuracy_json(argmax_accuracy(*model, data.test));
  // The test split as the programs read it, and its targets: `python3 program.py <
  // test_inputs.txt` scored against test_targets.txt needs nothing of glassbox (and scores
  // other programs, the paper's released ones, on the same examples).
  io::write_bytes_atomic((dir / "test_inputs.txt").string(),
                         example_lines(data.test, &data::SequenceExample::tokens));
  io::write_bytes_atomic((dir / "test_targets.txt").string(),
                         example_lines(data.test, &data::SequenceExample::targets));
  io::write_json_atomic((dir / "program.json").string(), summary);
  std::cout << "program: " << (dir / "program.py").string() << " (" << summary["lines.py"].get<int64_t>()
            << " lines) and " << (dir / "program.cpp").string() << "; the test split in test_inputs.txt and "
            << "test_targets.txt\n";
}

void compile_transformer_program(const CompileRequest& request) {
  const data::SequenceSplits data = transformer_program_data(request.config);
  auto model = load_trained(request.config, request.run, data.train);
  const Program program = extract(*model, request.config, data.train);
  write_program(program, request.output, request.run.root().string());
  std::ifstream f(request.output);
  std::stringstream text;
  text << f.rdbuf();
  std::cout << "wrote " << request.output << " (" << count_lines(text.str()) << " lines)\n";
  if (!request.verify) return;
  VerifyReport r = verify_program(*model, data.test, request.output);
  std::cout << "verify: the program agrees with the argmax model on " << r.agreeing << " of " << r.positions
            << " positions of " << r.examples << " test examples (" << std::fixed << std::setprecision(2)
            << 100.0 * r.agreement() << "%)\n";
  if (r.agreeing != r.positions)
    throw std::runtime_error("the program disagrees with the model on " + std::to_string(r.positions - r.agreeing) +
                             " positions");
}

void bench_transformer_program(const BenchRequest& request) {
  const Config& config = request.config;
  const data::SequenceSplits data = transformer_program_data(config);
  manual_seed(uint64_t(config.get_int("seed")));
  auto model = build_model(config, data.train);
  optim::AdamOptions adam;
  adam.lr = config.get_double("lr");
  optim::Adam optimizer(model->parameters(), adam);
  const int64_t batch = config.get_int("batch_size");
  data::BatchSampler sampler(data.train.size(), batch, uint64_t(config.get_int("seed")));
  const auto batches = sampler.epoch_batches(0);
  data::SequenceDataset b;
  model->set_temperature(config.get_double("tau_start"));
  train::run_step_benchmark(
      {kModelName, batch, request.steps, 3, {{"task", config.get_string("task")}}, request.profile, model->device()},
      [&](int64_t i) {
        b = data.train.subset(batches[size_t(i) % batches.size()], "");
        b.tokens = b.tokens.to(model->device());
        b.targets = b.targets.to(model->device());
      },
      [&] {
        Tensor loss = TransformerProgram::loss(model->forward(b.tokens).logits, b.targets);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
      });
}

namespace {
ModelEntry entry() {
  ModelEntry e{kModelName,
               "Transformer Programs (Friedman et al. 2023): a transformer that compiles to a readable program",
               transformer_program_schema(), train_transformer_program, eval_transformer_program,
               export_transformer_program};
  e.bench = bench_transformer_program;
  e.compile = compile_transformer_program;
  return e;
}
const ModelRegistrar registrar{entry()};
}  // namespace

}  // namespace glassbox::models
