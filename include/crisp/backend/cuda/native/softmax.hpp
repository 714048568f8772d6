// Launchers of the softmax and dropout-mask CUDA kernels (kernels/softmax.cu, kernels/dropout.cu).
#pragma once

#include "crisp/backend/cuda/runtime_api.hpp"

#include <cstdint>

namespace crisp::cuda::native {

// Softmax (or log-softmax) along the middle dim of contiguous x [outer, n, inner], in double sums.
template <class T>
void softmax(T* out, const T* x, int64_t outer, int64_t n, int64_t inner, bool log, cudaStream_t stream);

// mask[i] = 1 with probability 1 - p, else 0: the chunked xoshiro256** draw of cpu::dropout_mask.
template <class T>
void dropout_mask(T* mask, int64_t n, uint64_t seed, double p, cudaStream_t stream);

}  // namespace crisp::cuda::native
