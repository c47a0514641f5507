#pragma once
// Tensor: a cheap, shared handle to a strided view of device memory, with the
// autograd metadata PyTorch users expect (requires_grad, grad, grad_fn, backward).
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "engine/storage.h"
#include "kernels/backend.h"
#include "kernels/types.h"

namespace glassbox {

class Node;
class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;  // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::f32;
  // Autograd.
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;            // set on outputs of recorded ops
  std::weak_ptr<Node> grad_accumulator;     // for leaves: the node that accumulates .grad
  std::shared_ptr<TensorImpl> grad;
};

template <class T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::u8; }
template <> constexpr DType dtype_of<bool>() { return DType::boolean; }

struct TensorOptions {
  DType dtype = DType::f32;
  Device device = Device::cpu();
  bool requires_grad = false;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- Creation -------------------------------------------------------------------
  static Tensor empty(const Shape& shape, TensorOptions opt = {});
  static Tensor zeros(const Shape& shape, TensorOptions opt = {});
  static Tensor ones(const Shape& shape, TensorOptions opt = {});
  static Tensor full(const Shape& shape, double value, TensorOptions opt = {});
  /// A 0-d tensor holding `value`.
  static Tensor scalar(double value, TensorOptions opt = {});
  /// 0, 1, ..., n-1.
  static Tensor arange(int64_t n, TensorOptions opt = {});
  /// Copies host values into a new CPU tensor of `shape` (numel must match) whose dtype
  /// is T's (float -> f32, int64_t -> i64, ...).
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
    return from_vector(values, shape, TensorOptions{dtype_of<T>()});
  }
  /// The same, converted to opt.dtype and placed on opt.device.
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions opt);
  static Tensor empty_like(const Tensor& t);
  static Tensor zeros_like(const Tensor& t);
  static Tensor ones_like(const Tensor& t);

  // ---- Metadata -------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  const Strides& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  int dim() const { return impl_->shape.size(); }
  /// Size of dim d; negative d counts from the end.
  int64_t size(int d) const;
  int64_t numel() const { return impl_->shape.product(); }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl_->storage; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  /// Whether two handles refer to the same tensor object.
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }
  /// A kernel view of this tensor's memory.
  kernels::View view() const;

  // ---- Host access ------------------------------------------------------------------
  /// Raw pointer to element 0 (CPU tensors, any layout).
  template <class T>
  T* data_ptr() const;
  /// Values in row-major order, converted to T, copied to the host.
  template <class T>
  std::vector<T> to_vector() const;
  /// The single value of a one-element tensor.
  double item() const;

  // ---- Views (share storage; differentiable) --------------------------------------
  /// Same data, new shape; one dim may be -1. Needs a compatible layout (see reshape).
  Tensor view(const Shape& shape) const;
  /// view() when the layout allows, otherwise a contiguous copy.
  Tensor reshape(const Shape& shape) const;
  Tensor permute(const std::vector<int>& dims) const;
  Tensor transpose(int d0, int d1) const;
  /// Transpose of the last two dims.
  Tensor mT() const { return transpose(-2, -1); }
  Tensor narrow(int dim, int64_t start, int64_t length) const;
  /// Elements start, start+step, ... < end along dim (end clamps like Python slicing).
  Tensor slice(int dim, int64_t start, int64_t end, int64_t step = 1) const;
  /// Removes dim by taking index i.
  Tensor select(int dim, int64_t i) const;
  /// Broadcasts size-1 dims (and new leading dims) to `shape`; -1 keeps a size.
  Tensor expand(const Shape& shape) const;
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor squeeze(int dim) const;
  Tensor squeeze() const;
  Tensor unsqueeze(int dim) const;
  Tensor flatten(int start_dim = 0, int end_dim = -1) const;
  /// This tensor if contiguous, else a contiguous copy.
  Tensor contiguous() const;

  // ---- Conversion -------------------------------------------------------------------
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  /// A copy with its own storage (differentiable).
  Tensor clone() const;

  // ---- Autograd ---------------------------------------------------------------------
  bool requires_grad() const { return impl_->requires_grad; }
  /// Marks a leaf as needing gradients; returns *this for chaining.
  Tensor& set_requires_grad(bool value = true);
  /// The accumulated gradient (undefined until a backward reaches this leaf).
  Tensor grad() const;
  void set_grad(const Tensor& g);
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  /// Back-propagates from this tensor. Without `gradient` the tensor must have one element.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  /// Same data, cut from the graph.
  Tensor detach() const;

  // ---- In-place (bump the version counter; not recorded by autograd) -----------------
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0); }
  /// Copies `src` (broadcast to this shape, converted to this dtype and device).
  Tensor& copy_(const Tensor& src);
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  Tensor& mul_(double value);
  Tensor& mul_(const Tensor& other);
  Tensor& clamp_(double lo, double hi);

  // ---- Common ops as methods (the full catalog is in engine/ops) --------------------
  Tensor sum() const;
  Tensor sum(const std::vector<int>& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<int>& dims, bool keepdim = false) const;
  Tensor pow(double exponent) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor matmul(const Tensor& other) const;

  /// "tensor([[1, 2], [3, 4]], shape=[2, 2], dtype=f32)" with long tensors elided.
  std::string str() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Arithmetic operators (broadcasting, differentiable); defined in engine/ops/elementwise.cpp.
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);

/// Builds a tensor around existing storage (used by views and loaders).
Tensor make_tensor(std::shared_ptr<Storage> storage, const Shape& shape, const Strides& strides, int64_t offset,
                   DType dtype);

/// How many copies from a device to the host this process has made (Tensor::to(cpu), item(),
/// to_vector() of a device tensor). Each waits for the device to finish its queued work, so a
/// training step that makes one stalls a GPU: `glassbox bench` reports them per step.
uint64_t device_to_host_copies();


}  // namespace glassbox
