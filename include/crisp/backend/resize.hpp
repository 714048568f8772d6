// Resize primitives of the dispatch layer over contiguous [planes, H, W] tensors: nearest (row and
// column source maps) and bilinear (LinearTaps per dim), forward and backward.
#pragma once

#include "crisp/backend/cpu/resize.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/resize.hpp"
#endif

namespace crisp::backend {

template <class T>
void resize_nearest_forward(const Tensor<T>& x, const Tensor<T>& y, int64_t planes, int64_t H, int64_t W,
                            const std::vector<int64_t>& rows, const std::vector<int64_t>& cols) {
  CRISP_DISPATCH(common_device("interpolate", x, y), resize_nearest_forward, static_cast<const T*>(x.data_ptr()),
                 y.data_ptr(), planes, H, W, rows, cols);
}
template <class T>
void resize_nearest_backward(const Tensor<T>& gy, const Tensor<T>& gx, int64_t planes, int64_t H, int64_t W,
                             const std::vector<int64_t>& rows, const std::vector<int64_t>& cols) {
  CRISP_DISPATCH(common_device("interpolate backward", gy, gx), resize_nearest_backward,
                 static_cast<const T*>(gy.data_ptr()), gx.data_ptr(), planes, H, W, rows, cols);
}
template <class T>
void resize_bilinear_forward(const Tensor<T>& x, const Tensor<T>& y, int64_t planes, int64_t H, int64_t W,
                             const LinearTaps<T>& rt, const LinearTaps<T>& ct) {
  CRISP_DISPATCH(common_device("interpolate", x, y), resize_bilinear_forward, static_cast<const T*>(x.data_ptr()),
                 y.data_ptr(), planes, H, W, rt, ct);
}
template <class T>
void resize_bilinear_backward(const Tensor<T>& gy, const Tensor<T>& gx, int64_t planes, int64_t H, int64_t W,
                              const LinearTaps<T>& rt, const LinearTaps<T>& ct) {
  CRISP_DISPATCH(common_device("interpolate backward", gy, gx), resize_bilinear_backward,
                 static_cast<const T*>(gy.data_ptr()), gx.data_ptr(), planes, H, W, rt, ct);
}

}  // namespace crisp::backend
