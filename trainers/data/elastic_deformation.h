#pragma once
// Elastic deformation augmentation (Simard, Steinkraus & Platt, "Best Practices
// for Convolutional Neural Networks Applied to Visual Document Analysis", ICDAR
// 2003, section 2): a displacement field with components uniform in [-1, 1] per
// pixel, smoothed by a Gaussian of standard deviation sigma, scaled by alpha; each
// output pixel bilinearly samples the input at its displaced position.
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace glassbox::data {

struct ElasticParams {
  double alpha = 20.0;  // displacement scale in pixels (Li et al. 2018 use 20 for ProtoNet)
  double sigma = 4.0;   // smoothing in pixels (Li et al. 2018 use 4)
};

/// Deforms each image of `images` (f32 [B, C, H, W], CPU) with its own field, one
/// field shared by an image's channels. The field of the image at position i is a pure
/// function of (seed, epoch, sample_ids[i]), so augmentation is reproducible and a
/// resumed run deforms exactly as an uninterrupted one. Positions outside the image
/// read as 0 (the background of MNIST-like sets). Returns a new tensor.
Tensor elastic_deform(const Tensor& images, const ElasticParams& params, uint64_t seed, int64_t epoch,
                      const std::vector<int64_t>& sample_ids);

}  // namespace glassbox::data
