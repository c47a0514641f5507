// TELL: the network's shapes, its loss terms against hand-computed values, the
// normalised updates, the per-epoch alternation, learning on a small synthetic set,
// checkpoints and exports.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "engine/autograd/grad_mode.h"
#include "engine/io/json_file.h"
#include "engine/io/png.h"
#include "engine/ops/ops.h"
#include "engine/optim/adadelta.h"
#include "models/tell/tell.h"
#include "models/tell/tell_task.h"
#include "tests/support/module_compare.h"
#include "tests/support/temp_dir.h"
#include "trainers/data/image_dataset.h"
#include "trainers/metrics_writer.h"
#include "trainers/trainer.h"

using namespace glassbox;
using namespace glassbox::models;
using glassbox::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kSide = 12;

/// n images of side kSide in `classes` classes: class c is a bright 4x4 square in one of
/// the quadrant-like places, plus noise.
data::ImageDataset synthetic_images(int64_t n, int64_t classes, uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> noise(0.0f, 0.15f);
  std::vector<float> pixels(size_t(n * kSide * kSide));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % classes;
    labels[size_t(i)] = c;
    const int64_t r0 = 1 + (c % 2) * 6, c0 = 1 + (c / 2) * 6;
    for (int64_t y = 0; y < kSide; ++y)
      for (int64_t x = 0; x < kSide; ++x) {
        const bool on = y >= r0 && y < r0 + 4 && x >= c0 && x < c0 + 4;
        pixels[size_t((i * kSide + y) * kSide + x)] = on ? 0.9f : noise(rng);
      }
  }
  data::ImageDataset d;
  d.name = "synthetic";
  d.images = Tensor::from_vector(pixels, {n, 1, kSide, kSide});
  d.labels = Tensor::from_vector(labels, {n});
  d.num_classes = classes;
  for (int64_t c = 0; c < classes; ++c) d.class_names.push_back("class" + std::to_string(c));
  return d;
}

TellOptions small_options(int64_t clusters) {
  TellOptions o;
  o.image_size = kSide;
  o.hidden = 32;
  o.latent_dim = 4;
  o.num_clusters = clusters;
  return o;
}

std::vector<double> row_norms(const Tensor& x) {
  NoGradGuard ng;
  return ops::norm(x, {1}).to_vector<double>();
}


}  // namespace

TEST(Tell, ShapesFollowThePaper) {
  Generator gen(1);
  Tell net(TellOptions{}, gen);
  // PyTorch's NetConv(channel=1, inner_dim=784, class_num=10) has 445,615 parameters:
  // encoder 222,394 (convs + BN + fc 784-256-10), decoder 223,121, cluster layer 100.
  EXPECT_EQ(net.num_parameters(), 445615);
  Tensor x = ops::rand({3, 1, 28, 28});
  TellOutput out = net.forward(x, 0);
  EXPECT_EQ(out.latent.shape(), (Shape{3, 10}));
  EXPECT_EQ(out.scores.shape(), (Shape{3, 10}));
  EXPECT_EQ(out.assignment.shape(), (Shape{3}));
  EXPECT_EQ(out.reconstruction.shape(), (Shape{3, 1, 28, 28}));
  for (double n : row_norms(out.latent)) EXPECT_NEAR(n, 1.0, 1e-5);
  // The centres start on the sphere of radius 2 alpha.
  for (double n : row_norms(net.cluster_weight())) EXPECT_NEAR(n, 0.002, 1e-8);
  for (double n : row_norms(net.centres())) EXPECT_NEAR(n, 1.0, 1e-5);
  EXPECT_THROW(net.forward(ops::rand({2, 1, 12, 12}), 0), std::invalid_argument);
  TellOptions bad;
  bad.image_size = 30;
  EXPECT_THROW(Tell(bad, gen), std::invalid_argument);
}

