#pragma once
// Graph nodes. Every recorded op produces one output and one Node; the node
// holds a backward function (a lambda written beside the op's forward in
// engine/ops) that maps the output's gradient to one gradient per input.
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/ops/op_list.h"
#include "engine/tensor.h"

namespace glassbox {

/// Maps the gradient of a node's output to gradients of its inputs, in input order.
/// An undefined Tensor means "no gradient for that input". Returned gradients may
/// have a broadcast-compatible shape; the engine sums them back to the input shape.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct Edge {
  std::shared_ptr<Node> node;  // null when the input needs no gradient
  Shape shape;                 // the input's shape, to undo broadcasting
  DType dtype = DType::f32;
};

class Node {
 public:
  Node(OpKind kind, std::vector<Edge> next, BackwardFn fn);
  /// Tears down long chains of nodes iteratively (a recursive teardown can overflow the stack).
  virtual ~Node();
  OpKind kind() const { return kind_; }
  const char* name() const { return op_kind_name(kind_); }
  const std::vector<Edge>& next_edges() const { return next_; }
  /// Gradients for each input. Throws if the graph was already freed.
  virtual std::vector<Tensor> apply(const Tensor& grad_output);
  /// Frees what backward needed (saved tensors); called after backward unless retained.
  virtual void release();
  uint64_t sequence_nr() const { return seq_; }

  // Scratch state used by the backward engine while it runs.
  int pending_ = 0;
  Tensor grad_buffer_;

 protected:
  OpKind kind_;
  std::vector<Edge> next_;
  BackwardFn fn_;
  bool released_ = false;
  uint64_t seq_;
};

/// The node behind a leaf that requires grad: adds incoming gradients to leaf.grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
  std::vector<Tensor> apply(const Tensor& grad_output) override;
  void release() override {}

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

/// A tensor saved for backward, with the version it had when saved, so that an
/// in-place change before backward is reported instead of giving a wrong gradient.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t) : tensor_(t), version_(t.defined() ? t.storage()->version() : 0) {}
  const Tensor& get() const;

 private:
  Tensor tensor_;
  uint32_t version_ = 0;
};

/// Whether any of the inputs needs a gradient while grad mode is on.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

/// Attaches a new node to `out` whose backward is `fn`, if grad mode is on and any
/// input requires grad. Returns `out`. This is how every op (and every custom
/// function) joins the graph.
Tensor record(OpKind kind, std::initializer_list<const Tensor*> inputs, Tensor out, BackwardFn fn);
Tensor record(OpKind kind, const std::vector<Tensor>& inputs, Tensor out, BackwardFn fn);

/// Runs the reverse pass from `roots` seeded with `grads`.
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph);

}  // namespace glassbox
