// Tensor creation, host access, autograd entry points, in-place updates, printing.
#include "engine/tensor.h"

#include <cmath>
#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_utils.h"
#include "engine/ops/reduce.h"

namespace glassbox {

Tensor make_tensor(std::shared_ptr<Storage> storage, const Shape& shape, const Strides& strides, int64_t offset,
                   DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::empty(const Shape& shape, TensorOptions opt) {
  for (int64_t s : shape)
    if (s < 0) throw std::invalid_argument("negative size in shape " + shape.str());
  auto storage = Storage::allocate(size_t(shape.product()) * dtype_size(opt.dtype), opt.device);
  Tensor t = make_tensor(std::move(storage), shape, contiguous_strides(shape), 0, opt.dtype);
  t.impl_->requires_grad = opt.requires_grad;
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, TensorOptions opt) {
  bool rg = opt.requires_grad;
  opt.requires_grad = false;
  Tensor t = empty(shape, opt);
  t.fill_(value);
  t.impl_->requires_grad = rg;
  return t;
}
Tensor Tensor::zeros(const Shape& shape, TensorOptions opt) { return full(shape, 0.0, opt); }
Tensor Tensor::ones(const Shape& shape, TensorOptions opt) { return full(shape, 1.0, opt); }
Tensor Tensor::scalar(double value, TensorOptions opt) { return full(Shape{}, value, opt); }

Tensor Tensor::arange(int64_t n, TensorOptions opt) {
  std::vector<double> v(size_t(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = double(i);
  Tensor d = from_vector(v, Shape{int64_t(v.size())}, {DType::f64, opt.device});
  Tensor t = d.to(opt.dtype);
  t.impl_->requires_grad = opt.requires_grad;
  return t;
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions opt) {
  if (int64_t(values.size()) != shape.product())
    throw std::invalid_argument("from_vector: " + std::to_string(values.size()) + " values do not fill shape " +
                                shape.str());
  TensorOptions host{dtype_of<T>(), Device::cpu(), false};
  Tensor t = empty(shape, host);
  if constexpr (std::is_same_v<T, bool>) {
    auto* p = static_cast<bool*>(t.storage()->data());
    for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  } else {
    if (!values.empty()) std::memcpy(t.storage()->data(), values.data(), values.size() * sizeof(T));
  }
  if (opt.dtype != host.dtype) t = t.to(opt.dtype);
  if (!(opt.device == host.device)) t = t.to(opt.device);
  t.impl_->requires_grad = opt.requires_grad;
  return t;
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&, TensorOptions);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&, TensorOptions);
template Tensor Tensor::from_vector(const std::vector<int64_t>&, const Shape&, TensorOptions);
template Tensor Tensor::from_vector(const std::vector<int32_t>&, const Shape&, TensorOptions);
template Tensor Tensor::from_vector(const std::vector<uint8_t>&, const Shape&, TensorOptions);
template Tensor Tensor::from_vector(const std::vector<bool>&, const Shape&, TensorOptions);

Tensor Tensor::empty_like(const Tensor& t) { return empty(t.shape(), {t.dtype(), t.device()}); }
Tensor Tensor::zeros_like(const Tensor& t) { return zeros(t.shape(), {t.dtype(), t.device()}); }
Tensor Tensor::ones_like(const Tensor& t) { return ones(t.shape(), {t.dtype(), t.device()}); }

int64_t Tensor::size(int d) const { return shape()[ops::normalize_dim(d, dim(), "size")]; }

bool Tensor::is_contiguous() const { return view().is_contiguous(); }

kernels::View Tensor::view() const {
  kernels::View v;
  v.data = static_cast<char*>(impl_->storage->data()) + impl_->offset * int64_t(dtype_size(impl_->dtype));
  v.dtype = impl_->dtype;
  v.shape = impl_->shape;
  v.strides = impl_->strides;
  return v;
}

template <class T>
T* Tensor::data_ptr() const {
  if (!device().is_cpu()) throw std::runtime_error("data_ptr() on a " + device().str() + " tensor; call .to(cpu) first");
  if (dtype_of<T>() != dtype())
    throw std::invalid_argument(std::string("data_ptr<") + dtype_name(dtype_of<T>()) + ">() on a " + dtype_name(dtype()) +
                                " tensor");
  return static_cast<T*>(view().data);
}
template float* Tensor::data_ptr() const;
template double* Tensor::data_ptr() const;
template int64_t* Tensor::data_ptr() const;
template int32_t* Tensor::data_ptr() const;
template uint8_t* Tensor::data_ptr() const;
template bool* Tensor::data_ptr() const;

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = detach().to(Device::cpu()).to(dtype_of<T>()).contiguous();
  const T* p = c.data_ptr<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int64_t> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;

double Tensor::item() const {
  if (numel() != 1) throw std::invalid_argument("item() on a tensor with " + std::to_string(numel()) + " elements");
  return to_vector<double>()[0];
}

// ---- Autograd -------------------------------------------------------------------------

Tensor& Tensor::set_requires_grad(bool value) {
  if (!is_leaf())
    throw std::invalid_argument("set_requires_grad on a non-leaf tensor; use detach() to make a new leaf");
  if (value && !is_floating(dtype()))
    throw std::invalid_argument(std::string("only floating tensors can require grad, not ") + dtype_name(dtype()));
  impl_->requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const { return impl_->grad ? Tensor(impl_->grad) : Tensor(); }
void Tensor::set_grad(const Tensor& g) { impl_->grad = g.defined() ? g.impl_ptr() : nullptr; }

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  Tensor g = gradient;
  if (!g.defined()) {
    if (numel() != 1)
      throw std::invalid_argument("backward() without a gradient needs a one-element tensor; this one has shape " +
                                  shape().str());
    g = Tensor::ones(shape(), {dtype(), device()});
  }
  run_backward({*this}, {g}, retain_graph);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

// ---- In-place -------------------------------------------------------------------------

namespace {
void check_inplace(const Tensor& t, const char* op) {
  if (GradMode::is_enabled() && t.requires_grad())
    throw std::runtime_error(std::string(op) +
                             " on a tensor that requires grad: in-place changes are not recorded; "
                             "do it under NoGradGuard or on a detached tensor");
}
}  // namespace

Tensor& Tensor::fill_(double value) {
  check_inplace(*this, "fill_");
  ops::backend_of(*this).fill(view(), value);
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace(*this, "copy_");
  Tensor s = src.detach();
  if (!(s.device() == device())) s = s.to(device());
  s = s.expand(shape());
  ops::backend_of(*this).copy(s.view(), view());
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  check_inplace(*this, "add_");
  NoGradGuard guard;
  Tensor o = alpha == 1.0 ? other : other * alpha;
  o = o.expand(shape());
  ops::backend_of(*this).binary(kernels::BinaryOp::add, view(), o.view(), view(), {});
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::mul_(double value) {
  check_inplace(*this, "mul_");
  ops::backend_of(*this).unary(kernels::UnaryOp::mul_scalar, view(), view(), {value, 0});
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::mul_(const Tensor& other) {
  check_inplace(*this, "mul_");
  Tensor o = other.detach().expand(shape());
  ops::backend_of(*this).binary(kernels::BinaryOp::mul, view(), o.view(), view(), {});
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::clamp_(double lo, double hi) {
  check_inplace(*this, "clamp_");
  ops::backend_of(*this).unary(kernels::UnaryOp::clamp, view(), view(), {lo, hi});
  storage()->bump_version();
  return *this;
}

// ---- Methods that forward to the op catalog -------------------------------------------

Tensor Tensor::sum() const { return ops::sum(*this); }
Tensor Tensor::sum(const std::vector<int>& dims, bool keepdim) const { return ops::sum(*this, dims, keepdim); }
Tensor Tensor::mean() const { return ops::mean(*this); }
Tensor Tensor::mean(const std::vector<int>& dims, bool keepdim) const { return ops::mean(*this, dims, keepdim); }
Tensor Tensor::pow(double exponent) const { return ops::pow(*this, exponent); }
Tensor Tensor::exp() const { return ops::exp(*this); }
Tensor Tensor::log() const { return ops::log(*this); }
Tensor Tensor::sqrt() const { return ops::sqrt(*this); }
Tensor Tensor::abs() const { return ops::abs(*this); }

// ---- Printing -------------------------------------------------------------------------

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  std::vector<double> v = to_vector<double>();
  const bool integral = !is_floating(dtype());
  const Shape& s = shape();
  const int64_t edge = 3;  // elements shown at each end of a long dim
  os << "tensor(";
  if (s.empty()) {
    os << v[0];
  } else {
    Strides cs = contiguous_strides(s);
    // Recursive printer over dims, eliding the middle of dims longer than 2*edge.
    std::function<void(int, int64_t)> rec = [&](int d, int64_t base) {
      os << "[";
      int64_t n = s[d];
      for (int64_t i = 0; i < n; ++i) {
        if (n > 2 * edge && i == edge) {
          os << "..., ";
          i = n - edge - 1;
          continue;
        }
        if (d + 1 == s.size()) {
          double x = v[size_t(base + i * cs[d])];
          if (integral)
            os << int64_t(x);
          else
            os << std::setprecision(4) << x;
        } else {
          rec(d + 1, base + i * cs[d]);
        }
        if (i + 1 < n) os << ", ";
      }
      os << "]";
    };
    rec(0, 0);
  }
  os << ", shape=" << s.str() << ", dtype=" << dtype_name(dtype());
  if (!device().is_cpu()) os << ", device=" << device().str();
  if (requires_grad()) os << (grad_fn() ? std::string(", grad_fn=") + op_kind_name(grad_fn()->kind()) : ", requires_grad");
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace glassbox
