// cuBLAS handles per (thread, device): cuBLAS handles must not be used by two threads at once, and
// belong to the device current when they were created. They are never destroyed: a handle freed
// after the CUDA context's teardown at exit crashes, and there is one per thread and device.
#include <cublas_v2.h>

#include <map>

#include "crisp/backend/cuda/cublas.hpp"

namespace crisp::cuda {

namespace detail {
void throw_cublas(cublasStatus_t s, const char* call, const char* file, int line) {
  throw CudaError(::crisp::detail::str_cat("cublas: ", call, " failed: ", cublasGetStatusName(s), " (",
                                           cublasGetStatusString(s), ") at ", file, ":", line));
}
}  // namespace detail

cublasHandle_t cublas_handle(cudaStream_t stream) {
  thread_local std::map<int, cublasHandle_t> handles;
  const int device = current_device();
  cublasHandle_t& h = handles[device];
  if (!h) {
    CRISP_CUBLAS_CHECK(cublasCreate(&h));
    CRISP_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
  }
  CRISP_CUBLAS_CHECK(cublasSetStream(h, stream));
  return h;
}

}  // namespace crisp::cuda
