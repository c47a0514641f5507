// Transformer Programs (Friedman et al. 2023): the relaxed attention's gradients, the
// argmax attention's tie-breaking, the temperature schedule, and a short run on hist
// that learns, compiles to Python and C++ that agree with the model on every test
// position, round-trips its checkpoint and resumes exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/io/json_file.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "kernels/cpu/cpu_backend.h"
#include "models/transformer_programs/program.h"
#include "models/transformer_programs/program_emit.h"
#include "models/transformer_programs/program_task.h"
#include "tests/support/fixture_compare.h"
#include "tests/support/gradcheck.h"
#include "tests/support/module_compare.h"
#include "tests/support/temp_dir.h"
#include "trainers/data/batch_sampler.h"
#include "trainers/run_folder.h"
#include "trainers/trainer.h"

using namespace glassbox;
using namespace glassbox::models;
using glassbox::testing::gradcheck;
using glassbox::testing::grad_input;
using glassbox::testing::TempDir;
namespace fs = std::filesystem;

namespace {

bool have_command(const std::string& name) {
  return std::system(("command -v " + name + " > /dev/null 2>&1").c_str()) == 0;
}

Config small_config(const std::string& task, int64_t epochs) {
  Config c(transformer_program_schema());
  c.set("task", task, "test");
  c.set("dataset_size", "4000", "test");
  c.set("layers", "1", "test");
  c.set("cat_heads", "2", "test");
  c.set("num_heads", "2", "test");
  c.set("cat_mlps", "1", "test");
  c.set("num_mlps", "1", "test");
  c.set("batch_size", "128", "test");
  c.set("epochs", std::to_string(epochs), "test");
  c.set("eval_every", "100", "test");
  c.set("threads", "1", "test");
  return c;
}

/// Trains through the registry's handler into `dir` (resuming when asked), on one
/// thread as the CLI would with --threads 1: the tensors are tiny.
void train_run(const Config& config, const fs::path& dir, bool resume) {
  kernels::set_cpu_threads(1);
  RunFolder run = RunFolder::create(dir, resume);
  run.write_config("transformer_program", config);
  train_transformer_program({config, run, resume});
}

std::unique_ptr<TransformerProgram> load(const Config& config, const fs::path& dir) {
  data::SequenceSplits data = transformer_program_data(config);
  Generator gen(123);
  auto model = std::make_unique<TransformerProgram>(transformer_program_options(config, data.train), gen);
  train::Trainer::load_model(*model, RunFolder::open(dir));
  return model;
}

/// One-hot [1, 1, T, k] rows of the given values (as doubles).
Tensor one_hots(const std::vector<int64_t>& values, int64_t k) {
  return ops::one_hot(Tensor::from_vector(values, {int64_t(values.size())}), k, DType::f64).view({1, 1, int64_t(values.size()), k});
}

}  // namespace

TEST(TransformerPrograms, PositionBiasPrefersNearestThenLeftThenSelf) {
  const int64_t n = 8;
  std::vector<double> b = TransformerProgram::position_bias(n).to_vector<double>();
  auto at = [&](int64_t i, int64_t p) { return b[size_t(i * n + p)]; };
  EXPECT_DOUBLE_EQ(at(3, 3), -2.0);
  EXPECT_DOUBLE_EQ(at(3, 4), 0.0);
  EXPECT_DOUBLE_EQ(at(3, 2), 0.0);
  EXPECT_DOUBLE_EQ(at(3, 5), -1.0 / 6.0);  // right: -(d-1)/(n-2)
  EXPECT_DOUBLE_EQ(at(3, 1), -1.0 / 7.0);  // left: -(|d|-1)/(n-1)
  EXPECT_DOUBLE_EQ(at(3, 0), -2.0 / 7.0);
  EXPECT_DOUBLE_EQ(at(0, 7), -1.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < n; ++p)
      if (p != i) {
        EXPECT_GT(at(i, p), at(i, i));  // self loses to any other key
      }
}

