// CUDA twins of the optimiser-step primitives (backend/optim.hpp), same signatures as crisp::cpu's
// (backend/cpu/optim.hpp); kernels in kernels/optim.cu.
#pragma once

#include <cstdint>

#include "crisp/backend/cuda/native/optim.hpp"
#include "crisp/backend/cuda/runtime.hpp"

namespace crisp::cuda {

template <class T>
void adam_step(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamStep& args) {
  native::adam_step<T>(p, g, m, v, vmax, n, args, current_stream());
}
template <class T>
void sgd_step(T* p, const T* g, T* buf, int64_t n, const SgdStep& args) {
  native::sgd_step<T>(p, g, buf, n, args, current_stream());
}

}  // namespace crisp::cuda
