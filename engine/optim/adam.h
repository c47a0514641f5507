#pragma once
// Adam (Kingma & Ba 2015, Alg. 1, with bias correction) and AdamW (Loshchilov &
// Hutter 2019: weight decay applied to the parameter, not added to the gradient),
// following torch.optim.Adam / AdamW exactly.
#include "engine/optim/optimizer.h"

namespace glassbox::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // L2: added to the gradient
};

/// AdamW's defaults differ from Adam's only in the (decoupled) weight decay.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, AdamOptions options);
  Adam(const std::vector<Tensor>& params, AdamOptions options) : Adam({ParamGroup{params}}, options) {}

 protected:
  Adam(std::vector<ParamGroup> groups, const AdamOptions& options, bool decoupled, const char* name);
  void update(const Group& group, Tensor& param, const Tensor& grad, ParamState& st) override;
  std::vector<std::string> state_buffer_names() const override { return {"exp_avg", "exp_avg_sq"}; }

 private:
  kernels::AdamHyper hyper_;
};

class AdamW final : public Adam {
 public:
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options);
  AdamW(const std::vector<Tensor>& params, AdamWOptions options) : AdamW({ParamGroup{params}}, options) {}
};

}  // namespace glassbox::optim
