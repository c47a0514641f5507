#pragma once
// Softmax family and losses, with PyTorch's argument conventions.
#include <string>

#include "engine/tensor.h"

namespace glassbox::ops {

Tensor softmax(const Tensor& x, int dim);
Tensor log_softmax(const Tensor& x, int dim);

enum class Reduction { none, mean, sum };

/// logits [N, C] (or [N, C, d1...]); target i64 class indices [N] (or [N, d1...]).
/// Targets equal to ignore_index contribute nothing and are excluded from the mean.
/// label_smoothing in [0, 1) mixes the one-hot target with the uniform distribution.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::mean,
                     int64_t ignore_index = -100, double label_smoothing = 0.0);
/// Negative log-likelihood of log-probabilities [N, C] (or [N, C, d1...]) at i64 targets [N]
/// (or [N, d1...]); ignore_index and the mean as in cross_entropy.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction = Reduction::mean,
                int64_t ignore_index = -100);
/// Squared error; shapes broadcast.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
/// Binary cross-entropy on probabilities in [0, 1] (log clamped at -100 as PyTorch).
Tensor bce_loss(const Tensor& probs, const Tensor& target, Reduction reduction = Reduction::mean);
/// Binary cross-entropy on logits (stable).
Tensor bce_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::mean);

}  // namespace glassbox::ops
