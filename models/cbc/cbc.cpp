#include "models/cbc/cbc.h"

#include <stdexcept>

#include "engine/autograd/grad_mode.h"
#include "engine/nn/init.h"
#include "engine/ops/ops.h"

namespace glassbox::models {

namespace {

constexpr const char* kVariantNames[] = {"glvq", "rbf", "robust_rbf", "cbc", "stable_cbc", "robust_stable_cbc"};

bool is_cbc(CbcVariant v) {
  return v == CbcVariant::cbc || v == CbcVariant::stable_cbc || v == CbcVariant::robust_stable_cbc;
}

bool is_rbf(CbcVariant v) { return v == CbcVariant::rbf || v == CbcVariant::robust_rbf; }

}  // namespace

CbcVariant parse_cbc_variant(const std::string& name) {
  for (int i = 0; i < 6; ++i)
    if (name == kVariantNames[i]) return static_cast<CbcVariant>(i);
  throw std::invalid_argument("cbc: unknown variant '" + name +
                              "' (expected glvq, rbf, robust_rbf, cbc, stable_cbc or robust_stable_cbc)");
}

const char* cbc_variant_name(CbcVariant variant) { return kVariantNames[static_cast<int>(variant)]; }

CbcNet::CbcNet(const CbcOptions& o, Generator& gen) : options_(o) {
  const int64_t k = o.num_components;
  if (k < 1 || o.num_classes < 2 || o.input_dim < 1)
    throw std::invalid_argument("cbc: need >= 1 component, >= 2 classes and a positive input size");
  if (o.variant == CbcVariant::glvq && k % o.num_classes != 0)
    throw std::invalid_argument("cbc: GLVQ gives every class the same number of components; " + std::to_string(k) +
                                " components do not divide among " + std::to_string(o.num_classes) + " classes");
  if (is_cbc(o.variant) && o.concepts_per_class < 1)
    throw std::invalid_argument("cbc: concepts_per_class must be >= 1");
  // Components start as near-uniform grey images (enlaight: U[0.45, 0.55]).
  components_ = register_parameter("components", ops::rand({k, o.input_dim}, 0.45, 0.55, {}, &gen));
  if (o.variant == CbcVariant::glvq) return;
  sigma_ = register_parameter("sigma", Tensor::full({k}, o.sigma_init));
  const int64_t concepts = o.num_classes * o.concepts_per_class;
  if (o.variant == CbcVariant::cbc) {
    q_ = register_parameter("requiredness", ops::rand({2, k, concepts}, 0.4, 0.6, {}, &gen));
  } else if (is_cbc(o.variant)) {
    // theta = log(cat[pi r, pi (1 - r)]): its softmax over 2K reproduces exactly
    // R+ = pi r, R- = pi (1 - r), since sum_k pi_k (r + 1 - r) = 1.
    Tensor r = ops::rand({k, concepts}, 0.4, 0.6, {}, &gen);
    Tensor prior = ops::softmax(ops::rand({k, concepts}, 0.0, 1.0, {}, &gen), 0);
    theta_ = register_parameter("reasoning_logits", ops::log(ops::concat({prior * r, prior * (1.0 - r)}, 0)));
  } else {
    Tensor w = Tensor::empty({o.num_classes, k});
    nn::init::xavier_uniform_(w, 1.0, &gen);
    weights_ = register_parameter("weights", w);
  }
}

int64_t CbcNet::concepts_per_class() const { return is_cbc(options_.variant) ? options_.concepts_per_class : 1; }

int64_t CbcNet::num_concepts() const { return options_.num_classes * concepts_per_class(); }

bool CbcNet::uses_reasoning() const { return is_cbc(options_.variant); }

Tensor CbcNet::rbf_weights() const {
  if (!is_rbf(options_.variant)) throw std::logic_error("cbc: rbf_weights() of a non-RBF variant");
  const bool normalize = options_.variant == CbcVariant::robust_rbf || options_.rbf_normalize;
  return normalize ? ops::softmax(weights_, 1) : weights_;
}

cbc::Reasoning CbcNet::reasoning() const {
  switch (options_.variant) {
    case CbcVariant::cbc:
      return cbc::normalize_reasoning(cbc::breaking_chopstick_reasoning(q_));
    case CbcVariant::stable_cbc:
    case CbcVariant::robust_stable_cbc:
      return cbc::stable_cbc_reasoning(theta_);
    case CbcVariant::rbf:
    case CbcVariant::robust_rbf: {
      Tensor wt = rbf_weights().mT();
      return {ops::relu(wt), ops::relu(ops::neg(wt))};
    }
    case CbcVariant::glvq:
      break;
  }
  const int64_t per_class = options_.num_components / options_.num_classes;
  std::vector<int64_t> labels(static_cast<size_t>(options_.num_components));
  for (int64_t k = 0; k < options_.num_components; ++k) labels[size_t(k)] = k / per_class;
  Tensor one_hot = ops::one_hot(Tensor::from_vector(labels, {options_.num_components}).to(device()), options_.num_classes);
  return {one_hot, Tensor::zeros_like(one_hot)};
}

CbcOutput CbcNet::forward(const Tensor& inputs) const {
  Tensor x = inputs.dim() == 2 ? inputs : inputs.flatten(1);
  if (x.dim() != 2 || x.size(1) != options_.input_dim)
    throw std::invalid_argument("cbc: expected inputs with " + std::to_string(options_.input_dim) +
                                " values each, got " + inputs.shape().str());
  CbcOutput out;
  out.distances = cbc::component_distances(x, components_, options_.squared);
  if (options_.variant == CbcVariant::glvq) {
    // Nearest-prototype rule: the class score is the negated distance to its nearest component.
    out.scores = ops::neg(
        cbc::class_min_distance(out.distances, options_.num_components / options_.num_classes));
    return out;
  }
  out.detections = cbc::detection_probability(out.distances, sigma_);
  if (is_rbf(options_.variant)) {
    out.scores = ops::matmul(out.detections, rbf_weights().mT());  // out = d W^T
    return out;
  }
  out.concepts = cbc::reasoning_probability(out.detections, reasoning());
  out.scores = cbc::class_scores(out.concepts, options_.concepts_per_class);
  return out;
}

Tensor CbcNet::sigma_min() const { return ops::amin(cbc::effective_sigma(sigma_)); }

Tensor CbcNet::to_radius(const Tensor& value, const CbcOutput& out) const {
  if (!options_.squared) return value;
  return cbc::squared_value_to_radius(value, ops::amax(out.distances, {1}));
}

Tensor CbcNet::certified_radius(const CbcOutput& out, const Tensor& labels) const {
  switch (options_.variant) {
    case CbcVariant::glvq: {
      // The certificate needs a metric: squared distances are square-rooted (the
      // nearest component, hence the prediction, is the same).
      Tensor euclid = options_.squared ? ops::sqrt(out.distances) : out.distances;
      return cbc::glvq_certified_radius(
          cbc::class_min_distance(euclid, options_.num_components / options_.num_classes), labels);
    }
    case CbcVariant::rbf:
      if (!options_.rbf_normalize)
        return to_radius(cbc::rbf_pairwise_certified_value(out.detections, rbf_weights(), labels, sigma_min()), out);
      [[fallthrough]];
    case CbcVariant::robust_rbf:
      return to_radius(cbc::robust_rbf_certified_value(out.scores, labels, sigma_min()), out);
    case CbcVariant::cbc:
    case CbcVariant::stable_cbc:
    case CbcVariant::robust_stable_cbc:
      break;
  }
  return to_radius(
      cbc::stable_cbc_certified_value(out.detections, reasoning(), labels, options_.concepts_per_class, sigma_min()),
      out);
}

CbcLoss CbcNet::loss(const CbcOutput& out, const Tensor& labels) const {
  CbcLoss l;
  Tensor radius;
  const bool robust = options_.variant == CbcVariant::robust_rbf || options_.variant == CbcVariant::robust_stable_cbc;
  if (robust) {
    radius = certified_radius(out, labels);
    l.total = ops::mean(ops::relu(options_.robust_margin - radius));
  } else if (options_.variant == CbcVariant::glvq) {
    l.total = ops::mean(cbc::glvq_loss(
        cbc::class_min_distance(out.distances, options_.num_components / options_.num_classes), labels));
  } else if (options_.variant == CbcVariant::rbf) {
    l.total = ops::cross_entropy(out.scores, labels);
  } else {
    l.total = ops::mean(cbc::margin_loss(out.scores, labels, options_.margin));
  }
  NoGradGuard no_grad;
  if (!radius.defined()) radius = certified_radius(out, labels);
  l.radius = ops::mean(radius);
  return l;
}

void CbcNet::add_projections(optim::Optimizer& optimizer) const {
  // Components stay valid images; q stays a probability (projected gradient descent).
  optimizer.add_projection(components_, [](Tensor& p) { p.clamp_(0.0, 1.0); });
  if (q_.defined()) optimizer.add_projection(q_, [](Tensor& p) { p.clamp_(0.0, 1.0); });
}

}  // namespace glassbox::models