TEST(TransformerPrograms, ArgmaxAttentionTieBreaks) {
  // Identity predicate over k = 6 values; query position 3 asks for value 1.
  const int64_t T = 6, k = 6;
  Tensor predicate = ops::one_hot(Tensor::arange(k, {.dtype = DType::i64}), k, DType::f64).unsqueeze(0);
  Tensor bias = TransformerProgram::position_bias(T);
  Tensor no_mask = Tensor::zeros({1, 1, T, T}, {.dtype = DType::boolean});
  auto argmax_keys = [](const Tensor& logits) { return ops::one_hot(ops::argmax(logits, -1), logits.size(-1), logits.dtype()); };
  auto selected = [&](const std::vector<int64_t>& keys, const Tensor& mask) {
    Tensor q = one_hots({0, 0, 0, 1, 0, 0}, k);
    Tensor att = categorical_attention(q, one_hots(keys, k), predicate, mask, bias, k, argmax_keys);
    return ops::argmax(att, -1).to_vector<int64_t>()[3];
  };
  EXPECT_EQ(selected({5, 5, 1, 5, 1, 5}, no_mask), 2);  // equal distance: the left key
  EXPECT_EQ(selected({5, 1, 5, 5, 1, 5}, no_mask), 4);  // the nearest key
  EXPECT_EQ(selected({5, 5, 5, 1, 5, 1}, no_mask), 5);  // another key beats the query itself
  EXPECT_EQ(selected({5, 5, 5, 1, 5, 5}, no_mask), 3);  // the query itself when nothing else matches
  EXPECT_EQ(selected({5, 5, 5, 5, 5, 5}, no_mask), 0);  // no match: BOS
  // A masked (padded) key never matches.
  std::vector<uint8_t> m(size_t(T * T), 0);
  for (int64_t i = 0; i < T; ++i) m[size_t(i * T + 5)] = 1;
  Tensor mask = Tensor::from_vector(m, {1, 1, T, T}).to(DType::boolean);
  EXPECT_EQ(selected({5, 5, 5, 5, 5, 1}, mask), 0);
}

TEST(TransformerPrograms, RelaxedAttentionGradients) {
  // Relaxed (softmax) queries, keys, values and predicate ([H, B, T, k], the model's
  // variable-major layout); one padded key; fixed Gumbel noise.
  const int64_t H = 2, B = 2, T = 4, k = 3;
  std::vector<uint8_t> m(size_t(T * T), 0);
  for (int64_t i = 0; i < T; ++i) m[size_t(i * T + 3)] = 1;
  Tensor mask = Tensor::from_vector(m, {1, 1, T, T}).to(DType::boolean);
  Tensor bias = TransformerProgram::position_bias(T);
  auto gumbel_keys = [](const Tensor& logits) {
    Generator fixed(7);
    return ops::gumbel_softmax(logits, 0.9, false, -1, &fixed);
  };
  auto soft = [](const Tensor& x) { return ops::softmax(x, -1); };
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        Tensor att = categorical_attention(soft(in[0]), soft(in[1]), soft(in[2]), mask, bias, k, gumbel_keys);
        return ops::matmul(att, soft(in[3]));
      },
      {grad_input({H, B, T, k}, 1), grad_input({H, B, T, k}, 2), grad_input({H, k, k}, 3), grad_input({H, B, T, k}, 4)}));
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        return numerical_attention(soft(in[0]), soft(in[1]), soft(in[2]), mask, in[3]);
      },
      {grad_input({H, B, T, k}, 5), grad_input({H, B, T, k}, 6), grad_input({H, k, k}, 7), grad_input({H, B, T, 1}, 8)}));
}

