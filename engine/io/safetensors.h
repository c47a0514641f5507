#pragma once
// safetensors files (https://github.com/huggingface/safetensors, the format PyTorch,
// JAX and the Hugging Face hub read): an 8-byte little-endian header length, a JSON
// header mapping each tensor name to {"dtype", "shape", "data_offsets"} (plus an
// optional "__metadata__" string map), then the raw little-endian tensor bytes.
#include <map>
#include <string>

#include "engine/tensor.h"

namespace glassbox::io {

using TensorMap = std::map<std::string, Tensor>;
using Metadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  TensorMap tensors;
  Metadata metadata;
};

/// Writes the tensors (any device or layout; dtypes f32, f64, i64, i32, u8, bool) to
/// `path` atomically, never leaving a half-written file.
void save_safetensors(const TensorMap& tensors, const std::string& path, const Metadata& metadata = {});
/// Reads and validates a whole file: header length, JSON, dtypes, shapes and byte
/// ranges (which must tile the data section exactly). Errors name the file and the
/// problem. Tensors are placed on `device`.
SafetensorsFile read_safetensors(const std::string& path, Device device = Device::cpu());
/// The tensors of read_safetensors.
TensorMap load_safetensors(const std::string& path, Device device = Device::cpu());

}  // namespace glassbox::io
