#include "models/protonet/protonet_task.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>

#include "engine/autograd/grad_mode.h"
#include "engine/io/json_file.h"
#include "engine/io/png.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "kernels/cpu/cpu_backend.h"
#include "models/common/explained_example.h"
#include "models/common/numbering.h"
#include "trainers/data/data_loader.h"
#include "trainers/metrics/classification.h"
#include "trainers/metrics_writer.h"
#include "trainers/step_benchmark.h"
#include "trainers/trainer.h"
#include "trainers/training_schema.h"
#include "trainers/usage_error.h"

namespace glassbox::models {

namespace {

constexpr const char* kModelName = "protonet";
constexpr int64_t kEvalBatch = 1000;

Generator seeded_generator(const Config& config) { return Generator(uint64_t(config.get_int("seed"))); }

std::unique_ptr<ProtoNet> build_model(const Config& config, int64_t num_classes) {
  Generator gen = seeded_generator(config);
  auto model = std::make_unique<ProtoNet>(protonet_options(config, num_classes), gen);
  model->to(training_device(config));
  return model;
}

/// A trained model restored from a run folder's latest checkpoint.
std::unique_ptr<ProtoNet> load_trained(const Config& config, const RunFolder& run, int64_t num_classes) {
  auto model = build_model(config, num_classes);
  train::Trainer::load_model(*model, run);
  model->eval();
  return model;
}

ConfusionMatrix evaluate(const ProtoNet& model, const data::ImageDataset& dataset,
                                       const std::string& split, bool show_progress) {
  return metrics::evaluate_classifier([&](const Tensor& x) { return model.forward(x.to(model.device()), false).logits; }, dataset,
                                      split, kEvalBatch, show_progress);
}

/// Latent codes of a whole data set [N, d], computed in batches without gradients.
Tensor encode_all(const ProtoNet& model, const data::ImageDataset& dataset) {
  NoGradGuard no_grad;
  std::vector<Tensor> parts;
  for (int64_t start = 0; start < dataset.size(); start += kEvalBatch) {
    int64_t len = std::min(kEvalBatch, dataset.size() - start);
    parts.push_back(model.encode(dataset.images.narrow(0, start, len).to(model.device())));
  }
  return ops::concat(parts, 0);
}

}  // namespace

ConfigSchema protonet_schema() {
  ConfigSchema s = common_training_schema();
  s.add("num_prototypes", ConfigType::integer, "15", "m, the prototypes in latent space (Li et al. 2018: 15)")
      .at_least(1)
      .add("hidden_channels", ConfigType::integer, "32", "channels of the hidden conv layers (paper: 32)")
      .at_least(1)
      .add("latent_channels", ConfigType::integer, "10", "channels of the last encoder layer (paper: 10)")
      .at_least(1)
      .add("activation", ConfigType::text, "sigmoid", "hidden-layer nonlinearity: sigmoid or relu")
      .one_of({"sigmoid", "relu"})
      .add("decoder", ConfigType::text, "deconv", "deconv (transposed convolutions) or upsample (upsample + conv)")
      .one_of({"deconv", "upsample"})
      .add("init_std", ConfigType::real, "0.01", "std of the N(0, std^2) conv kernel initialisation")
      .at_least(0)
      .add("lr", ConfigType::real, "0.002", "Adam learning rate (paper: 0.002)")
      .above(0)
      .add("lambda_class", ConfigType::real, "20", "weight of the cross-entropy (paper: 20)")
      .at_least(0)
      .add("lambda_ae", ConfigType::real, "1", "weight of the reconstruction error (paper: 1)")
      .at_least(0)
      .add("lambda_r1", ConfigType::real, "1", "weight of R1, prototypes near data (paper: 1)")
      .at_least(0)
      .add("lambda_r2", ConfigType::real, "1", "weight of R2, data near prototypes (paper: 1)")
      .at_least(0)
      .add("elastic", ConfigType::boolean, "true", "elastic deformation of training images (Simard et al. 2003)")
      .add("elastic_alpha", ConfigType::real, "20", "elastic deformation scale in pixels (paper: 20)")
      .at_least(0)
      .add("elastic_sigma", ConfigType::real, "4", "elastic deformation smoothing in pixels (paper: 4)")
      .above(0)
      .add("train_subset", ConfigType::integer, "0", "train on the first N training samples only (0: all)")
      .at_least(0)
      .add("eval_every", ConfigType::integer, "1", "epochs between validation evaluations")
      .at_least(1);
  return s;
}

ProtoNetOptions protonet_options(const Config& config, int64_t num_classes) {
  ProtoNetOptions o;
  o.num_prototypes = config.get_int("num_prototypes");
  o.hidden_channels = config.get_int("hidden_channels");
  o.latent_channels = config.get_int("latent_channels");
  o.activation = config.get_string("activation");
  o.decoder = config.get_string("decoder");
  o.init_std = config.get_double("init_std");
  o.num_classes = num_classes;
  return o;
}

ProtoNetLossWeights protonet_loss_weights(const Config& config) {
  return {config.get_double("lambda_class"), config.get_double("lambda_ae"), config.get_double("lambda_r1"),
          config.get_double("lambda_r2")};
}

void train_protonet(const TrainRequest& request) {
  const Config& config = request.config;
  ProtoNetData data = load_protonet_data(config);
  const uint64_t seed = uint64_t(config.get_int("seed"));
  manual_seed(seed);
  auto model = build_model(config, data.train.num_classes);
  optim::AdamOptions adam;
  adam.lr = config.get_double("lr");
  optim::Adam optimizer(model->parameters(), adam);

  data::LoaderOptions lo = loader_options(config);
  if (config.get_bool("elastic"))
    lo.elastic = data::ElasticParams{config.get_double("elastic_alpha"), config.get_double("elastic_sigma")};
  data::DataLoader loader(data.train, lo);

  train::TrainerOptions to = trainer_options(config, kModelName);
  train::Trainer trainer(*model, optimizer, request.run, config, to);

  const ProtoNetLossWeights weights = protonet_loss_weights(config);
  const int64_t eval_every = config.get_int("eval_every");  // >= 1 by the schema
  std::cerr << "protonet: " << model->num_parameters() << " parameters, " << data.train.size() << " training / "
            << data.validation.size() << " validation images of " << config.get_string("dataset") << "\n";
  auto summary = trainer.fit(
      loader,
      [&](const data::Batch& batch, int64_t) {
        ProtoNetOutput out = model->forward(batch.images);
        ProtoNetLoss l = model->loss(out, batch.images, batch.labels, weights);
        return train::StepResult{
            l.total, {}, {{"ce", l.classification}, {"rec", l.reconstruction}, {"r1", l.r1}, {"r2", l.r2}}};
      },
      [&](int64_t epochs_done) {
        nlohmann::json m = nlohmann::json::object();
        if (data.validation.size() > 0 && (epochs_done % eval_every == 0 || epochs_done == to.epochs)) {
          model->eval();
          auto report = evaluate(*model, data.validation, "val", false);
          m["val_accuracy"] = report.accuracy();
          std::cerr << "epoch " << epochs_done << ": validation accuracy " << std::fixed << std::setprecision(2)
                    << 100.0 * report.accuracy() << "%\n";
        }
        return m;
      },
      request.resume);
  if (summary.interrupted) return;

  model->eval();
  auto test = evaluate(*model, data.test, "test", true);
  MetricsWriter(request.run.metrics_file())
      .write({{"final", true}, {"test_accuracy", test.accuracy()}, {"seconds", summary.seconds}});
  std::cout << std::fixed << std::setprecision(2) << "test accuracy: " << 100.0 * test.accuracy() << "% after "
            << summary.epochs_done << " epochs (" << summary.seconds << " s of training)\n";
  write_protonet_exports(*model, data.train, request.run.exports_dir().string());
  std::cout << "prototypes: " << (request.run.exports_dir() / "prototypes.png").string() << "\n"
            << "exports:    " << request.run.exports_dir().string() << "\n";
}

void eval_protonet(const EvalRequest& request) {
  ProtoNetData data = load_protonet_data(request.config);
  const data::ImageDataset& split = data.split(request.split);
  auto model = load_trained(request.config, request.run, split.num_classes);
  const auto start = std::chrono::steady_clock::now();
  auto report = evaluate(*model, split, request.split, !request.json);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (request.json) {
    nlohmann::json j = report.to_json();
    j["split"] = request.split;
    j["checkpoint"] = train::Trainer::checkpoint_position(request.run);
    j["seconds"] = seconds;  // the forward passes (batches of kEvalBatch), not loading data or the checkpoint
    j["images_per_second"] = double(report.total()) / seconds;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << request.split << ": accuracy " << std::fixed << std::setprecision(2) << 100.0 * report.accuracy()
              << "% of " << report.total() << " images\n"
              << report.table();
  }
}

void export_protonet(const ExportRequest& request) {
  ProtoNetData data = load_protonet_data(request.config);
  auto model = load_trained(request.config, request.run, data.train.num_classes);
  write_protonet_exports(*model, data.train, request.run.exports_dir().string());
}

void write_protonet_exports(const ProtoNet& model, const data::ImageDataset& train, const std::string& dir_name) {
  NoGradGuard no_grad;
  const std::filesystem::path dir(dir_name);
  std::filesystem::create_directories(dir);
  const int64_t m = model.options().num_prototypes;
  const int64_t k = std::min<int64_t>(5, train.size());

  // Decoded prototypes: the images the network reasons with (Li et al. 2018, Fig. 2).
  Tensor decoded = model.decode(model.prototypes()).to(Device::cpu());
  io::write_png(io::image_grid(decoded, 5, 2, 1.0), (dir / "prototypes.png").string());
  for (int64_t j = 0; j < m; ++j)
    io::write_png(decoded.select(0, j), (dir / ("prototype_" + two_digits(j) + ".png")).string());

  // W as a heat map (prototype x class); negative entries are evidence for a class.
  io::HeatMapOptions heat;
  heat.colormap = io::Colormap::diverging;
  Tensor w = model.class_weights();
  Tensor map = io::heat_map(w, heat);
  // Scale each cell to 16x16 pixels so the image is readable.
  Tensor big = ops::upsample2d(map.unsqueeze(0), w.size(0) * 16, w.size(1) * 16).squeeze(0);
  io::write_png(big, (dir / "class_weights.png").string());

  // Each prototype's nearest training images: evidence that it is realistic.
  Tensor latents = encode_all(model, train);
  Tensor dist = ops::pairwise_sq_distance(model.prototypes(), latents);  // [m, N]
  ops::ValuesIndices nearest = ops::topk(dist, k, 1, false);
  std::vector<int64_t> ids = nearest.indices.to_vector<int64_t>();
  std::vector<double> dvals = nearest.values.to_vector<double>();
  std::vector<Tensor> rows;
  for (int64_t j = 0; j < m; ++j) {
    std::vector<int64_t> row(ids.begin() + j * k, ids.begin() + (j + 1) * k);
    rows.push_back(ops::concat({decoded.narrow(0, j, 1), train.gather(row).images}, 0));
  }
  io::write_png(io::image_grid(ops::concat(rows, 0), 1 + k, 2, 1.0), (dir / "nearest_training.png").string());

  std::vector<int64_t> labels = train.labels.to_vector<int64_t>();
  std::vector<double> wv = w.to_vector<double>();
  const int64_t classes = w.size(1);
  nlohmann::json protos = nlohmann::json::array();
  std::vector<double> latent = model.prototypes().to_vector<double>();
  const int64_t d = model.prototypes().size(1);
  for (int64_t j = 0; j < m; ++j) {
    // The class the prototype votes for: its most negative weight (small distance x
    // negative weight = large logit), as the paper's weight tables shade it.
    auto row = wv.begin() + j * classes;
    int64_t cls = std::min_element(row, row + classes) - row;
    nlohmann::json neighbours = nlohmann::json::array();
    for (int64_t i = 0; i < k; ++i) {
      int64_t id = ids[size_t(j * k + i)];
      neighbours.push_back({{"index", id}, {"distance", dvals[size_t(j * k + i)]}, {"label", labels[size_t(id)]}});
    }
    std::string class_name = cls < int64_t(train.class_names.size()) ? train.class_names[size_t(cls)] : "";
    protos.push_back({{"index", j},
                      {"image", "prototype_" + two_digits(j) + ".png"},
                      {"latent", std::vector<double>(latent.begin() + j * d, latent.begin() + (j + 1) * d)},
                      {"class_weights", std::vector<double>(row, row + classes)},
                      {"most_supported_class", cls},
                      {"most_supported_class_name", class_name},
                      {"nearest_training", neighbours}});
  }
  nlohmann::json weights = nlohmann::json::array();
  for (int64_t j = 0; j < m; ++j) weights.push_back(std::vector<double>(wv.begin() + j * classes, wv.begin() + (j + 1) * classes));
  const DecoderCheck check = check_autoencoder(model, train);
  warn_unless_reconstructs(check, "prototypes");
  io::write_json_atomic((dir / "prototypes.json").string(),
                        {{"model", kModelName},
                         {"latent_dim", d},
                         {"decoder_check", check.to_json()},
                         {"class_names", train.class_names},
                         {"class_weights", weights},
                         {"prototypes", protos}});
}

nlohmann::json explain_one(const ProtoNet& model, const data::ImageDataset& dataset, int64_t index) {
  NoGradGuard no_grad;
  data::Batch b = explained_example(dataset, index, model.device());
  ProtoNetOutput out = model.forward(b.images, false);
  std::vector<double> dist = out.distances.to_vector<double>();
  std::vector<double> logits = out.logits.to_vector<double>();
  std::vector<double> probs = ops::softmax(out.logits, 1).to_vector<double>();
  std::vector<double> w = model.class_weights().to_vector<double>();
  const int64_t m = int64_t(dist.size()), classes = int64_t(logits.size());
  const int64_t pred = std::max_element(logits.begin(), logits.end()) - logits.begin();
  std::vector<int64_t> order(static_cast<size_t>(m));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t c) { return dist[size_t(a)] < dist[size_t(c)]; });
  nlohmann::json prototypes = nlohmann::json::array();
  for (int64_t j : order) {
    std::vector<double> contrib;
    for (int64_t c = 0; c < classes; ++c) contrib.push_back(dist[size_t(j)] * w[size_t(j * classes + c)]);
    prototypes.push_back({{"prototype", j}, {"distance", dist[size_t(j)]}, {"contribution_to_logits", contrib}});
  }
  auto name = [&](int64_t c) {
    return c < int64_t(dataset.class_names.size()) ? dataset.class_names[size_t(c)] : std::to_string(c);
  };
  const int64_t label = b.labels.to_vector<int64_t>()[0];
  return {{"index", index},       {"split", dataset.name},          {"label", label},
          {"label_name", name(label)}, {"prediction", pred},        {"prediction_name", name(pred)},
          {"probabilities", probs}, {"logits", logits},             {"prototypes_by_distance", prototypes}};
}

