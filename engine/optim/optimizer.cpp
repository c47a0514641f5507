#include "engine/optim/optimizer.h"

#include <algorithm>
#include <stdexcept>

#include "engine/autograd/grad_mode.h"

namespace glassbox::optim {

namespace {

/// Splits "state.<i>.<rest>" or "param_groups.<g>.<rest>" into index and rest.
bool parse_indexed_key(const std::string& key, const std::string& prefix, size_t& index, std::string& rest) {
  if (key.rfind(prefix, 0) != 0) return false;
  size_t dot = key.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size() || dot + 1 == key.size()) return false;
  const std::string digits = key.substr(prefix.size(), dot - prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) || digits.size() > 9)
    return false;
  index = std::stoul(digits);
  rest = key.substr(dot + 1);
  return true;
}

Tensor host_scalar(double value, DType dtype) { return Tensor::scalar(value, {dtype, Device::cpu()}); }

}  // namespace

Optimizer::Optimizer(std::vector<ParamGroup> groups, double default_lr, double default_weight_decay,
                     const char* name)
    : default_lr_(default_lr), default_weight_decay_(default_weight_decay), name_(name) {
  for (const ParamGroup& g : groups) add_param_group(g);
}

void Optimizer::add_param_group(const ParamGroup& group) {
  Group g;
  g.lr = group.lr.value_or(default_lr_);
  g.weight_decay = group.weight_decay.value_or(default_weight_decay_);
  if (g.lr < 0) throw std::invalid_argument(std::string(name_) + ": invalid learning rate " + std::to_string(g.lr));
  if (g.weight_decay < 0)
    throw std::invalid_argument(std::string(name_) + ": invalid weight decay " + std::to_string(g.weight_decay));
  for (const Tensor& p : group.params) {
    if (!p.defined()) throw std::invalid_argument(std::string(name_) + ": a parameter is an undefined tensor");
    if (!is_floating(p.dtype()))
      throw std::invalid_argument(std::string(name_) + ": parameters must be floating point, got " +
                                  dtype_name(p.dtype()));
    if (owns(p)) throw std::invalid_argument(std::string(name_) + ": a parameter appears in more than one group");
    g.params.push_back(p);
  }
  g.state.resize(g.params.size());
  groups_.push_back(std::move(g));
}

bool Optimizer::owns(const Tensor& param) const {
  for (const Group& g : groups_)
    for (const Tensor& p : g.params)
      if (p.is_same(param)) return true;
  return false;
}

void Optimizer::add_grad_transform(const Tensor& param, GradTransform transform) {
  if (!owns(param))
    throw std::invalid_argument(std::string(name_) + ": add_grad_transform on a tensor that is not one of its parameters");
  transforms_[param.impl()].push_back(std::move(transform));
}

void Optimizer::add_projection(const Tensor& param, Projection projection) {
  if (!owns(param))
    throw std::invalid_argument(std::string(name_) + ": add_projection on a tensor that is not one of its parameters");
  projections_.emplace_back(param, std::move(projection));
}

void Optimizer::zero_grad(bool set_to_none) {
  for (Group& g : groups_)
    for (Tensor& p : g.params) {
      if (!p.grad().defined()) continue;
      if (set_to_none)
        p.set_grad(Tensor());
      else
        p.grad().zero_();
    }
}

Tensor& Optimizer::buffer(ParamState& st, const Tensor& param, const std::string& name) {
  auto it = st.buffers.find(name);
  if (it == st.buffers.end()) it = st.buffers.emplace(name, Tensor::zeros_like(param)).first;
  return it->second;
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (Group& g : groups_) {
    for (size_t i = 0; i < g.params.size(); ++i) {
      Tensor& p = g.params[i];
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (auto it = transforms_.find(p.impl()); it != transforms_.end()) {
        for (const GradTransform& t : it->second) grad = t(grad, p);
        if (!(grad.shape() == p.shape()))
          throw std::invalid_argument(std::string(name_) + ": a gradient transform returned shape " +
                                      grad.shape().str() + " for a parameter of shape " + p.shape().str());
        p.set_grad(grad);
      }
      if (!p.is_contiguous())
        throw std::invalid_argument(std::string(name_) + ": parameters must be contiguous (shape " +
                                    p.shape().str() + ")");
      if (grad.dtype() != p.dtype()) grad = grad.to(p.dtype());
      if (!(grad.device() == p.device())) grad = grad.to(p.device());
      grad = grad.contiguous();
      ParamState& st = g.state[i];
      ++st.step;
      update(g, p, grad, st);
      p.storage()->bump_version();
    }
  }
  for (auto& [param, projection] : projections_) projection(param);
}

