// CRISP_ARG: declares one chainable option of a module's options struct, as libtorch's TORCH_ARG:
// `opts.stride(2)` sets it and returns the options, `opts.stride()` reads it.
#pragma once

#include <utility>

#define CRISP_ARG(T, name)                              \
 public:                                                \
  auto name(const T& new_##name)->decltype(*this) {     \
    this->name##_ = new_##name;                         \
    return *this;                                       \
  }                                                     \
  auto name(T&& new_##name)->decltype(*this) {          \
    this->name##_ = std::move(new_##name);              \
    return *this;                                       \
  }                                                     \
  const T& name() const noexcept { return this->name##_; } \
  T& name() noexcept { return this->name##_; }          \
                                                        \
 private:                                               \
  T name##_ /* NOLINT */
