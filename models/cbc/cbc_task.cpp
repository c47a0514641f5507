#include "models/cbc/cbc_task.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "engine/autograd/grad_mode.h"
#include "engine/io/atomic_file.h"
#include "engine/io/json_file.h"
#include "engine/io/png.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "kernels/cpu/cpu_backend.h"
#include "models/common/explained_example.h"
#include "models/common/numbering.h"
#include "trainers/data/data_loader.h"
#include "trainers/metrics_writer.h"
#include "trainers/progress_bar.h"
#include "trainers/step_benchmark.h"
#include "trainers/trainer.h"
#include "trainers/training_schema.h"
#include "trainers/usage_error.h"

namespace glassbox::models {

namespace {

constexpr const char* kModelName = "cbc";
constexpr int64_t kEvalBatch = 1000;
constexpr int64_t kCellPixels = 16;  // heat-map cells are drawn as 16x16 squares

int64_t input_dim_of(const data::ImageDataset& d) { return d.images.numel() / std::max<int64_t>(d.size(), 1); }

std::unique_ptr<CbcNet> build_model(const Config& config, const data::ImageDataset& like) {
  Generator gen(uint64_t(config.get_int("seed")));
  auto model = std::make_unique<CbcNet>(cbc_options(config, input_dim_of(like), like.num_classes), gen);
  model->to(training_device(config));
  return model;
}

std::unique_ptr<CbcNet> load_trained(const Config& config, const RunFolder& run, const data::ImageDataset& like) {
  auto model = build_model(config, like);
  train::Trainer::load_model(*model, run);
  model->eval();
  return model;
}

std::vector<double> radii_of(const Config& config) {
  try {
    return metrics::parse_radii(config.get_string("certify_radii"));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(config.origin("certify_radii") + ": " + e.what());
  }
}

std::vector<std::string> class_names_of(const data::ImageDataset& d) {
  std::vector<std::string> names = d.class_names;
  for (int64_t c = int64_t(names.size()); c < d.num_classes; ++c) names.push_back(std::to_string(c));
  return names;
}

/// Rows of a [R, C] tensor as JSON arrays.
nlohmann::json rows_json(const Tensor& m) {
  std::vector<double> v = m.to_vector<double>();
  const int64_t cols = m.size(1);
  nlohmann::json out = nlohmann::json::array();
  for (int64_t r = 0; r < m.size(0); ++r) out.push_back(std::vector<double>(v.begin() + r * cols, v.begin() + (r + 1) * cols));
  return out;
}

void print_evaluation(const CbcEvaluation& e, const std::string& split) {
  std::cout << split << ": accuracy " << std::fixed << std::setprecision(2) << 100.0 * e.confusion.accuracy()
            << "% of " << e.confusion.total() << " images\n"
            << e.confusion.table() << "\n"
            << e.certified.table();
}

/// The certified (and attacked) accuracy table as JSON, with the model's variant.
nlohmann::json robustness_json(const CbcNet& model, const CbcEvaluation& e, const std::string& split) {
  nlohmann::json j = e.certified.to_json();
  j["split"] = split;
  j["variant"] = cbc_variant_name(model.options().variant);
  j["squared"] = model.options().squared;
  if (!e.attack.is_null()) j["attack"] = e.attack;
  return j;
}

/// Writes exports/robustness_<split>.json (the evaluation's JSON) and .md (its table).
void write_robustness_report(const CbcNet& model, const CbcEvaluation& e, const std::string& split,
                             const RunFolder& run) {
  std::filesystem::create_directories(run.exports_dir());
  const std::filesystem::path stem = run.exports_dir() / ("robustness_" + split);
  io::write_json_atomic(stem.string() + ".json", robustness_json(model, e, split));
  std::string md = "# " + std::string(cbc_variant_name(model.options().variant)) +
                   (model.options().squared ? " (squared distances)" : " (euclidean distances)") + ", " + split +
                   " split\n\n```\n" + e.certified.table() + "```\n";
  io::write_bytes_atomic(stem.string() + ".md", md);
}

}  // namespace

ConfigSchema cbc_schema() {
  ConfigSchema s = common_training_schema();
  s.add("variant", ConfigType::text, "robust_stable_cbc",
        "glvq, rbf, robust_rbf, cbc (NeurIPS 2019), stable_cbc or robust_stable_cbc (AAAI 2025)")
      .one_of({"glvq", "rbf", "robust_rbf", "cbc", "stable_cbc", "robust_stable_cbc"})
      .add("squared", ConfigType::boolean, "false", "squared Euclidean instead of Euclidean distances")
      .add("num_components", ConfigType::integer, "20", "K, the components in input space (paper: 20)")
      .at_least(1)
      .add("concepts_per_class", ConfigType::integer, "2", "reasoning concepts per class, CBC variants (paper: 2)")
      .at_least(1)
      .add("sigma_init", ConfigType::real, "58", "initial temperature sigma of every component (paper: 58)")
      .above(0)
      .add("margin", ConfigType::real, "0.3", "margin of the cbc / stable_cbc margin loss (paper: 0.3)")
      .at_least(0)
      .add("robust_margin", ConfigType::real, "1.58", "m_rob of the robust losses relu(m_rob - eps*) (paper: 1.58)")
      .at_least(0)
      .add("rbf_normalize", ConfigType::boolean, "false", "rbf: row-softmax the weights (robust_rbf always does)")
      .add("lr", ConfigType::real, "0.005", "Adam learning rate (paper: 0.005)")
      .above(0)
      .add("certify_radii", ConfigType::text, "0.5,1,1.58", "L2 radii at which robust accuracy is reported")
      .add("attack", ConfigType::text, "apgd",
           "L2 attack for the empirical robust accuracy: apgd (Croce & Hein 2020, as in AutoAttack) or pgd")
      .one_of({"apgd", "pgd"})
      .add("attack_steps", ConfigType::integer, "100",
           "attack steps per restart for the empirical robust accuracy of the test evaluation (0: no attack)")
      .at_least(0)
      .add("attack_restarts", ConfigType::integer, "5",
           "attack restarts (the first from the input itself; apgd alternates margin and DLR objectives)")
      .at_least(1)
      .add("attack_samples", ConfigType::integer, "1000", "attack the first N evaluated samples only (0: all)")
      .at_least(0)
      .add("train_subset", ConfigType::integer, "0", "train on the first N training samples only (0: all)")
      .at_least(0)
      .add("eval_every", ConfigType::integer, "1", "epochs between validation evaluations")
      .at_least(1);
  return s;
}

CbcOptions cbc_options(const Config& config, int64_t input_dim, int64_t num_classes) {
  CbcOptions o;
  try {
    o.variant = parse_cbc_variant(config.get_string("variant"));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(config.origin("variant") + ": " + e.what());
  }
  o.squared = config.get_bool("squared");
  o.input_dim = input_dim;
  o.num_components = config.get_int("num_components");
  o.num_classes = num_classes;
  o.concepts_per_class = config.get_int("concepts_per_class");
  o.sigma_init = config.get_double("sigma_init");
  o.margin = config.get_double("margin");
  o.robust_margin = config.get_double("robust_margin");
  o.rbf_normalize = config.get_bool("rbf_normalize");
  return o;
}

CbcEvaluation evaluate_cbc(const CbcNet& model, const data::ImageDataset& dataset, const std::vector<double>& radii,
                           const std::string& label, bool show_progress, const metrics::L2AttackOptions* attack,
                           uint64_t attack_seed, int64_t attack_samples) {
  if (attack_samples <= 0) attack_samples = dataset.size();
  CbcEvaluation e{ConfusionMatrix(class_names_of(dataset)), metrics::CertifiedAccuracy(radii), nullptr};
  if (attack)
    e.attack = {{"method", metrics::l2_attack_method_name(attack->method)},
                {"steps", attack->steps},
                {"restarts", attack->restarts}};
  Generator gen(attack_seed);
  const int64_t n = dataset.size();
  const int64_t batches = (n + kEvalBatch - 1) / kEvalBatch;
  std::unique_ptr<ProgressBar> bar;
  if (show_progress) bar = std::make_unique<ProgressBar>((attack ? "attack " : "eval ") + label, batches);
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<int64_t> ids(static_cast<size_t>(std::min(kEvalBatch, n - b * kEvalBatch)));
    std::iota(ids.begin(), ids.end(), b * kEvalBatch);
    data::Batch batch = dataset.gather(ids).to(model.device());
    Tensor correct, radius;
    {
      NoGradGuard no_grad;
      CbcOutput out = model.forward(batch.images);
      Tensor predicted = ops::argmax(out.scores, 1);
      correct = ops::eq(predicted, batch.labels);
      radius = model.certified_radius(out, batch.labels);
      e.confusion.add(predicted, batch.labels);
      e.certified.add(correct, radius);
    }
    const int64_t attacked = attack ? std::min<int64_t>(int64_t(ids.size()), attack_samples - b * kEvalBatch) : 0;
    if (attacked > 0) {
      if (attacked < int64_t(ids.size())) {
        batch.images = batch.images.narrow(0, 0, attacked);
        batch.labels = batch.labels.narrow(0, 0, attacked);
        correct = correct.narrow(0, 0, attacked);
        radius = radius.narrow(0, 0, attacked);
      }
      auto scores_of = [&](const Tensor& x) { return model.forward(x).scores; };
      for (size_t i = 0; i < radii.size(); ++i) {
        Tensor broken = metrics::l2_attack_broken(scores_of, batch.images, batch.labels, radii[i], *attack, gen);
        // Certified with a relative margin of 1e-4 for f32 rounding of the radius and of
        // the projected perturbation's norm; anything beyond that is a wrong certificate.
        Tensor certified = ops::logical_and(correct, ops::gt(radius, radii[i] * (1 + 1e-4) + 1e-6));
        metrics::check_faithfulness(certified, broken, radii[i], b * kEvalBatch);
        e.certified.add_empirical(i, ops::logical_not(broken));
      }
    }
    if (bar) bar->update(b + 1);
  }
  return e;
}

