// The CUDA runtime API as crisp's CUDA code sees it. Normally <cuda_runtime_api.h>. With
// CRISP_CUDA_EMULATION (kernels/ compiled by g++ as host C++, see kernels/cuda_compat.hpp) it is
// a small host stand-in for the part crisp uses: "device" memory is host memory (cudaMalloc =
// malloc, every cudaMemcpy kind = memcpy), streams are tokens, work runs synchronously at launch,
// and one emulated device reports the properties in crisp::cuda::emulation::device_properties()
// (tests change them, e.g. the SM count that sizes split-K). Errors follow CUDA: calls return a
// cudaError_t, and a rejected launch leaves it for cudaPeekAtLastError / cudaGetLastError.
#pragma once

#if !defined(CRISP_CUDA_EMULATION)
#include <cuda_runtime_api.h>
#else

#include <cstddef>
#include <cstdlib>
#include <cstring>

struct CUstream_st;
typedef CUstream_st* cudaStream_t;  // as driver_types.h spells it

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevice = 101,
  cudaErrorNoDevice = 100,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};
constexpr unsigned cudaStreamDefault = 0x0, cudaStreamNonBlocking = 0x1;

namespace crisp::cuda::emulation {

// The emulated device. Defaults: one device shaped like an H100/H200 (sm_90) but with 4 SMs, so
// the launchers' "fill the device" heuristics (split-K) pick small grids that emulate quickly.
struct DeviceProperties {
  int device_count = 1;
  int multiprocessor_count = 4;
  int cc_major = 9, cc_minor = 0;
  int max_threads_per_block = 1024;
  int max_shared_memory_per_block = 48 * 1024;        // without the opt-in attribute
  int max_shared_memory_per_block_optin = 227 * 1024;  // sm_90
};
inline DeviceProperties& device_properties() {
  static DeviceProperties p;
  return p;
}

namespace detail {
inline cudaError_t& last_error() {
  thread_local cudaError_t e = cudaSuccess;
  return e;
}
inline int& current_device() {
  thread_local int d = 0;
  return d;
}
inline cudaError_t fail(cudaError_t e) {
  last_error() = e;
  return e;
}
}  // namespace detail

// Records `e` as a failed launch would (what the emulated launch does with a bad configuration).
inline void set_launch_error(cudaError_t e) { detail::last_error() = e; }

}  // namespace crisp::cuda::emulation

inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
  }
  return "cudaErrorUnknown";
}
inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
  }
  return "unknown error";
}
inline cudaError_t cudaGetLastError() {
  const cudaError_t e = crisp::cuda::emulation::detail::last_error();
  crisp::cuda::emulation::detail::last_error() = cudaSuccess;
  return e;
}
inline cudaError_t cudaPeekAtLastError() { return crisp::cuda::emulation::detail::last_error(); }

inline cudaError_t cudaGetDeviceCount(int* n) {
  *n = crisp::cuda::emulation::device_properties().device_count;
  return *n > 0 ? cudaSuccess : crisp::cuda::emulation::detail::fail(cudaErrorNoDevice);
}
inline cudaError_t cudaGetDevice(int* d) {
  *d = crisp::cuda::emulation::detail::current_device();
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int d) {
  if (d < 0 || d >= crisp::cuda::emulation::device_properties().device_count)
    return crisp::cuda::emulation::detail::fail(cudaErrorInvalidDevice);
  crisp::cuda::emulation::detail::current_device() = d;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  const auto& p = crisp::cuda::emulation::device_properties();
  if (device < 0 || device >= p.device_count) return crisp::cuda::emulation::detail::fail(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.max_threads_per_block; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = p.max_shared_memory_per_block; return cudaSuccess;
    case cudaDevAttrWarpSize: *value = 32; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = p.multiprocessor_count; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMajor: *value = p.cc_major; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor: *value = p.cc_minor; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = p.max_shared_memory_per_block_optin; return cudaSuccess;
  }
  return crisp::cuda::emulation::detail::fail(cudaErrorInvalidValue);
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

inline cudaError_t cudaMalloc(void** p, size_t bytes) {
  // 256-byte aligned like cudaMalloc, so vectorised loads in kernels see the alignment they rely on.
  *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + (bytes == 0 ? 256 : 0));
  return *p ? cudaSuccess : crisp::cuda::emulation::detail::fail(cudaErrorMemoryAllocation);
}
inline cudaError_t cudaFree(void* p) {
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t = nullptr) {
  return cudaMemcpy(dst, src, bytes, kind);
}
inline cudaError_t cudaMemcpyPeer(void* dst, int, const void* src, int, size_t bytes) {
  return cudaMemcpy(dst, src, bytes, cudaMemcpyDefault);
}
inline cudaError_t cudaMemset(void* p, int value, size_t bytes) {
  if (bytes) std::memset(p, value, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t = nullptr) {
  return cudaMemset(p, value, bytes);
}

// Streams are distinct tokens (the caching allocator keys its free lists by stream); work on them
// has already finished when the launch returns.
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned /*flags*/) {
  *s = reinterpret_cast<cudaStream_t>(new char(0));
  return cudaSuccess;
}
inline cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }
inline cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete reinterpret_cast<char*>(s);
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

#endif  // CRISP_CUDA_EMULATION
