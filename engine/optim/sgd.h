#pragma once
// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2
// weight decay, following torch.optim.SGD's update rule exactly.
#include "engine/optim/optimizer.h"

namespace glassbox::optim {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

class SGD final : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, SgdOptions options);
  SGD(const std::vector<Tensor>& params, SgdOptions options) : SGD({ParamGroup{params}}, options) {}
  const SgdOptions& options() const { return options_; }

 protected:
  void update(const Group& group, Tensor& param, const Tensor& grad, ParamState& st) override;
  std::vector<std::string> state_buffer_names() const override;

 private:
  SgdOptions options_;
};

}  // namespace glassbox::optim