std::optional<metrics::L2AttackOptions> cbc_attack_options(const Config& config) {
  metrics::L2AttackOptions o;
  try {
    o.method = metrics::parse_l2_attack_method(config.get_string("attack"));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(config.origin("attack") + ": " + e.what());
  }
  o.steps = config.get_int("attack_steps");
  o.restarts = config.get_int("attack_restarts");
  if (o.steps == 0) return std::nullopt;
  return o;
}

void train_cbc(const TrainRequest& request) {
  const Config& config = request.config;
  RunData data = load_run_data(config);
  const uint64_t seed = uint64_t(config.get_int("seed"));
  const std::vector<double> radii = radii_of(config);
  manual_seed(seed);
  auto model = build_model(config, data.train);
  optim::AdamOptions adam;
  adam.lr = config.get_double("lr");
  optim::Adam optimizer(model->parameters(), adam);
  model->add_projections(optimizer);

  data::LoaderOptions lo = loader_options(config);
  data::DataLoader loader(data.train, lo);

  train::TrainerOptions to = trainer_options(config, kModelName);
  train::Trainer trainer(*model, optimizer, request.run, config, to);

  const int64_t eval_every = config.get_int("eval_every");  // >= 1 by the schema
  std::cerr << "cbc (" << cbc_variant_name(model->options().variant)
            << (model->options().squared ? ", squared distances" : ", euclidean distances") << "): "
            << model->num_parameters() << " parameters, " << data.train.size() << " training / "
            << data.validation.size() << " validation images of " << config.get_string("dataset") << "\n";
  auto summary = trainer.fit(
      loader,
      [&](const data::Batch& batch, int64_t) {
        CbcLoss l = model->loss(model->forward(batch.images), batch.labels);
        return train::StepResult{l.total, {}, {{"mean_radius", l.radius}}};
      },
      [&](int64_t epochs_done) {
        nlohmann::json m = nlohmann::json::object();
        if (data.validation.size() > 0 && (epochs_done % eval_every == 0 || epochs_done == to.epochs)) {
          model->eval();
          CbcEvaluation e = evaluate_cbc(*model, data.validation, radii, "val", false);
          m["val_accuracy"] = e.confusion.accuracy();
          m["val_certified"] = e.certified.to_json()["certified_accuracy"];
          std::cerr << "epoch " << epochs_done << ": validation accuracy " << std::fixed << std::setprecision(2)
                    << 100.0 * e.confusion.accuracy() << "%\n";
        }
        return m;
      },
      request.resume);
  if (summary.interrupted) return;

  model->eval();
  const auto attack = cbc_attack_options(config);
  CbcEvaluation test = evaluate_cbc(*model, data.test, radii, "test", true, attack ? &*attack : nullptr, seed + 1,
                                    config.get_int("attack_samples"));
  MetricsWriter(request.run.metrics_file())
      .write({{"final", true},
              {"test_accuracy", test.confusion.accuracy()},
              {"test_certified", test.certified.to_json()},
              {"seconds", summary.seconds}});
  std::cout << std::fixed << std::setprecision(2) << "test accuracy: " << 100.0 * test.confusion.accuracy()
            << "% after " << summary.epochs_done << " epochs (" << summary.seconds << " s of training)\n"
            << test.certified.table();
  write_robustness_report(*model, test, "test", request.run);
  write_cbc_exports(*model, class_names_of(data.train), data.train.images.size(-1),
                    request.run.exports_dir().string());
  std::cout << "components: " << (request.run.exports_dir() / "components.png").string() << "\n"
            << "exports:    " << request.run.exports_dir().string() << "\n";
}

