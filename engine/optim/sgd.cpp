#include "engine/optim/sgd.h"

#include <stdexcept>

#include "engine/ops/op_utils.h"

namespace glassbox::optim {

SGD::SGD(std::vector<ParamGroup> groups, SgdOptions options)
    : Optimizer(std::move(groups), options.lr, options.weight_decay, "SGD"), options_(options) {
  if (options.momentum < 0) throw std::invalid_argument("SGD: invalid momentum " + std::to_string(options.momentum));
  // PyTorch's condition: Nesterov needs momentum and no dampening.
  if (options.nesterov && (options.momentum <= 0 || options.dampening != 0))
    throw std::invalid_argument("SGD: nesterov momentum requires momentum > 0 and dampening = 0");
}

void SGD::update(const Group& group, Tensor& param, const Tensor& grad, ParamState& st) {
  kernels::SgdHyper h;
  h.lr = group.lr;
  h.weight_decay = group.weight_decay;
  h.momentum = options_.momentum;
  h.dampening = options_.dampening;
  h.nesterov = options_.nesterov;
  if (options_.momentum == 0) {
    ops::backend_of(param).sgd_update(param.view(), grad.view(), nullptr, h);
    return;
  }
  h.first_step = !st.buffers.count("momentum_buffer");
  kernels::View buf = buffer(st, param, "momentum_buffer").view();
  ops::backend_of(param).sgd_update(param.view(), grad.view(), &buf, h);
}

std::vector<std::string> SGD::state_buffer_names() const {
  if (options_.momentum == 0) return {};
  return {"momentum_buffer"};
}

}  // namespace glassbox::optim
