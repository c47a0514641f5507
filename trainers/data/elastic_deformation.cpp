#include "trainers/data/elastic_deformation.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "trainers/data/seeded_hash.h"

namespace glassbox::data {
namespace {

// Normalised Gaussian taps for offsets -radius..radius, radius = ceil(4 sigma)
// (the truncation scipy.ndimage.gaussian_filter uses by default).
std::vector<double> gaussian_taps(double sigma) {
  const int radius = static_cast<int>(std::ceil(4.0 * sigma));
  std::vector<double> taps(2 * radius + 1);
  double total = 0;
  for (int k = -radius; k <= radius; ++k) total += taps[k + radius] = std::exp(-0.5 * k * k / (sigma * sigma));
  for (double& t : taps) t /= total;
  return taps;
}

// Separable Gaussian smoothing with zeros beyond the border, in place on an h x w field.
// Each tap range is clipped to the field up front, keeping branches out of the inner loops.
void smooth(std::vector<double>& field, int64_t h, int64_t w, const std::vector<double>& taps) {
  const int64_t radius = static_cast<int64_t>(taps.size() / 2);
  const double* centre = taps.data() + radius;
  std::vector<double> tmp(field.size());
  for (int64_t y = 0; y < h; ++y) {
    const double* row = field.data() + y * w;
    for (int64_t x = 0; x < w; ++x) {
      const int64_t lo = std::max(-radius, -x), hi = std::min(radius, w - 1 - x);
      double acc = 0;
      for (int64_t k = lo; k <= hi; ++k) acc += centre[k] * row[x + k];
      tmp[y * w + x] = acc;
    }
  }
  for (int64_t y = 0; y < h; ++y) {
    const int64_t lo = std::max(-radius, -y), hi = std::min(radius, h - 1 - y);
    double* out = field.data() + y * w;
    std::fill(out, out + w, 0.0);
    for (int64_t k = lo; k <= hi; ++k) {
      const double* in = tmp.data() + (y + k) * w;
      for (int64_t x = 0; x < w; ++x) out[x] += centre[k] * in[x];
    }
  }
}

float bilinear(const float* plane, int64_t h, int64_t w, double y, double x) {
  const double y0 = std::floor(y), x0 = std::floor(x);
  const double fy = y - y0, fx = x - x0;
  auto at = [&](double yy, double xx) -> double {
    if (yy < 0 || xx < 0 || yy >= h || xx >= w) return 0.0;
    return plane[static_cast<int64_t>(yy) * w + static_cast<int64_t>(xx)];
  };
  const double top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx;
  const double bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx;
  return static_cast<float>(top * (1 - fy) + bottom * fy);
}

}  // namespace

Tensor elastic_deform(const Tensor& images_in, const ElasticParams& params, uint64_t seed, int64_t epoch,
                      const std::vector<int64_t>& sample_ids) {
  if (images_in.dim() != 4 || images_in.dtype() != DType::f32 || !images_in.device().is_cpu()) {
    throw std::invalid_argument("elastic_deform: expected CPU f32 images [B, C, H, W], got " + images_in.str());
  }
  const Tensor images = images_in.contiguous();
  const int64_t batch = images.size(0), channels = images.size(1), h = images.size(2), w = images.size(3);
  if (static_cast<int64_t>(sample_ids.size()) != batch) {
    throw std::invalid_argument("elastic_deform: " + std::to_string(sample_ids.size()) + " sample ids for a batch of " +
                                std::to_string(batch));
  }
  if (!(params.sigma > 0) || !(params.alpha >= 0)) {
    throw std::invalid_argument("elastic_deform: need sigma > 0 and alpha >= 0, got sigma " +
                                std::to_string(params.sigma) + ", alpha " + std::to_string(params.alpha));
  }
  const std::vector<double> taps = gaussian_taps(params.sigma);
  Tensor out = Tensor::empty(images.shape());
  const float* src = images.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t plane = h * w;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < batch; ++i) {
    const uint64_t key = stream_key(seed, static_cast<uint64_t>(StreamPurpose::elastic), static_cast<uint64_t>(epoch),
                                    static_cast<uint64_t>(sample_ids[i]));
    std::vector<double> dx(plane), dy(plane);
    for (int64_t p = 0; p < plane; ++p) {
      dx[p] = 2.0 * to_unit_double(stream_bits(key, 2 * p)) - 1.0;
      dy[p] = 2.0 * to_unit_double(stream_bits(key, 2 * p + 1)) - 1.0;
    }
    smooth(dx, h, w, taps);
    smooth(dy, h, w, taps);
    for (int64_t c = 0; c < channels; ++c) {
      const float* in_plane = src + (i * channels + c) * plane;
      float* out_plane = dst + (i * channels + c) * plane;
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const int64_t p = y * w + x;
          out_plane[p] = bilinear(in_plane, h, w, y + params.alpha * dy[p], x + params.alpha * dx[p]);
        }
    }
  }
  return out;
}

}  // namespace glassbox::data
