#pragma once
// Module: the base of every layer and model, as in PyTorch. A module registers its
// parameters, buffers and child modules under names; the recursive listings, the
// state_dict ("child.weight" keys) and train()/eval() all follow from that.
//
// Modules are neither copyable nor movable: a parent keeps pointers to the children it
// registered, which may be its own members. Owned children are held by shared_ptr.
// Registered tensors are handles: keep the returned Tensor in a member; load_state_dict
// and to() change the data in place, so every handle sees the new values.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/nn/parameter.h"
#include "engine/tensor.h"

namespace glassbox::nn {

using StateDict = std::map<std::string, Tensor>;

/// What load_state_dict found besides the keys it loaded (empty when strict succeeds).
struct LoadResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// The type's name for messages ("Linear").
  virtual std::string name() const { return "Module"; }

  /// Registers a leaf tensor as a parameter (sets requires_grad) and returns its handle.
  Parameter register_parameter(const std::string& name, const Tensor& tensor, bool requires_grad = true);
  /// Registers a non-trainable tensor saved in the state_dict (e.g. running statistics).
  Tensor register_buffer(const std::string& name, const Tensor& tensor);
  /// Registers a child that lives elsewhere (usually a member); it must outlive this module.
  template <class M>
  M& register_module(const std::string& name, M& child) {
    add_child(name, &child);
    return child;
  }
  /// Registers a child this module keeps alive.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child.get());
    owned_.push_back(child);
    return child;
  }

  /// Parameters of this module and (when recurse) its descendants, as "child.name";
  /// a tensor registered twice is listed once.
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Module*>> named_children() const { return children_; }
  /// This module (named "") and every descendant, depth first in registration order.
  std::vector<std::pair<std::string, Module*>> named_modules();
  /// The number of parameter elements.
  int64_t num_parameters(bool trainable_only = false) const;

  /// Training mode (the default) or evaluation mode, for this module and its descendants.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// Every parameter and buffer by its dotted name; the tensors share this module's data.
  StateDict state_dict() const;
  /// Copies values from `state` into the parameters and buffers. Shapes must match. When
  /// strict, missing and unexpected keys are errors too; the error lists every problem
  /// and nothing is loaded.
  LoadResult load_state_dict(const StateDict& state, bool strict = true);

  /// Moves parameters, buffers and gradients to `device`, in place.
  Module& to(Device device);
  /// Where the parameters live (the first parameter's device; the CPU when there are none).
  Device device() const;
  /// Converts floating parameters and buffers (and gradients) to `dtype`, in place.
  Module& to(DType dtype);
  /// Drops every parameter's gradient.
  void zero_grad();

 private:
  void add_child(const std::string& name, Module* child);
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, bool params, bool recurse,
               std::vector<std::pair<std::string, Tensor>>& out) const;

  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
  std::vector<std::shared_ptr<Module>> owned_;
  bool training_ = true;
};

/// A module mapping one tensor to one tensor: every layer, and what Sequential chains.
class UnaryModule : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};

}  // namespace glassbox::nn
