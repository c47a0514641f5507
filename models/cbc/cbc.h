#pragma once
// Shallow prototype classifiers with certified L2 robustness: Saralajew, Rana,
// Villmann & Shaker, "A Robust Prototype-Based Network with Interpretable RBF
// Classifier Foundations" (AAAI 2025; shallow experiments nec-research/enlaight), the
// original Classification-by-Components network (Saralajew et al., NeurIPS 2019) and
// the GLVQ baseline. K components live in input space (flattened images in [0, 1]);
// every variant except GLVQ detects them with d_k(x) = exp(-dist(x, w_k) / |sigma_k|)
// and reasons over the detections, so each prediction comes with a radius within
// which no L2 perturbation can change it (formulas in cbc_formulas.h).
#include <string>

#include "engine/nn/module.h"
#include "engine/ops/random.h"
#include "engine/optim/optimizer.h"
#include "engine/tensor.h"
#include "models/cbc/cbc_formulas.h"

namespace glassbox::models {

enum class CbcVariant { glvq, rbf, robust_rbf, cbc, stable_cbc, robust_stable_cbc };
/// "glvq", "rbf", "robust_rbf", "cbc", "stable_cbc", "robust_stable_cbc".
CbcVariant parse_cbc_variant(const std::string& name);
const char* cbc_variant_name(CbcVariant variant);

struct CbcOptions {
  CbcVariant variant = CbcVariant::robust_stable_cbc;
  bool squared = false;          // squared Euclidean instead of Euclidean distances
  int64_t input_dim = 784;       // flattened 28x28 images
  int64_t num_components = 20;   // K (paper: 20)
  int64_t num_classes = 10;
  int64_t concepts_per_class = 2;  // CBC variants (paper: 2); GLVQ uses K / classes components per class
  double sigma_init = 58;        // initial sigma_k (paper: 58)
  double margin = 0.3;           // margin loss of the (stable) CBC (paper: 0.3)
  double robust_margin = 1.58;   // m_rob of the robust losses (paper: 1.58)
  bool rbf_normalize = false;    // rbf: row-softmax the weights (robust_rbf always does)
};

struct CbcOutput {
  Tensor distances;   // [B, K] (squared when options.squared)
  Tensor detections;  // [B, K] d_k(x) (undefined for GLVQ)
  Tensor concepts;    // [B, C'] reasoning probabilities (CBC variants only)
  Tensor scores;      // [B, C]: class scores; the prediction is their argmax
};

struct CbcLoss {
  Tensor total;        // scalar to back-propagate
  Tensor radius;       // mean certified radius of the batch (0-d, detached)
};

class CbcNet : public nn::Module {
 public:
  /// Components U[0.45, 0.55], sigma = sigma_init; stable CBC reasoning
  /// theta = log(cat[pi r, pi (1 - r)]) with r ~ U[0.4, 0.6], pi = softmax(U[0, 1]) over
  /// components; CBC q ~ U[0.4, 0.6]; RBF weights Xavier-uniform; draws from `gen`.
  CbcNet(const CbcOptions& options, Generator& gen);
  std::string name() const override { return "CbcNet"; }
  const CbcOptions& options() const { return options_; }

  /// Inputs [B, D] or images [B, C, H, W] with C*H*W = D.
  CbcOutput forward(const Tensor& inputs) const;
  /// The variant's training loss (mean over the batch): GLVQ loss, cross-entropy (rbf),
  /// margin loss (cbc, stable_cbc) or relu(m_rob - eps*) (robust variants).
  CbcLoss loss(const CbcOutput& out, const Tensor& labels) const;
  /// Certified L2 radius of each sample's true class [B]: no perturbation of norm below
  /// it changes the prediction; negative when the sample is misclassified.
  Tensor certified_radius(const CbcOutput& out, const Tensor& labels) const;

  /// Registers the projections the paper applies after every optimiser step: components
  /// clamped to [0, 1] and (original CBC) the requiredness q clamped to [0, 1].
  void add_projections(optim::Optimizer& optimizer) const;

  const Tensor& components() const { return components_; }
  /// The trainable temperatures [K] (undefined for GLVQ); they act as |sigma| + 1e-7.
  const Tensor& sigma() const { return sigma_; }
  /// The reasoning as it enters the class scores, [K, C'] each: CBC variants their R+ and
  /// R- (original CBC normalized), RBF W^T split into positive and negative parts, GLVQ
  /// the one-hot component labels.
  cbc::Reasoning reasoning() const;
  /// Reasoning concepts C' (classes for RBF and GLVQ).
  int64_t num_concepts() const;
  /// The class of concept c.
  int64_t concept_class(int64_t c) const { return c / concepts_per_class(); }
  int64_t concepts_per_class() const;
  bool uses_reasoning() const;
  /// RBF weights as used (row-softmaxed when normalized) [C, K].
  Tensor rbf_weights() const;

 private:
  Tensor sigma_min() const;
  /// Certified value in distance units converted to an L2 radius.
  Tensor to_radius(const Tensor& value, const CbcOutput& out) const;
  CbcOptions options_;
  Tensor components_, sigma_, theta_, q_, weights_;
};

}  // namespace glassbox::models
