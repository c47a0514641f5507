#pragma once
// The shallow CBC / RBF / GLVQ classifiers as one CLI task, `glassbox train cbc`, whose
// `variant` key picks glvq, rbf, robust_rbf, cbc, stable_cbc or robust_stable_cbc
// (and `squared` the distance): its configuration schema and the train / eval /
// export / explain / bench handlers. Evaluation reports clean and certified robust
// accuracy at the radii of `certify_radii`.
#include <nlohmann/json.hpp>
#include <optional>

#include "models/cbc/cbc.h"
#include "models/common/run_data.h"
#include "trainers/config.h"
#include "trainers/data/image_dataset.h"
#include "trainers/metrics/certified_accuracy.h"
#include "trainers/metrics/confusion_matrix.h"
#include "trainers/metrics/l2_attack.h"
#include "trainers/model_registry.h"

namespace glassbox::models {

/// Every key cbc_*.cfg may hold (the common training keys included).
ConfigSchema cbc_schema();
CbcOptions cbc_options(const Config& config, int64_t input_dim, int64_t num_classes);


/// Predictions and certified radii of a whole data set.
struct CbcEvaluation {
  ConfusionMatrix confusion;
  metrics::CertifiedAccuracy certified;  // with empirical robust accuracy when attacked
  nlohmann::json attack;                 // the attack's method, steps and restarts; null when none ran
};
/// Evaluates `dataset`: accuracy and certified accuracy at `radii`; with `attack`, also
/// the empirical robust accuracy under the L2 attack (APGD or PGD) at each radius on the first
/// `attack_samples` samples (<= 0: all) and the faithfulness check on them (throws
/// std::runtime_error if a certified sample is broken).
CbcEvaluation evaluate_cbc(const CbcNet& model, const data::ImageDataset& dataset, const std::vector<double>& radii,
                           const std::string& label, bool show_progress,
                           const metrics::L2AttackOptions* attack = nullptr, uint64_t attack_seed = 0,
                           int64_t attack_samples = 0);
/// The attack the configuration asks for (nullopt when attack_steps = 0).
std::optional<metrics::L2AttackOptions> cbc_attack_options(const Config& config);

void train_cbc(const TrainRequest& request);
void eval_cbc(const EvalRequest& request);
void export_cbc(const ExportRequest& request);
void explain_cbc(const ExplainRequest& request);
void bench_cbc(const BenchRequest& request);
/// `glassbox robustness RUN`: certified (and attacked) accuracy per radius, printed and written.
void robustness_cbc(const EvalRequest& request);

/// Writes components.png (the K components as images), reasoning.png (per concept, a
/// 2 x K heat map: positive reasoning above negative) and reasoning.json into `dir`.
void write_cbc_exports(const CbcNet& model, const std::vector<std::string>& class_names, int64_t image_size,
                       const std::string& dir);
/// One input's report: detections, concept and class scores, positive / negative
/// agreement per concept, prediction and certified radius.
nlohmann::json explain_cbc_one(const CbcNet& model, const data::ImageDataset& dataset, int64_t index);

}  // namespace glassbox::models
