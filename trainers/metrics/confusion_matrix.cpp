#include "trainers/metrics/confusion_matrix.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace glassbox {

ConfusionMatrix::ConfusionMatrix(std::vector<std::string> class_names)
    : names_(std::move(class_names)), counts_(names_.size() * names_.size(), 0) {
  if (names_.empty()) throw std::invalid_argument("ConfusionMatrix: needs at least one class");
}

void ConfusionMatrix::add(int64_t predicted, int64_t label) {
  const int64_t n = num_classes();
  if (predicted < 0 || predicted >= n || label < 0 || label >= n) {
    throw std::out_of_range("ConfusionMatrix: class out of range [0, " + std::to_string(n) + "): predicted " +
                            std::to_string(predicted) + ", label " + std::to_string(label));
  }
  ++counts_[label * n + predicted];
  ++total_;
}

void ConfusionMatrix::add(const Tensor& predicted, const Tensor& labels) {
  if (predicted.numel() != labels.numel()) {
    throw std::invalid_argument("ConfusionMatrix: " + std::to_string(predicted.numel()) + " predictions for " +
                                std::to_string(labels.numel()) + " labels");
  }
  const std::vector<int64_t> p = predicted.to_vector<int64_t>(), y = labels.to_vector<int64_t>();
  for (size_t i = 0; i < p.size(); ++i) add(p[i], y[i]);
}

double ConfusionMatrix::accuracy() const {
  int64_t correct = 0;
  for (int64_t c = 0; c < num_classes(); ++c) correct += count(c, c);
  return total_ > 0 ? static_cast<double>(correct) / total_ : 0.0;
}

std::vector<int64_t> ConfusionMatrix::per_class_samples() const {
  std::vector<int64_t> out;
  for (int64_t c = 0; c < num_classes(); ++c) {
    int64_t row = 0;
    for (int64_t p = 0; p < num_classes(); ++p) row += count(c, p);
    out.push_back(row);
  }
  return out;
}

std::vector<double> ConfusionMatrix::per_class_accuracy() const {
  std::vector<double> out;
  const std::vector<int64_t> rows = per_class_samples();
  for (int64_t c = 0; c < num_classes(); ++c)
    out.push_back(rows[size_t(c)] > 0 ? static_cast<double>(count(c, c)) / double(rows[size_t(c)]) : 0.0);
  return out;
}

nlohmann::json ConfusionMatrix::to_json() const {
  nlohmann::json per_class = nlohmann::json::object(), samples = nlohmann::json::object(),
                 matrix = nlohmann::json::array();
  const std::vector<double> acc = per_class_accuracy();
  const std::vector<int64_t> rows = per_class_samples();
  for (int64_t c = 0; c < num_classes(); ++c) {
    per_class[names_[c]] = acc[c];
    samples[names_[c]] = rows[size_t(c)];
    matrix.push_back(
        std::vector<int64_t>(counts_.begin() + c * num_classes(), counts_.begin() + (c + 1) * num_classes()));
  }
  return {{"accuracy", accuracy()},
          {"samples", total_},
          {"class_names", names_},
          {"per_class_accuracy", per_class},
          {"per_class_samples", samples},
          {"confusion_matrix", matrix}};
}

std::string ConfusionMatrix::table() const {
  std::string out;
  char buf[128];
  std::snprintf(buf, sizeof buf, "accuracy %.2f%% (%lld samples)\n\n", 100 * accuracy(),
                static_cast<long long>(total_));
  out += buf;
  const std::vector<double> acc = per_class_accuracy();
  const std::vector<int64_t> rows = per_class_samples();
  for (int64_t c = 0; c < num_classes(); ++c) {
    std::snprintf(buf, sizeof buf, "  %2lld %-14s %6.2f%% of %lld\n", static_cast<long long>(c), names_[c].c_str(),
                  100 * acc[c], static_cast<long long>(rows[size_t(c)]));
    out += buf;
  }
  out += "\nconfusion matrix (rows: true class, columns: predicted)\n    ";
  for (int64_t p = 0; p < num_classes(); ++p) {
    std::snprintf(buf, sizeof buf, "%6lld", static_cast<long long>(p));
    out += buf;
  }
  out += "\n";
  for (int64_t c = 0; c < num_classes(); ++c) {
    std::snprintf(buf, sizeof buf, "  %2lld", static_cast<long long>(c));
    out += buf;
    for (int64_t p = 0; p < num_classes(); ++p) {
      std::snprintf(buf, sizeof buf, "%6lld", static_cast<long long>(count(c, p)));
      out += buf;
    }
    out += "\n";
  }
  return out;
}

}  // namespace glassbox
