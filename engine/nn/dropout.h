#pragma once
// Dropout (inverted, as torch.nn.Dropout): active in training mode only.
#include "engine/nn/module.h"
#include "engine/ops/random.h"

namespace glassbox::nn {

class Dropout : public UnaryModule {
 public:
  /// Zeroes each element with probability p; masks come from `gen` (default generator if null),
  /// which must outlive the layer.
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  std::string name() const override { return "Dropout"; }
  Tensor forward(const Tensor& x) override;

  const double p;

 private:
  Generator* gen_;
};

}  // namespace glassbox::nn
