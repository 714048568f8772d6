// CUDA twins of crisp::cpu's convolution kernels (same names, same signatures, float device
// pointers, the current stream) and the run-time switches that pick how they run: the backend
// (crisp's own implicit GEMM or cuDNN) and the math (exact FP32, or opt-in TF32 / BF16 tensor cores).
#pragma once

#include <atomic>
#include <cstdint>

#include "crisp/backend/geometry.hpp"
#include "crisp/backend/cuda/native/conv.hpp"
#include "crisp/backend/cuda/cudnn_conv.hpp"
#include "crisp/backend/cuda/runtime.hpp"

namespace crisp::cuda {

enum class ConvBackend { Native, CuDNN };

namespace detail {
inline std::atomic<ConvBackend>& conv_backend_ref() {
  static std::atomic<ConvBackend> b{ConvBackend::Native};
  return b;
}
inline std::atomic<ConvMath>& conv_math_ref() {
  static std::atomic<ConvMath> m{ConvMath::FP32};
  return m;
}

inline ConvShape to_shape(const Conv2dGeometry& g, const char* op) {
  auto i32 = [op](int64_t v) {
    CRISP_CHECK(v >= 0 && v <= INT32_MAX, ValueError, op, "expected extents below 2^31, got ", v);
    return static_cast<int>(v);
  };
  ConvShape s;
  s.N = i32(g.N), s.C = i32(g.C), s.H = i32(g.H), s.W = i32(g.W), s.O = i32(g.O), s.kh = i32(g.kh), s.kw = i32(g.kw);
  s.P = i32(g.P), s.Q = i32(g.Q), s.sh = i32(g.stride_h), s.sw = i32(g.stride_w), s.ph = i32(g.pad_h);
  s.pw = i32(g.pad_w), s.dh = i32(g.dil_h), s.dw = i32(g.dil_w), s.groups = i32(g.groups);
  return s;
}

// cuDNN runs float data in FP32 / TF32 only (its BF16 mode takes bf16 buffers: see cudnn_conv.hpp),
// and symmetric padding only; anything else is refused, never silently rerouted.
inline void check_cudnn(const ConvShape& s, ConvMath math, const char* op) {
  CRISP_CHECK(math != ConvMath::BF16, ValueError, op,
              "expected ConvMath::FP32 or TF32 with ConvBackend::CuDNN on float tensors, got bf16 "
              "(use ConvBackend::Native for bf16 tensor-core math)");
  CRISP_CHECK(cudnn::supports(s), ValueError, op,
              "cuDNN needs symmetric padding; this shape (padding \"same\" with an even kernel?) "
              "runs only on ConvBackend::Native");
}
}  // namespace detail

// torch.backends.cudnn.enabled, as a choice between two GPU implementations (never the CPU).
inline void set_conv_backend(ConvBackend b) { detail::conv_backend_ref() = b; }
inline ConvBackend conv_backend() { return detail::conv_backend_ref(); }
// torch.backends.cuda.matmul.allow_tf32 for convolutions, plus BF16. FP32 (exact) by default.
inline void set_conv_math(ConvMath m) { detail::conv_math_ref() = m; }
inline ConvMath conv_math() { return detail::conv_math_ref(); }

// ---- twins of crisp::cpu (include/crisp/backend/cpu/conv.hpp) ------------------------------

inline void conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* bias, float* y) {
  const ConvShape s = detail::to_shape(g, "cuda::conv2d_forward");
  const ConvMath math = conv_math();
  cudaStream_t stream = current_stream();
  if (conv_backend() == ConvBackend::CuDNN) {
    detail::check_cudnn(s, math, "cuda::conv2d_forward");
    cudnn::conv2d_fprop(s, x, w, y, math, stream);
    if (bias) native::add_channel_bias(s.N, s.O, s.P * s.Q, bias, y, stream);
    return;
  }
  native::conv2d_fprop(s, x, w, bias, y, math, stream);
}

inline void conv2d_backward_data(const Conv2dGeometry& g, const float* dy, const float* w, float* dx) {
  const ConvShape s = detail::to_shape(g, "cuda::conv2d_backward_data");
  const ConvMath math = conv_math();
  if (conv_backend() == ConvBackend::CuDNN) {
    detail::check_cudnn(s, math, "cuda::conv2d_backward_data");
    cudnn::conv2d_dgrad(s, dy, w, dx, math, current_stream());
    return;
  }
  native::conv2d_dgrad(s, dy, w, dx, math, current_stream());
}

// dbias may be null; when given it receives the per-channel sum of dy.
inline void conv2d_backward_weight(const Conv2dGeometry& g, const float* x, const float* dy, float* dw,
                                   float* dbias) {
  const ConvShape s = detail::to_shape(g, "cuda::conv2d_backward_weight");
  const ConvMath math = conv_math();
  cudaStream_t stream = current_stream();
  if (conv_backend() == ConvBackend::CuDNN) {
    detail::check_cudnn(s, math, "cuda::conv2d_backward_weight");
    cudnn::conv2d_wgrad(s, x, dy, dw, math, stream);
  } else {
    native::conv2d_wgrad(s, x, dy, dw, math, stream);
  }
  if (dbias) native::channel_sum(s.N, s.O, s.P * s.Q, dy, dbias, stream);
}

// The device convolution is FP32 / TF32 / BF16: a double convolution on the device is refused
// (never moved to the CPU). The other double primitives (element-wise, reductions, norms, ...) do
// run on the device.
namespace detail {
[[noreturn]] inline void no_double_conv(const char* op) {
  throw Error(::crisp::detail::str_cat(op, ": expected float tensors on the CUDA device (the CUDA convolution "
                                       "computes in FP32, TF32 or BF16), got double"));
}
}  // namespace detail
inline void conv2d_forward(const Conv2dGeometry&, const double*, const double*, const double*, double*) {
  detail::no_double_conv("conv2d");
}
inline void conv2d_backward_data(const Conv2dGeometry&, const double*, const double*, double*) {
  detail::no_double_conv("conv2d backward");
}
inline void conv2d_backward_weight(const Conv2dGeometry&, const double*, const double*, double*, double*) {
  detail::no_double_conv("conv2d backward");
}
inline void add_channel_bias(int64_t, int64_t, int64_t, const double*, double*) { detail::no_double_conv("conv2d"); }
inline void channel_sum(int64_t, int64_t, int64_t, const double*, double*) { detail::no_double_conv("conv2d backward"); }

inline void add_channel_bias(int64_t N, int64_t C, int64_t HW, const float* bias, float* y) {
  native::add_channel_bias(int(N), int(C), int(HW), bias, y, current_stream());
}
inline void channel_sum(int64_t N, int64_t C, int64_t HW, const float* g, float* out) {
  native::channel_sum(int(N), int(C), int(HW), g, out, current_stream());
}

}  // namespace crisp::cuda
