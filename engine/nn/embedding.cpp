#include "engine/nn/embedding.h"

#include <stdexcept>
#include <string>

#include "engine/nn/init.h"
#include "engine/ops/index.h"

namespace glassbox::nn {

Embedding::Embedding(int64_t n, int64_t dim, Generator* gen) : num_embeddings(n), embedding_dim(dim) {
  if (n < 1 || dim < 1)
    throw std::invalid_argument("Embedding: sizes must be positive, got " + std::to_string(n) + " x " +
                                std::to_string(dim));
  weight = register_parameter("weight", Tensor::empty({n, dim}));
  init::normal_(weight, 0.0, 1.0, gen);
}

Tensor Embedding::forward(const Tensor& indices) {
  if (indices.dtype() != DType::i64)
    throw std::invalid_argument(std::string("Embedding: indices must be i64, got ") + dtype_name(indices.dtype()));
  return ops::embedding(weight, indices);
}

}  // namespace glassbox::nn