namespace {

struct EvaluatedRun {
  std::unique_ptr<CbcNet> model;
  CbcEvaluation evaluation;
};

/// The run's model evaluated on the request's split (with the attack its config asks
/// for); the robustness report is written to RUN/exports.
EvaluatedRun evaluate_run(const EvalRequest& request) {
  RunData data = load_run_data(request.config);
  const data::ImageDataset& split = data.split(request.split);
  auto model = load_trained(request.config, request.run, data.train);
  const auto attack = cbc_attack_options(request.config);
  CbcEvaluation e = evaluate_cbc(*model, split, radii_of(request.config), request.split, !request.json,
                                 attack ? &*attack : nullptr, uint64_t(request.config.get_int("seed")) + 1,
                                 request.config.get_int("attack_samples"));
  write_robustness_report(*model, e, request.split, request.run);
  return {std::move(model), std::move(e)};
}

}  // namespace

void eval_cbc(const EvalRequest& request) {
  auto [model, e] = evaluate_run(request);
  if (request.json) {
    nlohmann::json j = e.confusion.to_json();
    j["certified"] = e.certified.to_json();
    j["split"] = request.split;
    j["checkpoint"] = train::Trainer::checkpoint_position(request.run);
    j["variant"] = cbc_variant_name(model->options().variant);
    j["squared"] = model->options().squared;
    std::cout << j.dump() << "\n";
  } else {
    print_evaluation(e, request.split);
  }
}

