// Launchers of the strided elementwise CUDA kernels (kernels/elementwise.cu): copy with
// broadcasting (what contiguous / clone / copy_ / cat need), fill, and the broadcasting binary and
// unary maps of the training step. Plain declarations; device pointers; instantiated for float,
// double and int64_t (copy, fill) and float (arithmetic).
#pragma once

#include "crisp/backend/cuda/runtime_api.hpp"

#include <cstdint>

namespace crisp::cuda {

// A strided operand: up to 8 dims, strides in elements (0 = broadcast along that dim).
struct StridedDesc {
  static constexpr int kMaxDims = 8;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
};

enum class BinaryOp { Add, Sub, Mul, Div, Maximum, Minimum };
enum class UnaryOp { Neg, Abs, Relu, Sigmoid, Tanh, Exp, Log, Sqrt, Square };

namespace native {
// dst[i] = src[i] over dst's shape (src's strides may broadcast). dst and src must not overlap.
template <class T>
void copy_strided(const StridedDesc& dst_desc, T* dst, const StridedDesc& src_desc, const T* src, cudaStream_t stream);
// dst[i] = value over dst's shape.
template <class T>
void fill_strided(const StridedDesc& dst_desc, T* dst, T value, cudaStream_t stream);
// out = a (op) b, broadcasting: out contiguous over out's shape, a / b strided over that shape.
void binary(BinaryOp op, int64_t n, const StridedDesc& out_shape, float* out, const StridedDesc& a, const float* pa,
            const StridedDesc& b, const float* pb, cudaStream_t stream);
// out = op(a), out contiguous.
void unary(UnaryOp op, const StridedDesc& out_shape, float* out, const StridedDesc& a, const float* pa,
           cudaStream_t stream);
// out = alpha * a + beta * b elementwise over n contiguous elements (add_ / mul_ / lerp-style updates).
void axpby(int64_t n, float alpha, const float* a, float beta, const float* b, float* out, cudaStream_t stream);
// grad_in = grad_out * (x > 0), n contiguous elements.
void relu_backward(int64_t n, const float* grad_out, const float* x, float* grad_in, cudaStream_t stream);
// out[0] = sum of n contiguous elements, accumulated in double in a fixed order (deterministic).
void sum_all(int64_t n, const float* x, float* out, cudaStream_t stream);
// out[0] = mean |a - b| over n contiguous elements (torch.nn.functional.l1_loss, reduction mean).
void l1_loss(int64_t n, const float* a, const float* b, float* out, cudaStream_t stream);
// torch.optim.Adam's step on n contiguous parameters (weight decay added to the gradient, no
// amsgrad); step is the 1-based step count after increment.
void adam_step(int64_t n, float* param, const float* grad, float* exp_avg, float* exp_avg_sq, float lr, float beta1,
               float beta2, float eps, float weight_decay, int64_t step, cudaStream_t stream);
// softmax over the last dim of a contiguous [rows, cols] buffer.
void softmax_lastdim(int64_t rows, int64_t cols, const float* x, float* y, cudaStream_t stream);
}  // namespace native

}  // namespace crisp::cuda
