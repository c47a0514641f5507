#pragma once
// Embedding: a lookup table of vectors, as torch.nn.Embedding.
#include "engine/nn/module.h"
#include "engine/ops/random.h"

namespace glassbox::nn {

class Embedding : public UnaryModule {
 public:
  /// Rows drawn from N(0, 1) (PyTorch's default) using `gen` (default generator if null).
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator* gen = nullptr);
  std::string name() const override { return "Embedding"; }
  /// i64 indices of any shape -> [..., embedding_dim].
  Tensor forward(const Tensor& indices) override;

  const int64_t num_embeddings, embedding_dim;
  Tensor weight;  // [num_embeddings, embedding_dim]
};

}  // namespace glassbox::nn
