// The one primitive that moves bytes between devices: a contiguous copy from src to dst whose
// devices may differ (host <-> device, device <-> device). Tensor::to and copy_ across devices
// use it; no other op moves data between devices.
#pragma once

#include <cstring>

#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/transfer.hpp"
#endif

namespace crisp::cpu {
// Both on the CPU: a plain copy of numel contiguous elements.
template <class T>
void transfer(const Tensor<T>& dst, const Tensor<T>& src) {
  if (src.numel() > 0) std::memcpy(dst.data(), src.data(), static_cast<size_t>(src.numel()) * sizeof(T));
}
}  // namespace crisp::cpu

namespace crisp::backend {

// dst and src contiguous with the same number of elements.
template <class T>
void transfer(const Tensor<T>& dst, const Tensor<T>& src) {
  CRISP_CHECK(dst.numel() == src.numel() && dst.is_contiguous() && src.is_contiguous(), Error, "transfer",
              "expected contiguous tensors of one size, got ", dst.shape(), " and ", src.shape());
  const Device d = dst.device().is_cuda() ? dst.device() : src.device();
  CRISP_DISPATCH(d, transfer, dst, src);
}

}  // namespace crisp::backend
