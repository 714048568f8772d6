// dropout (inverted, PyTorch's semantics): in training, each element is zeroed with probability p
// and the kept ones are scaled by 1 / (1 - p); the gradient is the same mask times the same scale.
#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include "crisp/backend/dropout.hpp"
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
  if (p == 1.0) return mul(input, scalar_tensor<T>(T(0), input.device()));

  // The noise tensor is mask / (1 - p) (as PyTorch, the scale is rounded in T), multiplied in;
  // mul's own rule gives the gradient g * noise.
  Tensor<T> noise = Tensor<T>::empty(input.shape(), input.device());
  backend::dropout_mask(noise, gen.next_u64(), p);
  const T scale = T(1) / static_cast<T>(1.0 - p);
  backend::unary(UnaryFn{UnaryOp::Affine, static_cast<double>(scale), 0.0}, noise, noise);
  Tensor<T> y = mul(input, noise);
  return y;
}

template <class T>
Tensor<T> dropout(const Tensor<T>& input, double p = 0.5, bool training = true) {
  return dropout(input, p, training, default_generator());
}

}  // namespace crisp
