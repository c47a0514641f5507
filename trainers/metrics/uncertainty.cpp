#include "trainers/metrics/uncertainty.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <stdexcept>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"

namespace glassbox::metrics {

namespace {

constexpr double kLogEps = 1e-8;

/// -sum_k p log(p + 1e-8) along the last dim.
Tensor entropy(const Tensor& p) { return -ops::sum(p * ops::log(p + kLogEps), {-1}); }

}  // namespace

EntropyDecomposition decompose_predictive_entropy(const Tensor& sample_probs) {
  if (sample_probs.dim() != 3)
    throw std::invalid_argument("decompose_predictive_entropy: expected probabilities [N, S, K], got " +
                                sample_probs.shape().str());
  NoGradGuard no_grad;
  EntropyDecomposition e;
  e.total = entropy(ops::mean(sample_probs, {1}));
  e.aleatoric = ops::mean(entropy(sample_probs), {1});
  e.epistemic = e.total - e.aleatoric;
  return e;
}

double auroc(const std::vector<double>& negatives, const std::vector<double>& positives) {
  if (negatives.empty() || positives.empty())
    throw std::invalid_argument("auroc: needs at least one negative and one positive score");
  // Rank all scores together (ties get their average rank); the positives' rank sum gives U.
  std::vector<std::pair<double, bool>> all;
  all.reserve(negatives.size() + positives.size());
  for (double s : negatives) all.emplace_back(s, false);
  for (double s : positives) all.emplace_back(s, true);
  for (auto& [s, pos] : all)
    if (std::isnan(s)) throw std::invalid_argument("auroc: a score is NaN");
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  double positive_rank_sum = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const double rank = 0.5 * double(i + 1 + j);  // mean of the 1-based ranks i+1 .. j
    for (size_t t = i; t < j; ++t)
      if (all[t].second) positive_rank_sum += rank;
    i = j;
  }
  const double np = double(positives.size()), nn = double(negatives.size());
  return (positive_rank_sum - np * (np + 1) / 2) / (np * nn);
}

double expected_calibration_error(const std::vector<double>& confidences, const std::vector<bool>& correct,
                                  int64_t bins) {
  if (confidences.size() != correct.size())
    throw std::invalid_argument("expected_calibration_error: " + std::to_string(confidences.size()) +
                                " confidences but " + std::to_string(correct.size()) + " outcomes");
  if (bins < 1) throw std::invalid_argument("expected_calibration_error: bins must be >= 1");
  if (confidences.empty()) return 0.0;
  std::vector<double> conf_sum(size_t(bins), 0.0), hits(size_t(bins), 0.0), count(size_t(bins), 0.0);
  for (size_t i = 0; i < confidences.size(); ++i) {
    const double c = confidences[i];
    if (!(c >= 0.0 && c <= 1.0))
      throw std::invalid_argument("expected_calibration_error: confidence " + std::to_string(c) + " is outside [0, 1]");
    // Bins are (lo, hi]; ceil(c * bins) - 1 picks that bin, and 0 joins the first.
    const int64_t b = std::clamp<int64_t>(int64_t(std::ceil(c * double(bins))) - 1, 0, bins - 1);
    conf_sum[size_t(b)] += c;
    hits[size_t(b)] += correct[i] ? 1.0 : 0.0;
    count[size_t(b)] += 1.0;
  }
  double ece = 0;
  for (size_t b = 0; b < size_t(bins); ++b)
    if (count[b] > 0) ece += std::abs(hits[b] - conf_sum[b]) / double(confidences.size());
  return ece;
}

namespace {

struct Kde {
  const std::vector<double>& samples;
  double bandwidth;
  double operator()(double x) const {
    double s = 0;
    for (double v : samples) s += std::exp(-0.5 * std::pow((x - v) / bandwidth, 2));
    return s / (double(samples.size()) * bandwidth * std::sqrt(2.0 * std::numbers::pi));
  }
};

double scott_bandwidth(const std::vector<double>& v) {
  const double n = double(v.size());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  const double sd = v.size() > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
  // A degenerate (constant) set gets a small positive width relative to its scale, so its
  // density stays a narrow bump rather than a division by zero.
  const double floor = 1e-6 * std::max(1.0, std::abs(mean));
  return std::max(sd * std::pow(n, -0.2), floor);
}

}  // namespace

double kde_overlap(const std::vector<double>& a, const std::vector<double>& b, int64_t points) {
  if (a.empty() || b.empty()) throw std::invalid_argument("kde_overlap: both sample sets must be non-empty");
  if (points < 2) throw std::invalid_argument("kde_overlap: needs at least 2 grid points");
  Kde fa{a, scott_bandwidth(a)}, fb{b, scott_bandwidth(b)};
  const double reach = 4.0 * std::max(fa.bandwidth, fb.bandwidth);
  const double lo = std::min(*std::min_element(a.begin(), a.end()), *std::min_element(b.begin(), b.end())) - reach;
  const double hi = std::max(*std::max_element(a.begin(), a.end()), *std::max_element(b.begin(), b.end())) + reach;
  const double step = (hi - lo) / double(points - 1);
  double area = 0;
  for (int64_t i = 0; i < points; ++i) {
    const double x = lo + step * double(i);
    area += std::min(fa(x), fb(x)) * step;
  }
  return std::clamp(area, 0.0, 1.0);
}

}  // namespace glassbox::metrics
