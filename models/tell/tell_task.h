#pragma once
// TELL as a CLI task: its configuration schema, the clustering evaluation, and the
// train / eval / export / explain / bench / cluster handlers that `glassbox` dispatches to
// (cluster in tell_cluster.cpp).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/optim/adadelta.h"
#include "models/common/decoder_check.h"
#include "models/tell/tell.h"
#include "trainers/config.h"
#include "trainers/data/image_dataset.h"
#include "trainers/metrics/clustering.h"
#include "trainers/model_registry.h"

namespace glassbox::models {

/// Every key tell_*.cfg may hold (the common training keys included).
ConfigSchema tell_schema();
TellOptions tell_options(const Config& config);

/// The images TELL clusters: the training split, plus the test split when `use_test`
/// (the paper clusters all 70,000 MNIST digits), cut to the first `subset` when > 0.
data::ImageDataset load_tell_data(const Config& config);

/// A trained model applied to a whole data set (eval mode, no gradients).
struct TellEvaluation {
  Tensor latent;                    // z [N, d]
  std::vector<int64_t> assignment;  // nearest centre per sample
  metrics::ClusteringScores scores;
  /// The code's L_clu averaged over every sample: (lambda / alpha) mean_{i,k}(2 alpha - delta c),
  /// the criterion the paper selects restarts by.
  double clustering_loss = 0;
};
/// The model of a run's selected checkpoint, in eval mode, on the configured device.
std::unique_ptr<Tell> load_trained_tell(const Config& config, const RunFolder& run);
/// Adadelta as the configuration sets it (lr, rho, eps).
optim::AdadeltaOptions tell_adadelta_options(const Config& config);

/// Every image's features z with its nearest centre and that centre's score c = W z, in batches
/// (no gradients; the caller picks the mode); a progress bar on stderr under `bar_label` unless empty.
struct NearestCentres {
  Tensor latent;                // z [N, d]
  std::vector<int64_t> centre;  // argmax_k c
  std::vector<double> score;    // max_k c
};
NearestCentres nearest_centres(const Tell& model, const Tensor& images, const std::string& bar_label);

/// Encodes and assigns every image of `data`; with `show_progress`, a progress bar on stderr.
TellEvaluation evaluate_tell(const Tell& model, const data::ImageDataset& data, bool show_progress = false);

/// Starts `model` from the encoder and decoder (batch-norm statistics included) of the TELL run
/// that the `init_from` key names, at its `init_checkpoint`; the centres keep their own
/// initialisation. Errors name the key and the run.
void load_autoencoder(Tell& model, const Config& config);

void train_tell(const TrainRequest& request);
void eval_tell(const EvalRequest& request);
void export_tell(const ExportRequest& request);
void explain_tell(const ExplainRequest& request);
void bench_tell(const BenchRequest& request);
/// `glassbox cluster RUN --input IDX`: assigns new images to the trained centres.
void cluster_tell(const ClusterRequest& request);
/// Nearest centre and its cosine similarity for each image [N, 1, H, W], and cluster sizes; with
/// `show_progress`, a progress bar on stderr.
nlohmann::json assign_clusters(const Tell& model, const Tensor& images, bool show_progress = false);

/// TELL's online setting (paper section 2.4 and Table 5's dagger rows): the images arrive in batches
/// of `batch_size`, in order; each batch is assigned with the current centres, then the centres take
/// one step on that batch's L_clu (the normalised update, Adadelta with `options`) while the encoder
/// stays fixed. assign_clusters' JSON, plus the centres at the end of the stream. Changes `model`'s
/// centres.
nlohmann::json assign_clusters_online(Tell& model, const Tensor& images, int64_t batch_size,
                                      const optim::AdadeltaOptions& options, bool show_progress = false);

/// Writes centres.png, centres.json and cluster_members.png into `dir`.
void write_tell_exports(const Tell& model, const data::ImageDataset& data, const std::string& dir);
/// One image's cosine similarity to every centre, its cluster and that cluster's label.
nlohmann::json explain_tell_one(const Tell& model, const data::ImageDataset& data, int64_t index);

}  // namespace glassbox::models
