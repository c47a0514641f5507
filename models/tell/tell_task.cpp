#include "models/tell/tell_task.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <numeric>

#include "engine/autograd/grad_mode.h"
#include "engine/io/json_file.h"
#include "engine/io/png.h"
#include "engine/ops/ops.h"
#include "engine/optim/adadelta.h"
#include "kernels/cpu/cpu_backend.h"
#include "models/common/explained_example.h"
#include "models/common/kmeans.h"
#include "trainers/data/data_loader.h"
#include "trainers/metrics_writer.h"
#include "trainers/progress_bar.h"
#include "trainers/restarts.h"
#include "trainers/step_benchmark.h"
#include "trainers/trainer.h"
#include "trainers/training_schema.h"
#include "trainers/usage_error.h"

namespace glassbox::models {

namespace {

constexpr const char* kModelName = "tell";
constexpr int64_t kEvalBatch = 1000;
constexpr int64_t kMembersShown = 8;  // nearest and farthest members per cluster in cluster_members.png

std::unique_ptr<Tell> build_model(const Config& config) {
  Generator gen(uint64_t(config.get_int("seed")));
  auto model = std::make_unique<Tell>(tell_options(config), gen);
  model->to(training_device(config));
  return model;
}

std::string label_name(const data::ImageDataset& d, int64_t label) {
  return label >= 0 && label < int64_t(d.class_names.size()) ? d.class_names[size_t(label)] : std::to_string(label);
}

/// Per cluster: its size, the label most of its members carry (and their share), and the label
/// the Hungarian matching gave it; what shows a user which clusters are clean and which mixed.
nlohmann::json cluster_composition(const TellEvaluation& e, const data::ImageDataset& data, int64_t num_clusters) {
  const metrics::Contingency table = metrics::contingency(data.labels.to_vector<int64_t>(), e.assignment);
  const std::vector<int64_t> matched = metrics::match_clusters_to_labels(table);
  nlohmann::json clusters = nlohmann::json::array();
  for (int64_t k = 0; k < num_clusters; ++k) {
    // The table has columns up to the largest cluster index that has members only.
    const bool seen = k < table.num_clusters;
    int64_t size = 0, majority = -1, majority_count = 0;
    for (int64_t l = 0; seen && l < table.num_labels; ++l) {
      size += table.at(l, k);
      if (table.at(l, k) > majority_count) {
        majority = l;
        majority_count = table.at(l, k);
      }
    }
    const int64_t match = seen ? matched[size_t(k)] : -1;
    clusters.push_back({{"index", k},
                        {"size", size},
                        {"majority_label", majority},
                        {"majority_label_name", majority < 0 ? "" : label_name(data, majority)},
                        {"majority_fraction", size == 0 ? 0.0 : double(majority_count) / double(size)},
                        {"matched_label", match},
                        {"matched_label_name", match < 0 ? "" : label_name(data, match)}});
  }
  return clusters;
}

/// The checks between keys the schema cannot make, before anything is trained.
void check_two_stage_keys(const Config& config) {
  if (!config.get_bool("fixed_autoencoder")) return;
  if (config.get_string("init_from").empty())
    throw ConfigError(config.origin("fixed_autoencoder") +
                      ": fixed_autoencoder = true needs init_from, the run whose trained autoencoder gives the "
                      "fixed features");
  if (config.get_double("lambda") == 0)
    throw ConfigError(config.origin("fixed_autoencoder") +
                      ": fixed_autoencoder = true trains the centres by L_clu alone, so lambda must be > 0");
}

/// The features z of every image under the fixed autoencoder (eval mode: batch normalisation
/// with its running statistics, so an image's z never changes).
Tensor fixed_features(Tell& model, const data::ImageDataset& data) {
  const bool was_training = model.is_training();
  model.eval();
  Tensor z = nearest_centres(model, data.images, "").latent;
  model.train(was_training);
  return z;
}

/// Everything one training run (one restart) needs; the run's outcome is its final evaluation.
TellEvaluation train_one(const Config& config, const RunFolder& run, const data::ImageDataset& data, bool resume,
                         bool& interrupted) {
  const uint64_t seed = uint64_t(config.get_int("seed"));
  manual_seed(seed);
  auto model = build_model(config);
  if (!config.get_string("init_from").empty() && !train::Trainer::restores_checkpoint(run, resume))
    load_autoencoder(*model, config);
  // TELL-TwoStage optimises the centres alone; the autoencoder keeps the weights it came with.
  const bool fixed = config.get_bool("fixed_autoencoder");
  optim::Adadelta optimizer(fixed ? std::vector<Tensor>{model->cluster_weight()} : model->parameters(),
                            tell_adadelta_options(config));
  int64_t current_epoch = 0;
  model->attach_normalised_updates(optimizer,
                                   [&current_epoch, fixed] { return fixed || Tell::centres_move(current_epoch); });

  data::LoaderOptions lo = loader_options(config);
  lo.drop_last = true;  // as the official code: every step sees a full batch
  data::DataLoader loader(data, lo);
  if (loader.num_batches() == 0)
    throw ConfigError(config.origin("batch_size") + ": batch_size " + std::to_string(lo.batch_size) +
                      " is larger than the " + std::to_string(data.size()) + " images");

  train::TrainerOptions to = trainer_options(config, kModelName);
  train::Trainer trainer(*model, optimizer, run, config, to);

  const int64_t eval_every = config.get_int("eval_every");  // >= 1 by the schema
  std::cerr << "tell: " << model->num_parameters() << " parameters, " << data.size() << " images of "
            << data.name << ", seed " << seed << "\n";
  auto on_epoch_end = [&](int64_t epochs_done) {
    nlohmann::json m = nlohmann::json::object();
    if (epochs_done % eval_every != 0 && epochs_done != to.epochs) return m;
    model->eval();
    TellEvaluation e = evaluate_tell(*model, data, true);
    m = e.scores.to_json();
    m["clu_all"] = e.clustering_loss;
    std::cerr << std::fixed << std::setprecision(2) << "epoch " << epochs_done << ": ACC " << 100 * e.scores.accuracy
              << "  NMI " << 100 * e.scores.nmi << "  ARI " << 100 * e.scores.ari << "  AMI " << 100 * e.scores.ami
              << std::setprecision(6) << "  L_clu " << e.clustering_loss << "\n";
    return m;
  };
  train::TrainSummary summary;
  if (!fixed) {
    summary = trainer.fit(
        loader,
        [&](const data::Batch& batch, int64_t epoch) {
          current_epoch = epoch;
          TellOutput out = model->forward(batch.images, epoch);
          TellLoss l = model->loss(out, batch.images);
          return train::StepResult{l.total, {}, {{"rec", l.rec_term.detach()}, {"clu", l.clu_term.detach()}}};
        },
        on_epoch_end, resume);
  } else {
    // The features are computed once, after the trainer has restored any checkpoint (the first
    // step), and the batches are the loader's: the same seeded order as an end-to-end run.
    const data::BatchSampler sampler(data.size(), lo.batch_size, lo.seed, lo.shuffle, lo.drop_last);
    Tensor features;
    int64_t cached_epoch = -1;
    std::vector<std::vector<int64_t>> batches;
    summary = trainer.fit(
        sampler.num_batches(),
        [&](int64_t epoch, int64_t b) {
          current_epoch = epoch;
          if (!features.defined()) features = fixed_features(*model, data);
          if (epoch != cached_epoch) batches = sampler.epoch_batches(cached_epoch = epoch);
          const std::vector<int64_t>& ids = batches[size_t(b)];
          Tensor index = Tensor::from_vector(ids, {int64_t(ids.size())}).to(model->device());
          TellLoss l = model->fixed_feature_loss(ops::index_select(features, 0, index));
          return train::StepResult{l.total, {}, {{"clu", l.clu_term.detach()}}};
        },
        on_epoch_end, resume);
  }
  interrupted = summary.interrupted;
  model->eval();
  TellEvaluation final_eval = interrupted ? TellEvaluation{} : evaluate_tell(*model, data, true);
  if (!interrupted)
    MetricsWriter(run.metrics_file())
        .write({{"final", true},
                {"accuracy", final_eval.scores.accuracy},
                {"nmi", final_eval.scores.nmi},
                {"ari", final_eval.scores.ari},
                {"ami", final_eval.scores.ami},
                {"clu_all", final_eval.clustering_loss},
                {"seconds", summary.seconds}});
  return final_eval;
}

void print_composition(const nlohmann::json& clusters) {
  std::cout << "cluster     size  matched label   majority label (share)\n";
  for (const auto& c : clusters)
    std::cout << std::setw(7) << c["index"].get<int64_t>() << std::setw(9) << c["size"].get<int64_t>() << "  "
              << std::left << std::setw(14) << c["matched_label_name"].get<std::string>() << "  "
              << c["majority_label_name"].get<std::string>() << std::right << " (" << std::fixed << std::setprecision(1)
              << 100 * c["majority_fraction"].get<double>() << "%)\n";
}

void print_scores(const std::string& what, const TellEvaluation& e) {
  std::cout << std::fixed << std::setprecision(2) << what << ": ACC " << 100 * e.scores.accuracy << "%  NMI "
            << 100 * e.scores.nmi << "%  ARI " << 100 * e.scores.ari << "%  AMI " << 100 * e.scores.ami << "%  L_clu "
            << std::setprecision(6) << e.clustering_loss << "\n";
}

}  // namespace

std::unique_ptr<Tell> load_trained_tell(const Config& config, const RunFolder& run) {
  auto model = build_model(config);
  train::Trainer::load_model(*model, run);
  model->eval();
  return model;
}

optim::AdadeltaOptions tell_adadelta_options(const Config& config) {
  optim::AdadeltaOptions o;
  o.lr = config.get_double("lr");
  o.rho = config.get_double("rho");
  o.eps = config.get_double("eps");
  return o;
}

NearestCentres nearest_centres(const Tell& model, const Tensor& images, const std::string& bar_label) {
  NoGradGuard no_grad;
  const int64_t n = images.size(0);
  std::unique_ptr<ProgressBar> bar;
  if (!bar_label.empty()) bar = std::make_unique<ProgressBar>(bar_label, (n + kEvalBatch - 1) / kEvalBatch);
  NearestCentres out;
  std::vector<Tensor> parts;
  for (int64_t start = 0; start < n; start += kEvalBatch) {
    Tensor z = model.encode(images.narrow(0, start, std::min(kEvalBatch, n - start)).to(model.device()));
    ops::ValuesIndices best = ops::max(model.scores(z), 1);
    for (int64_t k : best.indices.to_vector<int64_t>()) out.centre.push_back(k);
    for (double c : best.values.to_vector<double>()) out.score.push_back(c);
    parts.push_back(z);
    if (bar) bar->update(start / kEvalBatch + 1);
  }
  if (bar) bar->finish();
  out.latent = parts.empty() ? Tensor() : ops::concat(parts, 0);
  return out;
}

ConfigSchema tell_schema() {
  ConfigSchema s = common_training_schema();
  s.add("num_clusters", ConfigType::integer, "10", "K, the cluster centres (MNIST: 10)")
      .at_least(2)
      .add("latent_dim", ConfigType::integer, "10", "d of the unit-sphere features (paper: 10)")
      .at_least(2)
      .add("hidden", ConfigType::integer, "256", "width of the encoder/decoder fully connected layer (paper: 256)")
      .at_least(1)
      .add("alpha", ConfigType::real, "0.001", "scale of the cluster layer W = 2 alpha Omega (code: 0.001)")
      .above(0)
      .add("lambda", ConfigType::real, "0.01", "weight of L_clu (paper: 0.01)")
      .at_least(0)
      .add("grad_fraction", ConfigType::real, "0.1",
           "each centre's gradient is rescaled to this fraction of its length (paper: 10%)")
      .above(0)
      .add("lr", ConfigType::real, "1.0", "Adadelta learning rate (code: 1.0, PyTorch's default)")
      .above(0)
      .add("rho", ConfigType::real, "0.9", "Adadelta rho")
      .at_least(0)
      .at_most(1)
      .add("eps", ConfigType::real, "1e-6", "Adadelta eps")
      .at_least(0)
      .add("use_test", ConfigType::boolean, "true", "cluster the test split too (paper: all 70,000 MNIST digits)")
      .add("subset", ConfigType::integer, "0", "cluster the first N images only (0: all)")
      .at_least(0)
      .add("eval_every", ConfigType::integer, "50", "epochs between evaluations on every image (code: 50)")
      .at_least(1)
      .add("kmeans_restarts", ConfigType::integer, "10",
           "k-means++ restarts of the k-means baseline `glassbox eval` runs on the same features (0: none)")
      .at_least(0)
      .add("init_from", ConfigType::text, "",
           "a TELL run folder whose autoencoder (encoder and decoder) starts this run; the centres start "
           "from this run's seed (e.g. a lambda = 0 run, for TELL-TwoStage)")
      .add("init_checkpoint", ConfigType::text, "latest", "the checkpoint of init_from to take: latest or an epoch")
      .add("fixed_autoencoder", ConfigType::boolean, "false",
           "train the centres alone on the fixed features of init_from's autoencoder, every epoch "
           "(the paper's TELL-TwoStage, Table 4)");
  return train::add_restart_keys(s, "the one with the lowest L_clu is kept");
}

TellOptions tell_options(const Config& config) {
  TellOptions o;
  o.num_clusters = config.get_int("num_clusters");
  o.latent_dim = config.get_int("latent_dim");
  o.hidden = config.get_int("hidden");
  o.alpha = config.get_double("alpha");
  o.lambda = config.get_double("lambda");
  o.grad_fraction = config.get_double("grad_fraction");
  return o;
}

data::ImageDataset load_tell_data(const Config& config) {
  const std::string name = config.get_string("dataset");
  const std::filesystem::path dir = config.get_string("data_dir");
  data::ImageDataset d = data::load_dataset(name, data::Split::train, dir);
  if (config.get_bool("use_test")) {
    data::ImageDataset test = data::load_dataset(name, data::Split::test, dir);
    d.images = ops::concat({d.images, test.images}, 0);
    d.labels = ops::concat({d.labels, test.labels}, 0);
    d.name = name + "/train+test";
  }
  const int64_t subset = config.get_int("subset");  // >= 0 by the schema
  if (subset > 0 && subset < d.size()) {
    std::vector<int64_t> ids(static_cast<size_t>(subset));
    std::iota(ids.begin(), ids.end(), 0);
    d = d.subset(ids, "[:" + std::to_string(subset) + "]");
  }
  return d;
}

TellEvaluation evaluate_tell(const Tell& model, const data::ImageDataset& data, bool show_progress) {
  NearestCentres nearest = nearest_centres(model, data.images, show_progress ? "eval " + data.name : "");
  TellEvaluation e;
  e.latent = nearest.latent;
  e.assignment = std::move(nearest.centre);
  // Per sample, the K entries of (2 alpha - delta c) sum to K * 2 alpha - max_k c.
  const double alpha = model.options().alpha, k = double(model.options().num_clusters);
  double clu_sum = 0;
  for (double c : nearest.score) clu_sum += (2.0 * alpha * k - c) / k;
  e.clustering_loss = data.size() > 0 ? model.options().lambda / alpha * clu_sum / double(data.size()) : 0.0;
  e.scores = metrics::score_clustering(data.labels.to_vector<int64_t>(), e.assignment);
  return e;
}

void load_autoencoder(Tell& model, const Config& config) {
  const std::string from = config.get_string("init_from");
  try {
    RunFolder source = RunFolder::open(from);
    if (source.model_name() != kModelName)
      throw std::runtime_error("a " + source.model_name() + " run, not a TELL one");
    source.select_checkpoint(config.get_string("init_checkpoint"));
    nn::StateDict autoencoder;
    for (auto& [name, t] : train::Trainer::model_state(source))
      if (name.rfind("encoder.", 0) == 0 || name.rfind("decoder.", 0) == 0) autoencoder[name] = t;
    const nn::LoadResult loaded = model.load_state_dict(autoencoder, /*strict=*/false);
    for (const std::string& missing : loaded.missing_keys)
      if (missing.rfind("cluster_layer.", 0) != 0) throw std::runtime_error("its checkpoint has no " + missing);
  } catch (const std::exception& e) {
    throw ConfigError(config.origin("init_from") + ": cannot start from '" + from + "': " + e.what());
  }
}

void train_tell(const TrainRequest& request) {
  const Config& config = request.config;
  check_two_stage_keys(config);
  data::ImageDataset data = load_tell_data(config);
  // The paper (Appendix B) trains 5 initialisations and reports the one with the lowest
  // L_clu on all images, a criterion that needs no labels.
  const train::RestartCriterion criterion{"clu_all", /*lower_is_better=*/true, ""};
  const train::RestartsResult result = train::train_with_restarts(
      kModelName, config, request.run, request.resume, criterion,
      [&](const Config& c, const RunFolder& run, bool resume) {
        bool interrupted = false;
        TellEvaluation e = train_one(c, run, data, resume, interrupted);
        if (interrupted) return train::RestartOutcome{true, 0.0, {}, 0.0};
        print_scores("clustering of " + data.name + " (seed " + std::to_string(c.get_int("seed")) + ")", e);
        return train::RestartOutcome{false, e.clustering_loss, {{"scores", e.scores.to_json()}}, 0.0};
      });
  if (result.interrupted) return;
  auto model = load_trained_tell(config, request.run);
  write_tell_exports(*model, data, request.run.exports_dir().string());
  std::cout << "centres: " << (request.run.exports_dir() / "centres.png").string() << "\n"
            << "exports: " << request.run.exports_dir().string() << "\n";
}

void eval_tell(const EvalRequest& request) {
  // A clustering is scored on the images it clustered (the paper: all 70,000 MNIST
  // digits), so --split does not apply; the data set is the one the config names.
  data::ImageDataset data = load_tell_data(request.config);
  auto model = load_trained_tell(request.config, request.run);
  TellEvaluation e = evaluate_tell(*model, data, true);
  // The baseline of the paper's Table 4: k-means on the same features z. With lambda = 0
  // the run is the autoencoder trained with L_rec alone, TELL's two-stage counterpart.
  KMeansOptions ko;
  ko.k = model->options().num_clusters;
  ko.restarts = request.config.get_int("kmeans_restarts");
  ko.seed = uint64_t(request.config.get_int("seed"));
  metrics::ClusteringScores km;
  if (ko.restarts > 0) {
    KMeansResult r = kmeans(e.latent.to_vector<double>(), e.latent.size(0), e.latent.size(1), ko);
    km = metrics::score_clustering(data.labels.to_vector<int64_t>(), r.assignment);
  }
  const bool autoencoder_only = model->options().lambda == 0;
  const bool two_stage = request.config.get_bool("fixed_autoencoder");
  if (request.json) {
    nlohmann::json j = e.scores.to_json();
    j["split"] = data.name;
    j["checkpoint"] = train::Trainer::checkpoint_position(request.run);
    j["clu_all"] = e.clustering_loss;
    j["lambda"] = model->options().lambda;
    j["fixed_autoencoder"] = two_stage;
    j["clusters"] = cluster_composition(e, data, model->options().num_clusters);
    if (ko.restarts > 0) j["kmeans"] = km.to_json();
    std::cout << j.dump() << "\n";
  } else {
    if (autoencoder_only)
      std::cout << "lambda = 0: the autoencoder trained with L_rec alone; its centres never trained, so the k-means\n"
                   "row below is the paper's two-stage baseline (Table 4) and the TELL row means nothing.\n";
    if (two_stage)
      std::cout << "fixed_autoencoder: TELL-TwoStage (Table 4), centres trained on the fixed features of "
                << request.config.get_string("init_from") << "'s autoencoder.\n";
    std::cout << "TELL clustering of " << data.name << ":\n" << e.scores.table();
    print_composition(cluster_composition(e, data, model->options().num_clusters));
    if (ko.restarts > 0)
      std::cout << "k-means (k-means++, " << ko.restarts << " restarts) on the same features:\n" << km.table();
  }
}

void export_tell(const ExportRequest& request) {
  data::ImageDataset data = load_tell_data(request.config);
  auto model = load_trained_tell(request.config, request.run);
  write_tell_exports(*model, data, request.run.exports_dir().string());
}

void write_tell_exports(const Tell& model, const data::ImageDataset& data, const std::string& dir_name) {
  NoGradGuard no_grad;
  const std::filesystem::path dir(dir_name);
  std::filesystem::create_directories(dir);
  const int64_t K = model.options().num_clusters;
  Tensor omega = model.centres();
  // The decoded centres: the prototype image of each cluster (paper Fig. 4).
  Tensor decoded = model.decode(omega).to(Device::cpu());
  io::write_png(io::image_grid(decoded, std::min<int64_t>(K, 5), 2, 1.0), (dir / "centres.png").string());
  const DecoderCheck check = check_autoencoder(model, data);
  warn_unless_reconstructs(check, "centres");

  TellEvaluation e = evaluate_tell(model, data, true);
  nlohmann::json clusters = cluster_composition(e, data, K);

  // Each cluster's members ordered by cosine similarity to its centre (= Omega_k^T z).
  std::vector<double> sim = ops::matmul(e.latent, omega.mT()).to_vector<double>();
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(K));
  for (int64_t i = 0; i < int64_t(e.assignment.size()); ++i) members[size_t(e.assignment[size_t(i)])].push_back(i);
  Tensor blank = Tensor::zeros({1, decoded.size(1), decoded.size(2), decoded.size(3)});
  std::vector<Tensor> rows;
  const std::vector<double> centre_values = omega.to_vector<double>();
  const int64_t d = omega.size(1);
  for (int64_t k = 0; k < K; ++k) {
    std::vector<int64_t>& m = members[size_t(k)];
    std::sort(m.begin(), m.end(),
              [&](int64_t a, int64_t b) { return sim[size_t(a * K + k)] > sim[size_t(b * K + k)]; });
    std::vector<Tensor> row = {decoded.narrow(0, k, 1)};
    const int64_t shown = std::min<int64_t>(kMembersShown, int64_t(m.size()));
    auto add = [&](const std::vector<int64_t>& ids) {
      if (!ids.empty()) row.push_back(data.gather(ids).images);
      for (int64_t f = int64_t(ids.size()); f < kMembersShown; ++f) row.push_back(blank);
    };
    add(std::vector<int64_t>(m.begin(), m.begin() + shown));
    add(std::vector<int64_t>(m.end() - shown, m.end()));
    rows.push_back(ops::concat(row, 0));
    clusters[size_t(k)]["centre"] =
        std::vector<double>(centre_values.begin() + k * d, centre_values.begin() + (k + 1) * d);
  }
  io::write_png(io::image_grid(ops::concat(rows, 0), 1 + 2 * kMembersShown, 2, 1.0),
                (dir / "cluster_members.png").string());
  io::write_json_atomic((dir / "centres.json").string(),
                        {{"model", kModelName},
                         {"data", data.name},
                         {"alpha", model.options().alpha},
                         {"latent_dim", d},
                         {"class_names", data.class_names},
                         {"scores", e.scores.to_json()},
                         {"clu_all", e.clustering_loss},
                         {"decoder_check", check.to_json()},
                         {"clusters", clusters}});
}

