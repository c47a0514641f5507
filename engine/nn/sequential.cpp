#include "engine/nn/sequential.h"

#include <stdexcept>
#include <string>

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

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& layer : layers_) y = layer->forward(y);
  return y;
}

}  // namespace glassbox::nn
