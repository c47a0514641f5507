#include "trainers/metrics/classification.h"

#include <iomanip>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/reduce.h"
#include "trainers/progress_bar.h"

namespace glassbox::metrics {

std::vector<double> ClassificationReport::per_class_accuracy() const {
  std::vector<double> out;
  for (size_t c = 0; c < confusion.size(); ++c) {
    int64_t total = std::accumulate(confusion[c].begin(), confusion[c].end(), int64_t{0});
    out.push_back(total ? double(confusion[c][c]) / double(total) : 0.0);
  }
  return out;
}

nlohmann::json ClassificationReport::to_json() const {
  return {{"split", split},
          {"samples", samples},
          {"accuracy", accuracy()},
          {"per_class_accuracy", per_class_accuracy()},
          {"class_names", class_names},
          {"confusion_matrix", confusion}};
}

std::string ClassificationReport::table() const {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2);
  os << split << ": accuracy " << 100.0 * accuracy() << "% (" << correct << "/" << samples << ")\n\n";
  auto per_class = per_class_accuracy();
  size_t width = 5;
  for (auto& n : class_names) width = std::max(width, n.size());
  os << std::left << std::setw(int(width) + 2) << "class" << std::right << std::setw(9) << "accuracy"
     << "   confusion (predicted ->)\n";
  for (size_t c = 0; c < confusion.size(); ++c) {
    std::string name = c < class_names.size() ? class_names[c] : std::to_string(c);
    os << std::left << std::setw(int(width) + 2) << name << std::right << std::setw(8) << 100.0 * per_class[c]
       << "%  ";
    for (int64_t v : confusion[c]) os << std::setw(6) << v;
    os << "\n";
  }
  return os.str();
}

void accumulate(ClassificationReport& report, const Tensor& predictions, const Tensor& labels) {
  std::vector<int64_t> p = predictions.to_vector<int64_t>(), y = labels.to_vector<int64_t>();
  if (p.size() != y.size()) throw std::invalid_argument("accumulate: predictions and labels differ in length");
  const int64_t k = int64_t(report.confusion.size());
  for (size_t i = 0; i < p.size(); ++i) {
    if (y[i] < 0 || y[i] >= k || p[i] < 0 || p[i] >= k)
      throw std::out_of_range("accumulate: class index outside [0, " + std::to_string(k) + ")");
    report.confusion[size_t(y[i])][size_t(p[i])]++;
    report.correct += p[i] == y[i];
  }
  report.samples += int64_t(p.size());
}

ClassificationReport evaluate_classifier(const std::function<Tensor(const Tensor&)>& logits_of,
                                         const data::ImageDataset& dataset, const std::string& split,
                                         int64_t batch_size, bool show_progress) {
  ClassificationReport report;
  report.split = split;
  report.class_names = dataset.class_names;
  report.confusion.assign(size_t(dataset.num_classes), std::vector<int64_t>(size_t(dataset.num_classes), 0));
  NoGradGuard no_grad;
  const int64_t n = dataset.size();
  const int64_t batches = (n + batch_size - 1) / batch_size;
  std::unique_ptr<ProgressBar> bar;
  if (show_progress) bar = std::make_unique<ProgressBar>("eval " + split, batches);
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<int64_t> ids(size_t(std::min(batch_size, n - b * batch_size)));
    std::iota(ids.begin(), ids.end(), b * batch_size);
    data::Batch batch = dataset.gather(ids);
    Tensor logits = logits_of(batch.images);
    accumulate(report, ops::argmax(logits, 1), batch.labels);
    if (bar) bar->update(b + 1, 0.0);
  }
  return report;
}

}  // namespace glassbox::metrics
