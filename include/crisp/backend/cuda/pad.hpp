// CUDA twins of the padding primitives (backend/pad.hpp) over contiguous [planes, H, W] device
// buffers: the row and column maps (pad_index_map) are uploaded for the launch; the backward
// gathers through the inverted maps (deterministic). Kernels in kernels/resize.cu.
#pragma once

#include <cstdint>
#include <vector>

#include "crisp/backend/cuda/device_vector.hpp"
#include "crisp/backend/cuda/native/spatial.hpp"

namespace crisp::cuda {

template <class T>
void pad2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t /*left*/,
                   const std::vector<int64_t>& rows, const std::vector<int64_t>& cols, T value) {
  const DeviceVector<int64_t> r(rows), c(cols);
  native::gather2d_forward<T>(x, y, planes, H, W, r.get(), static_cast<int64_t>(rows.size()), c.get(),
                              static_cast<int64_t>(cols.size()), value, current_stream());
}

template <class T>
void pad2d_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t /*left*/,
                    const std::vector<int64_t>& rows, const std::vector<int64_t>& cols) {
  const InvertedMap<T> ir = invert_map<T>(H, {&rows}, {}), ic = invert_map<T>(W, {&cols}, {});
  const DeviceVector<int64_t> rs(ir.start), ro(ir.out), cs(ic.start), co(ic.out);
  native::gather2d_backward<T>(gy, gx, planes, H, W, static_cast<int64_t>(rows.size()),
                               static_cast<int64_t>(cols.size()), {rs.get(), ro.get(), nullptr},
                               {cs.get(), co.get(), nullptr}, current_stream());
}

}  // namespace crisp::cuda