TEST(Tell, RowsToLengthMatchesHandValues) {
  Tensor x = Tensor::from_vector<float>({3, 4, 0, 0, 0, -2}, {3, 2});
  // (3, 4) has length 5 -> (1.2, 1.6) at length 2; a zero row stays zero.
  EXPECT_EQ(rows_to_length(x, 2.0).to_vector<float>(), (std::vector<float>{1.2f, 1.6f, 0, 0, 0, -2}));
}

TEST(Tell, LossTermsMatchHandValues) {
  Generator gen(2);
  Tell net(small_options(3), gen);
  TellOutput out;
  // c for two samples and K = 3 centres; sample 0 picks centre 0, sample 1 centre 1.
  out.scores = Tensor::from_vector<float>({0.0015f, 0.0005f, -0.001f, 0.0002f, 0.0018f, 0.0f}, {2, 3});
  out.assignment = Tensor::from_vector<int64_t>({0, 1}, {2});
  out.reconstruction = Tensor::full({2, 1, kSide, kSide}, 0.5);
  Tensor images = Tensor::zeros({2, 1, kSide, kSide});
  TellLoss l = net.loss(out, images);
  // L_rec = mean (0.5 - 0)^2 = 0.25.
  EXPECT_NEAR(l.rec_term.item(), 0.25, 1e-7);
  // L_clu = (0.01 / 0.001) * mean over 6 entries of (0.002 - delta c)
  //       = 10 * (6 * 0.002 - 0.0015 - 0.0018) / 6 = 10 * 0.00145 = 0.0145.
  EXPECT_NEAR(l.clu_term.item(), 0.0145, 1e-7);
  EXPECT_NEAR(l.total.item(), 0.2645, 1e-6);

  // c = W z: the forward's scores are the cluster layer applied to the unit features.
  Tensor x = ops::rand({2, 1, kSide, kSide});
  TellOutput f = net.forward(x, 1);
  std::vector<double> z = f.latent.to_vector<double>(), w = net.cluster_weight().to_vector<double>();
  std::vector<double> c = f.scores.to_vector<double>();
  std::vector<int64_t> a = f.assignment.to_vector<int64_t>();
  for (int64_t i = 0; i < 2; ++i) {
    int64_t best = 0;
    for (int64_t k = 0; k < 3; ++k) {
      double s = 0;
      for (int64_t j = 0; j < 4; ++j) s += w[size_t(k * 4 + j)] * z[size_t(i * 4 + j)];
      EXPECT_NEAR(c[size_t(i * 3 + k)], s, 1e-8);
      if (c[size_t(i * 3 + k)] > c[size_t(i * 3 + best)]) best = k;
    }
    EXPECT_EQ(a[size_t(i)], best);
  }
}

TEST(Tell, AlternationDetachesTheRightParts) {
  Generator gen(3);
  Tell net(small_options(3), gen);
  Tensor x = ops::rand({4, 1, kSide, kSide});
  const Tensor& w = net.cluster_weight();
  Tensor enc_last;  // the encoder's last linear weight: reached only through z
  for (auto& [name, p] : net.named_parameters())
    if (name.rfind("encoder.", 0) == 0 && p.dim() == 2) enc_last = p;
  ASSERT_TRUE(enc_last.defined());

  // Even epoch: L_clu reaches W but not the encoder.
  net.zero_grad();
  net.loss(net.forward(x, 0), x).clu_term.backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_GT(ops::norm(w.grad()).item(), 0.0);
  EXPECT_TRUE(!enc_last.grad().defined() || ops::norm(enc_last.grad()).item() == 0.0);

  // Odd epoch: L_clu also pulls the encoder towards its centre.
  net.zero_grad();
  net.loss(net.forward(x, 1), x).clu_term.backward();
  ASSERT_TRUE(enc_last.grad().defined());
  EXPECT_GT(ops::norm(enc_last.grad()).item(), 0.0);
  EXPECT_TRUE(Tell::centres_move(0));
  EXPECT_FALSE(Tell::centres_move(1));
}