nlohmann::json explain_tell_one(const Tell& model, const data::ImageDataset& data, int64_t index) {
  NoGradGuard no_grad;
  data::Batch b = explained_example(data, index, model.device());
  Tensor z = model.encode(b.images);
  // Both z and Omega_k have unit length, so Omega_k^T z is the cosine similarity and
  // ||z - Omega_k||^2 = 2 - 2 cos: the most similar centre is the nearest.
  std::vector<double> cos = ops::matmul(z, model.centres().mT()).to_vector<double>();
  const int64_t cluster = std::max_element(cos.begin(), cos.end()) - cos.begin();
  const int64_t label = b.labels.to_vector<int64_t>()[0];
  std::vector<double> dist;
  for (double c : cos) dist.push_back(std::sqrt(std::max(0.0, 2.0 - 2.0 * c)));
  return {{"index", index},
          {"data", data.name},
          {"label", label},
          {"label_name", label_name(data, label)},
          {"cluster", cluster},
          {"cosine_similarity", cos},
          {"distance", dist}};
}

void explain_tell(const ExplainRequest& request) {
  data::ImageDataset data = load_tell_data(request.config);
  auto model = load_trained_tell(request.config, request.run);
  nlohmann::json e = explain_tell_one(*model, data, request.index);
  // The label each cluster was matched to, when the run has been exported.
  const auto centres_json = request.run.exports_dir() / "centres.json";
  if (std::filesystem::exists(centres_json)) {
    nlohmann::json c = io::read_json(centres_json.string());
    const auto& cluster = c.at("clusters").at(e["cluster"].get<size_t>());
    e["cluster_matched_label"] = cluster.at("matched_label");
    e["cluster_matched_label_name"] = cluster.at("matched_label_name");
  }
  if (request.json) {
    std::cout << e.dump() << "\n";
    return;
  }
  std::cout << std::fixed << std::setprecision(4) << data.name << " image " << request.index << " (label "
            << e["label_name"].get<std::string>() << ") is in cluster " << e["cluster"].get<int64_t>();
  if (e.contains("cluster_matched_label_name"))
    std::cout << " (matched to " << e["cluster_matched_label_name"].get<std::string>() << ")";
  std::cout << "\ncosine similarity to each centre:\n";
  for (size_t k = 0; k < e["cosine_similarity"].size(); ++k)
    std::cout << "  centre " << k << "  " << std::setw(8) << e["cosine_similarity"][k].get<double>()
              << (int64_t(k) == e["cluster"].get<int64_t>() ? "  <- nearest" : "") << "\n";
}

