#include "engine/io/png.h"

#include <png.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "engine/io/atomic_file.h"

namespace glassbox::io {

namespace {

/// The image as host values in [C, H, W] order.
struct HostImage {
  int64_t channels, height, width;
  std::vector<double> values;
};

HostImage host_chw(const Tensor& image, const char* who) {
  if (!image.defined()) throw std::invalid_argument(std::string(who) + ": undefined tensor");
  Tensor t = image.detach();
  if (t.dim() == 2) t = t.unsqueeze(0);
  if (t.dim() != 3 || (t.size(0) != 1 && t.size(0) != 3))
    throw std::invalid_argument(std::string(who) + ": expected an image [H, W], [1, H, W] or [3, H, W], got " +
                                image.shape().str());
  if (t.size(1) < 1 || t.size(2) < 1 || t.size(1) > (1 << 20) || t.size(2) > (1 << 20))
    throw std::invalid_argument(std::string(who) + ": image size " + image.shape().str() + " is empty or too large");
  return {t.size(0), t.size(1), t.size(2), t.to(Device::cpu()).to_vector<double>()};
}

}  // namespace

void write_png(const Tensor& image, const std::string& path) {
  const std::string who = "write_png(" + path + ")";
  const bool floating = image.defined() && is_floating(image.dtype());
  if (image.defined() && !floating && image.dtype() != DType::u8)
    throw std::invalid_argument(who + ": expected a floating or u8 tensor, got " + dtype_name(image.dtype()));
  HostImage img = host_chw(image, who.c_str());
  // libpng wants interleaved rows (HWC).
  std::vector<png_byte> pixels(size_t(img.channels * img.height * img.width));
  const int64_t plane = img.height * img.width;
  for (int64_t c = 0; c < img.channels; ++c)
    for (int64_t i = 0; i < plane; ++i) {
      double v = img.values[size_t(c * plane + i)];
      if (floating) v = std::isnan(v) ? 0.0 : std::round(std::clamp(v, 0.0, 1.0) * 255.0);
      pixels[size_t(i * img.channels + c)] = png_byte(v);
    }
  png_image desc{};
  desc.version = PNG_IMAGE_VERSION;
  desc.width = png_uint_32(img.width);
  desc.height = png_uint_32(img.height);
  desc.format = img.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  write_file_atomic(path, [&](const std::string& temp) {
    const int ok = png_image_write_to_file(&desc, temp.c_str(), 0, pixels.data(), 0, nullptr);
    const std::string message = desc.message;
    png_image_free(&desc);
    if (!ok) throw std::runtime_error(path + ": libpng could not write the image: " + message);
  });
}

Tensor read_png(const std::string& path) {
  png_image desc{};
  desc.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&desc, path.c_str()))
    throw std::runtime_error(path + ": not a readable PNG: " + desc.message);
  const bool color = desc.format & PNG_FORMAT_FLAG_COLOR, alpha = desc.format & PNG_FORMAT_FLAG_ALPHA;
  desc.format = color ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB) : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
  const int64_t channels = PNG_IMAGE_SAMPLE_CHANNELS(desc.format);
  const int64_t h = desc.height, w = desc.width;
  // A hostile header can claim any size; refuse before allocating (2^31 bytes is far above any image here).
  if (h * w * channels > (int64_t(1) << 31)) {
    png_image_free(&desc);
    throw std::runtime_error(path + ": image of " + std::to_string(w) + " x " + std::to_string(h) + " pixels is too large");
  }
  std::vector<png_byte> pixels(PNG_IMAGE_SIZE(desc));
  if (!png_image_finish_read(&desc, nullptr, pixels.data(), 0, nullptr)) {
    const std::string message = desc.message;
    png_image_free(&desc);
    throw std::runtime_error(path + ": corrupt PNG: " + message);
  }
  std::vector<uint8_t> chw(pixels.size());
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < h * w; ++i) chw[size_t(c * h * w + i)] = pixels[size_t(i * channels + c)];
  return Tensor::from_vector(chw, {channels, h, w}, {DType::u8});
}

