// Batch and layer normalisation (Ioffe & Szegedy 2015, Alg. 1; Ba, Kiros & Hinton 2016,
// eq. 4). Batch norm in training is one recorded node with the closed-form backward, on a
// fused kernel each way where the backend has one (the CPU); eval-mode batch norm and layer
// norm are composed from differentiable elementwise ops and reductions.
#include <optional>
#include <stdexcept>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/activation.h"
#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_utils.h"
#include "engine/ops/reduce.h"

namespace glassbox::ops {

namespace {

using Grads = std::vector<Tensor>;

/// Checks that an optional per-feature tensor has `shape` and x's dtype/device.
void check_param(const char* op, const char* name, const Tensor& t, const Tensor& x, const Shape& shape) {
  if (!t.defined()) return;
  check_same_dtype(x, t, op);
  if (!(t.shape() == shape))
    throw std::invalid_argument(std::string(op) + ": " + name + " must have shape " + shape.str() + ", got " +
                                t.shape().str());
}

/// (x - mean) / sqrt(var + eps), then * weight + bias where given (already broadcastable).
Tensor normalize_affine(const Tensor& centred, const Tensor& var, double eps, const Tensor& weight,
                        const Tensor& bias) {
  Tensor y = mul(centred, rsqrt(add(var, eps)));
  if (weight.defined()) y = mul(y, weight);
  if (bias.defined()) y = add(y, bias);
  return y;
}

/// A backend argument that may be absent: the view of `t`, or null when `t` is undefined
/// (`t` must outlive it).
class OptionalView {
 public:
  explicit OptionalView(const Tensor& t) : defined_(t.defined()) {
    if (defined_) view_ = t.view();
  }
  const kernels::View* get() const { return defined_ ? &view_ : nullptr; }