// The paper's own code (princeton-nlp/TransformerPrograms) built three small models and
// recorded, for a batch of its data, the relaxed model's logits, loss and gradients
// (tests/fixtures/make_tp_official_reference.py; its noise-free relaxation, sample_fn =
// softmax, keeps them deterministic). Given the same weights, glassbox's model must
// compute the same numbers: every part of the relaxed forward (reads, predicates,
// position bias, attention temperature, numerical heads, MLPs, class mask, loss) and its
// backward. (The BOS default acts only when no key matches, which relaxed scores never
// do exactly; the argmax model's is checked by ArgmaxAttentionTieBreaks here and against
// the paper's code by bench/tp_official_parity.py.) The fixture is float32; glassbox
// runs in double here.
TEST(TransformerPrograms, RelaxedModelMatchesThePapersCode) {
  using glassbox::testing::fixture_tensor;
  using glassbox::testing::matches_fixture;
  const nlohmann::json reference = glassbox::testing::load_fixture("tp_official_reference.json");
  for (const auto& c : reference.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const auto& o = c.at("options");
    TransformerProgramOptions options;
    options.vocab_size = o.at("vocab_size");
    options.num_classes = o.at("num_classes");
    options.n_ctx = o.at("n_ctx");
    options.k = o.at("k");
    options.layers = o.at("layers");
    options.cat_heads = o.at("cat_heads");
    options.num_heads = o.at("num_heads");
    options.cat_mlps = o.at("cat_mlps");
    options.num_mlps = o.at("num_mlps");
    options.d_mlp = o.at("d_mlp");
    options.causal = o.at("causal");
    options.masked_classes = o.at("masked_classes").get<std::vector<int64_t>>();
    Generator init(0);
    TransformerProgram model(options, init);
    nn::StateDict weights;
    for (const auto& [name, value] : c.at("weights").items()) weights[name] = fixture_tensor(value, DType::f32);
    model.load_state_dict(weights);  // strict: the fixture names every parameter
    model.set_mode(ChoiceMode::softmax);
    model.set_temperature(c.at("tau"));
    model.set_double_precision(true);

    const Tensor tokens = fixture_tensor(c.at("tokens"), DType::i64);
    const Tensor logits = model.forward(tokens).logits;
    // The fixture's padded positions are zero (see the script).
    const Tensor unpadded = ops::ne(tokens, 0.0).to(DType::f64).unsqueeze(-1);
    EXPECT_TRUE(matches_fixture(ops::mul(logits.detach(), unpadded), c.at("logits"), 1e-4, 1e-4));
    const Tensor loss = TransformerProgram::loss(logits, fixture_tensor(c.at("targets"), DType::i64));
    EXPECT_NEAR(loss.item(), c.at("loss").get<double>(), 1e-5);
    loss.backward();
    for (const auto& [name, p] : model.named_parameters()) {
      SCOPED_TRACE(name);
      EXPECT_TRUE(matches_fixture(p.grad(), c.at("grads").at(name), 1e-5, 1e-3));
    }
  }
}

TEST(TransformerPrograms, TemperatureFallsAtEveryStep) {
  EXPECT_DOUBLE_EQ(gumbel_temperature(0, 0, 10, 5), 3.0);
  EXPECT_DOUBLE_EQ(gumbel_temperature(9, 0, 10, 5), 0.01);
  EXPECT_DOUBLE_EQ(gumbel_temperature(9, 4, 10, 5), 0.01);
  // The last step of epoch e reaches epoch e+1's value: geomspace(3, 0.01, 10)[1].
  EXPECT_NEAR(gumbel_temperature(0, 4, 10, 5), 3.0 * std::pow(0.01 / 3.0, 1.0 / 9.0), 1e-12);
  double last = 1e9;
  for (int64_t e = 0; e < 9; ++e)
    for (int64_t b = 0; b < 5; ++b) {
      const double t = gumbel_temperature(e, b, 10, 5);
      if (b > 0) {
        EXPECT_LT(t, last);
      }
      last = t;
    }
}