TEST(Tell, NormalisedUpdatesKeepCentresOnTheSphere) {
  Generator gen(4);
  Tell net(small_options(3), gen);
  optim::Adadelta opt(net.parameters(), optim::AdadeltaOptions{});
  bool move = true;
  net.attach_normalised_updates(opt, [&move] { return move; });
  Tensor x = ops::rand({16, 1, kSide, kSide});
  const Tensor& w = net.cluster_weight();

  // Centres move: every row's gradient (where the batch reaches it) has length 0.2 alpha,
  // and after the step every row is back at length 2 alpha, though W changed.
  TellOutput out = net.forward(x, 0);
  std::vector<int64_t> assigned = out.assignment.to_vector<int64_t>();
  Tensor before = w.clone();
  opt.zero_grad();
  net.loss(out, x).total.backward();
  opt.step();
  std::vector<double> gnorm = row_norms(w.grad());
  for (int64_t k = 0; k < 3; ++k) {
    const bool used = std::find(assigned.begin(), assigned.end(), k) != assigned.end();
    EXPECT_NEAR(gnorm[size_t(k)], used ? 0.0002 : 0.0, 1e-9) << "row " << k;
  }
  for (double n : row_norms(w)) EXPECT_NEAR(n, 0.002, 1e-9);
  EXPECT_GT(ops::norm(w - before).item(), 0.0);

  // Centres frozen: the gradient is zeroed and W does not move.
  move = false;
  before = w.clone();
  opt.zero_grad();
  net.loss(net.forward(x, 1), x).total.backward();
  opt.step();
  EXPECT_EQ(ops::norm(w.grad()).item(), 0.0);
  // Unchanged up to the rounding of the projection back onto the sphere.
  std::vector<float> after = w.to_vector<float>(), was = before.to_vector<float>();
  for (size_t i = 0; i < after.size(); ++i) EXPECT_NEAR(after[i], was[i], 1e-9) << i;
}

TEST(Tell, LearnsOnASmallSyntheticSet) {
  data::ImageDataset d = synthetic_images(96, 4, 5);
  Generator gen(6);
  Tell net(small_options(4), gen);
  optim::Adadelta opt(net.parameters(), optim::AdadeltaOptions{});
  int64_t epoch = 0;
  net.attach_normalised_updates(opt, [&epoch] { return Tell::centres_move(epoch); });
  data::LoaderOptions lo;
  lo.batch_size = 32;
  lo.seed = 3;
  lo.drop_last = true;
  data::DataLoader loader(d, lo);
  double first_rec = 0, last_rec = 0;
  for (epoch = 0; epoch < 8; ++epoch)
    for (int64_t b = 0; b < loader.num_batches(); ++b) {
      data::Batch batch = loader.batch(epoch, b);
      TellLoss l = net.loss(net.forward(batch.images, epoch), batch.images);
      if (epoch == 0 && b == 0) first_rec = l.rec_term.item();
      last_rec = l.rec_term.item();
      opt.zero_grad();
      l.total.backward();
      opt.step();
    }
  EXPECT_LT(last_rec, 0.7 * first_rec) << "first " << first_rec << " last " << last_rec;
  for (double n : row_norms(net.cluster_weight())) EXPECT_NEAR(n, 0.002, 1e-9);
  net.eval();
  TellEvaluation e = evaluate_tell(net, d);
  EXPECT_EQ(e.scores.samples, 96);
  EXPECT_EQ(e.assignment.size(), 96u);
  // All four classes are equally frequent, so one cluster can match at most a quarter.
  EXPECT_GE(e.scores.accuracy, 0.25);
  EXPECT_GT(e.clustering_loss, 0.0);
}