Tensor image_grid(const Tensor& images, int64_t nrow, int64_t padding, double pad_value) {
  if (!images.defined() || images.dim() != 4 || images.size(0) < 1)
    throw std::invalid_argument("image_grid: expected images [N, C, H, W] with N >= 1, got " +
                                (images.defined() ? images.shape().str() : std::string("undefined")));
  if (nrow < 1 || padding < 0)
    throw std::invalid_argument("image_grid: nrow must be >= 1 and padding >= 0, got " + std::to_string(nrow) +
                                " and " + std::to_string(padding));
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const int64_t cols = std::min(nrow, n), rows = (n + cols - 1) / cols;
  const int64_t cell_h = h + padding, cell_w = w + padding;
  const int64_t out_h = rows * cell_h + padding, out_w = cols * cell_w + padding;
  std::vector<double> src = images.detach().to(Device::cpu()).to_vector<double>();
  std::vector<double> out(size_t(c * out_h * out_w), pad_value);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t y0 = (k / cols) * cell_h + padding, x0 = (k % cols) * cell_w + padding;
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          out[size_t((ch * out_h + y0 + y) * out_w + x0 + x)] = src[size_t(((k * c + ch) * h + y) * w + x)];
  }
  return Tensor::from_vector(out, {c, out_h, out_w}, {DType::f64}).to(images.dtype()).to(images.device());
}

namespace {

using Rgb = std::array<double, 3>;

/// Piecewise-linear interpolation through evenly spaced anchor colours, t in [0, 1].
template <size_t N>
Rgb interpolate(const std::array<Rgb, N>& anchors, double t) {
  const double pos = t * double(N - 1);
  const size_t i = std::min(size_t(pos), N - 2);
  const double f = pos - double(i);
  Rgb c;
  for (int k = 0; k < 3; ++k) c[k] = anchors[i][k] * (1 - f) + anchors[i + 1][k] * f;
  return c;
}

// matplotlib's viridis sampled at 0, 1/4, 1/2, 3/4, 1.
constexpr std::array<Rgb, 5> kViridis = {
    {{0.267, 0.005, 0.329}, {0.229, 0.322, 0.546}, {0.128, 0.567, 0.551}, {0.369, 0.789, 0.383}, {0.993, 0.906, 0.144}}};
constexpr std::array<Rgb, 3> kDiverging = {{{0.0, 0.0, 1.0}, {1.0, 1.0, 1.0}, {1.0, 0.0, 0.0}}};

}  // namespace

Tensor heat_map(const Tensor& matrix, const HeatMapOptions& options) {
  if (!matrix.defined() || matrix.dim() != 2)
    throw std::invalid_argument("heat_map: expected a matrix [H, W], got " +
                                (matrix.defined() ? matrix.shape().str() : std::string("undefined")));
  const int64_t h = matrix.size(0), w = matrix.size(1);
  std::vector<double> v = matrix.detach().to(Device::cpu()).to_vector<double>();
  double lo = options.lo, hi = options.hi;
  if (std::isnan(lo) || std::isnan(hi)) {
    double mn = INFINITY, mx = -INFINITY;
    for (double x : v)
      if (std::isfinite(x)) {
        mn = std::min(mn, x);
        mx = std::max(mx, x);
      }
    if (mn > mx) mn = mx = 0;  // no finite value
    if (options.colormap == Colormap::diverging) {
      const double m = std::max(std::abs(mn), std::abs(mx));
      mn = -m;
      mx = m;
    }
    if (std::isnan(lo)) lo = mn;
    if (std::isnan(hi)) hi = mx;
  }
  if (!(hi >= lo)) throw std::invalid_argument("heat_map: empty value range [" + std::to_string(lo) + ", " +
                                               std::to_string(hi) + "]");
  std::vector<float> out(size_t(3 * h * w));
  for (int64_t i = 0; i < h * w; ++i) {
    const double x = v[size_t(i)];
    const double t = hi > lo && !std::isnan(x) ? std::clamp((x - lo) / (hi - lo), 0.0, 1.0) : 0.5;
    const Rgb c = options.colormap == Colormap::viridis ? interpolate(kViridis, t) : interpolate(kDiverging, t);
    for (int k = 0; k < 3; ++k) out[size_t(k * h * w + i)] = float(c[k]);
  }
  return Tensor::from_vector(out, {3, h, w}, {DType::f32});
}

}  // namespace glassbox::io
