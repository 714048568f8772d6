// CUDA twin of the dropout-mask primitive (backend/dropout.hpp): the same chunked xoshiro256**
// draw as cpu::dropout_mask, so a seed gives the same mask on both devices; kernel in
// kernels/dropout.cu.
#pragma once

#include <cstdint>

#include "crisp/backend/cuda/native/softmax.hpp"
#include "crisp/backend/cuda/runtime.hpp"

namespace crisp::cuda {

template <class T>
void dropout_mask(T* mask, int64_t n, uint64_t seed, double p) {
  native::dropout_mask<T>(mask, n, seed, p, current_stream());
}

}  // namespace crisp::cuda
