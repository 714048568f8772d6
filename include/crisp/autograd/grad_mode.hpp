// Grad mode: whether ops record a graph. NoGradGuard turns recording off for a scope
// (inference, optimiser steps, the backward pass itself).
#pragma once

namespace crisp {

namespace autograd {
inline bool& grad_mode_flag() {
  static thread_local bool enabled = true;
  return enabled;
}
}  // namespace autograd

inline bool is_grad_enabled() { return autograd::grad_mode_flag(); }

class NoGradGuard {
 public:
  NoGradGuard() : prev_(autograd::grad_mode_flag()) { autograd::grad_mode_flag() = false; }
  ~NoGradGuard() { autograd::grad_mode_flag() = prev_; }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace crisp