 private:
  bool defined_;
  kernels::View view_{};
};

/// The activation `act` (null: none) applied by the unfused ops.
Tensor apply_activation(const Tensor& y, const kernels::NormActivation* act) {
  if (!act) return y;
  return act->leaky ? leaky_relu(y, act->negative_slope) : relu(y);
}

/// batch_norm, then `act` when given: fused into the training node on a backend with the kernel.
Tensor batch_norm_impl(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                       const Tensor& bias, bool training, double momentum, double eps,
                       const kernels::NormActivation* act) {
  const char* op = "batch_norm";
  if (!x.defined() || x.dim() < 2)
    throw std::invalid_argument("batch_norm: expected x [N, C, ...] of rank >= 2, got " +
                                (x.defined() ? x.shape().str() : std::string("an undefined tensor")));
  check_floating(x, op);
  const int64_t channels = x.size(1);
  check_param(op, "weight", weight, x, {channels});
  check_param(op, "bias", bias, x, {channels});
  check_param(op, "running_mean", running_mean, x, {channels});
  check_param(op, "running_var", running_var, x, {channels});
  // Per-channel tensors broadcast as [1, C, 1, ...].
  Shape channel_shape = Dims::filled(x.dim(), 1);
  channel_shape[1] = channels;
  auto per_channel = [&](const Tensor& t) { return t.defined() ? t.view(channel_shape) : t; };

  if (!training) {
    if (!running_mean.defined() || !running_var.defined())
      throw std::invalid_argument("batch_norm: eval mode needs running_mean and running_var");
    return apply_activation(normalize_affine(sub(x, per_channel(running_mean)), per_channel(running_var), eps,
                                             per_channel(weight), per_channel(bias)),
                            act);
  }
  const int64_t count = x.numel() / channels;
  if (count < 2)
    throw std::invalid_argument("batch_norm: training needs more than one value per channel, got x " + x.shape().str());
  // One recorded node with the closed-form backward (Ioffe & Szegedy 2015, section 3) instead of
  // a graph of seven elementwise ops and reductions; on a backend with a fused kernel (the CPU)
  // each direction is then two or three passes over x.
  const Shape ncs{x.size(0), channels, count / x.size(0)};
  const Tensor xc = x.detach().contiguous().view(ncs);
  const Tensor wc = weight.defined() ? weight.detach().contiguous() : Tensor();
  const Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor mean_c, var_c, out;
  // The activation this node applies (when the backend fuses it); otherwise it runs after the node.
  std::optional<kernels::NormActivation> fused;
  {
    NoGradGuard no_grad;
    out = empty_like_shape(x, ncs);
    mean_c = empty_like_shape(x, {channels});
    var_c = empty_like_shape(x, {channels});
    if (act && backend_of(x).batch_norm_act_forward(xc.view(), OptionalView(wc).get(), OptionalView(bc).get(), eps,
                                                    *act, out.view(), mean_c.view(), var_c.view())) {
      fused = *act;
    } else if (!backend_of(x).batch_norm_forward(xc.view(), OptionalView(wc).get(), OptionalView(bc).get(), eps,
                                                 out.view(), mean_c.view(), var_c.view())) {
      const Tensor mean3 = mean(xc, {0, 2}, true);
      const Tensor centred = sub(xc, mean3);
      // Normalisation uses the biased (population) variance, as in the paper and PyTorch.
      const Tensor var3 = mean(square(centred), {0, 2}, true);
      out = normalize_affine(centred, var3, eps, wc.defined() ? wc.view({1, channels, 1}) : wc,
                             bc.defined() ? bc.view({1, channels, 1}) : bc);
      mean_c = mean3.reshape({channels});
      var_c = var3.reshape({channels});
    }
    out = out.view(x.shape());
  }
  if (running_mean.defined() || running_var.defined()) {
    // PyTorch's convention: running = (1 - momentum) * running + momentum * batch, with
    // the unbiased batch variance for running_var.
    NoGradGuard no_grad;
    Tensor rm = running_mean, rv = running_var;  // handles onto the caller's buffers
    if (rm.defined()) rm.mul_(1.0 - momentum).add_(mean_c, momentum);
    if (rv.defined()) rv.mul_(1.0 - momentum).add_(mul(var_c, double(count) / double(count - 1)), momentum);
  }
  // Without the fused kernel: this plain batch-norm node, then the activation's own node.
  const kernels::NormActivation* after = fused ? nullptr : act;
  if (!any_requires_grad({&x, &weight, &bias})) return apply_activation(out, after);
  const bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad(),
             gb = bias.defined() && bias.requires_grad();
  Tensor rstd;
  {
    NoGradGuard no_grad;
    rstd = rsqrt(add(var_c, eps));
  }
  // With a fused activation its output is saved too: its gradient is taken from it.
  return apply_activation(
      record(OpKind::batch_norm, {&x, &weight, &bias}, out,
             [sx = SavedTensor(xc), sy = SavedTensor(fused ? out.detach().view(ncs) : Tensor()), fused, mean_c, rstd,
              sw = SavedTensor(wc), ncs, x_shape = x.shape(), channels, count, gx, gw, gb](const Tensor& g) -> Grads {
               const Tensor& x3 = sx.get();
               const Tensor& wc = sw.get();
               Tensor g3 = g.contiguous().view(ncs);
               Grads grads(3);
               Tensor gx3 = gx ? empty_like_shape(g3, ncs) : Tensor();
               Tensor gw1 = gw ? empty_like_shape(g3, {channels}) : Tensor();
               Tensor gb1 = gb ? empty_like_shape(g3, {channels}) : Tensor();
               bool done = false;
               if (fused) {
                 const Tensor& y3 = sy.get();
                 done = backend_of(g3).batch_norm_act_backward(
                     g3.view(), y3.view(), x3.view(), mean_c.view(), rstd.view(), OptionalView(wc).get(), *fused,
                     OptionalView(gx3).get(), OptionalView(gw1).get(), OptionalView(gb1).get());
                 // A backend that fused the forward but not this: the activation's gradient first
                 // (y > 0 exactly where its input was).
                 if (!done)
                   g3 = where(gt(y3, 0.0), g3, fused->leaky ? mul(g3, fused->negative_slope) : Tensor::zeros_like(g3));
               }
               if (!done && !backend_of(g3).batch_norm_backward(g3.view(), x3.view(), mean_c.view(), rstd.view(),
                                                                OptionalView(wc).get(), OptionalView(gx3).get(),
                                                                OptionalView(gw1).get(), OptionalView(gb1).get())) {
                 // With s = rstd * weight per channel and xhat = (x - mean) * rstd:
                 //   gb = sum(g), gw = sum(g * xhat), gx = s * (g - gb / n - xhat * gw / n).
                 const Tensor m3 = mean_c.view({1, channels, 1}), r3 = rstd.view({1, channels, 1});
                 const Tensor xhat = mul(sub(x3, m3), r3);
                 const Tensor g_sum = sum(g3, {0, 2}, true), gxhat_sum = sum(mul(g3, xhat), {0, 2}, true);
                 if (gb) gb1 = g_sum.view({channels});
                 if (gw) gw1 = gxhat_sum.view({channels});
                 if (gx) {
                   const double inv_n = 1.0 / double(count);
                   const Tensor scale = wc.defined() ? mul(r3, wc.view({1, channels, 1})) : r3;
                   gx3 = mul(sub(sub(g3, mul(xhat, mul(gxhat_sum, inv_n))), mul(g_sum, inv_n)), scale);
                 }
               }
               if (gx) grads[0] = gx3.view(x_shape);
               if (gw) grads[1] = gw1;
               if (gb) grads[2] = gb1;
               return grads;
             }),
      after);
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  return batch_norm_impl(x, running_mean, running_var, weight, bias, training, momentum, eps, nullptr);
}

Tensor batch_norm_activation(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                             const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps,
                             const kernels::NormActivation& act) {
  if (act.leaky && !(act.negative_slope > 0))
    throw std::invalid_argument(
        "batch_norm_activation: a leaky ReLU needs negative_slope > 0 (its gradient is read "
        "from the output's sign), got " +
        std::to_string(act.negative_slope));
  return batch_norm_impl(x, running_mean, running_var, weight, bias, training, momentum, eps, &act);
}

Tensor layer_norm(const Tensor& x, int normalized_dims, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  if (!x.defined() || normalized_dims < 1 || normalized_dims > x.dim())
    throw std::invalid_argument("layer_norm: normalized_dims " + std::to_string(normalized_dims) +
                                " must be in [1, rank] for x " +
                                (x.defined() ? x.shape().str() : std::string("(undefined)")));
  check_floating(x, op);
  Shape trailing;
  std::vector<int> dims;
  for (int d = x.dim() - normalized_dims; d < x.dim(); ++d) {
    trailing.push_back(x.size(d));
    dims.push_back(d);
  }
  check_param(op, "weight", weight, x, trailing);
  check_param(op, "bias", bias, x, trailing);
  Tensor centred = sub(x, mean(x, dims, true));
  Tensor var = mean(square(centred), dims, true);
  return normalize_affine(centred, var, eps, weight, bias);
}

}  // namespace glassbox::ops
