// Softmax family and losses, with PyTorch's definitions (reductions, ignore_index,
// label smoothing, the -100 log clamp of binary cross-entropy).
#include "engine/ops/loss.h"

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/activation.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_utils.h"
#include "engine/ops/reduce.h"

namespace glassbox::ops {

using Grads = std::vector<Tensor>;

namespace {

Tensor scalar_like(const Tensor& t, double value) { return Tensor::scalar(value, {t.dtype(), t.device()}); }

Tensor softmax_impl(const Tensor& x, int dim_in, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  check_floating(x, name);
  const int dim = normalize_dim(dim_in, x.dim(), name);
  if (x.dim() == 0) return softmax_impl(x.reshape({1}), 0, log).reshape({});
  Tensor out = empty_like_shape(x, x.shape());
  backend_of(x).softmax(x.view(), dim, log, out.view());
  if (!any_requires_grad({&x})) return out;
  return record(log ? OpKind::log_softmax : OpKind::softmax, {&x}, out,
                [so = SavedTensor(out.detach()), dim, log](const Tensor& g) -> Grads {
                  const Tensor& y = so.get();
                  Tensor gx = empty_like_shape(y, y.shape());
                  backend_of(y).softmax_backward(g.view(), y.view(), dim, log, gx.view());
                  return {gx};
                });
}

Tensor apply_reduction(const Tensor& per_element, Reduction reduction) {
  switch (reduction) {
    case Reduction::none: return per_element;
    case Reduction::sum: return sum(per_element);
    case Reduction::mean: return mean(per_element);
  }
  throw std::invalid_argument("unknown reduction");
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  if (!(a.shape() == b.shape()))
    throw std::invalid_argument(std::string(op) + ": input shape " + a.shape().str() + " and target shape " +
                                b.shape().str() + " differ");
}

/// The class-index losses (nll and cross-entropy) on log-probabilities [N, C, d...]
/// (or [C]). Each position n gets weights over classes
///   q[n, c] = valid_n * ((1 - eps) * [c == t_n] + eps / C)
/// and loss_n = -sum_c q[n, c] * log_probs[n, c]. This is PyTorch's definition:
/// (1 - eps) * nll + eps / C * (-sum_c log_probs), with ignored positions zeroed and
/// the mean taken over the positions that are not ignored.
Tensor class_index_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction, int64_t ignore_index,
                        double smoothing, const char* name) {
  check_floating(log_probs, name);
  check_same_device(log_probs, target, name);
  if (target.dtype() != DType::i64)
    throw std::invalid_argument(std::string(name) + ": target must hold i64 class indices, got " +
                                dtype_name(target.dtype()) + " (convert with .to(DType::i64))");
  if (log_probs.dim() == 1) {
    if (target.dim() != 0)
      throw std::invalid_argument(std::string(name) + ": unbatched input of shape " + log_probs.shape().str() +
                                  " needs a 0-d target, got shape " + target.shape().str());
    Tensor loss = class_index_loss(log_probs.unsqueeze(0), target.unsqueeze(0), reduction, ignore_index, smoothing, name);
    return reduction == Reduction::none ? loss.reshape({}) : loss;
  }
  if (log_probs.dim() < 2)
    throw std::invalid_argument(std::string(name) + ": input must be [N, C] or [N, C, d...], got shape " +
                                log_probs.shape().str());
  Shape expected = log_probs.shape();
  expected.erase(1);
  if (!(target.shape() == expected))
    throw std::invalid_argument(std::string(name) + ": target shape " + target.shape().str() + " does not match input " +
                                log_probs.shape().str() + " (expected " + expected.str() + ")");
  const int64_t classes = log_probs.shape()[1];
  // On the CPU the targets are checked here and the scored positions counted. On a GPU reading
  // them back would make the step wait for the device (PyTorch checks them on the device and
  // stops it with an assert): there the count stays a device tensor, and a target out of range
  // makes the loss NaN.
  const bool on_host = target.device().is_cpu();
  int64_t valid = 0;
  Tensor scored, valid_count, out_of_range;  // scored: the positions that are not ignored, when some may be
  if (on_host) {
    for (int64_t t : target.to_vector<int64_t>()) {
      if (t == ignore_index) continue;
      if (t < 0 || t >= classes)
        throw std::out_of_range(std::string(name) + ": target " + std::to_string(t) + " is out of range for " +
                                std::to_string(classes) + " classes (expected 0.." + std::to_string(classes - 1) +
                                " or ignore_index " + std::to_string(ignore_index) + ")");
      ++valid;
    }
    if (valid < target.numel()) scored = ne(target, double(ignore_index));
  } else {
    scored = ne(target, double(ignore_index));
    valid_count = sum(scored.to(log_probs.dtype()));
    const Tensor bad = logical_and(scored, logical_or(lt(target, 0.0), ge(target, double(classes))));
    out_of_range = gt(sum(bad.to(log_probs.dtype())), 0.0);  // 0-d bool
  }

  Shape class_axis = Dims::filled(log_probs.dim(), 1);
  class_axis[1] = classes;
  Tensor positions = Tensor::arange(classes, {DType::i64, target.device()}).view(class_axis);
  Tensor t = target.unsqueeze(1);
  const double off = smoothing / double(classes);
  Tensor q = where(eq(t, positions), scalar_like(log_probs, 1.0 - smoothing + off), scalar_like(log_probs, off));
  if (scored.defined()) q = where(scored.unsqueeze(1), q, scalar_like(log_probs, 0));

  Tensor per_position = neg(sum(mul(log_probs, q), {1}));
  if (!on_host)
    per_position = where(out_of_range, scalar_like(log_probs, std::numeric_limits<double>::quiet_NaN()), per_position);
  switch (reduction) {
    case Reduction::none: return per_position;
    case Reduction::sum: return sum(per_position);
    // All positions ignored gives 0 / 0 = nan, as PyTorch.
    case Reduction::mean: return on_host ? sum(per_position) / double(valid) : sum(per_position) / valid_count;
  }
  throw std::invalid_argument("unknown reduction");
}

}  // namespace

