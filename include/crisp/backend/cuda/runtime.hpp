// The CUDA runtime as crisp uses it: the error-check macro that turns a failed call into a
// crisp::Error naming the call, device queries, and the current stream that every launcher uses.
// Plain C++ (no kernels): compiled by g++ or nvcc in programs that link crisp::cuda.
#pragma once

#if !defined(CRISP_WITH_CUDA) && !defined(CRISP_CUDA_EMULATION)
#error "crisp/backend/cuda/runtime.hpp needs a build with CRISP_WITH_CUDA (link crisp::cuda)"
#endif

#include "crisp/backend/cuda/runtime_api.hpp"

#include <string>

#include "crisp/tensor/error.hpp"

namespace crisp::cuda {

// A failed CUDA runtime / cuBLAS / cuDNN call or kernel launch.
class CudaError : public Error {
 public:
  using Error::Error;
};

namespace detail {
[[noreturn]] inline void throw_cuda(cudaError_t e, const char* call, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw CudaError(::crisp::detail::str_cat("cuda: ", call, " failed: ", cudaGetErrorName(e), " (",
                                           cudaGetErrorString(e), ") at ", file, ":", line));
}
}  // namespace detail

}  // namespace crisp::cuda

// CRISP_CUDA_CHECK(cudaMemcpy(...)) throws crisp::cuda::CudaError naming the call on failure.
#define CRISP_CUDA_CHECK(call)                                                              \
  do {                                                                                      \
    const cudaError_t crisp_cuda_err_ = (call);                                             \
    if (crisp_cuda_err_ != cudaSuccess)                                                     \
      ::crisp::cuda::detail::throw_cuda(crisp_cuda_err_, #call, __FILE__, __LINE__);        \
  } while (0)
// After a <<<...>>> launch: launch-configuration errors surface here, named after the kernel.
// kernel_name is a string literal, e.g. CRISP_CUDA_CHECK_LAUNCH("conv2d_igemm_fprop").
#define CRISP_CUDA_CHECK_LAUNCH(kernel_name)                                                   \
  do {                                                                                         \
    const cudaError_t crisp_cuda_err_ = cudaPeekAtLastError();                                 \
    if (crisp_cuda_err_ != cudaSuccess)                                                        \
      ::crisp::cuda::detail::throw_cuda(crisp_cuda_err_, "launch of " kernel_name, __FILE__, __LINE__); \
  } while (0)

namespace crisp::cuda {

// Number of usable CUDA devices; 0 when there is no driver, no device, or the runtime fails.
inline int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}
// torch.cuda.is_available(): at least one device can be used.
inline bool is_available() { return device_count() > 0; }

inline void check_device_index(int device, const char* op) {
  const int n = device_count();
  CRISP_CHECK(device >= 0 && device < n, Error, op, "expected a CUDA device index in [0, ", n, "), got ", device,
              n == 0 ? " (no CUDA device is visible to this process)" : "");
}

inline int current_device() {
  int d = 0;
  CRISP_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

// Sets the calling thread's device for the scope (torch.cuda.device).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) : previous_(current_device()) {
    if (device != previous_) CRISP_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_;
};

// The stream launchers enqueue on, per thread; nullptr is the legacy default stream.
inline cudaStream_t& current_stream_ref() {
  thread_local cudaStream_t stream = nullptr;
  return stream;
}
inline cudaStream_t current_stream() { return current_stream_ref(); }

// An owned non-blocking stream (torch.cuda.Stream).
class Stream {
 public:
  Stream() { CRISP_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~Stream() {
    if (stream_) cudaStreamDestroy(stream_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }
  void synchronize() const { CRISP_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  cudaStream_t stream_ = nullptr;
};

// Makes `stream` current for the scope (torch.cuda.stream(s)). Memory freed by tensors whose
// storage was allocated on another stream stays tied to that stream in the caching allocator.
class StreamGuard {
 public:
  explicit StreamGuard(cudaStream_t stream) : previous_(current_stream_ref()) { current_stream_ref() = stream; }
  ~StreamGuard() { current_stream_ref() = previous_; }
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  cudaStream_t previous_;
};

// Waits for the current stream (torch.cuda.synchronize for the calling thread's stream).
inline void synchronize() { CRISP_CUDA_CHECK(cudaStreamSynchronize(current_stream())); }

}  // namespace crisp::cuda