TEST(TransformerPrograms, ProgramMatchesAnUntrainedModelWithEveryKindOfPart) {
  // Three layers of categorical and numerical heads and MLPs with random choices: the
  // extracted program (run by the C++ interpreter) predicts what the argmax model does.
  Config c = small_config("double_hist", 1);
  c.set("layers", "3", "test");
  data::SequenceSplits data = transformer_program_data(c);
  Generator gen(5);
  TransformerProgram model(transformer_program_options(c, data.train), gen);
  Program program = extract_program(model, "double_hist", data.train.vocab, data.train.labels);
  auto expected = model_predictions(model, data.test.tokens);
  const std::vector<int64_t> tokens = data.test.tokens.to_vector<int64_t>();
  for (int64_t i = 0; i < data.test.size(); ++i) {
    std::vector<int64_t> row;
    for (int64_t t = 0; t < data.test.n_ctx && tokens[size_t(i * data.test.n_ctx + t)] != 0; ++t)
      row.push_back(tokens[size_t(i * data.test.n_ctx + t)]);
    ASSERT_EQ(run_program(program, row), expected[size_t(i)]) << "test example " << i;
  }
  // Numerical MLP tables cover every value their inputs can take.
  for (const ProgramMlp& m : program.mlps)
    if (m.numerical) {
      EXPECT_EQ(m.size0, program.num_vars[size_t(m.input0)].max_value + 1);
      EXPECT_EQ(int64_t(m.table.size()), m.size0 * m.size1);
    }

  // With tiny tables allowed, numerical MLPs become arithmetic; the program still agrees,
  // and so do its Python and C++ forms.
  Program arithmetic = extract_program(model, "double_hist", data.train.vocab, data.train.labels, 4);
  int64_t arithmetic_mlps = 0;
  for (const ProgramMlp& m : arithmetic.mlps) arithmetic_mlps += !m.is_table();
  EXPECT_EQ(arithmetic_mlps, 3);
  for (int64_t i = 0; i < data.test.size(); ++i) {
    std::vector<int64_t> row;
    for (int64_t t = 0; t < data.test.n_ctx && tokens[size_t(i * data.test.n_ctx + t)] != 0; ++t)
      row.push_back(tokens[size_t(i * data.test.n_ctx + t)]);
    ASSERT_EQ(run_program(arithmetic, row), expected[size_t(i)]) << "test example " << i;
  }
  TempDir dir;
  for (const char* name : {"program.py", "program.cpp"}) {
    const std::string path = (dir.path() / name).string();
    const bool python = std::string(name).ends_with(".py");
    if (!have_command(python ? "python3" : "c++")) continue;
    std::ofstream(path) << (python ? emit_python(arithmetic, "test") : emit_cpp(arithmetic, "test"));
    VerifyReport r = verify_program(model, data.test, path);
    EXPECT_EQ(r.agreeing, r.positions) << name;
  }
}

