// crisp::nn::ModuleT<T> (nn::Module = ModuleT<float>): the base of every network, as libtorch's
// torch::nn::Module. It owns named parameters, buffers and child modules, and from them derives
// the dotted names, state dicts, train/eval mode and gradient resets that a training loop uses.
#pragma once

// Scalar type: a module holds tensors of one type T. nn::Module and every float module name
// (nn::Conv2d, nn::BatchNorm2d, ...) are T = float, exactly libtorch's names; the same modules
// in double precision (for gradcheck) are the *T templates: nn::ModuleT<double>,
// nn::Conv2dT<double>, nn::BatchNorm2dT<double>, ... A module's children share its T.
//
// Ownership: modules are created with std::make_shared (a ModuleHolder does it) and children are
// held by shared_ptr, so a module may appear in several parents (weight tying) and enumerations
// list each parameter and module once, as PyTorch's remove_duplicate=True does.

#include <cxxabi.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "crisp/autograd/grad_mode.hpp"
#include "crisp/nn/ordered_dict.hpp"
#include "crisp/ops/inplace.hpp"
#include "crisp/tensor/device.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::nn {

template <class Impl>
class ModuleHolder;

template <class M>
concept HasContainedType = requires { typename M::ContainedType; };

// The module class behind M: M itself, or the Impl of a holder type (nn::Conv2d -> Conv2dImpl).
template <class M>
struct impl_of {
  using type = M;
};
template <HasContainedType M>
struct impl_of<M> {
  using type = typename M::ContainedType;
};
template <class M>
using impl_of_t = typename impl_of<M>::type;

// What load_state_dict(map, strict = false) skipped, as PyTorch's return value.
struct LoadStateDictResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

template <class T>
class ModuleT : public std::enable_shared_from_this<ModuleT<T>> {
 public:
  using scalar_type = T;
  using ModulePtr = std::shared_ptr<ModuleT>;

  // `name` is the type name shown by name() and printing; empty means the demangled C++ type.
  explicit ModuleT(std::string name = "") : name_(std::move(name)) {}
  virtual ~ModuleT() = default;
  // Not copyable: registered tensors and children are identities, shared through handles.
  ModuleT(const ModuleT&) = delete;
  ModuleT& operator=(const ModuleT&) = delete;

  const std::string& name() const {
    if (name_.empty()) name_ = demangle(typeid(*this).name());
    return name_;
  }

