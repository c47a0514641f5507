#include "engine/optim/adadelta.h"

#include <stdexcept>
#include <string>

#include "engine/ops/op_utils.h"

namespace glassbox::optim {

Adadelta::Adadelta(std::vector<ParamGroup> groups, AdadeltaOptions options)
    : Optimizer(std::move(groups), options.lr, options.weight_decay, "Adadelta"), options_(options) {
  if (!(options.rho >= 0 && options.rho <= 1))
    throw std::invalid_argument("Adadelta: rho must lie in [0, 1], got " + std::to_string(options.rho));
  if (options.eps < 0) throw std::invalid_argument("Adadelta: invalid eps " + std::to_string(options.eps));
}

void Adadelta::update(const Group& group, Tensor& param, const Tensor& grad, ParamState& st) {
  kernels::AdadeltaHyper h;
  h.lr = group.lr;
  h.weight_decay = group.weight_decay;
  h.rho = options_.rho;
  h.eps = options_.eps;
  Tensor& square_avg = buffer(st, param, "square_avg");
  Tensor& acc_delta = buffer(st, param, "acc_delta");
  ops::backend_of(param).adadelta_update(param.view(), grad.view(), square_avg.view(), acc_delta.view(), h);
}

}  // namespace glassbox::optim