TEST(TransformerPrograms, HistLearnsCompilesAndVerifies) {
  TempDir dir;
  Config config = small_config("hist", 20);
  train_run(config, dir.path() / "run", false);
  auto model = load(config, dir.path() / "run");
  data::SequenceSplits data = transformer_program_data(config);
  SequenceAccuracy acc = argmax_accuracy(*model, data.test);
  EXPECT_GT(acc.token, 0.9) << "hist should be learned in 20 short epochs";
  // The confusion matrix counts the same scored positions, by target label; hist's answers are counts 1..7.
  ASSERT_TRUE(acc.confusion.has_value());
  EXPECT_EQ(acc.confusion->total(), acc.tokens);
  EXPECT_DOUBLE_EQ(acc.confusion->accuracy(), acc.token);
  EXPECT_EQ(acc.confusion->per_class_samples()[0], 0) << "<pad> positions are not scored";
  EXPECT_GT(acc.confusion->per_class_samples()[1], 0);

  // Exports: both programs and a summary.
  const fs::path exports = dir.path() / "run" / "exports";
  nlohmann::json summary = io::read_json((exports / "program.json").string());
  EXPECT_EQ(summary["task"], "hist");
  EXPECT_GT(summary["lines.py"].get<int64_t>(), 20);
  EXPECT_NEAR(summary["test"]["token_accuracy"].get<double>(), acc.token, 1e-12);

  // The emitted programs agree with the model on every test position.
  if (have_command("python3")) {
    VerifyReport r = verify_program(*model, data.test, (exports / "program.py").string());
    EXPECT_EQ(r.agreeing, r.positions);
    EXPECT_EQ(r.examples, data.test.size());
  } else {
    GTEST_LOG_(INFO) << "python3 not found: the Python program was not run";
  }
  if (have_command("c++")) {
    VerifyReport r = verify_program(*model, data.test, (exports / "program.cpp").string());
    EXPECT_EQ(r.agreeing, r.positions);
  } else {
    GTEST_LOG_(INFO) << "c++ not found: the C++ program was not compiled";
  }

  // The exported test split: the program run on test_inputs.txt alone, scored against
  // test_targets.txt (BOS's <pad> unscored), has the model's test accuracy.
  std::ifstream inputs(exports / "test_inputs.txt"), targets(exports / "test_targets.txt");
  std::string in_line, target_line;
  int64_t lines = 0;
  std::vector<std::vector<std::string>> target_rows;
  while (std::getline(inputs, in_line) && std::getline(targets, target_line)) {
    std::istringstream in_words(in_line), target_words(target_line);
    std::vector<std::string> in{std::istream_iterator<std::string>(in_words), {}};
    std::vector<std::string> tgt{std::istream_iterator<std::string>(target_words), {}};
    ASSERT_EQ(in.size(), tgt.size()) << "line " << lines;
    data::SequenceExample e = data.test.example(lines);
    EXPECT_EQ(in, e.tokens);
    target_rows.push_back(tgt);
    ++lines;
  }
  EXPECT_EQ(lines, data.test.size());
  if (have_command("python3")) {
    const fs::path predictions = dir.path() / "predictions.txt";
    ASSERT_EQ(std::system(("python3 '" + (exports / "program.py").string() + "' < '" +
                           (exports / "test_inputs.txt").string() + "' > '" + predictions.string() + "'")
                              .c_str()),
              0);
    std::ifstream p(predictions);
    int64_t right = 0, scored = 0;
    for (const auto& tgt : target_rows) {
      ASSERT_TRUE(std::getline(p, in_line));
      std::istringstream words(in_line);
      std::vector<std::string> got{std::istream_iterator<std::string>(words), {}};
      ASSERT_EQ(got.size(), tgt.size());
      for (size_t t = 0; t < tgt.size(); ++t)
        if (tgt[t] != "<pad>") {
          ++scored;
          right += got[t] == tgt[t];
        }
    }
    EXPECT_EQ(scored, acc.tokens);
    EXPECT_NEAR(double(right) / double(scored), acc.token, 1e-12);
  }
}

TEST(TransformerPrograms, CheckpointRoundTripsAndResumesExactly) {
  // The temperature schedule spans the whole run, so an interrupted run is simulated by
  // resuming a copy of the run from its epoch-1 checkpoint.
  TempDir dir;
  Config config = small_config("sort", 2);
  config.set("dataset_size", "400", "test");
  config.set("checkpoint_every", "1", "test");
  const fs::path straight = dir.path() / "straight", split = dir.path() / "split";
  train_run(config, straight, false);
  fs::copy(straight, split, fs::copy_options::recursive);
  for (const char* ext : {".safetensors", ".json"})
    fs::copy_file(split / "checkpoints" / (std::string("epoch-0001") + ext),
                  split / "checkpoints" / (std::string("latest") + ext), fs::copy_options::overwrite_existing);
  auto at_epoch_one = load(config, split);
  auto a = load(config, straight);
  EXPECT_FALSE(glassbox::testing::same_state(*a, *at_epoch_one));
  train_run(config, split, true);
  auto b = load(config, split);
  EXPECT_TRUE(glassbox::testing::same_state(*a, *b));
  data::SequenceSplits data = transformer_program_data(config);
  Generator other(99);
  TransformerProgram fresh(transformer_program_options(config, data.train), other);
  EXPECT_FALSE(glassbox::testing::same_state(*a, fresh));
}

