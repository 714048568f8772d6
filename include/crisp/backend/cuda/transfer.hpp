// CUDA twin of backend/transfer.hpp: cudaMemcpyAsync on the current stream between any two of
// host and device memory (unified addressing picks the direction), then a wait when host memory
// is involved, since the caller may free or read the host buffer as soon as this returns.
#pragma once

#include "crisp/backend/cuda/runtime.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::cuda {

template <class T>
void transfer(const Tensor<T>& dst, const Tensor<T>& src) {
  if (dst.device().is_cuda()) check_device_index(dst.device().index, "Tensor::to");
  if (src.device().is_cuda()) check_device_index(src.device().index, "Tensor::to");
  const size_t bytes = static_cast<size_t>(src.numel()) * sizeof(T);
  if (bytes == 0) return;
  cudaStream_t stream = current_stream();
  CRISP_CUDA_CHECK(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), bytes, cudaMemcpyDefault, stream));
  if (!dst.device().is_cuda() || !src.device().is_cuda()) CRISP_CUDA_CHECK(cudaStreamSynchronize(stream));
}

}  // namespace crisp::cuda
