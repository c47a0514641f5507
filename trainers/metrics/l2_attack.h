#pragma once
// Empirical L2 robustness: APGD-L2 (Croce & Hein, ICML 2020, the attack inside AutoAttack:
// step sizes that halve when progress stalls, momentum, restarts from the best point) or
// plain projected gradient descent in the L2 ball (PGD-L2, Madry et al. 2018), with random
// restarts, run on the exact model through the framework's autograd; and the faithfulness
// check that ties it to a certificate: a sample that is certified at eps must not be
// broken by the attack at eps.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/ops/random.h"
#include "engine/tensor.h"

namespace glassbox::metrics {

enum class L2AttackMethod { apgd, pgd };

struct L2AttackOptions {
  L2AttackMethod method = L2AttackMethod::apgd;
  int64_t steps = 100;    // gradient steps per restart (>= 100 for the robust-CBC evaluation)
  /// The first starts at x, the others uniformly in the eps ball. APGD alternates its
  /// objective over restarts: the margin loss max_{c != y} s_c - s_y, then the
  /// difference-of-logits ratio (DLR, Croce & Hein eq. 7; the margin below 3 classes).
  int64_t restarts = 5;
  /// PGD's step length as a fraction of eps (the iterate can travel steps * fraction *
  /// eps, several times across the ball). APGD starts at 2 eps and adapts.
  double step_fraction = 0.1;
  double lo = 0.0, hi = 1.0;  // valid input range (images in [0, 1]); iterates are clipped to it
};

/// For every sample of `inputs` [B, ...] with labels [B], whether an L2 perturbation of
/// norm <= eps (within [lo, hi]) makes `scores_of` predict another class: the attack
/// ascends its objective along normalised gradients, projecting onto the ball after each
/// step, and a sample counts as broken as soon as any iterate is misclassified.
/// Returns bool [B]: true where the prediction was broken (or was already wrong).
L2AttackMethod parse_l2_attack_method(const std::string& name);  // "apgd" or "pgd"
const char* l2_attack_method_name(L2AttackMethod method);

Tensor l2_attack_broken(const std::function<Tensor(const Tensor&)>& scores_of, const Tensor& inputs,
                        const Tensor& labels, double eps, const L2AttackOptions& options, Generator& gen);

/// Throws std::runtime_error naming the first sample that is certified at eps
/// (`certified`, bool [B]) and yet `broken` (bool [B]) by the attack at eps: a
/// certificate that an attack refutes is a bug.
void check_faithfulness(const Tensor& certified, const Tensor& broken, double eps, int64_t first_index);

}  // namespace glassbox::metrics
