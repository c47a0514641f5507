#include "trainers/metrics/certified_accuracy.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace glassbox::metrics {

CertifiedAccuracy::CertifiedAccuracy(std::vector<double> radii) : radii_(std::move(radii)), certified_(radii_.size()) {
  for (double r : radii_)
    if (!(r >= 0)) throw std::invalid_argument("CertifiedAccuracy: radii must be >= 0, got " + std::to_string(r));
}

void CertifiedAccuracy::add(bool correct, double radius) {
  ++total_;
  if (!correct) return;
  ++correct_;
  radius_sum_ += radius;
  // A NaN radius certifies nothing (the comparison is false).
  for (size_t i = 0; i < radii_.size(); ++i)
    if (radius >= radii_[i]) ++certified_[i];
}

void CertifiedAccuracy::add(const Tensor& correct, const Tensor& radius) {
  if (correct.numel() != radius.numel())
    throw std::invalid_argument("CertifiedAccuracy: " + std::to_string(correct.numel()) + " correctness flags for " +
                                std::to_string(radius.numel()) + " radii");
  const std::vector<int64_t> c = correct.to_vector<int64_t>();
  const std::vector<double> r = radius.to_vector<double>();
  for (size_t i = 0; i < c.size(); ++i) add(c[i] != 0, r[i]);
}

double CertifiedAccuracy::clean_accuracy() const { return total_ > 0 ? double(correct_) / double(total_) : 0.0; }

std::vector<double> CertifiedAccuracy::certified_accuracy() const {
  std::vector<double> out;
  for (int64_t n : certified_) out.push_back(total_ > 0 ? double(n) / double(total_) : 0.0);
  return out;
}

double CertifiedAccuracy::mean_correct_radius() const { return correct_ > 0 ? radius_sum_ / double(correct_) : 0.0; }

nlohmann::json CertifiedAccuracy::to_json() const {
  nlohmann::json per = nlohmann::json::array();
  const std::vector<double> acc = certified_accuracy();
  for (size_t i = 0; i < radii_.size(); ++i) per.push_back({{"eps", radii_[i]}, {"accuracy", acc[i]}});
  return {{"samples", total_},
          {"clean_accuracy", clean_accuracy()},
          {"mean_correct_radius", mean_correct_radius()},
          {"certified_accuracy", per}};
}

std::string CertifiedAccuracy::table() const {
  std::string out = "certified robust accuracy (correct and certified radius >= eps)\n      eps   accuracy\n";
  char buf[96];
  const std::vector<double> acc = certified_accuracy();
  for (size_t i = 0; i < radii_.size(); ++i) {
    std::snprintf(buf, sizeof buf, "  %7.3f   %7.2f%%\n", radii_[i], 100 * acc[i]);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "mean certified radius of correct samples: %.4f\n", mean_correct_radius());
  return out + buf;
}

std::vector<double> parse_radii(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    while (used < item.size() && std::isspace(static_cast<unsigned char>(item[used]))) ++used;
    if (used == 0 || used != item.size() || !(v >= 0))
      throw std::invalid_argument("radius list '" + text + "': '" + item + "' is not a number >= 0");
    out.push_back(v);
  }
  return out;
}

}  // namespace glassbox::metrics
