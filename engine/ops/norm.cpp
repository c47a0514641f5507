// Batch and layer normalisation, composed from differentiable elementwise ops and
// reductions so autograd derives their gradients (Ioffe & Szegedy 2015, Alg. 1;
// Ba, Kiros & Hinton 2016, eq. 4).
#include <stdexcept>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
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

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
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
  std::vector<int> dims{0};
  for (int d = 2; d < x.dim(); ++d) dims.push_back(d);

  if (!training) {
    if (!running_mean.defined() || !running_var.defined())
      throw std::invalid_argument("batch_norm: eval mode needs running_mean and running_var");
    return normalize_affine(sub(x, per_channel(running_mean)), per_channel(running_var), eps, per_channel(weight),
                            per_channel(bias));
  }
  const int64_t count = x.numel() / channels;
  if (count < 2)
    throw std::invalid_argument("batch_norm: training needs more than one value per channel, got x " + x.shape().str());
  // One recorded node with the closed-form backward (Ioffe & Szegedy 2015, section 3) instead of
  // a graph of seven elementwise ops and reductions: about half the passes over x in backward.
  Tensor mean_c, var_c, xhat, rstd;
  Tensor out;
  {
    NoGradGuard no_grad;
    mean_c = mean(x, dims, true);
    Tensor centred = sub(x, mean_c);
    // Normalisation uses the biased (population) variance, as in the paper and PyTorch.
    var_c = mean(square(centred), dims, true);
    rstd = rsqrt(add(var_c, eps));
    xhat = mul(centred, rstd);
    out = xhat;
    if (weight.defined()) out = mul(out, per_channel(weight));
    if (bias.defined()) out = add(out, per_channel(bias));
    if (out.storage() == xhat.storage()) out = out.clone();  // xhat is saved for backward: out must not alias it
  }
  if (running_mean.defined() || running_var.defined()) {
    // PyTorch's convention: running = (1 - momentum) * running + momentum * batch, with
    // the unbiased batch variance for running_var.
    NoGradGuard no_grad;
    Tensor rm = running_mean, rv = running_var;  // handles onto the caller's buffers
    if (rm.defined()) rm.mul_(1.0 - momentum).add_(mean_c.view({channels}), momentum);
    if (rv.defined())
      rv.mul_(1.0 - momentum).add_(mul(var_c.view({channels}), double(count) / double(count - 1)), momentum);
  }
  if (!any_requires_grad({&x, &weight, &bias})) return out;
  const bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad(),
             gb = bias.defined() && bias.requires_grad();
  // With g = dL/dy and s = rstd * weight per channel:
  //   dbias = sum(g), dweight = sum(g * xhat), dx = s * (g - dbias / n - xhat * dweight / n).
  return record(OpKind::batch_norm, {&x, &weight, &bias}, out,
                [sxhat = SavedTensor(xhat), rstd, sw = SavedTensor(weight.defined() ? per_channel(weight) : Tensor()),
                 dims, channels, count, gx, gw, gb](const Tensor& g) -> Grads {
                  const Tensor& xh = sxhat.get();
                  Grads grads(3);
                  Tensor g_sum = sum(g, dims, true);
                  Tensor gx_sum = sum(mul(g, xh), dims, true);
                  if (gw) grads[1] = gx_sum.view({channels});
                  if (gb) grads[2] = g_sum.view({channels});
                  if (gx) {
                    const double inv_n = 1.0 / double(count);
                    Tensor scale = sw.get().defined() ? mul(rstd, sw.get()) : rstd;
                    Tensor dx = sub(g, mul(xh, mul(gx_sum, inv_n)));
                    grads[0] = mul(sub(dx, mul(g_sum, inv_n)), scale);
                  }
                  return grads;
                });
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
