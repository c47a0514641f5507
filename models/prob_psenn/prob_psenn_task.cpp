#include "models/prob_psenn/prob_psenn_task.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "engine/autograd/grad_mode.h"
#include "engine/io/json_file.h"
#include "engine/io/png.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "models/common/decoder_check.h"
#include "models/common/explained_example.h"
#include "models/common/run_data.h"
#include "trainers/data/data_loader.h"
#include "trainers/metrics/confusion_matrix.h"
#include "trainers/metrics_writer.h"
#include "trainers/step_benchmark.h"
#include "trainers/trainer.h"
#include "trainers/training_schema.h"
#include "trainers/usage_error.h"

namespace glassbox::models {

namespace {

constexpr const char* kModelName = "prob_psenn";
constexpr int64_t kEvalBatch = 500;
/// Explanations compare an input with at most this many training latents (per run, not per class).
constexpr int64_t kReferenceImages = 10000;
/// Evaluation draws prototypes from its own generator, offset from the training seed.
constexpr uint64_t kEvalSeedOffset = 0x5eed;

uint64_t eval_seed(const Config& config) { return uint64_t(config.get_int("seed")) + kEvalSeedOffset; }

std::unique_ptr<ProbPsenn> build_model(const Config& config, int64_t num_classes) {
  Generator gen(uint64_t(config.get_int("seed")));
  auto model = std::make_unique<ProbPsenn>(prob_psenn_options(config, num_classes), gen);
  model->to(training_device(config));
  return model;
}

std::unique_ptr<ProbPsenn> load_trained(const Config& config, const RunFolder& run, int64_t num_classes) {
  auto model = build_model(config, num_classes);
  train::Trainer::load_model(*model, run);
  model->eval();
  return model;
}

/// Latent means and (VAE backbone) variances [N, d] of a data set's first `limit`
/// images, in batches, without gradients.
std::pair<Tensor, Tensor> encode_all(const ProbPsenn& model, const data::ImageDataset& dataset, int64_t limit) {
  NoGradGuard no_grad;
  const int64_t n = std::min(limit, dataset.size());
  std::vector<Tensor> means, variances;
  for (int64_t start = 0; start < n; start += kEvalBatch) {
    const int64_t len = std::min(kEvalBatch, n - start);
    auto [mean, logvar] = model.encode(ProbPsenn::preprocess(dataset.images.narrow(0, start, len).to(model.device())));
    means.push_back(mean);
    if (logvar.defined()) variances.push_back(ops::exp(logvar));
  }
  return {ops::concat(means, 0), variances.empty() ? Tensor() : ops::concat(variances, 0)};
}

/// Decoder outputs in [-1, 1] back to [0, 1] for PNGs.
Tensor to_unit_range(const Tensor& images) { return ops::clamp((images + 1.0) * 0.5, 0.0, 1.0); }

std::string class_name(const data::ImageDataset& d, int64_t c) {
  return c < int64_t(d.class_names.size()) ? d.class_names[size_t(c)] : std::to_string(c);
}

int64_t eval_samples(const Config& config) {
  return config.get_int("eval_samples");  // >= 1 by the schema
}

ConfusionMatrix confusion(const ProbPsennPredictions& p, const data::ImageDataset& dataset) {
  ConfusionMatrix m(dataset.class_names);
  m.add(p.predicted, dataset.labels);
  return m;
}

double calibration_error(const ProbPsennPredictions& p, const data::ImageDataset& dataset) {
  std::vector<double> conf = ops::amax(p.probabilities, {1}).to_vector<double>();
  std::vector<int64_t> pred = p.predicted.to_vector<int64_t>(), y = dataset.labels.to_vector<int64_t>();
  std::vector<bool> correct(pred.size());
  for (size_t i = 0; i < pred.size(); ++i) correct[i] = pred[i] == y[i];
  return metrics::expected_calibration_error(conf, correct);
}

double mean_of(const Tensor& t) { return ops::mean(t).item(); }

/// Where `distance` falls among a class's sorted training distances, in percent (100:
/// farther than all of them; 100 too when the class has no reference).
double distance_percentile(const std::vector<double>& sorted_reference, double distance) {
  if (sorted_reference.empty()) return 100.0;
  const auto closer = std::lower_bound(sorted_reference.begin(), sorted_reference.end(), distance);
  return 100.0 * double(closer - sorted_reference.begin()) / double(sorted_reference.size());
}

/// The references of class_distance_references from the first kReferenceImages training images.
std::vector<std::vector<double>> training_references(const ProbPsenn& model, const data::ImageDataset& train) {
  Tensor latents = encode_all(model, train, kReferenceImages).first;
  return class_distance_references(model, latents, train.labels.narrow(0, 0, latents.size(0)));
}

/// For every image, the percentile of its distance to the predicted class's prototype mode
/// among that class's training distances (the explanatory epistemic uncertainty).
std::vector<double> predicted_mode_percentiles(const ProbPsenn& model, const data::ImageDataset& dataset,
                                               const Tensor& predicted,
                                               const std::vector<std::vector<double>>& references) {
  NoGradGuard no_grad;
  Tensor latents = encode_all(model, dataset, dataset.size()).first;
  Tensor modes = ops::index_select(model.prototype_means(), 0, predicted.to(model.device()));
  std::vector<double> dist = ops::sum(ops::square(latents - modes), {1}).to_vector<double>();
  std::vector<int64_t> pred = predicted.to_vector<int64_t>();
  std::vector<double> out(dist.size());
  for (size_t i = 0; i < dist.size(); ++i) out[i] = distance_percentile(references.at(size_t(pred[i])), dist[i]);
  return out;
}

}  // namespace

ConfigSchema prob_psenn_schema() {
  ConfigSchema s = common_training_schema();
  s.add("variant", ConfigType::text, "probabilistic",
        "probabilistic (Prob-PSENN: Gaussian prototypes) or deterministic (the PSENN baseline: point prototypes)")
      .one_of({"probabilistic", "deterministic"})
      .add("covariance", ConfigType::text, "full", "prototype covariance: full (L L^T) or diagonal")
      .one_of({"full", "diagonal"})
      .add("latent_dim", ConfigType::integer, "40", "d, the latent size (paper's MNIST model: 40)")
      .at_least(1)
      .add("base_channels", ConfigType::integer, "32", "channels of the stride-2 convolutions b, b, 2b (paper: 32)")
      .at_least(1)
      .add("bottleneck_channels", ConfigType::integer, "256", "channels of the 1x1-resolution layers (paper: 256)")
      .at_least(1)
      .add("vae", ConfigType::boolean, "true", "VAE backbone: the encoder gives mu and log sigma^2 (paper: true)")
      .add("train_class_weights", ConfigType::boolean, "true", "train W (initialised to -0.5 I) or keep it fixed")
      .add("prototype_init_std", ConfigType::real, "1", "std of the N(0, s^2) initialisation of prototype means")
      .at_least(0)
      .add("batch_norm_momentum", ConfigType::real, "0.01",
           "BatchNorm running-average momentum, PyTorch convention (Keras's 0.99 = 0.01)")
      .above(0)
      .at_most(1)
      .add("train_samples", ConfigType::integer, "10", "prototype sets sampled per training step (S)")
      .at_least(1)
      .add("eval_samples", ConfigType::integer, "30", "prototype sets sampled per input at evaluation (S = 30)")
      .at_least(1)
      .add("lr", ConfigType::real, "0.001", "Adam learning rate (paper: 0.001)")
      .above(0)
      .add("lambda_nll", ConfigType::real, "1", "weight of the sampled NLL (paper: 1)")
      .at_least(0)
      .add("lambda_rec", ConfigType::real, "10", "weight of the reconstruction MSE (paper: 10)")
      .at_least(0)
      .add("lambda_r2", ConfigType::real, "0.05", "weight of R2 = clip(-log q_y(z), -1, 1e4) (paper: 0.05)")
      .at_least(0)
      .add("lambda_kl", ConfigType::real, "0.05", "weight of the VAE KL term (paper: 0.05)")
      .at_least(0)
      .add("pretrain_epochs", ConfigType::integer, "0",
           "the first N epochs train the autoencoder only (MSE + lambda_kl KL)")
      .at_least(0)
      .add("fit_prototypes", ConfigType::boolean, "false",
           "after pre-training, set each class's mu and L to the mean and Cholesky factor of its embeddings")
      .add("export_samples", ConfigType::integer, "8", "decoded prototype samples per class in the exports")
      .at_least(0)
      .add("train_subset", ConfigType::integer, "0", "train on the first N training samples only (0: all)")
      .at_least(0)
      .add("eval_every", ConfigType::integer, "1", "epochs between validation evaluations")
      .at_least(1);
  return s;
}

ProbPsennOptions prob_psenn_options(const Config& config, int64_t num_classes) {
  ProbPsennOptions o;
  const std::string variant = config.get_string("variant"), covariance = config.get_string("covariance");
  // The schema allows only these two values of each.
  o.probabilistic = variant == "probabilistic";
  o.full_covariance = covariance == "full";
  o.latent_dim = config.get_int("latent_dim");
  o.base_channels = config.get_int("base_channels");
  o.bottleneck_channels = config.get_int("bottleneck_channels");
  o.vae = config.get_bool("vae");
  o.train_class_weights = config.get_bool("train_class_weights");
  o.prototype_init_std = config.get_double("prototype_init_std");
  o.batch_norm_momentum = config.get_double("batch_norm_momentum");
  o.num_classes = num_classes;
  return o;
}

ProbPsennLossWeights prob_psenn_loss_weights(const Config& config) {
  return {config.get_double("lambda_nll"), config.get_double("lambda_rec"), config.get_double("lambda_r2"),
          config.get_double("lambda_kl")};
}

ProbPsennPredictions predict_dataset(const ProbPsenn& model, const data::ImageDataset& dataset, int64_t samples,
                                     uint64_t seed, bool sample_latent) {
  NoGradGuard no_grad;
  Generator gen(seed);
  std::vector<Tensor> probs, total, aleatoric, epistemic;
  for (int64_t start = 0; start < dataset.size(); start += kEvalBatch) {
    const int64_t len = std::min(kEvalBatch, dataset.size() - start);
    ProbPsennOutput out = model.forward(dataset.images.narrow(0, start, len).to(model.device()), samples, false, &gen, sample_latent);
    Tensor per_sample = ProbPsenn::sample_probabilities(out).permute({1, 0, 2});  // [B, S, K]
    metrics::EntropyDecomposition e = metrics::decompose_predictive_entropy(per_sample);
    probs.push_back(ops::mean(per_sample, {1}));
    total.push_back(e.total);
    aleatoric.push_back(e.aleatoric);
    epistemic.push_back(e.epistemic);
  }
  ProbPsennPredictions p;
  p.probabilities = ops::concat(probs, 0);
  p.predicted = ops::argmax(p.probabilities, 1);
  p.entropy = {ops::concat(total, 0), ops::concat(aleatoric, 0), ops::concat(epistemic, 0)};
  return p;
}

void train_prob_psenn(const TrainRequest& request) {
  const Config& config = request.config;
  RunData data = load_run_data(config);
  manual_seed(uint64_t(config.get_int("seed")));
  auto model = build_model(config, data.train.num_classes);
  optim::AdamOptions adam;
  adam.lr = config.get_double("lr");
  optim::Adam optimizer(model->parameters(), adam);
  data::DataLoader loader(data.train, loader_options(config));
  train::TrainerOptions to = trainer_options(config, kModelName);
  train::Trainer trainer(*model, optimizer, request.run, config, to);

  const ProbPsennLossWeights weights = prob_psenn_loss_weights(config);
  const int64_t train_samples = config.get_int("train_samples");
  const int64_t samples = eval_samples(config);
  const int64_t pretrain = config.get_int("pretrain_epochs");
  if (pretrain < 0 || pretrain >= to.epochs)
    throw ConfigError(config.origin("pretrain_epochs") + ": pretrain_epochs must be in [0, epochs)");
  const bool fit = config.get_bool("fit_prototypes");
  const int64_t eval_every = config.get_int("eval_every");  // >= 1 by the schema
  auto fit_to_data = [&] {
    model->eval();
    auto [means, variances] = encode_all(*model, data.train, data.train.size());
    model->fit_prototypes(means, data.train.labels, variances);
    std::cerr << "prob_psenn: prototypes fitted to the class means and covariances of " << data.train.size()
              << " training embeddings\n";
  };
  // Fitting before any training (no pre-training) happens once; a run restored from a checkpoint
  // has it there (one resumed before its first checkpoint starts over, so it fits again).
  if (fit && pretrain == 0 && !train::Trainer::restores_checkpoint(request.run, request.resume)) fit_to_data();
  model->train();

  std::cerr << "prob_psenn (" << config.get_string("variant") << "): " << model->num_parameters() << " parameters, "
            << data.train.size() << " training / " << data.validation.size() << " validation images of "
            << config.get_string("dataset") << "\n";
  auto summary = trainer.fit(
      loader,
      [&](const data::Batch& batch, int64_t epoch) {
        if (epoch < pretrain) {
          ProbPsennLoss l = model->reconstruction_loss(model->forward(batch.images, 0), weights.kl);
          return train::StepResult{l.total, {}, {{"rec", l.reconstruction}, {"kl", l.kl}}};
        }
        ProbPsennLoss l = model->loss(model->forward(batch.images, train_samples), batch.labels, weights);
        return train::StepResult{l.total, {}, {{"nll", l.nll}, {"rec", l.reconstruction}, {"r2", l.r2}, {"kl", l.kl}}};
      },
      [&](int64_t epochs_done) {
        nlohmann::json m = nlohmann::json::object();
        if (fit && epochs_done == pretrain) fit_to_data();
        if (epochs_done > pretrain && data.validation.size() > 0 &&
            (epochs_done % eval_every == 0 || epochs_done == to.epochs)) {
          model->eval();
          ProbPsennPredictions p = predict_dataset(*model, data.validation, samples, eval_seed(config));
          const double acc = confusion(p, data.validation).accuracy();
          m["val_accuracy"] = acc;
          std::cerr << "epoch " << epochs_done << ": validation accuracy " << std::fixed << std::setprecision(2)
                    << 100.0 * acc << "%\n";
        }
        return m;
      },
      request.resume);
  if (summary.interrupted) return;

  model->eval();
  ProbPsennPredictions p = predict_dataset(*model, data.test, samples, eval_seed(config));
  const double acc = confusion(p, data.test).accuracy();
  const double ece = calibration_error(p, data.test);
  MetricsWriter(request.run.metrics_file())
      .write({{"final", true}, {"test_accuracy", acc}, {"test_ece", ece}, {"seconds", summary.seconds}});
  std::cout << std::fixed << std::setprecision(2) << "test accuracy: " << 100.0 * acc << "% (ECE "
            << std::setprecision(4) << ece << ") after " << summary.epochs_done << " epochs (" << std::setprecision(1)
            << summary.seconds << " s of training)\n";
  write_prob_psenn_exports(*model, data.train, request.run.exports_dir().string(), config.get_int("export_samples"),
                           eval_seed(config));
  std::cout << "prototype samples: " << (request.run.exports_dir() / "prototype_samples.png").string() << "\n";
}

void eval_prob_psenn(const EvalRequest& request) {
  RunData data = load_run_data(request.config);
  const data::ImageDataset& split = data.split(request.split);
  auto model = load_trained(request.config, request.run, split.num_classes);
  const uint64_t seed = eval_seed(request.config);
  ProbPsennPredictions p = predict_dataset(*model, split, eval_samples(request.config), seed);
  ConfusionMatrix report = confusion(p, split);
  nlohmann::json j = report.to_json();
  j["split"] = request.split;
  j["checkpoint"] = train::Trainer::checkpoint_position(request.run);
  j["samples"] = model->options().probabilistic ? eval_samples(request.config) : 1;
  j["expected_calibration_error"] = calibration_error(p, split);
  j["mean_total_entropy"] = mean_of(p.entropy.total);
  j["mean_aleatoric_entropy"] = mean_of(p.entropy.aleatoric);
  j["mean_epistemic_entropy"] = mean_of(p.entropy.epistemic);
  if (model->options().probabilistic)
    j["accuracy_modes_only"] = confusion(predict_dataset(*model, split, 0, seed), split).accuracy();
  if (request.json) {
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << std::fixed << std::setprecision(2) << request.split << ": accuracy " << 100.0 * report.accuracy()
            << "% of " << report.total() << " images";
  if (j.contains("accuracy_modes_only"))
    std::cout << " (prototype modes only: " << 100.0 * j["accuracy_modes_only"].get<double>() << "%)";
  std::cout << std::setprecision(4) << "\nexpected calibration error " << j["expected_calibration_error"].get<double>()
            << "; mean entropy total " << j["mean_total_entropy"].get<double>() << ", aleatoric "
            << j["mean_aleatoric_entropy"].get<double>() << ", epistemic " << j["mean_epistemic_entropy"].get<double>()
            << " nats\n"
            << report.table();
}

void eval_ood_prob_psenn(const OodEvalRequest& request) {
  RunData data = load_run_data(request.config);
  const data::ImageDataset& in = data.split(request.split);
  data::ImageDataset out = data::load_dataset(request.ood_dataset, data::Split::test, request.ood_data_dir);
  if (out.images.size(1) != in.images.size(1))
    throw UsageError(request.ood_dataset + " has " + std::to_string(out.images.size(1)) + " channels, " + in.name +
                     " has " + std::to_string(in.images.size(1)));
  auto model = load_trained(request.config, request.run, in.num_classes);
  const int64_t samples = eval_samples(request.config);
  const uint64_t seed = eval_seed(request.config);
  const bool prob = model->options().probabilistic;
  auto score = [](const Tensor& in_scores, const Tensor& out_scores) {
    return metrics::auroc(in_scores.to_vector<double>(), out_scores.to_vector<double>());
  };
  nlohmann::json j = {{"in_distribution", in.name},
                      {"out_of_distribution", out.name},
                      {"variant", prob ? "probabilistic" : "deterministic"},
                      {"samples", samples},
                      {"auroc", nlohmann::json::object()}};
  // z = the encoder's mean is how the model predicts; with the VAE backbone the predictive
  // can also sample z ~ N(mu, sigma^2) with every prototype set, adding the encoder's spread.
  std::vector<bool> latent_modes = {false};
  if (model->options().vae) latent_modes.push_back(true);
  ProbPsennPredictions pin, pout;
  for (bool sample_latent : latent_modes) {
    ProbPsennPredictions a = predict_dataset(*model, in, samples, seed, sample_latent);
    ProbPsennPredictions b = predict_dataset(*model, out, samples, seed + 1, sample_latent);
    nlohmann::json r = {{"total_entropy", score(a.entropy.total, b.entropy.total)}};
    // Point prototypes with z = mu give one softmax: the epistemic part is identically 0.
    if (prob || sample_latent) {
      r["epistemic"] = score(a.entropy.epistemic, b.entropy.epistemic);
      r["aleatoric"] = score(a.entropy.aleatoric, b.entropy.aleatoric);
    }
    j["auroc"][sample_latent ? "latent_sampled" : "latent_mean"] = r;
    if (!sample_latent) {
      pin = a;
      pout = b;
    }
  }
  j["in_accuracy"] = confusion(pin, in).accuracy();
  j["in_expected_calibration_error"] = calibration_error(pin, in);
  // The explanation-level score: how atypical the distance to the predicted prototype is.
  auto refs = training_references(*model, data.train);
  j["auroc"]["distance_percentile"] =
      score(Tensor::from_vector(predicted_mode_percentiles(*model, in, pin.predicted, refs), {in.size()}),
            Tensor::from_vector(predicted_mode_percentiles(*model, out, pout.predicted, refs), {out.size()}));
  std::filesystem::create_directories(request.run.exports_dir());
  const std::filesystem::path file = request.run.exports_dir() / ("ood_" + request.ood_dataset + ".json");
  io::write_json_atomic(file.string(), j);
  if (request.json) {
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << std::fixed << std::setprecision(4) << "in-distribution " << in.name << " (" << in.size()
            << " images, accuracy " << 100.0 * j["in_accuracy"].get<double>() << "%, ECE "
            << j["in_expected_calibration_error"].get<double>() << ") against " << out.name << " (" << out.size()
            << " images), " << samples << " samples\nAUROC of each uncertainty score (OOD = positive):\n"
            << "  score                 z = encoder mean" << (latent_modes.size() > 1 ? "  z sampled" : "") << "\n";
  for (const char* key : {"total_entropy", "epistemic", "aleatoric"}) {
    std::cout << "  " << std::left << std::setw(22) << key << std::right;
    for (const char* mode : {"latent_mean", "latent_sampled"}) {
      if (!j["auroc"].contains(mode)) continue;
      const auto& r = j["auroc"][mode];
      if (r.contains(key))
        std::cout << std::setw(16) << r[key].get<double>() << "  ";
      else
        std::cout << std::setw(16) << "-"
                  << "  ";
    }
    std::cout << "\n";
  }
  std::cout << "  distance percentile   " << std::setw(16) << j["auroc"]["distance_percentile"].get<double>()
            << "\nwritten to " << file.string() << "\n";
}

void write_prob_psenn_exports(const ProbPsenn& model, const data::ImageDataset& train, const std::string& dir_name,
                              int64_t samples, uint64_t seed) {
  NoGradGuard no_grad;
  const std::filesystem::path dir(dir_name);
  std::filesystem::create_directories(dir);
  const int64_t k = model.options().num_classes, d = model.options().latent_dim;
  const bool prob = model.options().probabilistic;
  const int64_t n = prob ? std::max<int64_t>(1, samples) : 0;

  // The paper's visual explanation: each row a class, its decoded mode, then decoded draws of q_c.
  Generator gen(seed);
  std::vector<Tensor> columns = {model.prototype_means().unsqueeze(1)};  // [K, 1, d]
  if (n > 0) columns.push_back(model.sample_prototypes(n, &gen).permute({1, 0, 2}));
  Tensor codes = ops::concat(columns, 1);  // [K, 1 + n, d]
  Tensor decoded = to_unit_range(model.decode(codes.reshape({k * (1 + n), d})));
  io::write_png(io::image_grid(decoded, 1 + n, 2, 1.0), (dir / "prototype_samples.png").string());
  // The decoder reconstructs the 32 x 32 preprocessed images from the encoder's mean code.
  const DecoderCheck check = check_decoder(
      [&](const Tensor& x) {
        return to_unit_range(model.decode(model.encode(ProbPsenn::preprocess(x.to(model.device()))).first));
      },
      train, [](const Tensor& x) { return to_unit_range(ProbPsenn::preprocess(x)); });
  warn_unless_reconstructs(check, "prototype samples");

  std::vector<double> means = model.prototype_means().to_vector<double>();
  std::vector<double> w = model.class_weights().to_vector<double>();
  Tensor scales = model.prototype_scales();
  std::vector<double> sv = scales.defined() ? scales.to_vector<double>() : std::vector<double>();
  const int64_t per_class = model.options().full_covariance ? d * d : d;
  nlohmann::json protos = nlohmann::json::array();
  for (int64_t c = 0; c < k; ++c) {
    nlohmann::json p = {{"class", c},
                        {"class_name", class_name(train, c)},
                        {"mean", std::vector<double>(means.begin() + c * d, means.begin() + (c + 1) * d)}};
    if (prob && model.options().full_covariance) {
      nlohmann::json rows = nlohmann::json::array();
      for (int64_t i = 0; i < d; ++i)
        rows.push_back(
            std::vector<double>(sv.begin() + c * per_class + i * d, sv.begin() + c * per_class + (i + 1) * d));
      p["scale_tril"] = rows;
    } else if (prob) {
      p["scale_diag"] = std::vector<double>(sv.begin() + c * per_class, sv.begin() + (c + 1) * per_class);
    }
    protos.push_back(p);
  }
  nlohmann::json weights = nlohmann::json::array();
  for (int64_t j = 0; j < k; ++j) weights.push_back(std::vector<double>(w.begin() + j * k, w.begin() + (j + 1) * k));
  io::write_json_atomic((dir / "prototypes.json").string(),
                        {{"model", kModelName},
                         {"variant", prob ? "probabilistic" : "deterministic"},
                         {"covariance", prob ? (model.options().full_covariance ? "full" : "diagonal") : "none"},
                         {"latent_dim", d},
                         {"class_names", train.class_names},
                         {"class_weights", weights},
                         {"image", "prototype_samples.png"},
                         {"image_columns", n > 0 ? "decoded mode, then decoded samples" : "decoded prototype"},
                         {"decoder_check", check.to_json()},
                         {"prototypes", protos}});
}

void export_prob_psenn(const ExportRequest& request) {
  RunData data = load_run_data(request.config);
  auto model = load_trained(request.config, request.run, data.train.num_classes);
  write_prob_psenn_exports(*model, data.train, request.run.exports_dir().string(),
                           request.config.get_int("export_samples"), eval_seed(request.config));
}

std::vector<std::vector<double>> class_distance_references(const ProbPsenn& model, const Tensor& latents,
                                                           const Tensor& labels) {
  NoGradGuard no_grad;
  Tensor own = ops::index_select(model.prototype_means(), 0, labels.to(model.device()));
  std::vector<double> dist = ops::sum(ops::square(latents - own), {1}).to_vector<double>();
  std::vector<int64_t> y = labels.to_vector<int64_t>();
  std::vector<std::vector<double>> refs(size_t(model.options().num_classes));
  for (size_t i = 0; i < y.size(); ++i) refs[size_t(y[i])].push_back(dist[i]);
  for (auto& r : refs) std::sort(r.begin(), r.end());
  return refs;
}

nlohmann::json prob_psenn_explanation(const ProbPsenn& model, const data::ImageDataset& dataset, int64_t index,
                                      const std::vector<std::vector<double>>& references, int64_t samples,
                                      uint64_t seed) {
  NoGradGuard no_grad;
  Generator gen(seed);
  data::Batch b = explained_example(dataset, index, model.device());
  ProbPsennOutput out = model.forward(b.images, samples, false, &gen);
  Tensor per_sample = ProbPsenn::sample_probabilities(out).permute({1, 0, 2});  // [1, S, K]
  metrics::EntropyDecomposition e = metrics::decompose_predictive_entropy(per_sample);
  std::vector<double> probs = ops::mean(per_sample, {1}).to_vector<double>();
  const int64_t k = int64_t(probs.size()), s = out.distances.size(0);
  std::vector<int64_t> order(static_cast<size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t c) { return probs[size_t(a)] > probs[size_t(c)]; });
  const int64_t pred = order[0], runner_up = order[1];

  // Explanatory epistemic uncertainty: where the input's distance to the predicted class's
  // mode falls among that class's training distances (100: farther than all of them). The
  // expected distance to a Gaussian prototype is this plus tr(Sigma_c), a per-class constant,
  // so the percentile is the same for expected distances.
  std::vector<double> mode_dist = ops::sum(ops::square(out.latent - model.prototype_means()), {1}).to_vector<double>();
  const std::vector<double>& ref = references.at(size_t(pred));
  const double percentile = distance_percentile(ref, mode_dist[size_t(pred)]);

  // Overlap of the sampled distance distributions (overlap_index): near 1 when two classes'
  // prototypes explain the input about equally well.
  std::vector<double> dist = out.distances.to_vector<double>();  // [S, 1, K]
  auto sampled = [&](int64_t c) {
    std::vector<double> v;
    for (int64_t i = 0; i < s; ++i) v.push_back(dist[size_t(i * k + c)]);
    return v;
  };
  nlohmann::json explanation = {{"distance_to_mode", mode_dist[size_t(pred)]},
                                {"training_distance_percentile", percentile},
                                {"reference_size", ref.size()}};
  if (model.options().probabilistic && s > 1) {
    const std::vector<double> own = sampled(pred);
    double largest = -1;
    int64_t largest_class = runner_up;
    for (int64_t c = 0; c < k; ++c) {
      if (c == pred) continue;
      const double o = metrics::kde_overlap(own, sampled(c));
      if (c == runner_up) explanation["overlap_top2"] = o;
      if (o > largest) {
        largest = o;
        largest_class = c;
      }
    }
    explanation["overlap_max"] = largest;
    explanation["overlap_max_class"] = largest_class;
  }
  std::vector<double> mean_dist(static_cast<size_t>(k), 0.0);
  for (int64_t i = 0; i < s; ++i)
    for (int64_t c = 0; c < k; ++c) mean_dist[size_t(c)] += dist[size_t(i * k + c)] / double(s);
  const int64_t label = b.labels.to_vector<int64_t>()[0];
  return {{"index", index},
          {"split", dataset.name},
          {"label", label},
          {"label_name", class_name(dataset, label)},
          {"prediction", pred},
          {"prediction_name", class_name(dataset, pred)},
          {"runner_up", runner_up},
          {"runner_up_name", class_name(dataset, runner_up)},
          {"probabilities", probs},
          {"samples", s},
          {"mean_sampled_distances", mean_dist},
          {"uncertainty",
           {{"total", e.total.item()}, {"aleatoric", e.aleatoric.item()}, {"epistemic", e.epistemic.item()}}},
          {"explanation_uncertainty", explanation}};
}

void explain_prob_psenn(const ExplainRequest& request) {
  const Config& config = request.config;
  RunData data = load_run_data(config);
  const data::ImageDataset& split = data.split(request.split);
  auto model = load_trained(config, request.run, split.num_classes);
  auto refs = training_references(*model, data.train);
  nlohmann::json e =
      prob_psenn_explanation(*model, split, request.index, refs, eval_samples(config), eval_seed(config));

  // The input (and its reconstruction) beside the decoded mode and samples of the predicted
  // and the runner-up class's prototype distributions.
  NoGradGuard no_grad;
  const int64_t n = model->options().probabilistic ? std::max<int64_t>(1, config.get_int("export_samples")) : 0;
  const int64_t d = model->options().latent_dim;
  Generator gen(eval_seed(config) + 2);
  Tensor prototypes = model->sample_prototypes(n, &gen);  // [n, K, d] (or the modes [1, K, d])
  ProbPsennOutput out = model->forward(split.gather({request.index}).images.to(model->device()), 0, true);
  const std::pair<Tensor, int64_t> rows_spec[] = {{out.input, e["prediction"].get<int64_t>()},
                                                  {out.reconstruction, e["runner_up"].get<int64_t>()}};
  std::vector<Tensor> rows;
  for (const auto& [first, c] : rows_spec) {
    std::vector<Tensor> codes = {model->prototype_means().narrow(0, c, 1)};
    if (n > 0) codes.push_back(prototypes.select(1, c));
    rows.push_back(to_unit_range(first));
    rows.push_back(to_unit_range(model->decode(ops::concat(codes, 0).reshape({-1, d}))));
  }
  std::filesystem::create_directories(request.run.exports_dir());
  const std::string png =
      (request.run.exports_dir() / ("explain_" + request.split + "_" + std::to_string(request.index) + ".png"))
          .string();
  io::write_png(io::image_grid(ops::concat(rows, 0), 2 + n, 2, 1.0), png);
  e["image"] = png;
  e["image_rows"] = "input, then the predicted class's decoded mode and samples; reconstruction, then the runner-up's";
  io::write_json_atomic(png.substr(0, png.size() - 4) + ".json", e);
  if (request.json) {
    std::cout << e.dump() << "\n";
    return;
  }
  const auto& u = e["uncertainty"];
  const auto& x = e["explanation_uncertainty"];
  std::cout << std::fixed << std::setprecision(3) << request.split << " image " << request.index << ": label "
            << e["label_name"].get<std::string>() << ", predicted " << e["prediction_name"].get<std::string>()
            << " (p = " << e["probabilities"][e["prediction"].get<size_t>()].get<double>() << "), runner-up "
            << e["runner_up_name"].get<std::string>()
            << " (p = " << e["probabilities"][e["runner_up"].get<size_t>()].get<double>() << ")\n"
            << "uncertainty (nats): total " << u["total"].get<double>() << ", aleatoric "
            << u["aleatoric"].get<double>() << ", epistemic " << u["epistemic"].get<double>() << "\n"
            << "distance to the predicted prototype's mode " << x["distance_to_mode"].get<double>() << ": farther than "
            << std::setprecision(1) << x["training_distance_percentile"].get<double>() << "% of "
            << x["reference_size"].get<size_t>() << " training images of that class\n";
  if (x.contains("overlap_top2"))
    std::cout << std::setprecision(3)
              << "overlap of the sampled distances, predicted vs runner-up: " << x["overlap_top2"].get<double>()
              << " (largest: " << x["overlap_max"].get<double>() << ", class "
              << class_name(split, x["overlap_max_class"].get<int64_t>()) << ")\n";
  std::cout << "image: " << png << "\n";
}

void bench_prob_psenn(const BenchRequest& request) {
  const Config& config = request.config;
  RunData data = load_run_data(config);
  manual_seed(uint64_t(config.get_int("seed")));
  auto model = build_model(config, data.train.num_classes);
  optim::AdamOptions adam;
  adam.lr = config.get_double("lr");
  optim::Adam optimizer(model->parameters(), adam);
  const ProbPsennLossWeights weights = prob_psenn_loss_weights(config);
  const int64_t train_samples = config.get_int("train_samples");
  data::DataLoader loader(data.train, loader_options(config));
  data::Batch b;
  train::run_step_benchmark(
      {kModelName, config.get_int("batch_size"), request.steps, 3, nlohmann::json::object(), request.profile, model->device()},
      [&](int64_t i) { b = loader.batch(0, i % loader.num_batches()).to(model->device()); },
      [&] {
        ProbPsennLoss l = model->loss(model->forward(b.images, train_samples), b.labels, weights);
        optimizer.zero_grad();
        l.total.backward();
        optimizer.step();
      });
}

namespace {
ModelEntry prob_psenn_entry() {
  ModelEntry e{kModelName,
               "Prob-PSENN (Vadillo et al. 2024): Gaussian prototype distributions with uncertainty-aware "
               "explanations; variant = deterministic is the PSENN baseline",
               prob_psenn_schema(), train_prob_psenn, eval_prob_psenn, export_prob_psenn, explain_prob_psenn,
               bench_prob_psenn};
  e.eval_ood = eval_ood_prob_psenn;
  return e;
}
const ModelRegistrar registrar{prob_psenn_entry()};
}  // namespace

}  // namespace glassbox::models
