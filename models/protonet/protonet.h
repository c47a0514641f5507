#pragma once
// ProtoNet: Li, Liu, Chen & Rudin, "Deep Learning for Case-Based Reasoning through
// Prototypes: A Neural Network that Explains Its Predictions", AAAI 2018
// (official code OscarcarLi/PrototypeDL, CAE_MNIST.py).
//
// An autoencoder whose latent space holds m learned prototype vectors. A prediction
// is made only from the squared distances of the input's latent code to the
// prototypes (logits = D W), and every prototype can be decoded into an image, so
// the network explains itself as "this looks like prototype j".
#include <string>

#include "engine/nn/module.h"
#include "engine/ops/random.h"
#include "engine/tensor.h"

namespace glassbox::models {

struct ProtoNetOptions {
  int64_t image_size = 28;       // square single-channel inputs
  int64_t channels = 1;
  int64_t hidden_channels = 32;  // encoder/decoder width (paper: 32)
  int64_t latent_channels = 10;  // last encoder layer (paper: 10; 2x2x10 = 40-d latent)
  int64_t num_layers = 4;        // stride-2 convolutions (paper: 4)
  int64_t num_prototypes = 15;   // m (paper: 15)
  int64_t num_classes = 10;
  /// Hidden-layer nonlinearity: "sigmoid" or "relu". The decoder output is always sigmoid.
  std::string activation = "sigmoid";
  /// "deconv" (transposed convolutions, as the paper) or "upsample" (nearest upsampling +
  /// 3x3 convolution, which avoids checkerboard artefacts).
  std::string decoder = "deconv";
  /// Standard deviation of the N(0, std^2) initialisation of conv kernels (paper code: 0.01).
  double init_std = 0.01;
};

/// The four loss terms of Li et al. (2018), section "Cost function".
struct ProtoNetLossWeights {
  double classification = 20.0;  // lambda_class (CE)
  double reconstruction = 1.0;   // lambda (R: sum of squared pixel errors, mean over batch)
  double r1 = 1.0;               // lambda_1: every prototype close to some latent in the batch
  double r2 = 1.0;               // lambda_2: every latent close to some prototype
};

struct ProtoNetOutput {
  Tensor logits;          // [B, classes]
  Tensor distances;       // [B, m] squared L2 distances latent -> prototype
  Tensor latent;          // [B, latent_dim]
  Tensor reconstruction;  // [B, C, H, W] (undefined when not asked for)
};

struct ProtoNetLoss {
  Tensor total;  // scalar to back-propagate
  Tensor classification, reconstruction, r1, r2;  // the terms before weighting, detached (0-d)
};

class ProtoNet : public nn::Module {
 public:
  /// Initialises as the paper's code: conv kernels N(0, init_std^2), biases 0,
  /// prototypes U[0,1)^{m x d}, class weights U[0,1)^{m x K}; draws come from `gen`.
  ProtoNet(const ProtoNetOptions& options, Generator& gen);
  std::string name() const override { return "ProtoNet"; }

  const ProtoNetOptions& options() const { return options_; }
  /// Spatial sizes of the encoder's feature maps, input first (28, 14, 7, 4, 2).
  const std::vector<int64_t>& feature_sizes() const { return sizes_; }
  int64_t latent_dim() const;

  /// Encodes images [B, C, H, W] to latent codes [B, latent_dim].
  Tensor encode(const Tensor& images) const;
  /// Decodes latent codes [B, latent_dim] to images [B, C, H, W] in [0, 1].
  Tensor decode(const Tensor& latent) const;
  /// The full forward pass; the reconstruction is computed when `reconstruct`.
  ProtoNetOutput forward(const Tensor& images, bool reconstruct = true) const;
  /// lambda_class CE + lambda R + lambda_1 R1 + lambda_2 R2 for a batch.
  ProtoNetLoss loss(const ProtoNetOutput& out, const Tensor& images, const Tensor& labels,
                    const ProtoNetLossWeights& weights) const;

  const Tensor& prototypes() const { return prototypes_; }
  const Tensor& class_weights() const { return class_weights_; }

 private:
  Tensor activate(const Tensor& x) const;
  ProtoNetOptions options_;
  std::vector<int64_t> sizes_;
  /// A convolution's weight and bias, registered as a child so the state dict reads
  /// "encoder.0.weight" like PyTorch's.
  struct ConvParams : nn::Module {
    ConvParams(const Tensor& w, const Tensor& b) {
      weight = register_parameter("weight", w);
      bias = register_parameter("bias", b);
    }
    std::string name() const override { return "ConvParams"; }
    Tensor weight, bias;
  };
  nn::Module encoder_, decoder_;
  std::vector<std::shared_ptr<ConvParams>> enc_, dec_;
  Tensor prototypes_, class_weights_;
};

}  // namespace glassbox::models
