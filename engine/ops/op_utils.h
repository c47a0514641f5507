#pragma once
// Helpers every op file uses: shape checks, broadcasting, dim normalisation and
// kernel dispatch. Kernels do arithmetic; ops do shapes, dispatch and gradients.
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "kernels/registry.h"

namespace glassbox::ops {

/// The backend that owns t's memory.
inline kernels::Backend& backend_of(const Tensor& t) { return kernels::backend_for(t.device()); }

/// Maps a possibly negative dim into [0, rank); throws naming `op` when out of range.
int normalize_dim(int dim, int rank, const char* op);
/// NumPy/PyTorch broadcasting of two shapes; throws naming `op` when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
/// Sums a gradient over broadcast dims so it has `shape` (the "unbroadcast" step).
Tensor sum_to(const Tensor& grad, const Shape& shape);
/// Throws unless both tensors are on the same device (and, if asked, of the same dtype).
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op);
void check_floating(const Tensor& t, const char* op);
/// A new uninitialised tensor with t's dtype and device.
Tensor empty_like_shape(const Tensor& t, const Shape& shape);
Tensor empty_like_shape(const Tensor& t, const Shape& shape, DType dtype);
/// The shape with size 1 on `dims` (sorted, normalised); with `keepdim` false those
/// dims are then dropped by the caller.
Shape reduced_shape(const Shape& shape, const std::vector<int>& dims);
/// Normalises and de-duplicates dims; empty means every dim.
std::vector<int> normalize_dims(const std::vector<int>& dims, int rank, const char* op);

}  // namespace glassbox::ops
