// View and layout ops: new shapes and strides over the same storage, each with
// its gradient beside it.
#include <atomic>
#include <numeric>
#include <optional>
#include <stdexcept>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/op_utils.h"

namespace glassbox {

namespace {

Tensor alias(const Tensor& t, const Shape& shape, const Strides& strides, int64_t offset) {
  return make_tensor(t.storage(), shape, strides, offset, t.dtype());
}

Shape infer_shape(const Shape& requested, int64_t numel, const char* op) {
  Shape s = requested;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) throw std::invalid_argument(std::string(op) + ": only one dimension can be -1 in " + requested.str());
      infer = i;
    } else if (s[i] < 0) {
      throw std::invalid_argument(std::string(op) + ": invalid size in " + requested.str());
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      throw std::invalid_argument(std::string(op) + ": shape " + requested.str() + " is invalid for " +
                                  std::to_string(numel) + " elements");
    s[infer] = numel / known;
  }
  if (s.product() != numel)
    throw std::invalid_argument(std::string(op) + ": shape " + requested.str() + " is invalid for " +
                                std::to_string(numel) + " elements");
  return s;
}

// Strides for viewing (old_shape, old_strides) as new_shape without copying, if possible.
// Walks chunks of dims that are contiguous with each other and matches them to the new dims.
std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides, const Shape& new_shape) {
  Strides out = Dims::filled(new_shape.size(), 1);
  if (old_shape.product() == 0 || old_shape.empty()) return contiguous_strides(new_shape);
  int view_d = new_shape.size() - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int d = old_shape.size() - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    if (d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

Tensor view_backward_to(const Tensor& grad, const Shape& shape) { return grad.reshape(shape); }

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  Shape shape = infer_shape(requested, numel(), "view");
  auto strides = view_strides(this->shape(), this->strides(), shape);
  if (!strides)
    throw std::invalid_argument("view: shape " + requested.str() + " is incompatible with the layout of a tensor of shape " +
                                this->shape().str() + " (call reshape() or contiguous() first)");
  Tensor out = alias(*this, shape, *strides, offset());
  Shape in_shape = this->shape();
  return record(OpKind::view, {this}, out, [in_shape](const Tensor& g) -> std::vector<Tensor> {
    return {view_backward_to(g, in_shape)};
  });
}

Tensor Tensor::reshape(const Shape& requested) const {
  Shape shape = infer_shape(requested, numel(), "reshape");
  if (view_strides(this->shape(), this->strides(), shape)) return view(shape);
  return contiguous().view(shape);
}

Tensor Tensor::permute(const std::vector<int>& dims) const {
  const int r = dim();
  if (int(dims.size()) != r)
    throw std::invalid_argument("permute: got " + std::to_string(dims.size()) + " dims for a tensor of rank " +
                                std::to_string(r));
  Shape shape;
  Strides strides;
  std::vector<int> inverse(size_t(r), -1);
  for (int i = 0; i < r; ++i) {
    int d = ops::normalize_dim(dims[size_t(i)], r, "permute");
    if (inverse[size_t(d)] != -1) throw std::invalid_argument("permute: dim " + std::to_string(d) + " repeated");
    inverse[size_t(d)] = i;
    shape.push_back(this->shape()[d]);
    strides.push_back(this->strides()[d]);
  }
  Tensor out = alias(*this, shape, strides, offset());
  return record(OpKind::permute, {this}, out, [inverse](const Tensor& g) -> std::vector<Tensor> {
    return {g.permute(inverse)};
  });
}

Tensor Tensor::transpose(int d0, int d1) const {
  const int r = dim();
  d0 = ops::normalize_dim(d0, r, "transpose");
  d1 = ops::normalize_dim(d1, r, "transpose");
  std::vector<int> dims(static_cast<size_t>(r));
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[size_t(d0)], dims[size_t(d1)]);
  return permute(dims);
}

Tensor Tensor::slice(int d, int64_t start, int64_t end, int64_t step) const {
  d = ops::normalize_dim(d, dim(), "slice");
  if (step <= 0) throw std::invalid_argument("slice: step must be positive");
  const int64_t n = shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape = this->shape();
  Strides strides = this->strides();
  shape[d] = (end - start + step - 1) / step;
  strides[d] *= step;
  Tensor out = alias(*this, shape, strides, offset() + start * this->strides()[d]);
  Shape in_shape = this->shape();
  return record(OpKind::slice, {this}, out, [in_shape, d, start, end, step](const Tensor& g) -> std::vector<Tensor> {
    Tensor gi = Tensor::zeros(in_shape, {g.dtype(), g.device()});
    gi.slice(d, start, end, step).copy_(g);
    return {gi};
  });
}

Tensor Tensor::narrow(int d, int64_t start, int64_t length) const {
  d = ops::normalize_dim(d, dim(), "narrow");
  if (start < 0) start += shape()[d];
  if (start < 0 || length < 0 || start + length > shape()[d])
    throw std::invalid_argument("narrow: [" + std::to_string(start) + ", " + std::to_string(start + length) +
                                ") is outside dim " + std::to_string(d) + " of size " + std::to_string(shape()[d]));
  return slice(d, start, start + length);
}

