// Tensor::to(device): the one explicit, differentiable copy between host and device memory. No
// other op moves data between devices; a CPU kernel handed a device tensor throws (Tensor::data).
#pragma once

#include "crisp/autograd/engine.hpp"  // AccumulateGrad's body, for the node to() records
#include "crisp/autograd/node.hpp"
#include "crisp/backend/transfer.hpp"
#include "crisp/ops/view.hpp"

namespace crisp {

template <class T>
Tensor<T> Tensor<T>::to(Device device) const {
  if (device == this->device()) return *this;
#if !defined(CRISP_WITH_CUDA)
  CRISP_CHECK(device.is_cpu(), Error, "Tensor::to",
              "crisp was built without CUDA (CRISP_WITH_CUDA=OFF): cannot move tensor to ", device);
#endif
  const Tensor<T> s = crisp::contiguous(detach());
  Tensor<T> y = Tensor<T>::empty(s.shape(), device);  // a build without CUDA refuses a device here
  backend::transfer(y, s);
  if constexpr (is_floating_v<T>) {
    if (autograd::needs_grad(*this))
      autograd::record<T>("to", y, {*this}, [from = this->device()](const Tensor<T>& g) { return std::vector{g.to(from)}; });
  }
  return y;
}

}  // namespace crisp
