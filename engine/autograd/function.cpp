#include "engine/autograd/function.h"

#include "engine/autograd/grad_mode.h"

namespace glassbox::autograd {

Tensor apply_function(const std::vector<Tensor>& inputs,
                      const std::function<Tensor(const std::vector<Tensor>&)>& forward, BackwardFn backward) {
  Tensor out;
  {
    NoGradGuard no_grad;
    std::vector<Tensor> detached;
    detached.reserve(inputs.size());
    for (const Tensor& t : inputs) detached.push_back(t.defined() ? t.detach() : t);
    out = forward(detached);
  }
  // The output must be a fresh tensor object so the node attaches to it alone.
  out = out.detach();
  return record(OpKind::custom_function, inputs, out, std::move(backward));
}

}  // namespace glassbox::autograd
