#include "trainers/metrics/l2_attack.h"

#include <algorithm>
#include <cmath>
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

/// A per-sample value [B] shaped [B, 1, ...] to scale or select samples of `like`.
Tensor per_sample(const Tensor& v, const Tensor& like) {
  Shape shape;
  shape.push_back(like.size(0));
  for (int d = 1; d < like.dim(); ++d) shape.push_back(1);
  return v.view(shape);
}

/// The point of the ball of radius eps around x (and of [lo, hi]) nearest to `p`, detached.
Tensor project(const Tensor& x, const Tensor& p, double eps, const L2AttackOptions& o) {
  return (x + project_to_ball(ops::clamp(p, o.lo, o.hi) - x, eps)).detach();
}

enum class Objective { margin, dlr };

/// Per-sample attack objective [B], positive exactly when the prediction is wrong.
Tensor objective(const Tensor& scores, const Tensor& y, const Tensor& own_class, Objective kind) {
  Tensor wrong = ops::amax(ops::masked_fill(scores, own_class, -1e30), {1});
  Tensor truth = ops::gather(scores, 1, y.unsqueeze(1)).squeeze(1);
  Tensor margin = wrong - truth;
  if (kind == Objective::margin || scores.size(1) < 3) return margin;
  // DLR (Croce & Hein 2020, eq. 7): the margin over the spread of the top scores, so the
  // objective does not depend on the scale of the scores.
  Tensor top = ops::topk(scores, 3, 1).values;
  return margin / (top.narrow(1, 0, 1).squeeze(1) - top.narrow(1, 2, 1).squeeze(1) + 1e-12);
}

/// The model and objective one attack run climbs on samples x [n, ...] with labels y,
/// and which samples any evaluated iterate misclassified (bool [n]).
class AttackRun {
 public:
  AttackRun(const std::function<Tensor(const Tensor&)>& scores_of, const Tensor& x, const Tensor& y, Objective kind)
      : scores_of_(scores_of), y_(y), kind_(kind), hit_(Tensor::zeros({x.size(0)}, {DType::boolean, x.device()})) {}

  /// The objective [n] and its normalised gradient at `point`, recording misclassifications.
  std::pair<Tensor, Tensor> evaluate(const Tensor& point) {
    EnableGradGuard grad;  // callers step under NoGradGuard
    Tensor adv = point.detach();
    adv.set_requires_grad();
    Tensor scores = scores_of_(adv);
    if (!own_class_.defined()) own_class_ = ops::gt(ops::one_hot(y_, scores.size(1)), 0.5).to(scores.device());
    Tensor f = objective(scores, y_, own_class_, kind_);
    ops::sum(f).backward();
    NoGradGuard no_grad;
    hit_ = ops::logical_or(hit_, misclassified(scores, y_));
    Tensor g = adv.grad();
    return {f.detach(), g / ops::clamp_min(sample_norms(g), 1e-12)};
  }

  const Tensor& hit() const { return hit_; }

 private:
  const std::function<Tensor(const Tensor&)>& scores_of_;
  Tensor y_;
  Objective kind_;
  Tensor hit_, own_class_;
};

/// PGD-L2: fixed steps of step_fraction * eps along the normalised gradient.
Tensor pgd_run(AttackRun& run, const Tensor& x, const Tensor& start, double eps, const L2AttackOptions& o) {
  Tensor point = start;
  for (int64_t s = 0; s <= o.steps; ++s) {
    auto [f, g] = run.evaluate(point);
    if (s == o.steps) break;
    NoGradGuard no_grad;
    point = project(x, point + g * (o.step_fraction * eps), eps, o);
  }
  return run.hit();
}

/// APGD-L2 (Croce & Hein 2020, Algorithm 1): step size 2 eps per sample, momentum 0.75,
/// and at each checkpoint w_j (p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} -
/// 0.03, 0.06)) a sample whose objective rose in fewer than 75% of the steps since the
/// last checkpoint, or whose step size and best objective did not change, halves its step
/// and continues from its best point.
Tensor apgd_run(AttackRun& run, const Tensor& x, const Tensor& start, double eps, const L2AttackOptions& o) {
  std::vector<int64_t> checkpoints;  // strictly increasing step counts
  for (double p = 0.22, prev = 0.0; p <= 1.0;) {
    const int64_t w = int64_t(std::ceil(p * double(o.steps)));
    if (w >= 1 && (checkpoints.empty() || w > checkpoints.back())) checkpoints.push_back(w);
    const double next = p + std::max(p - prev - 0.03, 0.06);
    prev = p;
    p = next;
  }
  NoGradGuard no_grad;
  const int64_t n = x.size(0);
  TensorOptions opt{x.dtype(), x.device()};
  Tensor point = start, previous = start;
  auto [f, g] = run.evaluate(point);
  Tensor best = point, best_f = f, best_g = g;
  Tensor eta = Tensor::full({n}, 2.0 * eps, opt);
  Tensor rises = Tensor::zeros({n}, opt), eta_then = eta, best_then = best_f;
  int64_t last_checkpoint = 0;
  size_t next_checkpoint = 0;
  for (int64_t k = 0; k < o.steps; ++k) {
    Tensor z = project(x, point + g * per_sample(eta, x), eps, o);
    Tensor next = k == 0 ? z : project(x, point + (z - point) * 0.75 + (point - previous) * 0.25, eps, o);
    previous = point;
    point = next;
    auto [f_new, g_new] = run.evaluate(point);
    rises = rises + ops::gt(f_new, f).to(x.dtype());
    Tensor improved = ops::gt(f_new, best_f);
    best = ops::where(per_sample(improved, x), point, best);
    best_g = ops::where(per_sample(improved, x), g_new, best_g);
    best_f = ops::where(improved, f_new, best_f);
    f = f_new;
    g = g_new;
    if (next_checkpoint < checkpoints.size() && k + 1 == checkpoints[next_checkpoint]) {
      const double span = double(k + 1 - last_checkpoint);
      Tensor stalled = ops::logical_or(ops::lt(rises, 0.75 * span),
                                       ops::logical_and(ops::eq(eta, eta_then), ops::eq(best_f, best_then)));
      eta = ops::where(stalled, eta * 0.5, eta);
      Tensor restart = per_sample(stalled, x);
      point = ops::where(restart, best, point);
      previous = ops::where(restart, best, previous);  // no momentum out of a restart
      g = ops::where(restart, best_g, g);
      f = ops::where(stalled, best_f, f);
      rises = Tensor::zeros({n}, opt);
      eta_then = eta;
      best_then = best_f;
      last_checkpoint = k + 1;
      ++next_checkpoint;
    }
  }
  return run.hit();
}

}  // namespace

L2AttackMethod parse_l2_attack_method(const std::string& name) {
  if (name == "apgd") return L2AttackMethod::apgd;
  if (name == "pgd") return L2AttackMethod::pgd;
  throw std::invalid_argument("l2 attack must be apgd or pgd, got '" + name + "'");
}

const char* l2_attack_method_name(L2AttackMethod method) { return method == L2AttackMethod::apgd ? "apgd" : "pgd"; }

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
      Tensor start = x;
      if (r > 0) {
        NoGradGuard no_grad;
        start = project(x, x + random_in_ball(x.shape(), eps, {x.dtype(), x.device()}, gen), eps, o);
      }
      const bool apgd = o.method == L2AttackMethod::apgd;
      AttackRun run(scores_of, x, y, apgd && r % 2 == 1 ? Objective::dlr : Objective::margin);
      Tensor hit = apgd ? apgd_run(run, x, start, eps, o) : pgd_run(run, x, start, eps, o);
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
