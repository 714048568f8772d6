// cuDNN's convolution as the reference (and an alternative backend) for crisp's own kernels:
// forward, backward-data and backward-weight through the best algorithm cudnnFind* measures for
// each shape (found once, cached), in the same precision as the native ConvMath modes.
#pragma once

#include <cuda_runtime_api.h>

#include "crisp/backend/cuda/native/conv.hpp"

namespace crisp::cuda::cudnn {

// Precision mapping: FP32 -> float data, CUDNN_FMA_MATH (no TF32); TF32 -> float data,
// CUDNN_TENSOR_OP_MATH (TF32 tensor cores allowed); BF16 -> the pointers are __nv_bfloat16
// buffers (x, w, y all bf16), float compute, CUDNN_TENSOR_OP_MATH. cuDNN needs symmetric padding:
// a shape whose P / Q differ from cuDNN's formula (padding "same" with an even kernel) throws.
void conv2d_fprop(const ConvShape& s, const void* x, const void* w, void* y, ConvMath math, cudaStream_t stream);
void conv2d_dgrad(const ConvShape& s, const void* dy, const void* w, void* dx, ConvMath math, cudaStream_t stream);
void conv2d_wgrad(const ConvShape& s, const void* x, const void* dy, void* dw, ConvMath math, cudaStream_t stream);

// Whether cuDNN can run this shape (symmetric padding, see above).
bool supports(const ConvShape& s);
// The name of the algorithm cudnnFind* picked for (kind, shape, math); kind is "fprop", "dgrad"
// or "wgrad". Runs the search if it has not run yet.
const char* algorithm_name(const char* kind, const ConvShape& s, ConvMath math);

}  // namespace crisp::cuda::cudnn
