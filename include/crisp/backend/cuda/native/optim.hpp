// Launchers of the optimiser-step CUDA kernels (kernels/optim.cu): fused Adam / AdamW and SGD
// updates of one contiguous parameter. Device pointers; float and double.
#pragma once

#include "crisp/backend/cuda/runtime_api.hpp"

#include <cstdint>

#include "crisp/backend/optim_step.hpp"

namespace crisp::cuda::native {

template <class T>
void adam_step(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamStep& args, cudaStream_t stream);
template <class T>
void sgd_step(T* p, const T* g, T* buf, int64_t n, const SgdStep& args, cudaStream_t stream);

}  // namespace crisp::cuda::native
