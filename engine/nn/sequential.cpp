#include "engine/nn/sequential.h"

#include <optional>
#include <stdexcept>
#include <string>

#include "engine/nn/activation.h"
#include "engine/nn/normalization.h"

namespace glassbox::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<UnaryModule>> layers) {
  for (const auto& layer : layers) push_back(layer);
}

void Sequential::push_back(std::shared_ptr<UnaryModule> layer) {
  if (!layer) throw std::invalid_argument("Sequential: null layer at index " + std::to_string(layers_.size()));
  register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
}

UnaryModule& Sequential::operator[](size_t i) const {
  if (i >= layers_.size())
    throw std::out_of_range("Sequential: index " + std::to_string(i) + " out of range for " +
                            std::to_string(layers_.size()) + " layers");
  return *layers_[i];
}

namespace {

/// The activation a batch-norm layer can fuse when `layer` follows it: ReLU, or LeakyReLU with
/// a positive slope (its gradient is read from the sign of its output).
std::optional<kernels::NormActivation> fusable_activation(const UnaryModule& layer) {
  if (dynamic_cast<const ReLU*>(&layer)) return kernels::NormActivation{};
  if (const auto* leaky = dynamic_cast<const LeakyReLU*>(&layer); leaky && leaky->negative_slope > 0)
    return kernels::NormActivation{true, leaky->negative_slope};
  return std::nullopt;
}

}  // namespace

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    // Batch norm then ReLU / LeakyReLU runs as one fused op: the same values, one pass fewer.
    auto* norm = dynamic_cast<BatchNorm*>(layers_[i].get());
    if (norm && i + 1 < layers_.size()) {
      if (const auto act = fusable_activation(*layers_[i + 1])) {
        y = norm->forward_activation(y, *act);
        ++i;
        continue;
      }
    }
    y = layers_[i]->forward(y);
  }
  return y;
}

}  // namespace glassbox::nn
