#include "trainers/metrics/classification.h"

#include <memory>
#include <numeric>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/reduce.h"
#include "trainers/progress_bar.h"

namespace glassbox::metrics {

ConfusionMatrix evaluate_classifier(const std::function<Tensor(const Tensor&)>& logits_of,
                                    const data::ImageDataset& dataset, const std::string& label, int64_t batch_size,
                                    bool show_progress) {
  std::vector<std::string> names = dataset.class_names;
  for (int64_t c = int64_t(names.size()); c < dataset.num_classes; ++c) names.push_back(std::to_string(c));
  ConfusionMatrix matrix(names);
  NoGradGuard no_grad;
  const int64_t n = dataset.size();
  const int64_t batches = (n + batch_size - 1) / batch_size;
  std::unique_ptr<ProgressBar> bar;
  if (show_progress) bar = std::make_unique<ProgressBar>("eval " + label, batches);
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<int64_t> ids(static_cast<size_t>(std::min(batch_size, n - b * batch_size)));
    std::iota(ids.begin(), ids.end(), b * batch_size);
    data::Batch batch = dataset.gather(ids);
    matrix.add(ops::argmax(logits_of(batch.images), 1), batch.labels);
    if (bar) bar->update(b + 1);
  }
  return matrix;
}

}  // namespace glassbox::metrics
