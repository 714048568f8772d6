// What every kernel file in kernels/ shares (its first include): the one launch function (no
// <<<...>>> anywhere: cuda_compat.hpp's launch, so the same source runs emulated on the host), the
// grid-size rule of the grid-stride loops, the offset of a linear index in a strided operand, a
// fixed-order block sum in double, and small device arrays uploaded on a stream.
#pragma once

#include "cuda_compat.hpp"  // launch(), and the host emulation of CUDA under CRISP_CUDA_EMULATION

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "crisp/backend/cuda/caching_allocator.hpp"
#include "crisp/backend/cuda/native/elementwise.hpp"
#include "crisp/backend/cuda/runtime.hpp"

namespace crisp::cuda {


namespace kern {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items (capped: each thread then loops).
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  return unsigned(std::max<int64_t>(1, std::min<int64_t>((n + threads - 1) / threads, 65535)));
}

#define CRISP_KERNEL_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

// Offset in elements of linear index i (row-major over d.shape) under d.strides.
__host__ __device__ inline int64_t strided_offset(const StridedDesc& d, int64_t i) {
  int64_t off = 0;
  for (int k = d.ndim - 1; k >= 0; --k) {
    const int64_t e = d.shape[k];
    off += (i % e) * d.strides[k];
    i /= e;
  }
  return off;
}

__host__ __device__ inline int64_t numel_of(const StridedDesc& d) {
  int64_t n = 1;
  for (int k = 0; k < d.ndim; ++k) n *= d.shape[k];
  return n;
}

// Sum of v over the block (blockDim.x == kThreads) in a fixed tree order; every thread gets it.
__device__ inline double block_sum(double v) {
  __shared__ double red[kThreads];
  red[threadIdx.x] = v;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) red[threadIdx.x] += red[threadIdx.x + w];
    __syncthreads();
  }
  const double r = red[0];
  __syncthreads();
  return r;
}

// A device copy of a host vector, from the caching allocator on `stream`, freed (stream-ordered)
// when it goes out of scope.
template <class T>
class DeviceArray {
 public:
  DeviceArray(const std::vector<T>& host, cudaStream_t stream) : n_(host.size()) {
    p_ = static_cast<T*>(caching_allocator().allocate(std::max<size_t>(1, n_) * sizeof(T), current_device(), stream));
    if (n_) CRISP_CUDA_CHECK(cudaMemcpyAsync(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice, stream));
  }
  DeviceArray(size_t n, cudaStream_t stream) : n_(n) {
    p_ = static_cast<T*>(caching_allocator().allocate(std::max<size_t>(1, n_) * sizeof(T), current_device(), stream));
  }
  ~DeviceArray() { caching_allocator().deallocate(p_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return p_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace kern
}  // namespace crisp::cuda