TEST(Tell, EvaluationLossIsTheTrainingFormula) {
  Generator gen(7);
  Tell net(small_options(3), gen);
  net.eval();
  data::ImageDataset d = synthetic_images(10, 3, 8);
  TellEvaluation e = evaluate_tell(net, d);
  NoGradGuard ng;
  TellLoss l = net.loss(net.forward(d.images, 0), d.images);
  EXPECT_NEAR(e.clustering_loss, l.clu_term.item(), 1e-6);
  std::vector<int64_t> a = net.assign(net.encode(d.images)).to_vector<int64_t>();
  EXPECT_EQ(e.assignment, a);
}

TEST(Tell, TrainerResumesExactlyAndCheckpointsRoundTrip) {
  data::ImageDataset d = synthetic_images(64, 4, 9);
  Config config(tell_schema());
  auto train = [&](const std::filesystem::path& dir, int64_t epochs, bool resume, std::unique_ptr<Tell>& net) {
    Generator gen(8);
    net = std::make_unique<Tell>(small_options(4), gen);
    optim::Adadelta opt(net->parameters(), optim::AdadeltaOptions{});
    int64_t current = 0;
    net->attach_normalised_updates(opt, [&current] { return Tell::centres_move(current); });
    data::LoaderOptions lo;
    lo.batch_size = 16;
    lo.seed = 4;
    lo.drop_last = true;
    data::DataLoader loader(d, lo);
    RunFolder run = RunFolder::create(dir, resume);
    run.write_config("tell", config);
    train::TrainerOptions to;
    to.model_name = "tell";
    to.epochs = epochs;
    to.seed = 4;
    to.show_progress = false;
    train::Trainer trainer(*net, opt, run, config, to);
    trainer.fit(
        loader,
        [&](const data::Batch& b, int64_t epoch) {
          current = epoch;
          return train::StepResult{net->loss(net->forward(b.images, epoch), b.images).total};
        },
        nullptr, resume);
  };
  TempDir dir;
  std::unique_ptr<Tell> a, b;
  train(dir.path() / "straight", 2, false, a);
  train(dir.path() / "split", 1, false, b);
  train(dir.path() / "split", 2, true, b);
  EXPECT_TRUE(glassbox::testing::same_state(*a, *b));

  // The checkpoint restores every parameter and buffer (BN statistics included).
  Generator other(99);
  Tell restored(small_options(4), other);
  EXPECT_FALSE(glassbox::testing::same_state(*a, restored));
  RunFolder run = RunFolder::open(dir.path() / "straight");
  nlohmann::json sidecar = train::Trainer::load_model(restored, run);
  EXPECT_TRUE(glassbox::testing::same_state(*a, restored));
  EXPECT_EQ(sidecar["epoch"], 2);
  EXPECT_EQ(sidecar["model"], "tell");
}

TEST(Tell, ExportsAndExplanationsAreValid) {
  TempDir dir;
  data::ImageDataset d = synthetic_images(40, 4, 10);
  Generator gen(11);
  Tell net(small_options(4), gen);
  net.eval();
  write_tell_exports(net, d, dir.path().string());
  Tensor centres = io::read_png((dir.path() / "centres.png").string());
  EXPECT_GT(centres.numel(), 0);
  // One row per cluster: its centre, 8 nearest and 8 farthest members.
  Tensor members = io::read_png((dir.path() / "cluster_members.png").string());
  EXPECT_EQ(members.size(-1), 17 * (kSide + 2) + 2);
  EXPECT_EQ(members.size(-2), 4 * (kSide + 2) + 2);
  nlohmann::json j = io::read_json((dir.path() / "centres.json").string());
  ASSERT_EQ(j["clusters"].size(), 4u);
  int64_t total = 0;
  for (const auto& c : j["clusters"]) {
    total += c["size"].get<int64_t>();
    // An empty cluster (the untrained net leaves some) has no majority label.
    if (c["size"] == 0) {
      EXPECT_EQ(c["majority_label"], -1) << c;
    }
    EXPECT_EQ(c["centre"].size(), 4u);
    double n = 0;
    for (double v : c["centre"].get<std::vector<double>>()) n += v * v;
    EXPECT_NEAR(n, 1.0, 1e-5);
  }
  EXPECT_EQ(total, 40);
  EXPECT_EQ(j["scores"]["samples"], 40);
  // Untrained, the decoder does not reconstruct, and centres.json says so.
  const DecoderCheck check = check_autoencoder(net, d);
  EXPECT_FALSE(check.reconstructs()) << check.reconstruction_sse << " vs " << check.mean_image_sse;
  EXPECT_DOUBLE_EQ(j["decoder_check"]["reconstruction_sse"].get<double>(), check.reconstruction_sse);
  EXPECT_FALSE(j["decoder_check"]["reconstructs"].get<bool>());

  nlohmann::json e = explain_tell_one(net, d, 5);
  EXPECT_EQ(e["label"], 1);
  ASSERT_EQ(e["cosine_similarity"].size(), 4u);
  std::vector<double> cos = e["cosine_similarity"].get<std::vector<double>>();
  EXPECT_EQ(e["cluster"].get<int64_t>(), std::max_element(cos.begin(), cos.end()) - cos.begin());
  for (double c : cos) EXPECT_LE(std::abs(c), 1.0 + 1e-6);
  EXPECT_THROW(explain_tell_one(net, d, 40), std::exception);
}

