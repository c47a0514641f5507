#include "engine/nn/module.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "engine/autograd/grad_mode.h"

namespace glassbox::nn {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& i : items) s += (s.empty() ? "" : ", ") + i;
  return "[" + s + "]";
}

std::vector<std::pair<std::string, Tensor>> dedupe(std::vector<std::pair<std::string, Tensor>> all) {
  std::unordered_set<const TensorImpl*> seen;
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& entry : all)
    if (seen.insert(entry.second.impl()).second) out.push_back(std::move(entry));
  return out;
}

/// Replaces t's data by `moved`'s in place, so every handle to t sees it.
void replace_data(const Tensor& t, const Tensor& moved) {
  if (moved.is_same(t)) return;
  TensorImpl* impl = t.impl();
  impl->storage = moved.storage();
  impl->shape = moved.shape();
  impl->strides = moved.strides();
  impl->offset = moved.offset();
  impl->dtype = moved.dtype();
}

}  // namespace

void Module::check_new_name(const std::string& name, const char* what) const {
  if (name.empty() || name.find('.') != std::string::npos)
    throw std::invalid_argument(this->name() + ": invalid " + what + " name '" + name + "' (empty or contains '.')");
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  if (taken(parameters_) || taken(buffers_) || taken(children_))
    throw std::invalid_argument(this->name() + ": the name '" + name + "' is already registered");
}

Parameter Module::register_parameter(const std::string& name, const Tensor& tensor, bool requires_grad) {
  check_new_name(name, "parameter");
  if (!tensor.defined()) throw std::invalid_argument(this->name() + ": parameter '" + name + "' is undefined");
  if (!tensor.is_leaf())
    throw std::invalid_argument(this->name() + ": parameter '" + name + "' must be a leaf tensor (detach() it)");
  Tensor handle = tensor;
  handle.set_requires_grad(requires_grad);
  parameters_.emplace_back(name, handle);
  return Parameter::handle(handle);
}

Tensor Module::register_buffer(const std::string& name, const Tensor& tensor) {
  check_new_name(name, "buffer");
  if (!tensor.defined()) throw std::invalid_argument(this->name() + ": buffer '" + name + "' is undefined");
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, Module* child) {
  check_new_name(name, "module");
  if (!child || child == this) throw std::invalid_argument(this->name() + ": invalid child module '" + name + "'");
  children_.emplace_back(name, child);
}

void Module::collect(const std::string& prefix, bool params, bool recurse,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [n, t] : params ? parameters_ : buffers_) out.emplace_back(prefix + n, t);
  if (recurse)
    for (const auto& [n, child] : children_) child->collect(prefix + n + ".", params, true, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> all;
  collect("", true, recurse, all);
  return dedupe(std::move(all));
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> all;
  collect("", false, recurse, all);
  return dedupe(std::move(all));
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_buffers(recurse)) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out = {{"", this}};
  for (const auto& [n, child] : children_)
    for (auto& [sub, m] : child->named_modules()) out.emplace_back(sub.empty() ? n : n + "." + sub, m);
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (const Tensor& p : parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, child] : children_) child->train(on);
}

StateDict Module::state_dict() const {
  std::vector<std::pair<std::string, Tensor>> all;
  collect("", true, true, all);
  collect("", false, true, all);
  StateDict out;
  for (auto& [n, t] : all) out.emplace(n, t.detach());
  return out;
}

LoadResult Module::load_state_dict(const StateDict& state, bool strict) {
  std::vector<std::pair<std::string, Tensor>> own;
  collect("", true, true, own);
  collect("", false, true, own);
  LoadResult result;
  std::vector<std::string> mismatches;
  std::unordered_set<std::string> own_names;
  for (const auto& [n, t] : own) {
    own_names.insert(n);
    auto it = state.find(n);
    if (it == state.end()) {
      result.missing_keys.push_back(n);
    } else if (!it->second.defined()) {
      mismatches.push_back(n + ": undefined tensor");
    } else if (!(it->second.shape() == t.shape())) {
      mismatches.push_back(n + ": checkpoint " + it->second.shape().str() + " vs module " + t.shape().str());
    }
  }
  for (const auto& [n, t] : state)
    if (!own_names.count(n)) result.unexpected_keys.push_back(n);
  std::string problems;
  if (strict && !result.missing_keys.empty()) problems += "; missing keys " + join(result.missing_keys);
  if (strict && !result.unexpected_keys.empty()) problems += "; unexpected keys " + join(result.unexpected_keys);
  if (!mismatches.empty()) problems += "; shape mismatches " + join(mismatches);
  if (!problems.empty()) throw std::invalid_argument(name() + ".load_state_dict: " + problems.substr(2));
  NoGradGuard no_grad;
  for (auto& [n, t] : own) {
    auto it = state.find(n);
    if (it == state.end()) continue;
    Tensor dst = t;
    dst.copy_(it->second);
  }
  return result;
}

Module& Module::to(Device device) {
  NoGradGuard no_grad;
  for (const Tensor& t : parameters()) {
    replace_data(t, t.detach().to(device));
    if (Tensor g = t.grad(); g.defined()) t.impl()->grad = g.detach().to(device).impl_ptr();
  }
  for (const Tensor& t : buffers()) replace_data(t, t.detach().to(device));
  return *this;
}

Device Module::device() const {
  std::vector<Tensor> params = parameters();
  return params.empty() ? Device::cpu() : params.front().device();
}

Module& Module::to(DType dtype) {
  if (!is_floating(dtype)) throw std::invalid_argument(name() + ".to: modules convert to floating dtypes only");
  NoGradGuard no_grad;
  for (const Tensor& t : parameters()) {
    replace_data(t, t.detach().to(dtype));
    if (Tensor g = t.grad(); g.defined()) t.impl()->grad = g.detach().to(dtype).impl_ptr();
  }
  for (const Tensor& t : buffers())
    if (is_floating(t.dtype())) replace_data(t, t.detach().to(dtype));
  return *this;
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.set_grad(Tensor());
}

}  // namespace glassbox::nn
