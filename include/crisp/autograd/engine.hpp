// The backward engine: from a tensor's node, runs every reachable backward rule once, in
// dependency order, summing gradients where a tensor was used more than once, and frees the
// graph as it goes (unless retain_graph).
#pragma once

#include <unordered_map>
#include <vector>

#include "crisp/autograd/node.hpp"
#include "crisp/backend/elementwise.hpp"

// The engine knows nothing of devices: it copies, adds and seeds gradients through the dispatch
// layer's primitives, which run wherever the gradients live.
namespace crisp::autograd {

template <class T>
Tensor<T> copy_contiguous(const Tensor<T>& g) {
  Tensor<T> y = Tensor<T>::empty(g.shape(), g.device());
  backend::copy(y, g);
  return y;
}

// A fresh a + b (b broadcast to a's shape).
template <class T>
Tensor<T> sum_of(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = Tensor<T>::empty(a.shape(), a.device());
  backend::binary(BinaryOp::Add, y, a, b);
  return y;
}

template <class T>
std::vector<Tensor<T>> AccumulateGrad<T>::accumulate(const Tensor<T>& g) {
  auto impl = leaf.lock();
  if (!impl || !g.defined()) return {};
  if (!impl->grad) {
    // A first gradient that nothing else can see (the engine's reference is the only one, it owns
    // its whole contiguous storage, and it records no graph) becomes .grad as it is; any other is
    // copied, since it may alias a tensor the user or another node still holds.
    const auto& gi = g.impl_ptr();
    const bool exclusive = gi.use_count() == 1 && gi->storage.use_count() == 1 && gi->grad_fn == nullptr &&
                           !gi->requires_grad && g.is_contiguous() && g.storage_offset() == 0 &&
                           g.numel() == gi->storage->numel() && g.shape() == impl->shape &&
                           g.device() == Tensor<T>(impl).device();
    impl->grad = exclusive ? gi : copy_contiguous(g).impl_ptr();
  } else {
    Tensor<T> acc(impl->grad);
    backend::binary(BinaryOp::Add, acc, acc, g);
  }
  return {};
}

template <class T>
void run_backward(const std::shared_ptr<Node<T>>& root, const Tensor<T>& root_grad, bool retain_graph) {
  NoGradGuard no_grad;
  // Discover the graph and count, for each node, the edges that point at it.
  std::vector<std::shared_ptr<Node<T>>> nodes{root};
  std::unordered_map<Node<T>*, int> deps;
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node<T>* n = nodes[i].get();
    CRISP_CHECK(!n->released, AutogradError, "backward",
                "the graph through '", n->name, "' was already freed by an earlier backward; "
                "pass retain_graph=true to the first backward to run it twice");
    for (const auto& c : n->next) {
      if (!c) continue;
      if (deps[c.get()]++ == 0) nodes.push_back(c);
    }
  }
  std::unordered_map<Node<T>*, Tensor<T>> pending;
  pending[root.get()] = root_grad;
  std::vector<Node<T>*> ready{root.get()};
  while (!ready.empty()) {
    Node<T>* n = ready.back();
    ready.pop_back();
    Tensor<T> g = pending[n];
    pending.erase(n);
    std::vector<Tensor<T>> grads;
    if (g.defined()) grads = n->apply(g);
    for (size_t i = 0; i < n->next.size(); ++i) {
      Node<T>* c = n->next[i].get();
      if (!c) continue;
      if (i < grads.size() && grads[i].defined()) {
        CRISP_CHECK(n->input_shapes.empty() || grads[i].shape() == n->input_shapes[i], AutogradError, "backward",
                    "rule of '", n->name, "' returned a gradient of shape ", grads[i].shape(), " for input ", i,
                    " of shape ", n->input_shapes[i]);
        Tensor<T>& acc = pending[c];
        acc = acc.defined() ? sum_of(acc, grads[i]) : grads[i];
      }
      if (--deps[c] == 0) ready.push_back(c);
    }
    if (!retain_graph && dynamic_cast<AccumulateGrad<T>*>(n) == nullptr) {
      n->release();
      n->released = true;
    }
  }
}

}  // namespace crisp::autograd

namespace crisp {

template <class T>
void Tensor<T>::backward(const Tensor& grad_output, bool retain_graph) const {
  if constexpr (!is_floating_v<T>) {
    throw AutogradError("backward: integer tensors take no gradients");
  } else {
    CRISP_CHECK(requires_grad(), AutogradError, "backward",
                "expected a tensor that requires grad (a leaf with requires_grad_() or the result of ops on one), "
                "got one that does not");
    Tensor g = grad_output;
    if (!g.defined()) {
      CRISP_CHECK(numel() == 1, AutogradError, "backward",
                  "grad can be implied only for a one-element output, got shape ", shape(),
                  "; pass grad_output of that shape");
      g = Tensor::empty(shape(), device());
      backend::fill(g, T(1));
    }
    CRISP_CHECK(g.shape() == shape(), AutogradError, "backward", "expected grad_output of shape ", shape(), ", got ",
                g.shape());
    CRISP_CHECK(g.device() == device(), AutogradError, "backward", "expected grad_output on ", device(),
                " (the output's device), got one on ", g.device());
    autograd::run_backward(autograd::gradient_edge(*this), g, retain_graph);
  }
}

}  // namespace crisp
