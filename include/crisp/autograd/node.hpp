// A node of the autograd graph: the backward rule of one recorded op, the edges to the nodes
// of its inputs, and what it saved. record() attaches one to an op's result.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crisp/autograd/grad_mode.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::autograd {

// Nodes alive right now; tests use it to prove graphs are freed.
inline std::atomic<int64_t>& live_nodes() {
  static std::atomic<int64_t> n{0};
  return n;
}

template <class T>
struct Node {
  explicit Node(std::string op_name) : name(std::move(op_name)) { ++live_nodes(); }
  virtual ~Node() { --live_nodes(); }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Gradients w.r.t. each input given the gradient of the output (undefined = no gradient).
  virtual std::vector<Tensor<T>> apply(const Tensor<T>& grad_output) = 0;
  // Drops saved tensors and edges once backward has used them.
  virtual void release() { next.clear(); }

  std::string name;
  std::vector<std::shared_ptr<Node<T>>> next;  // one per input; null where no grad flows
  std::vector<Shape> input_shapes;               // checked against the gradients apply returns
  bool released = false;
};

// Sink of a leaf that requires grad: sums incoming gradients into the leaf's .grad(), then runs
// the leaf's post-accumulate hooks (PyTorch's register_post_accumulate_grad_hook), which is how
// DistributedDataParallel learns, during backward, that a parameter's gradient is complete.
template <class T>
struct AccumulateGrad final : Node<T> {
  using Hook = std::function<void(const Tensor<T>& leaf)>;
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl<T>>& leaf) : Node<T>("AccumulateGrad"), leaf(leaf) {}
  std::vector<Tensor<T>> apply(const Tensor<T>& grad) override {
    if (!grad.defined()) return {};
    accumulate(grad);
    if (auto impl = leaf.lock()) {
      const Tensor<T> l(impl);
      for (auto& [id, hook] : post_accumulate_hooks) hook(l);
    }
    return {};
  }
  std::vector<Tensor<T>> accumulate(const Tensor<T>& grad);  // in engine.hpp
  void release() override {}  // a leaf's sink outlives any one graph
  std::weak_ptr<TensorImpl<T>> leaf;
  std::vector<std::pair<uint64_t, Hook>> post_accumulate_hooks;  // (id, hook), run in order
};

// The backward rule of an op as a closure: captured tensors are its saved state.
template <class T>
struct FunctionNode final : Node<T> {
  using Fn = std::function<std::vector<Tensor<T>>(const Tensor<T>&)>;
  FunctionNode(std::string name, Fn f) : Node<T>(std::move(name)), fn(std::move(f)) {}
  std::vector<Tensor<T>> apply(const Tensor<T>& grad) override { return fn(grad); }
  void release() override {
    fn = nullptr;
    this->next.clear();
  }
  Fn fn;
};

template <class T>
std::shared_ptr<Node<T>> gradient_edge(const Tensor<T>& t) {
  if (!t.defined()) return nullptr;
  auto& impl = t.impl();
  if (impl.grad_fn) return impl.grad_fn;
  if (!impl.requires_grad) return nullptr;
  if (!impl.grad_accumulator) impl.grad_accumulator = std::make_shared<AccumulateGrad<T>>(t.impl_ptr());
  return impl.grad_accumulator;
}

// Runs `hook(leaf)` each time backward has summed a gradient into leaf.grad() (once per backward
// that reaches the leaf, after all of that backward's contributions). Returns an id for
// remove_post_accumulate_grad_hook. The hook must not start another backward.
template <class T>
uint64_t register_post_accumulate_grad_hook(const Tensor<T>& leaf, typename AccumulateGrad<T>::Hook hook) {
  static std::atomic<uint64_t> next_id{1};
  CRISP_CHECK(leaf.defined() && leaf.is_leaf() && leaf.requires_grad(), AutogradError,
              "register_post_accumulate_grad_hook", "expected a leaf tensor that requires grad, got ",
              !leaf.defined() ? "an undefined tensor" : (!leaf.is_leaf() ? "a non-leaf" : "one that does not"));
  CRISP_CHECK(hook != nullptr, ValueError, "register_post_accumulate_grad_hook", "expected a hook, got an empty one");
  auto* acc = static_cast<AccumulateGrad<T>*>(gradient_edge(leaf).get());
  const uint64_t id = next_id++;
  acc->post_accumulate_hooks.emplace_back(id, std::move(hook));
  return id;
}
// Removes the hook `id` registered on `leaf`; false when there was none.
template <class T>
bool remove_post_accumulate_grad_hook(const Tensor<T>& leaf, uint64_t id) {
  if (!leaf.defined() || !leaf.impl().grad_accumulator) return false;
  auto& hooks = static_cast<AccumulateGrad<T>*>(leaf.impl().grad_accumulator.get())->post_accumulate_hooks;
  for (auto it = hooks.begin(); it != hooks.end(); ++it)
    if (it->first == id) {
      hooks.erase(it);
      return true;
    }
  return false;
}

// True when an op over these inputs must record a backward node.
template <class T, class... Ts>
bool needs_grad(const Tensor<T>& first, const Ts&... rest) {
  if constexpr (!is_floating_v<T>) {
    return false;
  } else {
    if (!is_grad_enabled()) return false;
    return (first.defined() && first.requires_grad()) || ((rest.defined() && rest.requires_grad()) || ...);
  }
}
template <class T>
bool needs_grad(const std::vector<Tensor<T>>& inputs) {
  if (!is_grad_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

// Makes `output` the result of op `name` over `inputs`, with backward rule `fn` that returns
// one gradient per input. Closures must capture outputs detached (out.detach()), never the
// output handle itself, or the node would keep itself alive.
template <class T, class Fn>
void record(const char* name, Tensor<T>& output, const std::vector<Tensor<T>>& inputs, Fn&& fn) {
  auto node = std::make_shared<FunctionNode<T>>(name, std::forward<Fn>(fn));
  node->next.reserve(inputs.size());
  node->input_shapes.reserve(inputs.size());
  for (const auto& in : inputs) {
    node->next.push_back(gradient_edge(in));
    node->input_shapes.push_back(in.defined() ? in.shape() : Shape{});
  }
  output.impl().grad_fn = std::move(node);
}

}  // namespace crisp::autograd
