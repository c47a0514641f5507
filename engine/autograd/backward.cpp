// The reverse pass: count how many gradients each node will receive, then run
// nodes whose gradients are complete, summing broadcast gradients back to each
// input's shape on the way.
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/autograd/profiler.h"
#include "engine/ops/op_utils.h"

namespace glassbox {

namespace {

/// Whether `t` is the only tensor on its storage and covers all of it, so that adding into
/// it in place changes nothing anyone else can see.
bool sole_owner(const Tensor& t) {
  return t.impl_ptr().use_count() == 1 && t.storage().use_count() == 1 && t.offset() == 0 && t.is_contiguous() &&
         t.storage()->nbytes() == size_t(t.numel()) * dtype_size(t.dtype());
}

void accumulate(Node* node, Tensor grad) {
  Tensor& buffer = node->grad_buffer_;
  if (!buffer.defined()) {
    buffer = std::move(grad);
  } else if (sole_owner(buffer) && buffer.shape() == grad.shape() && buffer.dtype() == grad.dtype()) {
    // A variable read by many ops (Transformer Programs' residual stream) gets many full-size
    // gradients: summing them into the first one's memory saves a buffer and a pass each.
    buffer.add_(grad);
  } else {
    buffer = buffer + grad;
  }
}

}  // namespace

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph) {
  NoGradGuard no_grad;  // backward formulas are not themselves recorded

  // Dependency counts over the graph reachable from the roots (iterative DFS).
  std::vector<Node*> stack;
  std::vector<std::shared_ptr<Node>> root_nodes;
  std::unordered_set<Node*> seen;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    if (!r.requires_grad())
      throw std::runtime_error("backward on a tensor that does not require grad and has no grad_fn");
    std::shared_ptr<Node> n = r.grad_fn();
    if (!n) {
      // A leaf: accumulate straight into its gradient.
      Edge e{r.impl()->grad_accumulator.lock(), r.shape(), r.dtype()};
      if (!e.node) {
        e.node = std::make_shared<AccumulateGrad>(r.impl_ptr());
        r.impl()->grad_accumulator = e.node;
      }
      n = e.node;
    }
    root_nodes.push_back(n);
    if (seen.insert(n.get()).second) {
      n->pending_ = 0;
      stack.push_back(n.get());
    }
  }
  std::vector<Node*> order;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    order.push_back(n);
    for (const Edge& e : n->next_edges()) {
      if (!e.node) continue;
      if (seen.insert(e.node.get()).second) {
        e.node->pending_ = 0;
        stack.push_back(e.node.get());
      }
      ++e.node->pending_;
    }
  }

  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& g = grads[i];
    if (!(g.shape() == roots[i].shape()))
      throw std::invalid_argument("backward: gradient shape " + g.shape().str() + " does not match tensor shape " +
                                  roots[i].shape().str());
    accumulate(root_nodes[i].get(), g);
  }

  std::vector<Node*> ready;
  for (auto& n : root_nodes)
    if (n->pending_ == 0 && std::find(ready.begin(), ready.end(), n.get()) == ready.end()) ready.push_back(n.get());

  const bool profiling = profiler::active();
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    if (profiling) profiler::wait();
    const auto started = profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    Tensor grad = std::move(n->grad_buffer_);
    n->grad_buffer_ = Tensor();
    std::vector<Tensor> input_grads;
    try {
      input_grads = n->apply(grad);
    } catch (const std::exception& ex) {
      for (Node* m : order) m->grad_buffer_ = Tensor();
      throw std::runtime_error(std::string("in the backward of ") + n->name() + ": " + ex.what());
    }
    if (!retain_graph) n->release();
    const auto& edges = n->next_edges();
    if (!input_grads.empty() && input_grads.size() != edges.size())
      throw std::logic_error(std::string("backward of ") + n->name() + " returned " +
                             std::to_string(input_grads.size()) + " gradients for " + std::to_string(edges.size()) +
                             " inputs");
    for (size_t i = 0; i < edges.size(); ++i) {
      const Edge& e = edges[i];
      if (!e.node) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        Tensor g = ops::sum_to(input_grads[i], e.shape);
        if (g.dtype() != e.dtype) g = g.to(e.dtype);
        accumulate(e.node.get(), std::move(g));
      }
      if (--e.node->pending_ == 0) {
        if (e.node->grad_buffer_.defined()) {
          ready.push_back(e.node.get());
        } else {
          // No gradient flowed here; still release its inputs' counts.
          std::vector<Node*> skip{e.node.get()};
          while (!skip.empty()) {
            Node* s = skip.back();
            skip.pop_back();
            if (!retain_graph) s->release();
            for (const Edge& se : s->next_edges())
              if (se.node && --se.node->pending_ == 0) {
                if (se.node->grad_buffer_.defined())
                  ready.push_back(se.node.get());
                else
                  skip.push_back(se.node.get());
              }
          }
        }
      }
    }
    if (profiling) profiler::wait();
    if (profiling)
      profiler::backward_done(
          n->name(), std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
  }
  if (profiling) profiler::mark();
}

}  // namespace glassbox
