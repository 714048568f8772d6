// CUDA twins of the pooling primitives (backend/pool.hpp): max (with argmax indices), average and
// adaptive average over contiguous [planes, H, W] device buffers, forward and backward. Same
// signatures as crisp::cpu's (backend/cpu/pool.hpp); kernels in kernels/pool.cu.
#pragma once

#include <cstdint>
#include <optional>

#include "crisp/backend/cuda/native/spatial.hpp"
#include "crisp/backend/cuda/runtime.hpp"

namespace crisp::cuda {

namespace detail {
inline int64_t divisor_arg(std::optional<int64_t> divisor_override, const char* op) {
  CRISP_CHECK(!divisor_override || *divisor_override > 0, ValueError, op, "expected a positive divisor_override, got ",
              divisor_override.value_or(0));
  return divisor_override.value_or(0);
}
}  // namespace detail

template <class T>
void max_pool2d_forward(const T* x, T* y, int64_t* idx, int64_t planes, const PoolGeometry& g) {
  native::max_pool2d_forward<T>(x, y, idx, planes, g, current_stream());
}
template <class T>
void max_pool2d_backward(const T* gy, const int64_t* idx, T* gx, int64_t planes, const PoolGeometry& g) {
  native::max_pool2d_backward<T>(gy, idx, gx, planes, g, current_stream());
}
template <class T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, const PoolGeometry& g, bool count_include_pad,
                        std::optional<int64_t> divisor_override) {
  native::avg_pool2d_forward<T>(x, y, planes, g, count_include_pad, detail::divisor_arg(divisor_override, "avg_pool2d"),
                                current_stream());
}
template <class T>
void avg_pool2d_backward(const T* gy, T* gx, int64_t planes, const PoolGeometry& g, bool count_include_pad,
                         std::optional<int64_t> divisor_override) {
  native::avg_pool2d_backward<T>(gy, gx, planes, g, count_include_pad,
                                 detail::divisor_arg(divisor_override, "avg_pool2d backward"), current_stream());
}
template <class T>
void adaptive_avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  native::adaptive_avg_pool2d_forward<T>(x, y, planes, H, W, OH, OW, current_stream());
}
template <class T>
void adaptive_avg_pool2d_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  native::adaptive_avg_pool2d_backward<T>(gy, gx, planes, H, W, OH, OW, current_stream());
}

}  // namespace crisp::cuda
