// Tensor-level helpers over the CUDA launchers: in builds with CRISP_WITH_CUDA, the ops and the
// autograd engine call these for device tensors (their CPU paths stay exactly as they were). Ops
// without a CUDA kernel reach a CPU kernel, whose Tensor::data() throws for a device tensor.
// Empty in builds without CUDA, so the layers above may include it unconditionally.
#pragma once

#if defined(CRISP_WITH_CUDA)

#include <cstring>
#include <type_traits>

#include "crisp/backend/cpu/strided_loop.hpp"
#include "crisp/backend/cuda/elementwise.hpp"
#include "crisp/backend/cuda/runtime.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::detail {

inline cuda::StridedDesc strided_desc(const Shape& shape, const Strides& strides) {
  cuda::StridedDesc d;
  d.ndim = static_cast<int>(shape.size());
  for (int i = 0; i < d.ndim; ++i) d.shape[i] = shape[i], d.strides[i] = strides[i];
  return d;
}
template <class T>
cuda::StridedDesc broadcast_desc(const Tensor<T>& t, const Shape& out) {
  return strided_desc(out, cpu::broadcast_strides(t.shape(), t.strides(), out));
}

template <class T>
void check_same_device(const char* op, const Tensor<T>& a, const Tensor<T>& b) {
  CRISP_CHECK(a.device() == b.device(), Error, op, "expected tensors on one device, got ", a.device(), " and ",
              b.device(), " (move one with .to(device))");
}
template <class T>
void require_float_on_cuda(const char* op) {
  CRISP_CHECK((std::is_same_v<T, float>), Error, op,
              "expected float tensors on CUDA (the CUDA kernels are FP32), got another element type");
}

// dst (device) = src (device) broadcast to dst's shape. An overlapping source was copied out first
// by the caller (copy_), as on the CPU.
template <class T>
void cuda_copy_into(const Tensor<T>& dst, const Tensor<T>& src) {
  check_same_device("copy_", dst, src);
  cuda::native::copy_strided<T>(strided_desc(dst.shape(), dst.strides()), dst.data_ptr(), broadcast_desc(src, dst.shape()),
                                src.data_ptr(), cuda::current_stream());
}

// acc += g (g broadcast to acc's shape; acc contiguous): the engine's gradient accumulation.
template <class T>
void cuda_accumulate(const Tensor<T>& acc, const Tensor<T>& g) {
  require_float_on_cuda<T>("backward");
  check_same_device("backward", acc, g);
  if constexpr (std::is_same_v<T, float>)
    cuda::native::binary(cuda::BinaryOp::Add, acc.numel(), strided_desc(acc.shape(), acc.strides()), acc.data_ptr(),
                         strided_desc(acc.shape(), acc.strides()), acc.data_ptr(), broadcast_desc(g, acc.shape()),
                         g.data_ptr(), cuda::current_stream());
}

template <class T>
void cuda_fill(const Tensor<T>& dst, T value) {
  cuda::native::fill_strided<T>(strided_desc(dst.shape(), dst.strides()), dst.data_ptr(), value, cuda::current_stream());
}

inline cuda::BinaryOp binary_op_of(const char* op) {
  static constexpr std::pair<const char*, cuda::BinaryOp> table[] = {
      {"add", cuda::BinaryOp::Add}, {"sub", cuda::BinaryOp::Sub}, {"mul", cuda::BinaryOp::Mul},
      {"div", cuda::BinaryOp::Div}, {"maximum", cuda::BinaryOp::Maximum}, {"minimum", cuda::BinaryOp::Minimum}};
  for (const auto& [name, value] : table)
    if (std::strcmp(name, op) == 0) return value;
  throw Error(str_cat(op, ": has no CUDA kernel yet; got tensors on cuda (move them with .to(crisp::Device::cpu()))"));
}

template <class T>
Tensor<T> cuda_binary(const char* op, const Tensor<T>& a, const Tensor<T>& b, const Shape& out) {
  require_float_on_cuda<T>(op);
  check_same_device(op, a, b);
  const cuda::BinaryOp kind = binary_op_of(op);
  Tensor<T> y = Tensor<T>::empty(out, a.device());
  if constexpr (std::is_same_v<T, float>)
    cuda::native::binary(kind, y.numel(), strided_desc(out, y.strides()), y.data_ptr(), broadcast_desc(a, out),
                         a.data_ptr(), broadcast_desc(b, out), b.data_ptr(), cuda::current_stream());
  return y;
}

inline cuda::UnaryOp unary_op_of(const char* op) {
  static constexpr std::pair<const char*, cuda::UnaryOp> table[] = {
      {"neg", cuda::UnaryOp::Neg},   {"abs", cuda::UnaryOp::Abs},         {"relu", cuda::UnaryOp::Relu},
      {"sigmoid", cuda::UnaryOp::Sigmoid}, {"tanh", cuda::UnaryOp::Tanh}, {"exp", cuda::UnaryOp::Exp},
      {"log", cuda::UnaryOp::Log},   {"sqrt", cuda::UnaryOp::Sqrt},       {"square", cuda::UnaryOp::Square}};
  for (const auto& [name, value] : table)
    if (std::strcmp(name, op) == 0) return value;
  throw Error(str_cat(op, ": has no CUDA kernel yet; got a tensor on cuda (move it with .to(crisp::Device::cpu()))"));
}

template <class T>
Tensor<T> cuda_unary(const char* op, const Tensor<T>& x) {
  require_float_on_cuda<T>(op);
  const cuda::UnaryOp kind = unary_op_of(op);
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  if constexpr (std::is_same_v<T, float>)
    cuda::native::unary(kind, strided_desc(x.shape(), y.strides()), y.data_ptr(), strided_desc(x.shape(), x.strides()),
                        x.data_ptr(), cuda::current_stream());
  return y;
}

// The backward of a unary op on the device: relu has a kernel; the others are not ported yet.
template <class T>
Tensor<T> cuda_unary_backward(const char* op, const Tensor<T>& g, const Tensor<T>& x) {
  CRISP_CHECK(std::strcmp(op, "relu") == 0, Error, op,
              "backward has no CUDA kernel yet (only relu's has); got tensors on cuda");
  require_float_on_cuda<T>(op);
  const Tensor<T> gc = g.is_contiguous() ? g : Tensor<T>::empty(g.shape(), g.device());
  if (!g.is_contiguous()) cuda_copy_into(gc, g);
  const Tensor<T> xc = x.is_contiguous() ? x : Tensor<T>::empty(x.shape(), x.device());
  if (!x.is_contiguous()) cuda_copy_into(xc, x);
  Tensor<T> gi = Tensor<T>::empty(x.shape(), x.device());
  if constexpr (std::is_same_v<T, float>)
    cuda::native::relu_backward(x.numel(), gc.data_ptr(), xc.data_ptr(), gi.data_ptr(), cuda::current_stream());
  return gi;
}

}  // namespace crisp::detail

#endif  // CRISP_WITH_CUDA
