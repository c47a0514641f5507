#include "trainers/metrics/certified_accuracy.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace glassbox::metrics {

CertifiedAccuracy::CertifiedAccuracy(std::vector<double> radii)
    : radii_(std::move(radii)), certified_(radii_.size()), empirical_(radii_.size()), empirical_seen_(radii_.size()) {
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

void CertifiedAccuracy::add_empirical(size_t i, const Tensor& robust) {
  if (i >= radii_.size())
    throw std::out_of_range("CertifiedAccuracy: radius index " + std::to_string(i) + " of " +
                            std::to_string(radii_.size()));
  for (int64_t r : robust.to_vector<int64_t>()) {
    ++empirical_seen_[i];
    if (r) ++empirical_[i];
  }
}

bool CertifiedAccuracy::has_empirical() const {
  if (radii_.empty() || empirical_seen_[0] == 0) return false;
  for (int64_t n : empirical_seen_)
    if (n != empirical_seen_[0]) return false;
  return true;
}

int64_t CertifiedAccuracy::empirical_samples() const { return has_empirical() ? empirical_seen_[0] : 0; }

std::vector<double> CertifiedAccuracy::empirical_accuracy() const {
  std::vector<double> out;
  if (!has_empirical()) return out;
  for (int64_t n : empirical_) out.push_back(double(n) / double(empirical_seen_[0]));
  return out;
}

double CertifiedAccuracy::mean_correct_radius() const { return correct_ > 0 ? radius_sum_ / double(correct_) : 0.0; }

nlohmann::json CertifiedAccuracy::to_json() const {
  nlohmann::json per = nlohmann::json::array();
  const std::vector<double> acc = certified_accuracy();
  for (size_t i = 0; i < radii_.size(); ++i) per.push_back({{"eps", radii_[i]}, {"accuracy", acc[i]}});
  nlohmann::json j = {{"samples", total_},
                      {"clean_accuracy", clean_accuracy()},
                      {"mean_correct_radius", mean_correct_radius()},
                      {"certified_accuracy", per}};
  if (has_empirical()) {
    nlohmann::json emp = nlohmann::json::array();
    const std::vector<double> e = empirical_accuracy();
    for (size_t i = 0; i < radii_.size(); ++i) emp.push_back({{"eps", radii_[i]}, {"accuracy", e[i]}});
    j["empirical_accuracy"] = emp;
    j["empirical_samples"] = empirical_samples();
  }
  return j;
}

std::string CertifiedAccuracy::table() const {
  const bool emp = has_empirical();
  std::string out = "robust accuracy at L2 radius eps (certified: correct and certified radius >= eps";
  out += emp ? "; empirical: correct under the attack, first " + std::to_string(empirical_samples()) +
                   " samples)\n      eps   certified   empirical\n"
             : ")\n      eps   certified\n";
  char buf[96];
  const std::vector<double> acc = certified_accuracy(), e = empirical_accuracy();
  for (size_t i = 0; i < radii_.size(); ++i) {
    if (emp)
      std::snprintf(buf, sizeof buf, "  %7.3f   %8.2f%%   %8.2f%%\n", radii_[i], 100 * acc[i], 100 * e[i]);
    else
      std::snprintf(buf, sizeof buf, "  %7.3f   %8.2f%%\n", radii_[i], 100 * acc[i]);
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
