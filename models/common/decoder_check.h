#pragma once
// Decoded prototypes and centres (ProtoNet, TELL) show what a network learned only if its
// decoder reconstructs images at all. A collapsed decoder (seen with ReLU + the upsample
// decoder on MNIST, which draws the same black image for every input while the classifier
// still learns) makes every decoded prototype the same blank picture: this check says so in
// the exports instead of leaving the user to guess.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/tensor.h"
#include "trainers/data/image_dataset.h"

namespace glassbox::models {

struct DecoderCheck {
  double reconstruction_sse = 0;  // mean over the images of sum((reconstruct(x) - x)^2)
  double mean_image_sse = 0;      // the same for always answering the images' mean image
  /// The decoder beats the mean image by at least 10%.
  bool reconstructs() const { return reconstruction_sse < 0.9 * mean_image_sse; }
  /// {"reconstruction_sse", "mean_image_sse", "reconstructs"}, for the exports' JSON.
  nlohmann::json to_json() const;
};

using ImageMap = std::function<Tensor(const Tensor&)>;
/// Checks `reconstruct` (images [n, C, H, W] on the CPU -> their reconstructions, on any device)
/// on the first min(1000, size) images of `images`, without gradients. The reconstructions are
/// compared with `target(images)`: the images themselves unless the model reconstructs them in
/// another size or range (Prob-PSENN: 32 x 32).
DecoderCheck check_decoder(const ImageMap& reconstruct, const data::ImageDataset& images,
                           const ImageMap& target = nullptr);

/// check_decoder on an autoencoder whose decode(encode(images)) reconstructs the images in their own
/// range (ProtoNet, TELL).
template <class Autoencoder>
DecoderCheck check_autoencoder(const Autoencoder& model, const data::ImageDataset& images) {
  return check_decoder([&](const Tensor& x) { return model.decode(model.encode(x.to(model.device()))); }, images);
}

/// Prints a warning to stderr when the decoder does not reconstruct; `what` names what it decodes
/// ("prototypes", "centres").
void warn_unless_reconstructs(const DecoderCheck& check, const std::string& what);

}  // namespace glassbox::models
