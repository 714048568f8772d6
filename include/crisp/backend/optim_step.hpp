// The arguments of the optimiser-step primitives (backend/optim.hpp), shared by the CPU and CUDA
// twins: one Adam / AdamW or SGD update of one parameter tensor, with the options converted to T
// once, here, so that both devices run the update on the same T constants.
#pragma once

#include <cmath>
#include <cstdint>

namespace crisp {

// torch.optim.Adam / AdamW (decoupled) with amsgrad and maximize; `step` is the 1-based count
// after the increment.
struct AdamStep {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false, maximize = false, decoupled = false;
  int64_t step = 1;
};

template <class T>
struct AdamConstants {
  T b1, omb1, b2, omb2, wd, decay, bc2_sqrt, eps, neg_step_size;
  bool has_wd, maximize, decoupled;
};
template <class T>
AdamConstants<T> adam_constants(const AdamStep& a) {
  const double step = static_cast<double>(a.step);
  const double bias_correction1 = 1 - std::pow(a.beta1, step), bias_correction2 = 1 - std::pow(a.beta2, step);
  return {static_cast<T>(a.beta1),
          static_cast<T>(1 - a.beta1),
          static_cast<T>(a.beta2),
          static_cast<T>(1 - a.beta2),
          static_cast<T>(a.weight_decay),
          static_cast<T>(1 - a.lr * a.weight_decay),
          static_cast<T>(std::sqrt(bias_correction2)),
          static_cast<T>(a.eps),
          static_cast<T>(-(a.lr / bias_correction1)),
          a.weight_decay != 0,
          a.maximize,
          a.decoupled};
}

// torch.optim.SGD; `first` is the step that creates the momentum buffer (no dampening on it).
struct SgdStep {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false, first = false;
};

template <class T>
struct SgdConstants {
  T wd, mom, damp1, neg_lr;
  bool has_wd, nesterov, maximize, first;
};
template <class T>
SgdConstants<T> sgd_constants(const SgdStep& a) {
  return {static_cast<T>(a.weight_decay), static_cast<T>(a.momentum), static_cast<T>(1 - a.dampening),
          static_cast<T>(-a.lr),          a.weight_decay != 0,         a.nesterov,
          a.maximize,                     a.first};
}

}  // namespace crisp
