// TELL on new images (`glassbox cluster`): assigned to the trained centres, or, online, with the
// centres learning from each batch as it arrives (paper section 2.4, Table 5's dagger rows).
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>

#include "engine/autograd/grad_mode.h"
#include "engine/io/json_file.h"
#include "engine/ops/ops.h"
#include "models/tell/tell_task.h"
#include "trainers/progress_bar.h"
#include "trainers/usage_error.h"

namespace glassbox::models {

namespace {

/// The JSON both assignments give: each image's cluster, its cosine similarity to that centre
/// (c = W z = 2 alpha Omega^T z: for unit features and unit centres, 2 alpha times the cosine),
/// and the cluster sizes.
nlohmann::json assignment_json(const Tell& model, const std::vector<int64_t>& clusters,
                               const std::vector<double>& scores) {
  std::vector<double> similarity;
  for (double c : scores) similarity.push_back(c / (2.0 * model.options().alpha));
  std::vector<int64_t> sizes(size_t(model.options().num_clusters), 0);
  for (int64_t c : clusters) ++sizes[size_t(c)];
  return {{"clusters", clusters}, {"cosine_similarity", similarity}, {"cluster_sizes", sizes}};
}

}  // namespace

nlohmann::json assign_clusters(const Tell& model, const Tensor& images, bool show_progress) {
  const NearestCentres nearest = nearest_centres(model, images, show_progress ? "assign" : "");
  return assignment_json(model, nearest.centre, nearest.score);
}

nlohmann::json assign_clusters_online(Tell& model, const Tensor& images, int64_t batch_size,
                                      const optim::AdadeltaOptions& options, bool show_progress) {
  if (batch_size < 1) throw std::invalid_argument("assign_clusters_online: batch_size must be >= 1");
  model.eval();  // the fixed encoder: batch normalisation with its running statistics
  optim::Adadelta optimizer({model.cluster_weight()}, options);
  model.attach_normalised_updates(optimizer, [] { return true; });
  const int64_t n = images.size(0), batches = (n + batch_size - 1) / batch_size;
  std::unique_ptr<ProgressBar> bar;
  if (show_progress) bar = std::make_unique<ProgressBar>("online", batches);
  std::vector<int64_t> clusters;
  std::vector<double> scores;
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t start = b * batch_size;
    // Assigned with the centres as they are when the batch arrives, before learning from it.
    const NearestCentres nearest = nearest_centres(model, images.narrow(0, start, std::min(batch_size, n - start)), "");
    clusters.insert(clusters.end(), nearest.centre.begin(), nearest.centre.end());
    scores.insert(scores.end(), nearest.score.begin(), nearest.score.end());
    TellLoss l = model.fixed_feature_loss(nearest.latent);
    optimizer.zero_grad();
    l.total.backward();
    optimizer.step();
    if (bar) bar->update(b + 1);
  }
  if (bar) bar->finish();
  nlohmann::json result = assignment_json(model, clusters, scores);
  const Tensor omega = model.centres().to(Device::cpu());
  nlohmann::json centres = nlohmann::json::array();
  for (int64_t k = 0; k < omega.size(0); ++k) centres.push_back(omega.narrow(0, k, 1).to_vector<double>());
  result["online"] = true;
  result["batch_size"] = batch_size;
  result["centres_after"] = centres;
  return result;
}

void cluster_tell(const ClusterRequest& request) {
  auto model = load_trained_tell(request.config, request.run);
  std::vector<std::string> names;  // the labels' names do not matter to the scores
  for (int c = 0; c < 256; ++c) names.push_back(std::to_string(c));
  const std::optional<data::ImageDataset> labelled =
      request.labels.empty() ? std::nullopt
                             : std::optional(data::load_idx_dataset("input", request.input, request.labels, names));
  Tensor images = labelled ? labelled->images : data::load_idx_images(request.input);
  const int64_t side = model->options().image_size;
  if (images.size(2) != side || images.size(3) != side)
    throw UsageError(request.input + ": images are " + std::to_string(images.size(2)) + "x" +
                     std::to_string(images.size(3)) + ", but the model was trained on " + std::to_string(side) + "x" +
                     std::to_string(side));
  const int64_t batch = request.batch_size > 0 ? request.batch_size : request.config.get_int("batch_size");
  nlohmann::json result =
      request.online ? assign_clusters_online(*model, images, batch, tell_adadelta_options(request.config), true)
                     : assign_clusters(*model, images, true);
  std::optional<metrics::ClusteringScores> scores;
  if (labelled) {
    scores = metrics::score_clustering(labelled->labels.to_vector<int64_t>(),
                                       result["clusters"].get<std::vector<int64_t>>());
    result["scores"] = scores->to_json();
  }
  result["input"] = request.input;
  result["run"] = request.run.root().string();
  // The label each cluster was matched to, when the run has been exported.
  const auto centres_json = request.run.exports_dir() / "centres.json";
  if (std::filesystem::exists(centres_json)) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& c : io::read_json(centres_json.string()).at("clusters"))
      names.push_back(c.at("matched_label_name"));
    result["cluster_matched_label_names"] = names;
  }
  if (!request.output.empty()) io::write_json_atomic(request.output, result);
  if (request.json) {
    std::cout << result.dump() << "\n";
    return;
  }
  const auto& clusters = result["clusters"];
  const auto& sim = result["cosine_similarity"];
  std::cout << "image  cluster  cosine similarity\n" << std::fixed << std::setprecision(4);
  for (size_t i = 0; i < clusters.size() && i < 20; ++i)
    std::cout << std::setw(5) << i << "  " << std::setw(7) << clusters[i].get<int64_t>() << "  " << sim[i].get<double>()
              << "\n";
  if (clusters.size() > 20) std::cout << "  ... (" << clusters.size() << " images; --output FILE or --json for all)\n";
  std::cout << "cluster sizes:";
  for (const auto& s : result["cluster_sizes"]) std::cout << " " << s.get<int64_t>();
  std::cout << "\n";
  if (request.online)
    std::cout << "online: the centres learned from each batch of " << batch << " after assigning it\n";
  if (scores) std::cout << "against " << request.labels << ":\n" << scores->table();
}

}  // namespace glassbox::models
