#pragma once
// PNG images through libpng: writing tensors as 8-bit grayscale or RGB (atomically),
// reading them back, tiling a batch into one grid image and colouring a matrix as a
// heat map (prototypes, reconstructions, similarity matrices, attention maps).
#include <cstdint>
#include <limits>
#include <string>

#include "engine/tensor.h"

namespace glassbox::io {

/// Writes an image: [H, W] or [1, H, W] (grayscale) or [3, H, W] (RGB). Floating
/// tensors hold intensities in [0, 1] (clamped; NaN becomes 0), u8 tensors 0..255.
void write_png(const Tensor& image, const std::string& path);
/// Reads a PNG as u8 [C, H, W] with C = 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA).
Tensor read_png(const std::string& path);

/// Tiles images [N, C, H, W] into one [C, H', W'] image with `nrow` images per row,
/// separated and surrounded by `padding` pixels of `pad_value` (torchvision's make_grid).
Tensor image_grid(const Tensor& images, int64_t nrow = 8, int64_t padding = 2, double pad_value = 0.0);

enum class Colormap {
  viridis,   // sequential, for non-negative quantities
  diverging  // blue - white - red, centred on 0
};
struct HeatMapOptions {
  /// Value range mapped onto the colormap; NaN means the matrix's min / max (for the
  /// diverging map: +-max|x|, so that 0 is white). Values outside are clamped.
  double lo = std::numeric_limits<double>::quiet_NaN();
  double hi = std::numeric_limits<double>::quiet_NaN();
  Colormap colormap = Colormap::viridis;
};
/// Colours a matrix [H, W] into an f32 RGB image [3, H, W] in [0, 1]; NaN gets the middle colour.
Tensor heat_map(const Tensor& matrix, const HeatMapOptions& options = {});

}  // namespace glassbox::io