Tensor softmax(const Tensor& x, int dim) { return softmax_impl(x, dim, false); }
Tensor log_softmax(const Tensor& x, int dim) { return softmax_impl(x, dim, true); }

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction, int64_t ignore_index,
                     double label_smoothing) {
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw std::invalid_argument("cross_entropy: label_smoothing must be in [0, 1], got " +
                                std::to_string(label_smoothing));
  check_floating(logits, "cross_entropy");
  if (logits.dim() == 0) throw std::invalid_argument("cross_entropy: logits must have a class dim, got a 0-d tensor");
  return class_index_loss(log_softmax(logits, logits.dim() == 1 ? 0 : 1), target, reduction, ignore_index,
                          label_smoothing, "cross_entropy");
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction, int64_t ignore_index) {
  return class_index_loss(log_probs, target, reduction, ignore_index, 0.0, "nll_loss");
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_floating(input, "mse_loss");
  check_same_dtype(input, target, "mse_loss");
  return apply_reduction(square(sub(input, target)), reduction);
}

Tensor bce_loss(const Tensor& probs, const Tensor& target, Reduction reduction) {
  check_floating(probs, "bce_loss");
  check_same_dtype(probs, target, "bce_loss");
  check_same_shape(probs, target, "bce_loss");
  Tensor per_element;
  {
    NoGradGuard no_grad;
    if (probs.numel() > 0 && (amin(probs).item() < 0.0 || amax(probs).item() > 1.0))
      throw std::invalid_argument("bce_loss: every input must be a probability in [0, 1] (apply sigmoid, or use "
                                  "bce_with_logits on raw scores)");
    // PyTorch clamps each log at -100 so that p = 0 or 1 gives a finite loss.
    Tensor log_p = clamp_min(log(probs), -100.0), log_1mp = clamp_min(log(rsub(probs, 1.0)), -100.0);
    per_element = neg(add(mul(target, log_p), mul(rsub(target, 1.0), log_1mp)));
  }
  if (any_requires_grad({&probs, &target})) {
    const bool want_target = target.requires_grad();
    per_element = record(OpKind::bce_loss, {&probs, &target}, per_element,
                         [sp = SavedTensor(probs), st = SavedTensor(target), want_target](const Tensor& g) -> Grads {
                           const Tensor& p = sp.get();
                           const Tensor& t = st.get();
                           // dL/dp = (p - t) / (p (1 - p)), the denominator floored at 1e-12 as PyTorch.
                           Tensor gp = mul(g, div(sub(p, t), clamp_min(mul(p, rsub(p, 1.0)), 1e-12)));
                           Tensor gt;
                           if (want_target)
                             gt = mul(g, sub(clamp_min(log(rsub(p, 1.0)), -100.0), clamp_min(log(p), -100.0)));
                           return {gp, gt};
                         });
  }
  return apply_reduction(per_element, reduction);
}

Tensor bce_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction) {
  check_floating(logits, "bce_with_logits");
  check_same_dtype(logits, target, "bce_with_logits");
  check_same_shape(logits, target, "bce_with_logits");
  // -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] = softplus(x) - t x, and softplus
  // never overflows, so large |x| stays finite.
  return apply_reduction(sub(softplus(logits), mul(target, logits)), reduction);
}

}  // namespace glassbox::ops