void export_cbc(const ExportRequest& request) {
  RunData data = load_run_data(request.config);
  auto model = load_trained(request.config, request.run, data.train);
  write_cbc_exports(*model, class_names_of(data.train), data.train.images.size(-1),
                    request.run.exports_dir().string());
}

void write_cbc_exports(const CbcNet& model, const std::vector<std::string>& class_names, int64_t image_size,
                       const std::string& dir_name) {
  NoGradGuard no_grad;
  const std::filesystem::path dir(dir_name);
  std::filesystem::create_directories(dir);
  const int64_t k = model.options().num_components;
  const int64_t side = image_size > 0 && image_size * image_size == model.options().input_dim
                           ? image_size
                           : int64_t(std::lround(std::sqrt(double(model.options().input_dim))));
  if (side * side != model.options().input_dim)
    throw std::invalid_argument("cbc export: components of " + std::to_string(model.options().input_dim) +
                                " values are not square images");

  // The components are images: what the model detects (AAAI 2025, plot_components).
  Tensor images = model.components().reshape({k, 1, side, side});
  Tensor grid = io::image_grid(images, std::min<int64_t>(k, 10), 2, 1.0);
  // Drawn 3x larger (nearest neighbour) so that 28x28 components are readable.
  grid = ops::upsample2d(grid.unsqueeze(0), 3 * grid.size(1), 3 * grid.size(2)).squeeze(0);
  io::write_png(grid, (dir / "components.png").string());

  // Per concept a 2 x K map: positive reasoning (pi r, components that must be present)
  // above negative reasoning (pi (1 - r), components that must be absent)
  // (plot_reasoning_matrices). Rows 2c and 2c + 1 belong to concept c.
  cbc::Reasoning r = model.reasoning();
  const int64_t concepts = r.positive.size(1);
  Tensor stacked = ops::stack({r.positive.mT(), r.negative.mT()}, 1).reshape({2 * concepts, k});
  io::HeatMapOptions heat;
  heat.lo = 0.0;
  Tensor map = io::heat_map(stacked, heat);
  Tensor big = ops::upsample2d(map.unsqueeze(0), 2 * concepts * kCellPixels, k * kCellPixels).squeeze(0);
  io::write_png(big, (dir / "reasoning.png").string());

  nlohmann::json concept_list = nlohmann::json::array();
  std::vector<double> pos = r.positive.contiguous().to_vector<double>(), neg = r.negative.contiguous().to_vector<double>();
  for (int64_t c = 0; c < concepts; ++c) {
    std::vector<double> p, n, prior, req;
    for (int64_t j = 0; j < k; ++j) {
      double a = pos[size_t(j * concepts + c)], b = neg[size_t(j * concepts + c)];
      p.push_back(a);
      n.push_back(b);
      // pi = R+ + R-, r = R+ / pi (AAAI 2025, section 3.2's decomposition).
      prior.push_back(a + b);
      req.push_back(a + b > 0 ? a / (a + b) : 0.0);
    }
    const int64_t cls = model.concept_class(c);
    concept_list.push_back({{"concept", c},
                            {"class", cls},
                            {"class_name", cls < int64_t(class_names.size()) ? class_names[size_t(cls)] : ""},
                            {"positive", p},
                            {"negative", n},
                            {"prior", prior},
                            {"requiredness", req}});
  }
  nlohmann::json j = {{"model", kModelName},
                      {"variant", cbc_variant_name(model.options().variant)},
                      {"squared", model.options().squared},
                      {"num_components", k},
                      {"class_names", class_names},
                      {"components_image", "components.png"},
                      {"reasoning_image", "reasoning.png"},
                      {"reasoning_image_rows", "concept c: row 2c positive, row 2c+1 negative reasoning"},
                      {"concepts", concept_list}};
  if (model.sigma().defined()) j["sigma"] = cbc::effective_sigma(model.sigma()).to_vector<double>();
  if (model.options().variant == CbcVariant::rbf || model.options().variant == CbcVariant::robust_rbf)
    j["rbf_weights"] = rows_json(model.rbf_weights());
  io::write_json_atomic((dir / "reasoning.json").string(), j);
}

