#pragma once
// The optimiser base: parameter groups (each with its own learning rate and weight
// decay), per-parameter state that checkpoints can save and restore exactly, and
// per-parameter hooks: a gradient transform run before the update and a projection
// run after it (CBC clamps reasoning probabilities to [0, 1], TELL renormalises rows).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/tensor.h"

namespace glassbox::optim {

/// Parameters sharing hyperparameters; unset values take the optimiser's defaults.
struct ParamGroup {
  std::vector<Tensor> params;
  std::optional<double> lr = std::nullopt;
  std::optional<double> weight_decay = std::nullopt;
};

/// What an optimiser keeps per parameter: the number of updates applied and named
/// buffers (e.g. "exp_avg"), all of the parameter's shape, dtype and device.
struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor> buffers;
};

/// Maps (gradient, parameter) to the gradient the update will use.
using GradTransform = std::function<Tensor(const Tensor& grad, const Tensor& param)>;
/// Modifies the parameter in place after the update (runs with grad mode off).
using Projection = std::function<void(Tensor& param)>;

/// Tensors by name: what state_dict() gives and what safetensors files hold.
using TensorMap = std::map<std::string, Tensor>;

class Optimizer {
 public:
  struct Group {
    std::vector<Tensor> params;
    double lr = 0;
    double weight_decay = 0;
    std::vector<ParamState> state;  // one per param
  };

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// Clears every parameter's gradient (drops it when set_to_none, else fills zeros).
  void zero_grad(bool set_to_none = true);
  /// One update of every parameter that has a gradient: transforms, update, then
  /// every registered projection.
  void step();

  std::vector<Group>& param_groups() { return groups_; }
  const std::vector<Group>& param_groups() const { return groups_; }
  void add_param_group(const ParamGroup& group);

  /// Hooks run in the order they were registered; `param` must belong to this optimiser.
  /// The transformed gradient also replaces param.grad().
  void add_grad_transform(const Tensor& param, GradTransform transform);
  void add_projection(const Tensor& param, Projection projection);

  /// Named copies of the state: "state.<i>.step" (i64 scalar) and "state.<i>.<buffer>"
  /// for the i-th parameter over all groups in order (parameters never updated have
  /// no entries), and "param_groups.<g>.lr" / ".weight_decay" (f64 scalars).
  TensorMap state_dict() const;
  /// Restores state_dict() output (e.g. read from a checkpoint) into an optimiser over
  /// the same parameters; rejects unknown keys, wrong shapes and incomplete state.
  void load_state_dict(const TensorMap& state);

 protected:
  Optimizer(std::vector<ParamGroup> groups, double default_lr, double default_weight_decay, const char* name);
  /// Applies one update to `param` (contiguous) with `grad` (same dtype, shape, device,
  /// contiguous); st.step has already been incremented.
  virtual void update(const Group& group, Tensor& param, const Tensor& grad, ParamState& st) = 0;
  /// The buffers update() keeps, so load_state_dict can validate a checkpoint.
  virtual std::vector<std::string> state_buffer_names() const = 0;
  /// A zero buffer shaped like param, created on first use.
  static Tensor& buffer(ParamState& st, const Tensor& param, const std::string& name);

 private:
  bool owns(const Tensor& param) const;
  std::vector<Group> groups_;
  double default_lr_, default_weight_decay_;
  const char* name_;
  std::unordered_map<const TensorImpl*, std::vector<GradTransform>> transforms_;
  std::vector<std::pair<Tensor, Projection>> projections_;
};

}  // namespace glassbox::optim
