// CUDA twin of the softmax primitive (backend/softmax.hpp); kernel in kernels/softmax.cu.
#pragma once

#include "crisp/backend/cuda/native/softmax.hpp"
#include "crisp/backend/cuda/runtime.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::cuda {

template <class T>
void softmax(const Tensor<T>& out, const Tensor<T>& x, int64_t outer, int64_t n, int64_t inner, bool log) {
  native::softmax<T>(out.data_ptr(), x.data_ptr(), outer, n, inner, log, current_stream());
}

}  // namespace crisp::cuda
