// Host-side helpers of the CUDA twins: a tensor (or a broadcast view of one) described as a
// StridedDesc over an output's index space, with the dims merged that are contiguous for every
// operand (the same coalescing as the CPU's strided loop), and the checks the twins share.
#pragma once

#include <array>

#include "crisp/backend/cpu/strided_loop.hpp"
#include "crisp/backend/cuda/native/elementwise.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::cuda::detail {

// Descriptors of K operands over `shape` (strides already broadcast to it), coalesced.
template <size_t K>
std::array<StridedDesc, K> describe(const Shape& shape, const std::array<Strides, K>& strides) {
  const cpu::RowPlan<K> p = cpu::coalesce<K>(shape, strides);
  std::array<StridedDesc, K> d{};
  for (size_t k = 0; k < K; ++k) {
    d[k].ndim = static_cast<int>(p.shape.size());
    for (int64_t i = 0; i < p.shape.size(); ++i) {
      d[k].shape[i] = p.shape[i];
      d[k].strides[i] = p.strides[k][i];
    }
  }
  return d;
}

// out's strides and each input's strides broadcast to out's shape.
template <class TOut, class... TIn>
auto describe_over(const Tensor<TOut>& out, const Tensor<TIn>&... in) {
  constexpr size_t K = 1 + sizeof...(TIn);
  std::array<Strides, K> st{out.strides(), cpu::broadcast_strides(in.shape(), in.strides(), out.shape())...};
  return describe<K>(out.shape(), st);
}

}  // namespace crisp::cuda::detail