namespace {

Config induction_config() {
  Config c(transformer_program_schema());
  c.set("task", "induction", "test");
  c.set("dataset_size", "500", "test");
  c.set("layers", "2", "test");
  c.set("cat_heads", "1", "test");
  c.set("num_heads", "0", "test");
  c.set("cat_mlps", "0", "test");
  c.set("num_mlps", "0", "test");
  c.set("unembed_mask", "false", "test");
  return c;
}

/// The induction circuit of the paper's section 4.1, set by hand: layer 0 copies the previous
/// token (q_position i -> k_position i-1); layer 1 finds an earlier key whose previous token is
/// the query letter and copies the number there; the classifier reads layer 1's output.
void set_induction_circuit(TransformerProgram& model, const data::SequenceDataset& train, bool layer0,
                           bool layer1_and_classifier) {
  const auto& vocab = train.vocab;
  const auto& labels = train.labels;
  const int64_t k = model.options().k;
  auto id = [](const std::vector<std::string>& v, const std::string& s) {
    return int64_t(std::find(v.begin(), v.end(), s) - v.begin());
  };
  auto set = [](const Tensor& p, const std::vector<double>& values) {
    NoGradGuard no_grad;
    Tensor(p).copy_(Tensor::from_vector(values, p.shape()).to(p.dtype()));
  };
  auto one_of = [](int64_t n, int64_t hot) {
    std::vector<double> v(size_t(n), -10.0);
    v[size_t(hot)] = 10.0;
    return v;
  };
  const auto& l0 = model.layer_params()[0];
  const auto& l1 = model.layer_params()[1];
  if (layer0) {
    set(l0.cat_q, one_of(2, 1));  // positions
    set(l0.cat_k, one_of(2, 1));  // positions
    set(l0.cat_v, one_of(2, 0));  // tokens
    std::vector<double> previous(size_t(k * k), -10.0);
    for (int64_t i = 0; i < k; ++i) previous[size_t(i * k + (i == 0 ? k - 1 : i - 1))] = 10.0;
    set(l0.cat_pred, previous);
  }
  if (!layer1_and_classifier) return;
  std::vector<double> same_letter(size_t(k * k), -10.0);
  for (int64_t t = 0; t < k; ++t) {
    const bool letter = t < int64_t(vocab.size()) && vocab[size_t(t)] >= "a";
    same_letter[size_t(t * k + (letter ? t : 0))] = 10.0;  // non-letters look for <pad>: no key
  }
  set(l1.cat_q, one_of(3, 0));  // tokens
  set(l1.cat_k, one_of(3, 2));  // attn_0_0_outputs
  set(l1.cat_v, one_of(3, 0));  // tokens
  set(l1.cat_pred, same_letter);
  // Classifier: only attn_1_0_outputs (the 4th categorical variable) votes.
  std::vector<double> w(size_t(model.classifier().numel()), 0.0);
  const int64_t classes = int64_t(labels.size());
  for (int64_t v = 0; v < k; ++v) {
    const std::string token = v < int64_t(vocab.size()) ? vocab[size_t(v)] : "";
    const int64_t cls = id(labels, token) < classes ? id(labels, token) : id(labels, "<unk>");
    w[size_t((3 * k + v) * classes + cls)] = 10.0;
  }
  set(model.classifier(), w);
}

}  // namespace

TEST(TransformerPrograms, HandSetInductionCircuitIsExact) {
  // The argmax model with the hand-set circuit must be exact: the attention, causal mask and
  // BOS default work as the paper's.
  Config c = induction_config();
  data::SequenceSplits data = transformer_program_data(c);
  Generator gen(1);
  TransformerProgram model(transformer_program_options(c, data.train), gen);
  set_induction_circuit(model, data.train, true, true);
  SequenceAccuracy acc = argmax_accuracy(model, data.test);
  EXPECT_EQ(acc.token, 1.0) << acc.tokens << " tokens";

  // <unk> is a class here, so no class is masked: the Python program's empty set must be a set
  // (`{}` is a dict), and the program must agree with the model.
  Program program = extract_program(model, "induction", data.train.vocab, data.train.labels);
  const std::string python = emit_python(program, "test");
  EXPECT_NE(python.find("MASKED_CLASSES = set()  # never predicted"), std::string::npos);
  if (have_command("python3")) {
    TempDir dir;
    const std::string path = (dir.path() / "program.py").string();
    std::ofstream(path) << python;
    VerifyReport r = verify_program(model, data.test, path);
    EXPECT_EQ(r.agreeing, r.positions);
  }
}

