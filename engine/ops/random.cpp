// Random ops: every draw reserves a block of Philox counters from a Generator, so
// a (seed, offset) pair fixes the numbers on every backend and no two calls share one.
#include "engine/ops/random.h"

#include <algorithm>
#include <cfloat>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/loss.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_utils.h"
#include "engine/ops/reduce.h"

namespace glassbox {

Generator& default_generator() {
  static Generator generator;
  return generator;
}

void manual_seed(uint64_t seed) { default_generator().set_state(seed, 0); }

namespace ops {

using Grads = std::vector<Tensor>;

namespace {

Generator& pick(Generator* gen) { return gen ? *gen : default_generator(); }

void check_fillable(const Tensor& t, const char* op) {
  check_floating(t, op);
  if (GradMode::is_enabled() && t.requires_grad())
    throw std::runtime_error(std::string(op) +
                             " on a tensor that requires grad: in-place fills are not recorded; "
                             "do it under NoGradGuard or on a detached tensor");
}

Tensor finish_leaf(Tensor t, const TensorOptions& opt) {
  if (opt.requires_grad) t.set_requires_grad();
  return t;
}

}  // namespace

void uniform_(Tensor& t, double lo, double hi, Generator* gen) {
  check_fillable(t, "uniform_");
  if (!(lo <= hi)) throw std::invalid_argument("uniform_: needs lo <= hi, got [" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
  Generator& g = pick(gen);
  backend_of(t).random_uniform(t.view(), g.seed(), g.advance(uint64_t(t.numel())), lo, hi);
  t.storage()->bump_version();
}

void normal_(Tensor& t, double mean, double std, Generator* gen) {
  check_fillable(t, "normal_");
  if (!(std >= 0)) throw std::invalid_argument("normal_: std must be >= 0, got " + std::to_string(std));
  Generator& g = pick(gen);
  backend_of(t).random_normal(t.view(), g.seed(), g.advance(uint64_t(t.numel())), mean, std);
  t.storage()->bump_version();
}

Tensor rand(const Shape& shape, double lo, double hi, TensorOptions opt, Generator* gen) {
  Tensor t = Tensor::empty(shape, {opt.dtype, opt.device});
  uniform_(t, lo, hi, gen);
  return finish_leaf(t, opt);
}

Tensor randn(const Shape& shape, double mean, double std, TensorOptions opt, Generator* gen) {
  Tensor t = Tensor::empty(shape, {opt.dtype, opt.device});
  normal_(t, mean, std, gen);
  return finish_leaf(t, opt);
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  check_floating(p, "bernoulli");
  Tensor u = rand(p.shape(), 0.0, 1.0, {p.dtype(), p.device()}, gen);
  // P(u < p) = p for u uniform on [0, 1).
  return lt(u, p.detach()).to(p.dtype());
}

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  if (!(p >= 0 && p <= 1)) throw std::invalid_argument("dropout: p must be in [0, 1], got " + std::to_string(p));
  check_floating(x, "dropout");
  if (!training || p == 0) return x;
  Tensor mask;
  if (p == 1) {
    mask = Tensor::zeros(x.shape(), {x.dtype(), x.device()});
  } else {
    // Inverted dropout (Srivastava et al. 2014, scaled at training time): keep with
    // probability 1 - p and scale by 1 / (1 - p) so the expectation is unchanged.
    Tensor u = rand(x.shape(), 0.0, 1.0, {x.dtype(), x.device()}, gen);
    mask = ge(u, p).to(x.dtype());
    mask.mul_(1.0 / (1.0 - p));
  }
  Tensor out = mul(x.detach(), mask);
  return record(OpKind::dropout, {&x}, out, [sm = SavedTensor(mask)](const Tensor& g) -> Grads {
    return {mul(g, sm.get())};
  });
}

Tensor gumbel(const Shape& shape, TensorOptions opt, Generator* gen) {
  if (!is_floating(opt.dtype))
    throw std::invalid_argument(std::string("gumbel: needs a floating dtype, got ") + dtype_name(opt.dtype));
  Tensor g;
  {
    NoGradGuard no_grad;
    // One pass over uniform draws in the target dtype; the kernel keeps u off zero, so
    // -log(-log(u)) is finite for every draw (u < 1 always).
    g = rand(shape, 0.0, 1.0, opt, gen);
    backend_of(g).unary(kernels::UnaryOp::gumbel_from_uniform, g.view(), g.view(), {});
  }
  return finish_leaf(g, opt);
}

Tensor gumbel_softmax(const Tensor& logits, double tau, bool hard, int dim, Generator* gen) {
  check_floating(logits, "gumbel_softmax");
  if (!(tau > 0)) throw std::invalid_argument("gumbel_softmax: tau must be positive, got " + std::to_string(tau));
  if (logits.dim() == 0) throw std::invalid_argument("gumbel_softmax: logits need at least one dim");
  dim = normalize_dim(dim, logits.dim(), "gumbel_softmax");
  // Jang, Gu and Poole 2017 / Maddison et al. 2017: softmax((logits + G) / tau), G ~ Gumbel(0, 1).
  Tensor noise = gumbel(logits.shape(), {logits.dtype(), logits.device()}, gen);
  Tensor y = softmax(mul(add(logits, noise), 1.0 / tau), dim);
  if (!hard) return y;
  // Straight-through: the forward is the exact one-hot of the argmax, the backward
  // passes the gradient to the soft sample unchanged.
  Tensor idx = empty_like_shape(y, reduced_shape(y.shape(), {dim}), DType::i64);
  backend_of(y).arg_reduce(true, y.view(), dim, idx.view());
  Tensor y_hard = Tensor::zeros(y.shape(), {y.dtype(), y.device()});
  Tensor ones = Tensor::ones({1}, {y.dtype(), y.device()}).expand(idx.shape());
  backend_of(y).scatter_add(y_hard.view(), dim, idx.view(), ones.view());
  return record(OpKind::gumbel_softmax, {&y}, y_hard, [](const Tensor& g) -> Grads { return {g}; });
}

Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement, Generator* gen) {
  check_floating(probs, "multinomial");
  if (probs.dim() != 1 && probs.dim() != 2)
    throw std::invalid_argument("multinomial: probs must be [C] or [R, C], got shape " + probs.shape().str());
  if (num_samples <= 0)
    throw std::invalid_argument("multinomial: num_samples must be positive, got " + std::to_string(num_samples));
  Tensor p2 = probs.dim() == 1 ? probs.detach().unsqueeze(0) : probs.detach();
  const int64_t rows = p2.shape()[0], cats = p2.shape()[1];
  if (cats == 0) throw std::invalid_argument("multinomial: probs have no categories");
  if (!replacement && num_samples > cats)
    throw std::invalid_argument("multinomial: cannot draw " + std::to_string(num_samples) +
                                " samples without replacement from " + std::to_string(cats) + " categories");
  // Counters: one per sample with replacement, one per category without (see the kernel).
  Generator& g = pick(gen);
  const uint64_t offset = g.advance(uint64_t(rows * (replacement ? num_samples : cats)));
  Tensor out = empty_like_shape(p2, {rows, num_samples}, DType::i64);
  backend_of(p2).multinomial(p2.view(), replacement, g.seed(), offset, out.view());
  return probs.dim() == 1 ? out.view({num_samples}) : out;
}

Tensor randperm(int64_t n, Generator* gen, Device device) {
  if (n < 0) throw std::invalid_argument("randperm: n must be >= 0, got " + std::to_string(n));
  if (n == 0) return Tensor::empty({0}, {DType::i64, device});
  // Sorting i by a uniform key gives a uniform permutation; the keys come from the
  // generator's stream on the host, so every device gets the same permutation, and a
  // stable sort keeps it a permutation even if two keys tie.
  std::vector<double> keys = rand({n}, 0.0, 1.0, {DType::f64}, gen).to_vector<double>();
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return keys[size_t(a)] < keys[size_t(b)]; });
  return Tensor::from_vector(order, {n}, {DType::i64}).to(device);
}

}  // namespace ops
}  // namespace glassbox