TEST(Tell, ClusterVerbAssignsNewImagesToTheTrainedCentres) {
  // A run folder holding a (default-sized, untrained) TELL checkpoint, and new images as IDX.
  TempDir dir;
  Config config(tell_schema());
  RunFolder run = RunFolder::create(dir.path() / "run", false);
  run.write_config("tell", config);
  Generator gen(uint64_t(config.get_int("seed")));
  Tell net(tell_options(config), gen);
  optim::Adadelta opt(net.parameters(), optim::AdadeltaOptions{});
  train::TrainerOptions to;
  to.model_name = "tell";
  train::Trainer(net, opt, run, config, to).save_checkpoint(0, 0, 0, false);

  const int64_t n = 37, side = 28;
  std::string idx = {0, 0, 8, 3, 0, 0, 0, char(n), 0, 0, 0, char(side), 0, 0, 0, char(side)};
  std::mt19937 rng(3);
  for (int64_t i = 0; i < n * side * side; ++i) idx.push_back(char(rng() % 256));
  const fs::path images = dir.path() / "new-images-idx3-ubyte";
  std::ofstream(images, std::ios::binary) << idx;

  const fs::path out = dir.path() / "assignments.json";
  cluster_tell({config, run, images.string(), out.string(), true, false, 0, ""});
  nlohmann::json j = io::read_json(out.string());
  ASSERT_EQ(j["clusters"].size(), size_t(n));
  int64_t total = 0;
  for (const auto& s : j["cluster_sizes"]) total += s.get<int64_t>();
  EXPECT_EQ(total, n);
  // The same assignments as the (evaluation-mode) model's own nearest centre on those images.
  net.eval();
  nlohmann::json direct = assign_clusters(net, data::load_idx_images(images));
  EXPECT_EQ(j["clusters"], direct["clusters"]);

  // With labels, the assignments are scored; --online keeps learning (RUN is not changed).
  std::string labels = {0, 0, 8, 1, 0, 0, 0, char(n)};
  for (int64_t i = 0; i < n; ++i) labels.push_back(char(i % 10));
  const fs::path label_file = dir.path() / "new-labels-idx1-ubyte";
  std::ofstream(label_file, std::ios::binary) << labels;
  const fs::path online_out = dir.path() / "online.json";
  cluster_tell({config, run, images.string(), online_out.string(), true, true, 10, label_file.string()});
  nlohmann::json o = io::read_json(online_out.string());
  EXPECT_EQ(o["scores"]["samples"], n);
  EXPECT_TRUE(o["online"].get<bool>());
  EXPECT_EQ(o["centres_after"].size(), 10u);
  Tell reloaded(tell_options(config), gen);
  train::Trainer::load_model(reloaded, RunFolder::open(run.root()));
  EXPECT_EQ(reloaded.cluster_weight().to_vector<float>(), net.cluster_weight().to_vector<float>())
      << "the run's checkpoint must not change";

  // Images of another size are a usage error naming the file.
  std::string small = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4};
  const fs::path bad = dir.path() / "small-idx3-ubyte";
  std::ofstream(bad, std::ios::binary) << small;
  try {
    cluster_tell({config, run, bad.string(), "", true, false, 0, ""});
    ADD_FAILURE() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("small-idx3-ubyte: images are 2x2"), std::string::npos) << e.what();
  }
}

