// dropout (inverted, PyTorch's semantics): in training, each element is zeroed with probability p
// and the kept ones are scaled by 1 / (1 - p); the gradient is the same mask times the same scale.
#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include "crisp/backend/cpu/dropout.hpp"
#include "crisp/ops/arithmetic.hpp"
#include "crisp/tensor/generator.hpp"

namespace crisp {

// Identity (the input itself) when !training or p == 0; zeros (input * 0) when p == 1. The mask
// is drawn from `gen`, which advances by one draw per call.
template <class T>
Tensor<T> dropout(const Tensor<T>& input, double p, bool training, Generator& gen) {
  CRISP_CHECK(p >= 0.0 && p <= 1.0, ValueError, "dropout", "expected a probability p in [0, 1], got ", p, " for input ",
              input.shape());
  if (!training || p == 0.0) return input;
  if (p == 1.0) return mul(input, scalar_tensor<T>(T(0)));

  const Tensor<T> x = contiguous(input.detach());
  const int64_t n = x.numel();
  auto mask = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n));
  cpu::dropout_mask(mask->data(), n, gen.next_u64(), p);
  // As PyTorch: the noise tensor 1 is divided by (1 - p) in T, then multiplied in.
  const T scale = T(1) / static_cast<T>(1.0 - p);
  Tensor<T> y = Tensor<T>::empty(x.shape());
  cpu::dropout_apply(x.data(), mask->data(), scale, n, y.data());
  if (autograd::needs_grad(input))
    autograd::record<T>("dropout", y, {input}, [mask, scale](const Tensor<T>& g) {
      const Tensor<T> gc = contiguous(g);
      Tensor<T> gx = Tensor<T>::empty(gc.shape());
      cpu::dropout_apply(gc.data(), mask->data(), scale, gc.numel(), gx.data());
      return std::vector{gx};
    });
  return y;
}

template <class T>
Tensor<T> dropout(const Tensor<T>& input, double p = 0.5, bool training = true) {
  return dropout(input, p, training, default_generator());
}

}  // namespace crisp
