// The cuBLAS handle crisp's CUDA code uses: one per (calling thread, device), created on first use
// (src/cuda/cublas_handle.cpp) and bound to the given stream on every call. FP32 math stays exact
// (CUBLAS_DEFAULT_MATH: no TF32 unless asked for).
#pragma once

#include <cublas_v2.h>

#include "crisp/backend/cuda/runtime.hpp"

namespace crisp::cuda {

cublasHandle_t cublas_handle(cudaStream_t stream);

namespace detail {
[[noreturn]] void throw_cublas(cublasStatus_t s, const char* call, const char* file, int line);
}  // namespace detail

}  // namespace crisp::cuda

#define CRISP_CUBLAS_CHECK(call)                                                   \
  do {                                                                             \
    const cublasStatus_t crisp_cublas_st_ = (call);                                \
    if (crisp_cublas_st_ != CUBLAS_STATUS_SUCCESS)                                 \
      ::crisp::cuda::detail::throw_cublas(crisp_cublas_st_, #call, __FILE__, __LINE__); \
  } while (0)
