// Dropout's one primitive in the dispatch layer: the keep-mask (1 = keep, 0 = drop, as T) drawn
// from a seed by chunked xoshiro256**, so that both devices draw the same mask for the same seed.
// Applying it is ordinary arithmetic (ops/dropout.hpp).
#pragma once

#include "crisp/backend/cpu/dropout.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/dropout.hpp"
#endif

namespace crisp::backend {

// mask (contiguous) = 1 with probability 1 - p, else 0.
template <class T>
void dropout_mask(const Tensor<T>& mask, uint64_t seed, double p) {
  CRISP_DISPATCH(mask.device(), dropout_mask, mask.data_ptr(), mask.numel(), seed, p);
}

}  // namespace crisp::backend
