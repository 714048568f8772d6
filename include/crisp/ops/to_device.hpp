// Tensor::to(device): the one explicit, differentiable copy between host and device memory. No
// other op moves data between devices; a CPU kernel handed a device tensor throws (Tensor::data).
#pragma once

#include "crisp/autograd/node.hpp"
#include "crisp/ops/view.hpp"

#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/runtime.hpp"
#endif

namespace crisp {

namespace detail {
#if defined(CRISP_WITH_CUDA)
// Contiguous copy of `src` onto `device`; a device-to-device copy between two CUDA devices goes
// through cudaMemcpyPeer-capable cudaMemcpyAsync (unified addressing).
template <class T>
Tensor<T> copy_to_device(const Tensor<T>& src, Device device) {
  if (device.is_cuda()) cuda::check_device_index(device.index, "Tensor::to");
  const Tensor<T> s = contiguous(src.detach());
  Tensor<T> y = Tensor<T>::empty(s.shape(), device);
  const size_t bytes = static_cast<size_t>(s.numel()) * sizeof(T);
  if (bytes == 0) return y;
  const cudaMemcpyKind kind = device.is_cuda() ? (s.is_cuda() ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                               : cudaMemcpyDeviceToHost;
  cudaStream_t stream = cuda::current_stream();
  CRISP_CUDA_CHECK(cudaMemcpyAsync(y.data_ptr(), s.data_ptr(), bytes, kind, stream));
  // The host buffer of either end may be freed or read as soon as we return.
  if (kind != cudaMemcpyDeviceToDevice) CRISP_CUDA_CHECK(cudaStreamSynchronize(stream));
  return y;
}
#endif
}  // namespace detail

template <class T>
Tensor<T> Tensor<T>::to(Device device) const {
  if (device == this->device()) return *this;
#if defined(CRISP_WITH_CUDA)
  Tensor<T> y = detail::copy_to_device(*this, device);
  if constexpr (is_floating_v<T>) {
    if (autograd::needs_grad(*this))
      autograd::record<T>("to", y, {*this}, [from = this->device()](const Tensor<T>& g) { return std::vector{g.to(from)}; });
  }
  return y;
#else
  throw Error(detail::str_cat("Tensor::to: crisp was built without CUDA (CRISP_WITH_CUDA=OFF): cannot move tensor to ",
                              device));
#endif
}

}  // namespace crisp
