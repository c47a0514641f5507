#include "trainers/metrics/l2_attack.h"

#include <stdexcept>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"

namespace glassbox::metrics {

namespace {

/// Per-sample L2 norm of [B, ...] kept as [B, 1, ...] for broadcasting.
Tensor sample_norms(const Tensor& x) {
  std::vector<int> dims;
  for (int d = 1; d < x.dim(); ++d) dims.push_back(d);
  return ops::norm(x, dims, true);
}

/// Scales each sample's perturbation back into the ball of radius eps.
Tensor project_to_ball(const Tensor& delta, double eps) {
  Tensor n = sample_norms(delta);
  return delta * ops::clamp_max(eps / ops::clamp_min(n, 1e-12), 1.0);
}

/// Uniform samples from the L2 ball of radius eps: Gaussian direction, radius eps * u^(1/n).
Tensor random_in_ball(const Shape& shape, double eps, TensorOptions opt, Generator& gen) {
  Tensor dir = ops::randn(shape, 0.0, 1.0, opt, &gen);
  dir = dir / ops::clamp_min(sample_norms(dir), 1e-12);
  Shape radius_shape = shape;
  for (int d = 1; d < radius_shape.size(); ++d) radius_shape[d] = 1;
  const double n = double(shape.product() / std::max<int64_t>(shape[0], 1));
  Tensor u = ops::rand(radius_shape, 0.0, 1.0, opt, &gen);
  return dir * (ops::pow(u, 1.0 / n) * eps);
}

Tensor misclassified(const Tensor& scores, const Tensor& labels) { return ops::ne(ops::argmax(scores, 1), labels); }

}  // namespace

Tensor l2_attack_broken(const std::function<Tensor(const Tensor&)>& scores_of, const Tensor& inputs,
                        const Tensor& labels, double eps, const L2AttackOptions& o, Generator& gen) {
  if (!(eps >= 0)) throw std::invalid_argument("l2_attack: eps must be >= 0, got " + std::to_string(eps));
  if (o.steps < 0 || o.restarts < 1) throw std::invalid_argument("l2_attack: need steps >= 0 and restarts >= 1");
  std::vector<int64_t> broken;
  {
    NoGradGuard no_grad;
    broken = misclassified(scores_of(inputs.detach()), labels).to_vector<int64_t>();
  }
  if (eps > 0) {
    for (int64_t r = 0; r < o.restarts; ++r) {
      // Each restart attacks only the samples no earlier restart has broken.
      std::vector<int64_t> active;
      for (size_t i = 0; i < broken.size(); ++i)
        if (!broken[i]) active.push_back(int64_t(i));
      if (active.empty()) break;
      Tensor index = Tensor::from_vector(active, {int64_t(active.size())}).to(inputs.device());
      Tensor x = ops::index_select(inputs.detach(), 0, index), y = ops::index_select(labels, 0, index);
      Tensor mask;  // true at each sample's own class
      Tensor hit = Tensor::zeros({x.size(0)}, {DType::boolean, x.device()});
      Tensor delta = r == 0 ? Tensor::zeros_like(x) : random_in_ball(x.shape(), eps, {x.dtype(), x.device()}, gen);
      for (int64_t s = 0; s <= o.steps; ++s) {
        Tensor adv = ops::clamp(x + delta, o.lo, o.hi).detach();
        adv.set_requires_grad();
        Tensor scores = scores_of(adv);
        {
          NoGradGuard no_grad;
          hit = ops::logical_or(hit, misclassified(scores, y));
        }
        if (s == o.steps) break;
        // The margin max_{c != y} s_c - s_y: positive exactly when the prediction is wrong.
        if (!mask.defined()) mask = ops::gt(ops::one_hot(y, scores.size(1)), 0.5).to(scores.device());
        Tensor wrong = ops::amax(ops::masked_fill(scores, mask, -1e30), {1});
        Tensor truth = ops::gather(scores, 1, y.unsqueeze(1)).squeeze(1);
        ops::sum(wrong - truth).backward();
        NoGradGuard no_grad;
        Tensor g = adv.grad();
        Tensor step = g / ops::clamp_min(sample_norms(g), 1e-12) * (o.step_fraction * eps);
        delta = project_to_ball(ops::clamp(x + delta + step, o.lo, o.hi) - x, eps);
      }
      std::vector<int64_t> h = hit.to_vector<int64_t>();
      for (size_t i = 0; i < active.size(); ++i) broken[size_t(active[i])] |= h[i];
    }
  }
  return Tensor::from_vector(broken, {int64_t(broken.size())}).to(DType::boolean).to(inputs.device());
}

void check_faithfulness(const Tensor& certified, const Tensor& broken, double eps, int64_t first_index) {
  std::vector<int64_t> c = certified.to_vector<int64_t>(), b = broken.to_vector<int64_t>();
  if (c.size() != b.size()) throw std::invalid_argument("check_faithfulness: certified and broken differ in size");
  for (size_t i = 0; i < c.size(); ++i)
    if (c[i] && b[i])
      throw std::runtime_error("faithfulness violated: sample " + std::to_string(first_index + int64_t(i)) +
                               " is certified at eps " + std::to_string(eps) +
                               " but the L2 attack changed its prediction within eps (the certificate is wrong)");
}

}  // namespace glassbox::metrics