void bench_tell(const BenchRequest& request) {
  const Config& config = request.config;
  data::ImageDataset data = load_tell_data(config);
  manual_seed(uint64_t(config.get_int("seed")));
  auto model = build_model(config);
  optim::Adadelta optimizer(model->parameters(), tell_adadelta_options(config));
  int64_t epoch = 0;
  model->attach_normalised_updates(optimizer, [&epoch] { return Tell::centres_move(epoch); });
  const int64_t batch = config.get_int("batch_size");
  data::LoaderOptions lo = loader_options(config);
  lo.drop_last = true;
  data::DataLoader loader(data, lo);
  data::Batch b;
  train::run_step_benchmark(
      {kModelName, batch, request.steps, 3, nlohmann::json::object(), request.profile, model->device()},
      [&](int64_t i) {
        epoch = i % 2;  // both halves of the alternation
        b = loader.batch(0, i % loader.num_batches()).to(model->device());
      },
      [&] {
        TellLoss l = model->loss(model->forward(b.images, epoch), b.images);
        optimizer.zero_grad();
        l.total.backward();
        optimizer.step();
      });
}

namespace {
ModelEntry tell_entry() {
  ModelEntry e{kModelName, "TELL (Peng et al. 2022): k-means as a network layer, its centres decoded to images",
               tell_schema(), train_tell, eval_tell, export_tell, explain_tell, bench_tell};
  e.cluster = cluster_tell;
  return e;
}
const ModelRegistrar registrar{tell_entry()};
}  // namespace

}  // namespace glassbox::models
