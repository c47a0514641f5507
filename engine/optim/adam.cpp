#include "engine/optim/adam.h"

#include <stdexcept>
#include <string>

#include "engine/ops/op_utils.h"

namespace glassbox::optim {

namespace {
void check_betas(const AdamOptions& o, const char* name) {
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1))
    throw std::invalid_argument(std::string(name) + ": betas must lie in [0, 1), got (" + std::to_string(o.beta1) +
                                ", " + std::to_string(o.beta2) + ")");
  if (o.eps < 0) throw std::invalid_argument(std::string(name) + ": invalid eps " + std::to_string(o.eps));
}
}  // namespace

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options) : Adam(std::move(groups), options, false, "Adam") {}

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& options, bool decoupled, const char* name)
    : Optimizer(std::move(groups), options.lr, options.weight_decay, name) {
  check_betas(options, name);
  hyper_.beta1 = options.beta1;
  hyper_.beta2 = options.beta2;
  hyper_.eps = options.eps;
  hyper_.decoupled_weight_decay = decoupled;
}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions o)
    : Adam(std::move(groups), AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay}, true, "AdamW") {}

void Adam::update(const Group& group, Tensor& param, const Tensor& grad, ParamState& st) {
  kernels::AdamHyper h = hyper_;
  h.lr = group.lr;
  h.weight_decay = group.weight_decay;
  h.step = st.step;
  Tensor& exp_avg = buffer(st, param, "exp_avg");
  Tensor& exp_avg_sq = buffer(st, param, "exp_avg_sq");
  ops::backend_of(param).adam_update(param.view(), grad.view(), exp_avg.view(), exp_avg_sq.view(), h);
}

}  // namespace glassbox::optim