void explain_protonet(const ExplainRequest& request) {
  ProtoNetData data = load_protonet_data(request.config);
  const data::ImageDataset& split = data.split(request.split);
  auto model = load_trained(request.config, request.run, split.num_classes);
  nlohmann::json e = explain_one(*model, split, request.index);

  // The image beside the decoded prototypes it is closest to.
  NoGradGuard no_grad;
  const int64_t shown = std::min<int64_t>(3, model->options().num_prototypes);
  std::vector<Tensor> tiles = {split.gather({request.index}).images};
  Tensor decoded = model->decode(model->prototypes()).to(Device::cpu());
  for (int64_t i = 0; i < shown; ++i)
    tiles.push_back(decoded.narrow(0, e["prototypes_by_distance"][size_t(i)]["prototype"].get<int64_t>(), 1));
  std::filesystem::create_directories(request.run.exports_dir());
  const std::string png = (request.run.exports_dir() /
                           ("explain_" + request.split + "_" + std::to_string(request.index) + ".png"))
                              .string();
  io::write_png(io::image_grid(ops::concat(tiles, 0), 1 + shown, 2, 1.0), png);
  e["image"] = png;
  io::write_json_atomic(png.substr(0, png.size() - 4) + ".json", e);

  if (request.json) {
    std::cout << e.dump() << "\n";
    return;
  }
  std::cout << std::fixed << std::setprecision(3) << request.split << " image " << request.index << ": label "
            << e["label_name"].get<std::string>() << ", predicted " << e["prediction_name"].get<std::string>()
            << " (p = " << e["probabilities"][e["prediction"].get<size_t>()].get<double>() << ")\n"
            << "prototypes by distance (logit_c = sum_j distance_j * W_jc):\n";
  for (auto& p : e["prototypes_by_distance"]) {
    int64_t j = p["prototype"].get<int64_t>();
    std::cout << "  prototype " << two_digits(j) << "  distance " << std::setw(8) << p["distance"].get<double>()
              << "  adds " << std::setw(8) << p["contribution_to_logits"][e["prediction"].get<size_t>()].get<double>()
              << " to the predicted class\n";
  }
  std::cout << "image beside its nearest prototypes: " << png << "\n";
}

