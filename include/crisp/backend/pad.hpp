// Padding primitives of the dispatch layer over contiguous [planes, H, W] tensors: every mode is
// folded into a row map and a column map (pad_index_map in backend/geometry.hpp).
#pragma once

#include "crisp/backend/cpu/pad.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/pad.hpp"
#endif

namespace crisp::backend {

template <class T>
void pad2d_forward(const Tensor<T>& x, const Tensor<T>& y, int64_t planes, int64_t H, int64_t W, int64_t left,
                   const std::vector<int64_t>& rows, const std::vector<int64_t>& cols, T value) {
  CRISP_DISPATCH(common_device("pad", x, y), pad2d_forward, static_cast<const T*>(x.data_ptr()), y.data_ptr(), planes,
                 H, W, left, rows, cols, value);
}
template <class T>
void pad2d_backward(const Tensor<T>& gy, const Tensor<T>& gx, int64_t planes, int64_t H, int64_t W, int64_t left,
                    const std::vector<int64_t>& rows, const std::vector<int64_t>& cols) {
  CRISP_DISPATCH(common_device("pad backward", gy, gx), pad2d_backward, static_cast<const T*>(gy.data_ptr()),
                 gx.data_ptr(), planes, H, W, left, rows, cols);
}

}  // namespace crisp::backend
