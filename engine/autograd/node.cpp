#include "engine/autograd/node.h"
#include "engine/autograd/profiler.h"

#include <atomic>
#include <stdexcept>

#include "engine/autograd/grad_mode.h"

namespace glassbox {

namespace {
thread_local bool grad_mode_enabled = true;
std::atomic<uint64_t> next_sequence_nr{0};
}  // namespace

bool GradMode::is_enabled() { return grad_mode_enabled; }
void GradMode::set_enabled(bool enabled) { grad_mode_enabled = enabled; }

const char* op_kind_name(OpKind kind) {
#define GLASSBOX_OP_NAME(name) #name,
  static const char* names[] = {GLASSBOX_ALL_OPS(GLASSBOX_OP_NAME)};
#undef GLASSBOX_OP_NAME
  auto i = static_cast<size_t>(kind);
  return i < sizeof(names) / sizeof(names[0]) ? names[i] : "?";
}

Node::Node(OpKind kind, std::vector<Edge> next, BackwardFn fn)
    : kind_(kind), next_(std::move(next)), fn_(std::move(fn)), seq_(next_sequence_nr++) {}

Node::~Node() {
  // Take over the edges of every node that dies with this one, so that destroying a
  // graph of depth n needs a loop of n steps rather than n nested destructor calls.
  std::vector<std::shared_ptr<Node>> dying;
  for (Edge& e : next_)
    if (e.node) dying.push_back(std::move(e.node));
  while (!dying.empty()) {
    std::shared_ptr<Node> n = std::move(dying.back());
    dying.pop_back();
    if (n.use_count() == 1) {
      for (Edge& e : n->next_)
        if (e.node) dying.push_back(std::move(e.node));
    }
  }
}

std::vector<Tensor> Node::apply(const Tensor& grad_output) {
  if (released_)
    throw std::runtime_error(std::string("backward through ") + name() +
                             " a second time: its saved tensors were freed after the first backward "
                             "(pass retain_graph=true to the first backward to keep them)");
  return fn_(grad_output);
}

void Node::release() {
  fn_ = nullptr;
  released_ = true;
}

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf)
    : Node(OpKind::custom_function, {}, nullptr), leaf_(std::move(leaf)) {}

std::vector<Tensor> AccumulateGrad::apply(const Tensor& grad_output) {
  Tensor leaf(leaf_);
  Tensor existing = leaf.grad();
  if (!existing.defined()) {
    // The incoming gradient may be a view of another tensor's memory; own a copy.
    Tensor g = grad_output.shape() == leaf.shape() ? grad_output : grad_output.reshape(leaf.shape());
    leaf.set_grad(g.clone().detach());
  } else {
    existing.add_(grad_output);
  }
  return {};
}

const Tensor& SavedTensor::get() const {
  if (tensor_.defined() && tensor_.storage()->version() != version_)
    throw std::runtime_error("a tensor saved for backward was modified in place (version " +
                             std::to_string(tensor_.storage()->version()) + ", saved at version " +
                             std::to_string(version_) + "); clone it before modifying it");
  return tensor_;
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

namespace {

Edge edge_for(const Tensor& t) {
  Edge e;
  if (!t.defined() || !t.requires_grad()) return e;
  e.shape = t.shape();
  e.dtype = t.dtype();
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) {
    e.node = impl->grad_fn;
  } else {
    e.node = impl->grad_accumulator.lock();
    if (!e.node) {
      e.node = std::make_shared<AccumulateGrad>(t.impl_ptr());
      impl->grad_accumulator = e.node;
    }
  }
  return e;
}

Tensor attach(OpKind kind, std::vector<Edge> edges, Tensor out, BackwardFn fn) {
  TensorImpl* impl = out.impl();
  impl->grad_fn = std::make_shared<Node>(kind, std::move(edges), std::move(fn));
  impl->requires_grad = true;
  return out;
}

}  // namespace

Tensor record(OpKind kind, std::initializer_list<const Tensor*> inputs, Tensor out, BackwardFn fn) {
  if (profiler::active() && grad_mode_enabled) profiler::forward_done(op_kind_name(kind));
  if (!any_requires_grad(inputs)) return out;
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor* t : inputs) edges.push_back(edge_for(*t));
  return attach(kind, std::move(edges), std::move(out), std::move(fn));
}

Tensor record(OpKind kind, const std::vector<Tensor>& inputs, Tensor out, BackwardFn fn) {
  if (profiler::active() && grad_mode_enabled) profiler::forward_done(op_kind_name(kind));
  if (!any_requires_grad(inputs)) return out;
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor& t : inputs) edges.push_back(edge_for(t));
  return attach(kind, std::move(edges), std::move(out), std::move(fn));
}

}  // namespace glassbox
