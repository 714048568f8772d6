// CPU twins of the optimiser-step primitives (backend/optim.hpp): the fused per-element Adam /
// AdamW and SGD updates of one contiguous parameter, exactly torch.optim's single-tensor order of
// operations (see optim/adam.hpp and optim/sgd.hpp for the formulas).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/backend/optim_step.hpp"

namespace crisp::cpu {

// vmax is null unless amsgrad.
template <class T>
void adam_step(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamStep& args) {
  const AdamConstants<T> c = adam_constants<T>(args);
  parallel_for(0, n, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T gi = c.maximize ? -g[i] : g[i];
      if (c.decoupled) {
        p[i] = p[i] * c.decay;
      } else {
        if (c.has_wd) gi = gi + c.wd * p[i];
      }
      m[i] = m[i] * c.b1 + c.omb1 * gi;
      v[i] = v[i] * c.b2 + c.omb2 * gi * gi;
      T vu = v[i];
      if (vmax) vu = vmax[i] = std::max(vmax[i], v[i]);
      const T denom = std::sqrt(vu) / c.bc2_sqrt + c.eps;
      p[i] = p[i] + c.neg_step_size * m[i] / denom;
    }
  });
}

// buf is null when momentum is 0.
template <class T>
void sgd_step(T* p, const T* g, T* buf, int64_t n, const SgdStep& args) {
  const SgdConstants<T> c = sgd_constants<T>(args);
  parallel_for(0, n, 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T d = c.maximize ? -g[i] : g[i];
      if (c.has_wd) d = d + c.wd * p[i];
      if (buf) {
        buf[i] = c.first ? d : buf[i] * c.mom + c.damp1 * d;
        d = c.nesterov ? d + c.mom * buf[i] : buf[i];
      }
      p[i] = p[i] + c.neg_lr * d;
    }
  });
}

}  // namespace crisp::cpu