nlohmann::json explain_cbc_one(const CbcNet& model, const data::ImageDataset& dataset, int64_t index) {
  NoGradGuard no_grad;
  data::Batch b = explained_example(dataset, index, model.device());
  CbcOutput out = model.forward(b.images);
  std::vector<double> scores = out.scores.to_vector<double>();
  const int64_t pred = std::max_element(scores.begin(), scores.end()) - scores.begin();
  const int64_t label = b.labels.to_vector<int64_t>()[0];
  const double radius = model.certified_radius(out, b.labels).item();
  auto name = [&](int64_t c) {
    return c < int64_t(dataset.class_names.size()) ? dataset.class_names[size_t(c)] : std::to_string(c);
  };
  nlohmann::json e = {{"index", index},
                      {"split", dataset.name},
                      {"label", label},
                      {"label_name", name(label)},
                      {"prediction", pred},
                      {"prediction_name", name(pred)},
                      {"variant", cbc_variant_name(model.options().variant)},
                      {"class_scores", scores},
                      {"distances", out.distances.to_vector<double>()},
                      // Radius of the true class's certificate: the prediction (if right)
                      // cannot change within it; negative when the prediction is wrong.
                      {"certified_radius", radius}};
  if (out.detections.defined()) {
    e["detections"] = out.detections.to_vector<double>();
    // p_c = d R+ + (1 - d) R-: evidence from components present and required plus
    // components absent and forbidden (AAAI 2025, all_reasoning_probabilities).
    cbc::Reasoning r = model.reasoning();
    Tensor positive = ops::matmul(out.detections, r.positive);
    Tensor negative = ops::matmul(1.0 - out.detections, r.negative);
    e["positive_agreement"] = positive.to_vector<double>();
    e["negative_agreement"] = negative.to_vector<double>();
    if (out.concepts.defined()) e["concept_probabilities"] = out.concepts.to_vector<double>();
  }
  return e;
}

