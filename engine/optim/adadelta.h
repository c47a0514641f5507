#pragma once
// Adadelta (Zeiler 2012, Alg. 1) with a learning-rate multiplier and L2 weight decay,
// following torch.optim.Adadelta exactly.
#include "engine/optim/optimizer.h"

namespace glassbox::optim {

struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0;
};

class Adadelta final : public Optimizer {
 public:
  Adadelta(std::vector<ParamGroup> groups, AdadeltaOptions options);
  Adadelta(const std::vector<Tensor>& params, AdadeltaOptions options) : Adadelta({ParamGroup{params}}, options) {}

 protected:
  void update(const Group& group, Tensor& param, const Tensor& grad, ParamState& st) override;
  std::vector<std::string> state_buffer_names() const override { return {"square_avg", "acc_delta"}; }

 private:
  AdadeltaOptions options_;
};

}  // namespace glassbox::optim