  // ---- registration ------------------------------------------------------------------
  // Registers `tensor` (made a leaf: a non-leaf is detached) and returns the registered handle.
  // An undefined tensor registers the name with no parameter (PyTorch's `bias = None`): it is
  // skipped by parameters() and state_dict().
  Tensor<T> register_parameter(std::string name, Tensor<T> tensor, bool requires_grad = true) {
    check_new_name(name, "register_parameter");
    if (tensor.defined()) {
      if (!tensor.is_leaf()) tensor = tensor.detach();
      tensor.requires_grad_(requires_grad);
    }
    parameters_.insert(std::move(name), tensor);
    return tensor;
  }
  // Buffers are state that is not trained (running statistics); never require grad. A persistent
  // buffer is saved in state_dict(); a non-persistent one (persistent = false, a constant such as
  // an input normalisation) only moves with the module, as in PyTorch.
  Tensor<T> register_buffer(std::string name, Tensor<T> tensor, bool persistent = true) {
    check_new_name(name, "register_buffer");
    if (tensor.defined()) {
      if (!tensor.is_leaf() || tensor.requires_grad()) tensor = tensor.detach();
    }
    if (!persistent) non_persistent_.insert(name);
    buffers_.insert(std::move(name), tensor);
    return tensor;
  }
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    static_assert(std::is_base_of_v<ModuleT, M>, "register_module: the module's scalar type must match its parent's");
    CRISP_CHECK(module != nullptr, ValueError, "register_module", "expected a module for \"", name,
                "\", got an empty one");
    check_new_name(name, "register_module");
    children_.insert(std::move(name), module);
    return module;
  }
  template <class M>
  ModuleHolder<M> register_module(std::string name, ModuleHolder<M> holder) {
    register_module(std::move(name), holder.ptr());
    return holder;
  }
  // Swaps the child registered as `name` for another (libtorch's replace_module).
  template <class M>
  std::shared_ptr<M> replace_module(const std::string& name, std::shared_ptr<M> module) {
    static_assert(std::is_base_of_v<ModuleT, M>, "replace_module: the module's scalar type must match its parent's");
    CRISP_CHECK(children_.contains(name), ValueError, "replace_module", "expected the name of a child of ", this->name(),
                ", got \"", name, "\"");
    children_.insert_or_assign(name, module);
    return module;
  }
  template <class M>
  ModuleHolder<M> replace_module(const std::string& name, ModuleHolder<M> holder) {
    replace_module(name, holder.ptr());
    return holder;
  }

  // ---- enumeration (PyTorch's dotted names, registration order) ----------------------
  OrderedDict<Tensor<T>> named_parameters(bool recurse = true) const {
    return collect_tensors(&ModuleT::parameters_, recurse);
  }
  std::vector<Tensor<T>> parameters(bool recurse = true) const { return named_parameters(recurse).values(); }
  OrderedDict<Tensor<T>> named_buffers(bool recurse = true) const { return collect_tensors(&ModuleT::buffers_, recurse); }
  std::vector<Tensor<T>> buffers(bool recurse = true) const { return named_buffers(recurse).values(); }
  OrderedDict<ModulePtr> named_children() const {
    OrderedDict<ModulePtr> out;
    for (const auto& [n, m] : children_) out.insert(n, m);
    return out;
  }
  std::vector<ModulePtr> children() const { return named_children().values(); }
  // Every module of the tree, pre-order, this one first (named `prefix`, "" by default).
  OrderedDict<ModulePtr> named_modules(const std::string& prefix = "", bool include_self = true) const {
    OrderedDict<ModulePtr> out;
    std::set<const ModuleT*> seen;
    if (include_self) {
      seen.insert(this);
      out.insert(prefix, self_ptr());
    }
    walk_modules(prefix, out, seen);
    return out;
  }
  std::vector<ModulePtr> modules(bool include_self = true) const { return named_modules("", include_self).values(); }

  // Parameters and buffers by dotted name, detached handles sharing storage with the module
  // (what io::save_safetensors takes). Unlike the enumerations, a tensor reachable under two
  // names appears under both, as in PyTorch.
  std::map<std::string, Tensor<T>> state_dict() const {
    std::map<std::string, Tensor<T>> out;
    add_state("", out);
    return out;
  }

  // Copies `state` into the parameters and buffers in place, without recording a graph.
  // Every problem is collected first - missing keys, unexpected keys (both only when strict)
  // and shape mismatches (always) - and reported in one crisp::Error before anything is
  // written, so a failed load leaves the module unchanged.
  LoadStateDictResult load_state_dict(const std::map<std::string, Tensor<T>>& state, bool strict = true) {
    const std::map<std::string, Tensor<T>> own = state_dict();
    LoadStateDictResult result;
    std::vector<std::string> mismatches;
    for (const auto& [key, dst] : own) {
      auto it = state.find(key);
      if (it == state.end()) {
        result.missing_keys.push_back(key);
      } else if (!it->second.defined()) {
        mismatches.push_back(::crisp::detail::str_cat(key, ": expected shape ", dst.shape(), ", got an undefined tensor"));
      } else if (it->second.shape() != dst.shape()) {
        mismatches.push_back(::crisp::detail::str_cat(key, ": expected shape ", dst.shape(), ", got ", it->second.shape()));
      }
    }
    for (const auto& [key, src] : state)
      if (!own.count(key)) result.unexpected_keys.push_back(key);
    const bool key_problems = strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty());
    if (key_problems || !mismatches.empty()) {
      std::ostringstream os;
      os << "load_state_dict: error(s) loading a state dict into " << name() << " (nothing was changed):";
      auto list = [&os](const char* what, const std::vector<std::string>& v) {
        if (v.empty()) return;
        os << "\n  " << what << " (" << v.size() << "):";
        for (const auto& s : v) os << "\n    " << s;
      };
      if (strict) list("missing keys", result.missing_keys);
      if (strict) list("unexpected keys", result.unexpected_keys);
      list("shape mismatches", mismatches);
      throw Error(os.str());
    }
    NoGradGuard no_grad;
    for (const auto& [key, dst] : own) {
      auto it = state.find(key);
      if (it == state.end()) continue;
      Tensor<T> d = dst;
      d.copy_(it->second);
    }
    return result;
  }

  // ---- modes and gradients -----------------------------------------------------------
  virtual void train(bool on = true) {
    training_ = on;
    for (auto& [n, c] : children_) c->train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Resets every parameter's gradient: to undefined (set_to_none, PyTorch's default) or zeros.
  void zero_grad(bool set_to_none = true) {
    NoGradGuard no_grad;
    for (auto& p : parameters()) {
      if (!p.grad().defined()) continue;
      if (set_to_none) p.set_grad(Tensor<T>());
      else p.grad().zero_();
    }
  }

  // Calls fn on this module, then on every descendant, pre-order (as libtorch's apply).
  void apply(const std::function<void(ModuleT&)>& fn) {
    for (auto& [n, m] : named_modules()) fn(*m);
  }
  void apply(const std::function<void(const std::string&, ModuleT&)>& fn, const std::string& prefix = "") {
    for (auto& [n, m] : named_modules(prefix)) fn(n, *m);
  }

  // Whether this module's buffer `name` is saved in state_dict() (register_buffer's persistent).
  bool is_persistent_buffer(const std::string& name) const { return !non_persistent_.contains(name); }

  // Moves every parameter, buffer and gradient to `device` in place: every handle to them (the
  // modules' members, an optimiser's parameter list) sees the new device. Tensors that share
  // storage keep sharing it. A build without CUDA refuses a CUDA device (Storage throws).
  virtual void to(Device device) {
#if !defined(CRISP_WITH_CUDA)
    CRISP_CHECK(device.is_cpu(), Error, "Module::to",
                "this build of crisp has no CUDA backend (CRISP_WITH_CUDA=OFF); expected Device::cpu(), got ", device);
#endif
    NoGradGuard no_grad;
    std::map<const Storage<T>*, std::shared_ptr<Storage<T>>> moved;
    auto move = [&](TensorImpl<T>& impl) {
      if (!impl.storage || impl.storage->device() == device) return;
      auto& dst = moved[impl.storage.get()];
      if (!dst) {
        const Tensor<T> whole = Tensor<T>::view_of(impl.storage, Shape{impl.storage->numel()}, Strides{1}, 0);
        dst = whole.to(device).storage();
      }
      impl.storage = dst;
    };
    std::vector<Tensor<T>> all = parameters();
    for (const auto& b : buffers()) all.push_back(b);
    for (const auto& t : all) {
      move(*t.impl_ptr());
      if (t.impl_ptr()->grad) move(*t.impl_ptr()->grad);
    }
  }
  // The device of the first parameter or buffer (the CPU for a module that has none).
  Device device() const {
    for (const auto& p : parameters()) return p.device();
    for (const auto& b : buffers()) return b.device();
    return Device::cpu();
  }

  // The module as its concrete type (an Impl, or a holder type's Impl), or nullptr.
  template <class M>
  impl_of_t<M>* as() {
    return dynamic_cast<impl_of_t<M>*>(this);
  }
  template <class M>
  const impl_of_t<M>* as() const {
    return dynamic_cast<const impl_of_t<M>*>(this);
  }

  // One line describing this module, without children (PyTorch's extra_repr, with the name).
  virtual void pretty_print(std::ostream& os) const { os << name(); }
  // The tree, as PyTorch prints a module.
  friend std::ostream& operator<<(std::ostream& os, const ModuleT& m) {
    m.print_tree(os, 0);
    return os;
  }

 protected:
  bool training_ = true;

 private:
  static std::string demangle(const char* mangled) {
    int status = 0;
    char* s = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::string out = (status == 0 && s) ? s : mangled;
    std::free(s);
    return out;
  }

  void check_new_name(const std::string& name, const char* op) const {
    CRISP_CHECK(!name.empty(), ValueError, op, "expected a non-empty name, got \"\"");
    CRISP_CHECK(name.find('.') == std::string::npos, ValueError, op, "expected a name without '.', got \"", name, "\"");
    CRISP_CHECK(!parameters_.contains(name) && !buffers_.contains(name) && !children_.contains(name), ValueError, op,
                "expected a name not yet used in ", this->name(), ", got \"", name, "\" which is already registered");
  }

  // shared_ptr to this module; one not owned by a shared_ptr (e.g. on the stack) gets a
  // non-owning pointer, valid while the module lives.
  ModulePtr self_ptr() const {
    auto* self = const_cast<ModuleT*>(this);
    if (auto sp = self->weak_from_this().lock()) return sp;
    return ModulePtr(ModulePtr(), self);
  }

  static std::string join(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "." + name;
  }

  void walk_modules(const std::string& prefix, OrderedDict<ModulePtr>& out, std::set<const ModuleT*>& seen) const {
    for (const auto& [n, c] : children_) {
      if (!seen.insert(c.get()).second) continue;
      out.insert(join(prefix, n), c);
      c->walk_modules(join(prefix, n), out, seen);
    }
  }

  OrderedDict<Tensor<T>> collect_tensors(OrderedDict<Tensor<T>> ModuleT::*which, bool recurse) const {
    OrderedDict<Tensor<T>> out;
    std::set<const TensorImpl<T>*> seen;
    auto add = [&](const std::string& prefix, const ModuleT& m) {
      for (const auto& [n, t] : m.*which)
        if (t.defined() && seen.insert(t.impl_ptr().get()).second) out.insert(join(prefix, n), t);
    };
    if (!recurse) {
      add("", *this);
      return out;
    }
    for (const auto& [prefix, m] : named_modules()) add(prefix, *m);
    return out;
  }

  void add_state(const std::string& prefix, std::map<std::string, Tensor<T>>& out) const {
    for (const auto& [n, t] : parameters_)
      if (t.defined()) out.emplace(join(prefix, n), t.detach());
    for (const auto& [n, t] : buffers_)
      if (t.defined() && !non_persistent_.contains(n)) out.emplace(join(prefix, n), t.detach());
    for (const auto& [n, c] : children_) c->add_state(join(prefix, n), out);
  }

  void print_tree(std::ostream& os, int indent) const {
    pretty_print(os);
    if (children_.is_empty()) return;
    os << "(\n";
    for (const auto& [n, c] : children_) {
      os << std::string(static_cast<size_t>(indent + 2), ' ') << "(" << n << "): ";
      c->print_tree(os, indent + 2);
      os << "\n";
    }
    os << std::string(static_cast<size_t>(indent), ' ') << ")";
  }

  mutable std::string name_;
  OrderedDict<Tensor<T>> parameters_;
  OrderedDict<Tensor<T>> buffers_;
  std::set<std::string> non_persistent_;
  OrderedDict<ModulePtr> children_;
};

using Module = ModuleT<float>;

}  // namespace crisp::nn
