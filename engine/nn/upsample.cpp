#include "engine/nn/upsample.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace glassbox::nn {

Upsample::Upsample(UpsampleOptions opt) : options(opt) {
  const bool by_scale = opt.scale_factor > 0, by_size = opt.out_h > 0 && opt.out_w > 0;
  if (by_scale == by_size)
    throw std::invalid_argument("Upsample: give either a positive scale_factor or a positive out_h and out_w");
  if (opt.align_corners && opt.mode != ops::UpsampleMode::bilinear)
    throw std::invalid_argument("Upsample: align_corners applies to bilinear mode only");
}

Tensor Upsample::forward(const Tensor& x) {
  if (x.dim() != 4) throw std::invalid_argument("Upsample: expected input [N, C, H, W], got " + x.shape().str());
  int64_t h = options.out_h, w = options.out_w;
  if (options.scale_factor > 0) {
    h = int64_t(std::floor(double(x.size(2)) * options.scale_factor));
    w = int64_t(std::floor(double(x.size(3)) * options.scale_factor));
    if (h < 1 || w < 1)
      throw std::invalid_argument("Upsample: scale_factor " + std::to_string(options.scale_factor) + " maps " +
                                  x.shape().str() + " to an empty image");
  }
  return ops::upsample2d(x, h, w, options.mode, options.align_corners);
}

}  // namespace glassbox::nn