// The online setting (paper Table 5, dagger rows): each arriving batch is assigned with the centres
// as they are, then the centres (and only they) learn from it.
TEST(Tell, OnlineClusteringAssignsEachBatchBeforeLearningFromIt) {
  data::ImageDataset d = synthetic_images(48, 4, 12);
  Generator gen(13);
  Tell net(small_options(4), gen);
  net.eval();
  const nlohmann::json fixed = assign_clusters(net, d.images);
  nn::StateDict before;  // copies: state_dict() shares the module's tensors
  std::map<std::string, std::vector<float>> initial;
  for (const auto& [name, t] : net.state_dict()) {
    before[name] = t.clone();
    initial[name] = t.to(DType::f32).to_vector<float>();
  }

  const nlohmann::json online = assign_clusters_online(net, d.images, 16, optim::AdadeltaOptions{});
  ASSERT_EQ(online["clusters"].size(), 48u);
  // The first batch arrives before any update: the fixed centres' assignments.
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(online["clusters"][i], fixed["clusters"][i]) << i;
    EXPECT_NEAR(online["cosine_similarity"][i].get<double>(), fixed["cosine_similarity"][i].get<double>(), 1e-6) << i;
  }
  // Later batches meet centres that have learned: the winning centres moved towards their members.
  double fixed_later = 0, online_later = 0;
  for (size_t i = 16; i < 48; ++i) {
    fixed_later += fixed["cosine_similarity"][i].get<double>();
    online_later += online["cosine_similarity"][i].get<double>();
  }
  EXPECT_GT(online_later, fixed_later);
  // The centres moved, stayed unit vectors, and are what the JSON reports; nothing else changed.
  for (const auto& [name, t] : net.state_dict()) {
    const std::vector<float> now = t.to(DType::f32).to_vector<float>();
    if (name == "cluster_layer.weight")
      EXPECT_NE(now, initial[name]);
    else
      EXPECT_EQ(now, initial[name]) << name;
  }
  for (double n : row_norms(net.centres())) EXPECT_NEAR(n, 1.0, 1e-5);
  const std::vector<double> omega = net.centres().to_vector<double>();
  for (size_t k = 0; k < 4; ++k)
    for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(online["centres_after"][k][j].get<double>(), omega[k * 4 + j], 1e-6);
  // One batch holding every image: all assigned before the single update.
  Tell again(small_options(4), gen);
  again.load_state_dict(before);
  EXPECT_EQ(assign_clusters_online(again, d.images, 48, optim::AdadeltaOptions{})["clusters"], fixed["clusters"]);
}

namespace {

/// The tensors of a run's latest checkpoint whose names start with `prefix`, flattened to floats.
std::map<std::string, std::vector<float>> checkpoint_tensors(const fs::path& run, const std::string& prefix) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, t] : train::Trainer::model_state(RunFolder::open(run)))
    if (name.rfind(prefix, 0) == 0) out[name] = t.to(DType::f32).to_vector<float>();
  return out;
}

