// Pooling primitives of the dispatch layer over contiguous [planes, H, W] tensors: max (with the
// argmax indices the backward needs), average and adaptive average, forward and backward.
#pragma once

#include "crisp/backend/cpu/pool.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/pool.hpp"
#endif

namespace crisp::backend {

// idx may be undefined (no backward needed).
template <class T>
void max_pool2d_forward(const Tensor<T>& x, const Tensor<T>& y, const Tensor<int64_t>& idx, int64_t planes,
                        const PoolGeometry& g) {
  CRISP_DISPATCH(common_device("max_pool2d", x, y, idx), max_pool2d_forward, static_cast<const T*>(x.data_ptr()),
                 y.data_ptr(), idx.defined() ? idx.data_ptr() : static_cast<int64_t*>(nullptr), planes, g);
}
template <class T>
void max_pool2d_backward(const Tensor<T>& gy, const Tensor<int64_t>& idx, const Tensor<T>& gx, int64_t planes,
                         const PoolGeometry& g) {
  CRISP_DISPATCH(common_device("max_pool2d backward", gy, idx, gx), max_pool2d_backward,
                 static_cast<const T*>(gy.data_ptr()), static_cast<const int64_t*>(idx.data_ptr()), gx.data_ptr(), planes,
                 g);
}
template <class T>
void avg_pool2d_forward(const Tensor<T>& x, const Tensor<T>& y, int64_t planes, const PoolGeometry& g,
                        bool count_include_pad, std::optional<int64_t> divisor_override) {
  CRISP_DISPATCH(common_device("avg_pool2d", x, y), avg_pool2d_forward, static_cast<const T*>(x.data_ptr()),
                 y.data_ptr(), planes, g, count_include_pad, divisor_override);
}
template <class T>
void avg_pool2d_backward(const Tensor<T>& gy, const Tensor<T>& gx, int64_t planes, const PoolGeometry& g,
                         bool count_include_pad, std::optional<int64_t> divisor_override) {
  CRISP_DISPATCH(common_device("avg_pool2d backward", gy, gx), avg_pool2d_backward,
                 static_cast<const T*>(gy.data_ptr()), gx.data_ptr(), planes, g, count_include_pad, divisor_override);
}
template <class T>
void adaptive_avg_pool2d_forward(const Tensor<T>& x, const Tensor<T>& y, int64_t planes, int64_t H, int64_t W,
                                 int64_t OH, int64_t OW) {
  CRISP_DISPATCH(common_device("adaptive_avg_pool2d", x, y), adaptive_avg_pool2d_forward,
                 static_cast<const T*>(x.data_ptr()), y.data_ptr(), planes, H, W, OH, OW);
}
template <class T>
void adaptive_avg_pool2d_backward(const Tensor<T>& gy, const Tensor<T>& gx, int64_t planes, int64_t H, int64_t W,
                                  int64_t OH, int64_t OW) {
  CRISP_DISPATCH(common_device("adaptive_avg_pool2d backward", gy, gx), adaptive_avg_pool2d_backward,
                 static_cast<const T*>(gy.data_ptr()), gx.data_ptr(), planes, H, W, OH, OW);
}

}  // namespace crisp::backend
