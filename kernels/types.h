#pragma once
// Plain value types shared by every layer: element types, devices and small
// fixed-capacity shape arrays. Nothing here allocates, so tensors stay cheap.
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace glassbox {

enum class DType : uint8_t { f32, f64, i64, i32, u8, boolean };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i64: return 8;
    case DType::i32: return 4;
    case DType::u8: return 1;
    case DType::boolean: return 1;
  }
  return 0;
}
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i64: return "i64";
    case DType::i32: return "i32";
    case DType::u8: return "u8";
    case DType::boolean: return "bool";
  }
  return "?";
}
inline bool is_floating(DType t) { return t == DType::f32 || t == DType::f64; }

enum class DeviceType : uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  std::string str() const {
    return type == DeviceType::cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
  }
  static Device cpu() { return {}; }
  static Device cuda(int i = 0) { return {DeviceType::cuda, i}; }
  /// Parses "cpu", "cuda", "cuda:1".
  static Device parse(const std::string& s) {
    if (s == "cpu") return cpu();
    if (s == "cuda") return cuda(0);
    if (s.rfind("cuda:", 0) == 0) return cuda(std::stoi(s.substr(5)));
    throw std::invalid_argument("unknown device '" + s + "' (expected cpu, cuda or cuda:N)");
  }
};

/// A shape or a stride list: up to kMaxDims entries stored inline.
class Dims {
 public:
  static constexpr int kMaxDims = 8;
  Dims() = default;
  Dims(std::initializer_list<int64_t> v) {
    check_rank(static_cast<int>(v.size()));
    for (int64_t x : v) d_[n_++] = x;
  }
  template <class It>
  Dims(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }
  static Dims filled(int n, int64_t value) {
    Dims r;
    for (int i = 0; i < n; ++i) r.push_back(value);
    return r;
  }
  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t& operator[](int i) { return d_[i]; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t back() const { return d_[n_ - 1]; }
  void push_back(int64_t x) {
    check_rank(n_ + 1);
    d_[n_++] = x;
  }
  void insert(int pos, int64_t x) {
    check_rank(n_ + 1);
    for (int i = n_; i > pos; --i) d_[i] = d_[i - 1];
    d_[pos] = x;
    ++n_;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
    --n_;
  }
  const int64_t* begin() const { return d_.data(); }
  const int64_t* end() const { return d_.data() + n_; }
  int64_t* begin() { return d_.data(); }
  int64_t* end() { return d_.data() + n_; }
  int64_t product() const {
    int64_t p = 1;
    for (int i = 0; i < n_; ++i) p *= d_[i];
    return p;
  }
  bool operator==(const Dims& o) const {
    if (n_ != o.n_) return false;
    for (int i = 0; i < n_; ++i)
      if (d_[i] != o.d_[i]) return false;
    return true;
  }
  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < n_; ++i) s += (i ? ", " : "") + std::to_string(d_[i]);
    return s + "]";
  }

 private:
  static void check_rank(int n) {
    if (n > kMaxDims)
      throw std::invalid_argument("tensors have at most " + std::to_string(kMaxDims) + " dimensions");
  }
  std::array<int64_t, kMaxDims> d_{};
  int n_ = 0;
};

using Shape = Dims;
using Strides = Dims;

/// Row-major (C-contiguous) strides for a shape, in elements.
inline Strides contiguous_strides(const Shape& shape) {
  Strides s = Dims::filled(shape.size(), 1);
  for (int i = shape.size() - 2; i >= 0; --i) s[i] = s[i + 1] * (shape[i + 1] > 1 ? shape[i + 1] : 1);
  return s;
}

}  // namespace glassbox
