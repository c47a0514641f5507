#pragma once
// Prob-PSENN (and its deterministic PSENN baseline) as a CLI task: the configuration
// schema, train / eval / OOD eval / export / explain / bench handlers, and the
// uncertainty and explanation-uncertainty outputs built on the model.
#include <nlohmann/json.hpp>

#include "models/prob_psenn/prob_psenn.h"
#include "trainers/config.h"
#include "trainers/data/image_dataset.h"
#include "trainers/metrics/uncertainty.h"
#include "trainers/model_registry.h"

namespace glassbox::models {

/// Every key prob_psenn_*.cfg may hold (the common training keys included).
ConfigSchema prob_psenn_schema();
ProbPsennOptions prob_psenn_options(const Config& config, int64_t num_classes);
ProbPsennLossWeights prob_psenn_loss_weights(const Config& config);

void train_prob_psenn(const TrainRequest& request);
void eval_prob_psenn(const EvalRequest& request);
void eval_ood_prob_psenn(const OodEvalRequest& request);
void export_prob_psenn(const ExportRequest& request);
void explain_prob_psenn(const ExplainRequest& request);
void bench_prob_psenn(const BenchRequest& request);

/// A model's predictions over a data set: the Monte Carlo predictive and its uncertainties.
struct ProbPsennPredictions {
  Tensor probabilities;  // [N, K]: (1/S) sum_s softmax(D(z, P^(s)) W) (one "sample" for point prototypes)
  Tensor predicted;      // [N] i64 argmax
  metrics::EntropyDecomposition entropy;  // each [N]
};
/// Predicts `dataset` with `samples` prototype sets per input (0: the modes only), drawing
/// from a generator seeded with `seed` so evaluations repeat exactly; with `sample_latent`
/// each set also gets its own latent draw (ProbPsenn::forward).
ProbPsennPredictions predict_dataset(const ProbPsenn& model, const data::ImageDataset& dataset, int64_t samples,
                                     uint64_t seed, bool sample_latent = false);

/// Writes prototype_samples.png (rows = classes; the decoded mode, then `samples` decoded
/// draws of q_c) and prototypes.json (mu_c, L_c or the diagonal scales, W) into `dir`.
void write_prob_psenn_exports(const ProbPsenn& model, const data::ImageDataset& train, const std::string& dir,
                              int64_t samples, uint64_t seed);

/// Squared distances of latents [N, d] to their class's prototype mode, sorted per class:
/// the reference for the explanation percentile.
std::vector<std::vector<double>> class_distance_references(const ProbPsenn& model, const Tensor& latents,
                                                           const Tensor& labels);

/// One input's explanation: the prediction, the three uncertainties, the explanation
/// uncertainties (distance percentile among the class's training data; overlap of the sampled
/// distance distributions of the top two classes) and the runner-up class.
nlohmann::json prob_psenn_explanation(const ProbPsenn& model, const data::ImageDataset& dataset, int64_t index,
                                      const std::vector<std::vector<double>>& references, int64_t samples,
                                      uint64_t seed);

}  // namespace glassbox::models