Tensor Tensor::select(int d, int64_t i) const {
  d = ops::normalize_dim(d, dim(), "select");
  const int64_t n = shape()[d];
  if (i < -n || i >= n)
    throw std::invalid_argument("select: index " + std::to_string(i) + " out of range for dim " + std::to_string(d) +
                                " of size " + std::to_string(n));
  if (i < 0) i += n;
  return narrow(d, i, 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& requested) const {
  const int r = dim(), nr = requested.size();
  if (nr < r)
    throw std::invalid_argument("expand: cannot expand shape " + shape().str() + " to fewer dims " + requested.str());
  Shape shape;
  Strides strides;
  for (int i = 0; i < nr; ++i) {
    int src = i - (nr - r);
    int64_t want = requested[i];
    if (src < 0) {
      if (want < 0) throw std::invalid_argument("expand: -1 not allowed for new leading dims in " + requested.str());
      shape.push_back(want);
      strides.push_back(0);
      continue;
    }
    int64_t have = this->shape()[src];
    if (want == -1 || want == have) {
      shape.push_back(have);
      strides.push_back(this->strides()[src]);
    } else if (have == 1) {
      shape.push_back(want);
      strides.push_back(0);
    } else {
      throw std::invalid_argument("expand: cannot expand shape " + this->shape().str() + " to " + requested.str());
    }
  }
  if (shape == this->shape()) return *this;
  Tensor out = alias(*this, shape, strides, offset());
  // The engine sums the gradient back to the input's shape.
  return record(OpKind::expand, {this}, out, [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

Tensor Tensor::squeeze(int d) const {
  d = ops::normalize_dim(d, dim(), "squeeze");
  if (shape()[d] != 1) return *this;
  Shape s = shape();
  s.erase(d);
  return view(s);
}

Tensor Tensor::squeeze() const {
  Shape s;
  for (int64_t x : shape())
    if (x != 1) s.push_back(x);
  return s == shape() ? *this : view(s);
}

Tensor Tensor::unsqueeze(int d) const {
  d = ops::normalize_dim(d, dim() + 1, "unsqueeze");
  Shape s = shape();
  s.insert(d, 1);
  return view(s);
}

Tensor Tensor::flatten(int start_dim, int end_dim) const {
  if (dim() == 0) return reshape({1});
  start_dim = ops::normalize_dim(start_dim, dim(), "flatten");
  end_dim = ops::normalize_dim(end_dim, dim(), "flatten");
  if (start_dim > end_dim) throw std::invalid_argument("flatten: start_dim after end_dim");
  Shape s;
  for (int i = 0; i < start_dim; ++i) s.push_back(shape()[i]);
  int64_t p = 1;
  for (int i = start_dim; i <= end_dim; ++i) p *= shape()[i];
  s.push_back(p);
  for (int i = end_dim + 1; i < dim(); ++i) s.push_back(shape()[i]);
  return reshape(s);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  Tensor out = Tensor::empty(shape(), {dtype(), device()});
  ops::backend_of(*this).copy(view(), out.view());
  return record(OpKind::contiguous, {this}, out, [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

Tensor Tensor::clone() const {
  Tensor out = Tensor::empty(shape(), {dtype(), device()});
  ops::backend_of(*this).copy(view(), out.view());
  return record(OpKind::clone, {this}, out, [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = Tensor::empty(shape(), {target, device()});
  ops::backend_of(*this).copy(view(), out.view());
  if (!is_floating(target)) return out;
  DType source = dtype();
  return record(OpKind::to_dtype, {this}, out, [source](const Tensor& g) -> std::vector<Tensor> {
    return {g.to(source)};
  });
}

namespace {
std::atomic<uint64_t> device_to_host_copy_count{0};
}  // namespace

uint64_t device_to_host_copies() { return device_to_host_copy_count.load(); }

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  if (!device().is_cpu()) ++device_to_host_copy_count;  // to the host, or through it to another device
  Tensor src = contiguous();
  Tensor out = Tensor::empty(shape(), {dtype(), target});
  const size_t nbytes = size_t(numel()) * dtype_size(dtype());
  if (target.is_cpu()) {
    ops::backend_of(src).copy_to_host(out.view().data, src.view().data, nbytes);
  } else if (src.device().is_cpu()) {
    kernels::backend_for(target).copy_from_host(out.view().data, src.view().data, nbytes);
  } else {
    Tensor host = src.to(Device::cpu());
    kernels::backend_for(target).copy_from_host(out.view().data, host.view().data, nbytes);
  }
  Device source = device();
  return record(OpKind::to_device, {this}, out, [source](const Tensor& g) -> std::vector<Tensor> {
    return {g.to(source)};
  });
}

}  // namespace glassbox
