// Launchers of the hand-written implicit-GEMM convolution kernels (kernels/conv2d_implicit_gemm.cu):
// plain declarations shared by nvcc and the host compiler. Device pointers, contiguous NCHW, float
// in and out; `math` picks the exact FP32 FFMA path or the opt-in tensor-core paths.
#pragma once

#include "crisp/backend/cuda/runtime_api.hpp"

#include <cstdint>

#include "crisp/backend/conv_math.hpp"

namespace crisp::cuda {

// Arithmetic of the convolution's multiply-adds. FP32 is exact IEEE float (FFMA, results match
// the CPU to rounding order). TF32 rounds both operands to 10-bit mantissas (cvt.rna) and BF16 to
// 7-bit mantissas before mma.sync; both accumulate in FP32. Documented tolerances (relative L2
// error vs the FP32 result, K = reduced length, random N(0,1) data): TF32 <= 2e-3, BF16 <= 1.5e-2.
// The enum and its switch are device-agnostic (crisp/backend/conv_math.hpp).
using crisp::ConvMath;
using crisp::to_string;

// One NCHW convolution, in int32 (the launchers check every extent and product fits).
struct ConvShape {
  int N = 1, C = 1, H = 1, W = 1, O = 1, kh = 1, kw = 1, P = 1, Q = 1;
  int sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1, groups = 1;
};

namespace native {
// y = conv(x, w) (+ bias[o] when bias is non-null). x [N,C,H,W], w [O,C/g,kh,kw], y [N,O,P,Q].
void conv2d_fprop(const ConvShape& s, const float* x, const float* w, const float* bias, float* y, ConvMath math,
                  cudaStream_t stream);
// dx = conv's adjoint applied to dy (also conv_transpose2d's forward). Overwrites dx.
void conv2d_dgrad(const ConvShape& s, const float* dy, const float* w, float* dx, ConvMath math, cudaStream_t stream);
// dw = sum over n, p, q of dy (x) x-patch. Overwrites dw. Split-K partial sums are reduced in a
// fixed order, so the result is deterministic.
void conv2d_wgrad(const ConvShape& s, const float* x, const float* dy, float* dw, ConvMath math, cudaStream_t stream);
// y[n][c][:] += bias[c] for y [N, C, HW].
void add_channel_bias(int N, int C, int HW, const float* bias, float* y, cudaStream_t stream);
// out[c] = sum over n and HW of g[n][c][:], for g [N, C, HW]; deterministic.
void channel_sum(int N, int C, int HW, const float* g, float* out, cudaStream_t stream);
}  // namespace native

}  // namespace crisp::cuda