namespace {

// Training one half of the induction circuit with the other half set by hand: the gradient
// reaches a layer-1 key that reads layer 0's output, and layer 0 through it. Whether a seed finds
// the circuit is luck (the official script's commit: about one seed in ten when both layers
// learn together); here each half is found by about half the seeds, so a few seeds are tried.
double best_induction_half(bool train_layer1) {
  Config c = induction_config();
  c.set("dataset_size", "5000", "test");
  data::SequenceSplits data = transformer_program_data(c);
  const int64_t epochs = 30, batch_size = 512;
  double best = 0;
  for (uint64_t seed = 0; seed < 4 && best < 1.0; ++seed) {
    manual_seed(seed);
    Generator gen(seed);
    TransformerProgram model(transformer_program_options(c, data.train), gen);
    set_induction_circuit(model, data.train, train_layer1, !train_layer1);
    const auto& l = model.layer_params()[train_layer1 ? 1 : 0];
    std::vector<Tensor> params;
    for (const Tensor* p : {&l.cat_q, &l.cat_k, &l.cat_v, &l.cat_pred}) params.push_back(*p);
    if (train_layer1) params.push_back(model.classifier());
    optim::AdamOptions adam;
    adam.lr = 0.05;
    optim::Adam optimizer(params, adam);
    data::BatchSampler sampler(data.train.size(), batch_size, seed);
    const int64_t batches = sampler.num_batches();
    model.set_mode(ChoiceMode::gumbel);
    for (int64_t e = 0; e < epochs; ++e) {
      const auto order = sampler.epoch_batches(e);
      for (int64_t b = 0; b < batches; ++b) {
        const data::SequenceDataset batch = data.train.subset(order[size_t(b)], "");
        model.set_temperature(gumbel_temperature(e, b, epochs, batches, 3.0, 0.01));
        Tensor loss = TransformerProgram::loss(model.forward(batch.tokens).logits, batch.targets);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
      }
    }
    best = std::max(best, argmax_accuracy(model, data.test).token);
  }
  return best;
}

}  // namespace

TEST(TransformerPrograms, InductionMatchHeadLearnsOnAFixedPreviousTokenHead) {
  EXPECT_EQ(best_induction_half(true), 1.0);
}

TEST(TransformerPrograms, InductionPreviousTokenHeadLearnsUnderAFixedMatchHead) {
  EXPECT_EQ(best_induction_half(false), 1.0);
}

TEST(TransformerPrograms, WholeModelGradientMatchesFiniteDifferences) {
  // Every parameter kind of a causal model with categorical and numerical heads and MLPs:
  // autograd against central differences of the relaxed loss, in f64, with the same
  // Gumbel noise for every evaluation.
  Config c = small_config("dyck2", 1);
  c.set("layers", "2", "test");
  c.set("d_mlp", "8", "test");
  c.set("dataset_size", "100", "test");
  c.set("max_length", "6", "test");
  data::SequenceSplits data = transformer_program_data(c);
  Generator gen(3);
  TransformerProgram model(transformer_program_options(c, data.train), gen);
  model.set_double_precision(true);
  model.set_temperature(0.8);
  const data::SequenceDataset batch = data.train.subset({0, 1, 2, 3, 4, 5}, "");
  auto loss = [&] {
    manual_seed(11);
    return TransformerProgram::loss(model.forward(batch.tokens).logits, batch.targets);
  };
  model.zero_grad();
  loss().backward();
  int checked = 0;
  for (auto& [name, p] : model.named_parameters()) {
    Tensor grad = p.grad().to(DType::f64);
    const std::vector<double> g = grad.to_vector<double>();
    for (int64_t i : {int64_t(0), p.numel() / 2, p.numel() - 1}) {
      NoGradGuard no_grad;
      Tensor flat = Tensor(p).view({-1});
      const double x = flat.select(0, i).item(), eps = 1e-3;
      flat.select(0, i).fill_(x + eps);
      const double up = loss().item();
      flat.select(0, i).fill_(x - eps);
      const double down = loss().item();
      flat.select(0, i).fill_(x);
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(g[size_t(i)], numeric, 2e-3 * (1 + std::abs(numeric))) << name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 30);
}