void explain_cbc(const ExplainRequest& request) {
  RunData data = load_run_data(request.config);
  const data::ImageDataset& split = data.split(request.split);
  auto model = load_trained(request.config, request.run, data.train);
  nlohmann::json e = explain_cbc_one(*model, split, request.index);
  std::filesystem::create_directories(request.run.exports_dir());
  const std::string json_path =
      (request.run.exports_dir() / ("explain_" + request.split + "_" + std::to_string(request.index) + ".json"))
          .string();
  io::write_json_atomic(json_path, e);
  if (request.json) {
    std::cout << e.dump() << "\n";
    return;
  }
  const size_t pred = e["prediction"].get<size_t>();
  std::cout << std::fixed << std::setprecision(3) << request.split << " image " << request.index << ": label "
            << e["label_name"].get<std::string>() << ", predicted " << e["prediction_name"].get<std::string>()
            << " (score " << e["class_scores"][pred].get<double>() << "), certified L2 radius "
            << e["certified_radius"].get<double>() << "\n";
  if (e.contains("detections")) {
    std::cout << "detections d_k:";
    for (size_t k = 0; k < e["detections"].size(); ++k)
      std::cout << (k % 10 == 0 ? "\n  " : " ") << two_digits(int64_t(k)) << ":" << e["detections"][k].get<double>();
    std::cout << "\nper concept: its class, probability = positive + negative agreement\n";
    const int64_t concepts = int64_t(e["positive_agreement"].size());
    for (int64_t c = 0; c < concepts; ++c) {
      const double p = e["positive_agreement"][size_t(c)].get<double>(),
                   n = e["negative_agreement"][size_t(c)].get<double>();
      const int64_t cls = model->concept_class(c);
      std::cout << "  concept " << two_digits(c) << "  "
                << std::left << std::setw(14)
                << (cls < int64_t(split.class_names.size()) ? split.class_names[size_t(cls)] : std::to_string(cls))
                << std::right << "  " << p + n << " = " << p << " + " << n << "\n";
    }
  }
  std::cout << "report: " << json_path << "\n";
}

void bench_cbc(const BenchRequest& request) {
  const Config& config = request.config;
  RunData data = load_run_data(config);
  manual_seed(uint64_t(config.get_int("seed")));
  auto model = build_model(config, data.train);
  optim::AdamOptions adam;
  adam.lr = config.get_double("lr");
  optim::Adam optimizer(model->parameters(), adam);
  model->add_projections(optimizer);
  const int64_t batch = config.get_int("batch_size");
  data::LoaderOptions lo = loader_options(config);
  data::DataLoader loader(data.train, lo);
  data::Batch b;
  train::run_step_benchmark(
      {kModelName, batch, request.steps, 3, {{"variant", cbc_variant_name(model->options().variant)}}, request.profile, model->device()},
      [&](int64_t i) { b = loader.batch(0, i % loader.num_batches()).to(model->device()); },
      [&] {
        CbcLoss l = model->loss(model->forward(b.images), b.labels);
        optimizer.zero_grad();
        l.total.backward();
        optimizer.step();
      });
}

void robustness_cbc(const EvalRequest& request) {
  auto [model, e] = evaluate_run(request);
  if (request.json) {
    std::cout << robustness_json(*model, e, request.split).dump() << "\n";
    return;
  }
  std::cout << cbc_variant_name(model->options().variant) << (model->options().squared ? " (squared)" : "") << ", "
            << request.split << " split:\n"
            << e.certified.table() << "written to "
            << (request.run.exports_dir() / ("robustness_" + request.split + ".md")).string() << " and .json\n";
}

namespace {
ModelEntry cbc_entry() {
  ModelEntry e{kModelName,
               "Shallow CBC / RBF / GLVQ prototype classifiers with certified L2 robustness (Saralajew et al. 2019, "
               "2025); pick one with --variant",
               cbc_schema(), train_cbc, eval_cbc, export_cbc, explain_cbc, bench_cbc};
  e.robustness = robustness_cbc;
  return e;
}
const ModelRegistrar registrar{cbc_entry()};
}  // namespace

}  // namespace glassbox::models
