#include "engine/optim/clip_grad.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/index.h"

namespace glassbox::optim {

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm) {
  if (!(max_norm > 0)) throw std::invalid_argument("clip_grad_norm_: max_norm must be positive, got " + std::to_string(max_norm));
  NoGradGuard no_grad;
  // Each parameter's sum of squares stays on its device; one read brings the total to the host
  // (one per parameter would stop a GPU step once per tensor).
  std::vector<Tensor> sums;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    Tensor g64 = g.to(DType::f64);
    sums.push_back((g64 * g64).sum());
  }
  const double norm = sums.empty() ? 0.0 : std::sqrt(ops::stack(sums, 0).sum().item());
  // The 1e-6 matches PyTorch and keeps the factor finite for a zero norm.
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1)
    for (const Tensor& p : params) {
      Tensor g = p.grad();
      if (g.defined()) g.mul_(coef);
    }
  return norm;
}

}  // namespace glassbox::optim
