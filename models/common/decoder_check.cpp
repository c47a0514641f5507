#include "models/common/decoder_check.h"

#include <algorithm>
#include <iostream>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"

namespace glassbox::models {

nlohmann::json DecoderCheck::to_json() const {
  return {{"reconstruction_sse", reconstruction_sse}, {"mean_image_sse", mean_image_sse}, {"reconstructs", reconstructs()}};
}

DecoderCheck check_decoder(const ImageMap& reconstruct, const data::ImageDataset& images, const ImageMap& target) {
  NoGradGuard no_grad;
  const int64_t n = std::min<int64_t>(1000, images.size());
  const Tensor inputs = images.images.narrow(0, 0, n);
  const Tensor x = target ? target(inputs).to(Device::cpu()) : inputs;
  const Tensor r = reconstruct(inputs).to(Device::cpu());
  auto sse_per_image = [n](const Tensor& error) { return ops::sum(ops::square(error)).item() / double(n); };
  return {sse_per_image(ops::sub(r, x)), sse_per_image(ops::sub(x, ops::mean(x, {0}, true)))};
}

void warn_unless_reconstructs(const DecoderCheck& check, const std::string& what) {
  if (check.reconstructs()) return;
  std::cerr << "warning: the decoder does not reconstruct the images (squared error " << check.reconstruction_sse
            << " per image, against " << check.mean_image_sse << " for their mean image), so the decoded " << what
            << " do not show what the network learned\n";
}

}  // namespace glassbox::models
