// Containers: Sequential (runs its modules in order; children named "0", "1", ... so keys read
// "0.weight" as in PyTorch), ModuleList (holds modules, no forward) and Functional (a function
// as a module, to put crisp::relu and friends into a Sequential).
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "crisp/nn/module_holder.hpp"

namespace crisp::nn {

template <class T>
class FunctionalImplT : public ModuleT<T> {
 public:
  using Function = std::function<Tensor<T>(const Tensor<T>&)>;
  explicit FunctionalImplT(Function fn) : ModuleT<T>("Functional"), fn_(std::move(fn)) {
    CRISP_CHECK(fn_ != nullptr, ValueError, "Functional", "expected a function, got an empty one");
  }
  Tensor<T> forward(const Tensor<T>& x) { return fn_(x); }
  void pretty_print(std::ostream& os) const override { os << "Functional()"; }

 private:
  Function fn_;
};

namespace detail {
// The module behind a holder or a shared_ptr, as a shared_ptr to its concrete type.
template <class M>
auto module_ptr(const ModuleHolder<M>& h) {
  return h.ptr();
}
template <class M>
auto module_ptr(const std::shared_ptr<M>& p) {
  return p;
}
template <class M>
concept ModuleLike = is_module_holder<std::decay_t<M>>::value || requires(const std::decay_t<M>& m) {
  { m.get()->name() };
  typename std::decay_t<M>::element_type;
};
}  // namespace detail

template <class T>
class SequentialImplT : public ModuleT<T> {
 public:
  SequentialImplT() : ModuleT<T>("Sequential") {}
  // Sequential(nn::Conv2d(...), nn::ReLU(), ...)
  template <class... Ms>
    requires(sizeof...(Ms) > 0 && (detail::ModuleLike<Ms> && ...))
  explicit SequentialImplT(Ms&&... modules) : ModuleT<T>("Sequential") {
    (push_back(std::forward<Ms>(modules)), ...);
  }

  // Appends a module (holder or shared_ptr) whose forward maps a tensor to a tensor; it is
  // named by its position unless a name is given.
  template <class M>
    requires detail::ModuleLike<M>
  void push_back(M&& module) {
    push_back(std::to_string(entries_.size()), std::forward<M>(module));
  }
  template <class M>
    requires detail::ModuleLike<M>
  void push_back(std::string name, M&& module) {
    auto p = detail::module_ptr(module);
    using Impl = typename decltype(p)::element_type;
    static_assert(std::is_base_of_v<ModuleT<T>, Impl>, "Sequential::push_back: the module's scalar type must match");
    static_assert(requires(Impl& m, const Tensor<T>& x) {
                    { m.forward(x) } -> std::convertible_to<Tensor<T>>;
                  }, "Sequential::push_back: the module's forward must take one tensor and return a tensor");
    this->register_module(std::move(name), p);
    entries_.push_back({p, [raw = p.get()](const Tensor<T>& x) { return raw->forward(x); }});
  }

  Tensor<T> forward(const Tensor<T>& x) {
    Tensor<T> y = x;
    for (auto& e : entries_) y = e.run(y);
    return y;
  }

  size_t size() const { return entries_.size(); }
  bool is_empty() const { return entries_.empty(); }
  std::shared_ptr<ModuleT<T>> ptr(size_t i) const { return entry(i).module; }
  std::shared_ptr<ModuleT<T>> operator[](size_t i) const { return ptr(i); }
  // The i-th module as its concrete type (an Impl or a holder type); throws when it is not one.
  template <class M>
  auto ptr(size_t i) const {
    using Impl = impl_of_t<M>;
    auto p = std::dynamic_pointer_cast<Impl>(entry(i).module);
    CRISP_CHECK(p != nullptr, ValueError, "Sequential::ptr", "module ", i, " is a ", entry(i).module->name(),
                ", not the requested type");
    return p;
  }
  template <class M>
  auto& at(size_t i) const {
    return *ptr<M>(i);
  }

  void pretty_print(std::ostream& os) const override { os << "Sequential"; }

 private:
  struct Entry {
    std::shared_ptr<ModuleT<T>> module;
    std::function<Tensor<T>(const Tensor<T>&)> run;
  };
  const Entry& entry(size_t i) const {
    CRISP_CHECK(i < entries_.size(), ShapeError, "Sequential", "index ", i, " is out of range for ", entries_.size(),
                " modules");
    return entries_[i];
  }
  std::vector<Entry> entries_;
};

template <class T>
class ModuleListImplT : public ModuleT<T> {
 public:
  ModuleListImplT() : ModuleT<T>("ModuleList") {}
  template <class... Ms>
    requires(sizeof...(Ms) > 0 && (detail::ModuleLike<Ms> && ...))
  explicit ModuleListImplT(Ms&&... modules) : ModuleT<T>("ModuleList") {
    (push_back(std::forward<Ms>(modules)), ...);
  }

  template <class M>
    requires detail::ModuleLike<M>
  void push_back(M&& module) {
    auto p = detail::module_ptr(module);
    this->register_module(std::to_string(modules_.size()), p);
    modules_.push_back(p);
  }

  size_t size() const { return modules_.size(); }
  bool is_empty() const { return modules_.empty(); }
  const std::shared_ptr<ModuleT<T>>& ptr(size_t i) const {
    CRISP_CHECK(i < modules_.size(), ShapeError, "ModuleList", "index ", i, " is out of range for ", modules_.size(),
                " modules");
    return modules_[i];
  }
  const std::shared_ptr<ModuleT<T>>& operator[](size_t i) const { return ptr(i); }
  template <class M>
  auto ptr(size_t i) const {
    using Impl = impl_of_t<M>;
    auto p = std::dynamic_pointer_cast<Impl>(ptr(i));
    CRISP_CHECK(p != nullptr, ValueError, "ModuleList::ptr", "module ", i, " is a ", ptr(i)->name(),
                ", not the requested type");
    return p;
  }
  template <class M>
  auto& at(size_t i) const {
    return *ptr<M>(i);
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

  void pretty_print(std::ostream& os) const override { os << "ModuleList"; }

 private:
  std::vector<std::shared_ptr<ModuleT<T>>> modules_;
};

template <class T> using SequentialT = ModuleHolder<SequentialImplT<T>>;
template <class T> using ModuleListT = ModuleHolder<ModuleListImplT<T>>;
template <class T> using FunctionalT = ModuleHolder<FunctionalImplT<T>>;
using SequentialImpl = SequentialImplT<float>;
using ModuleListImpl = ModuleListImplT<float>;
using FunctionalImpl = FunctionalImplT<float>;
using Sequential = SequentialT<float>;
using ModuleList = ModuleListT<float>;
using Functional = FunctionalT<float>;

}  // namespace crisp::nn
