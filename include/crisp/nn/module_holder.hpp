// crisp::nn::ModuleHolder<Impl>: the cheap handle users hold (nn::Conv2d wraps a Conv2dImpl),
// as libtorch's ModuleHolder. Copying a holder shares the module and so its parameters; calling
// it runs Impl::forward. CRISP_MODULE(Name) makes `Name` the holder of a user's `NameImpl`.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "crisp/nn/module.hpp"

namespace crisp::nn {

template <class Impl>
class ModuleHolder {
 public:
  using ContainedType = Impl;
  using scalar_type = typename Impl::scalar_type;

  // Default-constructs the module when it has a default constructor (nn::ReLU relu;).
  ModuleHolder()
    requires std::is_default_constructible_v<Impl>
      : impl_(std::make_shared<Impl>()) {}
  // An empty holder, to be assigned later (libtorch's `nn::Conv2d conv{nullptr};`).
  ModuleHolder(std::nullptr_t) {}  // NOLINT: implicit, as libtorch
  // Constructs the module from its constructor's arguments (options, generator, ...).
  template <class Head, class... Tail>
    requires(!std::is_same_v<std::decay_t<Head>, ModuleHolder> && !std::is_same_v<std::decay_t<Head>, std::nullptr_t> &&
             !std::is_same_v<std::decay_t<Head>, std::shared_ptr<Impl>> &&
             std::is_constructible_v<Impl, Head, Tail...>)
  explicit ModuleHolder(Head&& head, Tail&&... tail)
      : impl_(std::make_shared<Impl>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}
  ModuleHolder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}  // NOLINT: implicit, as libtorch

  bool is_empty() const { return impl_ == nullptr; }
  explicit operator bool() const { return impl_ != nullptr; }
  Impl* operator->() const { return get(); }
  Impl& operator*() const { return *get(); }
  Impl* get() const {
    CRISP_CHECK(impl_ != nullptr, Error, "ModuleHolder", "expected a module, got an empty holder (constructed from ",
                "nullptr and never assigned)");
    return impl_.get();
  }
  const std::shared_ptr<Impl>& ptr() const {
    get();
    return impl_;
  }

  // Runs the module's forward.
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    return get()->forward(std::forward<Args>(args)...);
  }

  // The Module interface, so that `conv.state_dict()` reads as in the README (`conv->` works too).
  auto named_parameters(bool recurse = true) const { return get()->named_parameters(recurse); }
  auto parameters(bool recurse = true) const { return get()->parameters(recurse); }
  auto named_buffers(bool recurse = true) const { return get()->named_buffers(recurse); }
  auto buffers(bool recurse = true) const { return get()->buffers(recurse); }
  auto named_children() const { return get()->named_children(); }
  auto children() const { return get()->children(); }
  auto named_modules(const std::string& prefix = "", bool include_self = true) const {
    return get()->named_modules(prefix, include_self);
  }
  auto modules(bool include_self = true) const { return get()->modules(include_self); }
  auto state_dict() const { return get()->state_dict(); }
  LoadStateDictResult load_state_dict(const std::map<std::string, Tensor<scalar_type>>& state,
                                      bool strict = true) const {
    return get()->load_state_dict(state, strict);
  }
  void train(bool on = true) const { get()->train(on); }
  void eval() const { get()->eval(); }
  bool is_training() const { return get()->is_training(); }
  void zero_grad(bool set_to_none = true) const { get()->zero_grad(set_to_none); }
  template <class F>
  void apply(F&& fn) const {
    get()->apply(std::forward<F>(fn));
  }
  void to(Device device) const { get()->to(device); }
  const std::string& name() const { return get()->name(); }

  friend std::ostream& operator<<(std::ostream& os, const ModuleHolder& h) { return os << *h.get(); }

 private:
  std::shared_ptr<Impl> impl_;
};

template <class M>
struct is_module_holder : std::false_type {};
template <class Impl>
struct is_module_holder<ModuleHolder<Impl>> : std::true_type {};

}  // namespace crisp::nn

// Declares `Name` as the holder of a user's module `NameImpl` (libtorch's TORCH_MODULE).
#define CRISP_MODULE(Name) using Name = ::crisp::nn::ModuleHolder<Name##Impl>