TensorMap Optimizer::state_dict() const {
  NoGradGuard no_grad;
  TensorMap out;
  size_t index = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& g = groups_[gi];
    const std::string group_key = "param_groups." + std::to_string(gi) + ".";
    out[group_key + "lr"] = host_scalar(g.lr, DType::f64);
    out[group_key + "weight_decay"] = host_scalar(g.weight_decay, DType::f64);
    for (const ParamState& st : g.state) {
      const std::string key = "state." + std::to_string(index++) + ".";
      if (st.step == 0) continue;
      out[key + "step"] = host_scalar(double(st.step), DType::i64);
      for (const auto& [name, t] : st.buffers) out[key + name] = t.clone();
    }
  }
  return out;
}

void Optimizer::load_state_dict(const TensorMap& state) {
  NoGradGuard no_grad;
  std::vector<std::pair<Group*, size_t>> flat;  // (group, index in group) per global index
  for (Group& g : groups_)
    for (size_t i = 0; i < g.params.size(); ++i) flat.emplace_back(&g, i);
  const std::vector<std::string> names = state_buffer_names();
  const std::string who = std::string(name_) + ".load_state_dict: ";

  std::vector<ParamState> loaded(flat.size());
  std::vector<double> lrs(groups_.size(), -1), decays(groups_.size(), -1);
  for (const auto& [key, value] : state) {
    size_t index;
    std::string rest;
    if (parse_indexed_key(key, "param_groups.", index, rest)) {
      if (index >= groups_.size())
        throw std::invalid_argument(who + "'" + key + "' names group " + std::to_string(index) + " but there are " +
                                    std::to_string(groups_.size()) + " groups");
      if (value.numel() != 1) throw std::invalid_argument(who + "'" + key + "' must hold one value");
      if (rest == "lr")
        lrs[index] = value.item();
      else if (rest == "weight_decay")
        decays[index] = value.item();
      else
        throw std::invalid_argument(who + "unexpected key '" + key + "'");
    } else if (parse_indexed_key(key, "state.", index, rest)) {
      if (index >= flat.size())
        throw std::invalid_argument(who + "'" + key + "' names parameter " + std::to_string(index) + " but there are " +
                                    std::to_string(flat.size()) + " parameters");
      const Tensor& p = flat[index].first->params[flat[index].second];
      if (rest == "step") {
        if (value.numel() != 1 || value.item() < 1)
          throw std::invalid_argument(who + "'" + key + "' must hold one positive step count");
        loaded[index].step = static_cast<int64_t>(value.item());
      } else if (std::find(names.begin(), names.end(), rest) != names.end()) {
        if (!(value.shape() == p.shape()))
          throw std::invalid_argument(who + "'" + key + "' has shape " + value.shape().str() +
                                      " but the parameter has shape " + p.shape().str());
        Tensor b = Tensor::empty(p.shape(), {p.dtype(), p.device()});
        b.copy_(value);
        loaded[index].buffers[rest] = b;
      } else {
        throw std::invalid_argument(who + "unexpected key '" + key + "'");
      }
    } else {
      throw std::invalid_argument(who + "unexpected key '" + key + "'");
    }
  }
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    if (lrs[gi] < 0 || decays[gi] < 0)
      throw std::invalid_argument(who + "missing or negative lr/weight_decay for group " + std::to_string(gi));
  for (size_t i = 0; i < loaded.size(); ++i) {
    if (loaded[i].step == 0 && !loaded[i].buffers.empty())
      throw std::invalid_argument(who + "state." + std::to_string(i) + " has buffers but no step count");
    if (loaded[i].step > 0)
      for (const std::string& n : names)
        if (!loaded[i].buffers.count(n))
          throw std::invalid_argument(who + "missing key 'state." + std::to_string(i) + "." + n + "'");
  }
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    groups_[gi].lr = lrs[gi];
    groups_[gi].weight_decay = decays[gi];
  }
  for (size_t i = 0; i < flat.size(); ++i) flat[i].first->state[flat[i].second] = std::move(loaded[i]);
}

}  // namespace glassbox::optim
