#pragma once
// Sequential: applies its layers in order; they are registered as children "0", "1", ...
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "engine/nn/module.h"

namespace glassbox::nn {

class Sequential : public UnaryModule {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<UnaryModule>> layers);
  std::string name() const override { return "Sequential"; }

  void push_back(std::shared_ptr<UnaryModule> layer);
  /// Constructs a layer in place at the end and returns it.
  template <class M, class... Args>
  M& emplace_back(Args&&... args) {
    auto layer = std::make_shared<M>(std::forward<Args>(args)...);
    push_back(layer);
    return *layer;
  }
  size_t size() const { return layers_.size(); }
  UnaryModule& operator[](size_t i) const;

  Tensor forward(const Tensor& x) override;

 private:
  std::vector<std::shared_ptr<UnaryModule>> layers_;
};

}  // namespace glassbox::nn