void bench_protonet(const BenchRequest& request) {
  const Config& config = request.config;
  ProtoNetData data = load_protonet_data(config);
  manual_seed(uint64_t(config.get_int("seed")));
  auto model = build_model(config, data.train.num_classes);
  optim::AdamOptions adam;
  adam.lr = config.get_double("lr");
  optim::Adam optimizer(model->parameters(), adam);
  const int64_t batch = config.get_int("batch_size");
  const ProtoNetLossWeights weights = protonet_loss_weights(config);
  data::LoaderOptions lo = loader_options(config);
  data::DataLoader loader(data.train, lo);
  data::Batch b;
  train::run_step_benchmark(
      {kModelName, batch, request.steps, 3, nlohmann::json::object(), request.profile, model->device()}, [&](int64_t i) { b = loader.batch(0, i % loader.num_batches()).to(model->device()); },
      [&] {
        ProtoNetLoss l = model->loss(model->forward(b.images), b.images, b.labels, weights);
        optimizer.zero_grad();
        l.total.backward();
        optimizer.step();
      });
}

namespace {
const ModelRegistrar registrar{{kModelName,
                                "ProtoNet (Li et al. 2018): an autoencoder whose prototypes explain each prediction",
                                protonet_schema(), train_protonet, eval_protonet, export_protonet, explain_protonet,
                                bench_protonet}};
}  // namespace

}  // namespace glassbox::models
