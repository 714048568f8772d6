// CUDA twin of the batched-GEMM primitive (backend/matmul.hpp) on cuBLAS, same signature as
// cpu::gemm_batched (backend/cpu/matmul.hpp); implemented in src/cuda/gemm_cublas.cpp. FP32 is
// exact FP32 (no TF32).
#pragma once

#include "crisp/backend/cuda/runtime_api.hpp"

#include "crisp/backend/cuda/runtime.hpp"
#include "crisp/backend/gemm_batch.hpp"

namespace crisp::cuda {

namespace native {
template <class T>
void gemm_batched(const GemmBatch& g, const T* a, const T* b, T* c, cudaStream_t stream);
}  // namespace native

template <class T>
void gemm_batched(const GemmBatch& g, const T* a, const T* b, T* c) {
  native::gemm_batched<T>(g, a, b, c, current_stream());
}

}  // namespace crisp::cuda