/// train_tell on the first 256 Fashion-MNIST images (batches of 64) into `out`, with `keys` set.
void train_small_tell(const fs::path& out, const std::vector<std::pair<std::string, std::string>>& keys,
                      bool resume = false) {
  Config config(tell_schema());
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{{"dataset", "fashion-mnist"},
                                                                             {"subset", "256"},
                                                                             {"use_test", "false"},
                                                                             {"batch_size", "64"},
                                                                             {"threads", "1"},
                                                                             {"eval_every", "1"},
                                                                             {"kmeans_restarts", "0"}})
    config.set(k, v, "test");
  for (const auto& [k, v] : keys) config.set(k, v, "test");
  RunFolder run = RunFolder::create(out, resume);
  run.write_config("tell", config);
  train_tell({config, run, resume});
}

}  // namespace

// TELL-TwoStage (paper Table 4): the autoencoder of a run trained with L_rec alone, fixed; the
// centres alone learn on its features.
TEST(Tell, TwoStageTrainsTheCentresOnAFixedAutoencoder) {
  if (!fs::exists(data::default_data_dir("fashion-mnist") / "t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  TempDir dir;
  const fs::path first = dir.path() / "autoencoder", second = dir.path() / "two_stage";
  train_small_tell(first, {{"epochs", "1"}, {"lambda", "0"}});
  const std::vector<std::pair<std::string, std::string>> two_stage = {
      {"epochs", "3"}, {"init_from", first.string()}, {"fixed_autoencoder", "true"}, {"seed", "5"}};
  train_small_tell(second, two_stage);

  // The autoencoder (batch-norm statistics included) is the first run's, bit for bit ...
  for (const std::string part : {"encoder.", "decoder."}) {
    auto a = checkpoint_tensors(first, part), b = checkpoint_tensors(second, part);
    ASSERT_FALSE(a.empty()) << part;
    EXPECT_TRUE(a == b) << part << " differs from the first run's";
  }
  // ... and the centres moved from their initialisation (this run's seed), staying unit rows
  // of W = 2 alpha Omega.
  Config fresh(tell_schema());
  fresh.set("seed", "5", "test");
  Generator gen(5);
  Tell initial(tell_options(fresh), gen);
  const std::vector<float> trained = checkpoint_tensors(second, "cluster_layer.").at("cluster_layer.weight");
  EXPECT_NE(trained, initial.cluster_weight().to_vector<float>());
  for (double n : row_norms(Tensor::from_vector(trained, {10, 10}))) EXPECT_NEAR(n, 0.002, 1e-6);
  // Steps log L_clu alone (L_rec is a constant of the fixed autoencoder).
  const std::vector<nlohmann::json> logged = read_metrics(RunFolder::open(second).metrics_file());
  ASSERT_FALSE(logged.empty());
  EXPECT_TRUE(logged.front().contains("clu")) << logged.front();
  EXPECT_FALSE(logged.front().contains("rec")) << logged.front();

  // Stopped after one epoch and resumed, it ends where the uninterrupted run did (the features
  // come from the restored autoencoder).
  const fs::path split = dir.path() / "split";
  auto once = two_stage;
  once[0].second = "1";
  train_small_tell(split, once);
  train_small_tell(split, two_stage, /*resume=*/true);
  EXPECT_TRUE(checkpoint_tensors(split, "") == checkpoint_tensors(second, "")) << "the resumed run differs";

  // The keys' mistakes are configuration errors naming the key.
  int attempts = 0;
  auto error_of = [&](const std::vector<std::pair<std::string, std::string>>& keys) {
    try {
      train_small_tell(dir.path() / ("rejected-" + std::to_string(++attempts)), keys);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of({{"fixed_autoencoder", "true"}}).find("fixed_autoencoder = true needs init_from"),
            std::string::npos);
  EXPECT_NE(error_of({{"init_from", (dir.path() / "nothing").string()}}).find("test: cannot start from"),
            std::string::npos);
  const std::string missing = error_of({{"init_from", first.string()}, {"init_checkpoint", "9"}});
  EXPECT_NE(missing.find("no such checkpoint"), std::string::npos) << missing;
  EXPECT_NE(error_of({{"init_from", first.string()}, {"fixed_autoencoder", "true"}, {"lambda", "0"}})
                .find("lambda must be > 0"),
            std::string::npos);
}
