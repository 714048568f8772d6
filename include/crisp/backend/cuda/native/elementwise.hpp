// Launchers of the element-wise CUDA kernels (kernels/elementwise.cu): strided copy with
// broadcasting, fill, cast, and the unary / binary functions of backend/elementwise_math.hpp.
// Plain declarations shared by nvcc and the host compiler; device pointers; every operand is
// described over the output's index space (StridedDesc, stride 0 = broadcast). Instantiated for
// float and double (copy, fill, cast also int64_t).
#pragma once

#include "crisp/backend/cuda/runtime_api.hpp"

#include <cstdint>

#include "crisp/backend/elementwise_math.hpp"

namespace crisp::cuda {

// A strided operand: up to 8 dims, strides in elements (0 = broadcast along that dim).
struct StridedDesc {
  static constexpr int kMaxDims = 8;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
};

namespace native {
// dst[i] = src[i] over dst's shape (src's strides may broadcast). dst and src must not overlap.
template <class T>
void copy_strided(const StridedDesc& dst_desc, T* dst, const StridedDesc& src_desc, const T* src, cudaStream_t stream);
// dst[i] = value over dst's shape.
template <class T>
void fill_strided(const StridedDesc& dst_desc, T* dst, T value, cudaStream_t stream);
// dst[i] = U(src[i]); U, T among float, double, int64_t.
template <class U, class T>
void cast_strided(const StridedDesc& dst_desc, U* dst, const StridedDesc& src_desc, const T* src, cudaStream_t stream);
// out[i] = f(x[i]) with math::unary; out may be strided, x broadcasts.
template <class T>
void unary(const UnaryFn& f, const StridedDesc& out_desc, T* out, const StridedDesc& x_desc, const T* x,
           cudaStream_t stream);
// out[i] = op(x[i], y[i]) with math::binary.
template <class T>
void binary(BinaryOp op, const StridedDesc& out_desc, T* out, const StridedDesc& x_desc, const T* x,
            const StridedDesc& y_desc, const T* y, cudaStream_t stream);
}  // namespace native

}  // namespace crisp::cuda
