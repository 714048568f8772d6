// Elementwise and small-reduction CUDA kernels of the training step: strided (broadcasting) copy
// and fill, binary / unary maps, relu backward, sum, l1 loss, Adam, softmax over the last dim.
// CPU references: cpu::map / cpu::fill (backend/cpu/elementwise.hpp), sum_into (reduce.hpp),
// crisp::l1_loss, optim::Adam, crisp::softmax — tests/backend/cuda/test_elementwise_cuda.cpp
// compares each launcher with them on a device; tests/backend/cuda_emulated/
// test_elementwise_emulated.cpp runs this source on the CPU (kernels/cuda_compat.hpp).
#include "cuda_compat.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "crisp/backend/cuda/elementwise.hpp"
#include "crisp/backend/cuda/caching_allocator.hpp"

namespace crisp::cuda::native {

// ============================================================================================
// kernels
// ============================================================================================
namespace {

constexpr int kThreads = 256;

// Offset in elements of linear index i (row-major over d.shape) under d.strides.
__device__ __forceinline__ int64_t strided_offset(const StridedDesc& d, int64_t i) {
  int64_t off = 0;
#pragma unroll
  for (int k = StridedDesc::kMaxDims - 1; k >= 0; --k) {
    if (k >= d.ndim) continue;
    const int64_t e = d.shape[k];
    off += (i % e) * d.strides[k];
    i /= e;
  }
  return off;
}

__host__ __device__ inline int64_t numel_of(const StridedDesc& d) {
  int64_t n = 1;
  for (int k = 0; k < d.ndim; ++k) n *= d.shape[k];
  return n;
}

template <class T>
__global__ void copy_strided_kernel(StridedDesc dd, T* dst, StridedDesc sd, const T* src, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[strided_offset(dd, i)] = src[strided_offset(sd, i)];
}

template <class T>
__global__ void fill_strided_kernel(StridedDesc dd, T* dst, T value, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[strided_offset(dd, i)] = value;
}

__device__ __forceinline__ float apply(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Maximum: return a != a ? a : (b != b ? b : fmaxf(a, b));  // NaN propagates, as torch
    case BinaryOp::Minimum: return a != a ? a : (b != b ? b : fminf(a, b));
  }
  return 0.f;
}
__device__ __forceinline__ float apply(UnaryOp op, float a) {
  switch (op) {
    case UnaryOp::Neg: return -a;
    case UnaryOp::Abs: return fabsf(a);
    case UnaryOp::Relu: return a > 0.f ? a : (a != a ? a : 0.f);
    case UnaryOp::Sigmoid: return a >= 0.f ? 1.f / (1.f + expf(-a)) : expf(a) / (1.f + expf(a));  // stable
    case UnaryOp::Tanh: return tanhf(a);
    case UnaryOp::Exp: return expf(a);
    case UnaryOp::Log: return logf(a);
    case UnaryOp::Sqrt: return sqrtf(a);
    case UnaryOp::Square: return a * a;
  }
  return 0.f;
}

__global__ void binary_kernel(BinaryOp op, int64_t n, float* out, StridedDesc ad, const float* a, StridedDesc bd,
                              const float* b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = apply(op, a[strided_offset(ad, i)], b[strided_offset(bd, i)]);
}

__global__ void unary_kernel(UnaryOp op, int64_t n, float* out, StridedDesc ad, const float* a) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = apply(op, a[strided_offset(ad, i)]);
}

__global__ void axpby_kernel(int64_t n, float alpha, const float* a, float beta, const float* b, float* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = alpha * a[i] + (b ? beta * b[i] : 0.f);
}

__global__ void relu_backward_kernel(int64_t n, const float* g, const float* x, float* gi) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    gi[i] = x[i] > 0.f ? g[i] : 0.f;
}

// Two-pass deterministic reduction: a fixed grid writes per-block partial sums (double), one
// block adds them in order. mode 0: sum x; mode 1: sum |x - y|.
constexpr int kReduceBlocks = 512;
__device__ double block_reduce(double v) {
  __shared__ double red[kThreads];
  red[threadIdx.x] = v;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) red[threadIdx.x] += red[threadIdx.x + w];
    __syncthreads();
  }
  const double r = red[0];
  __syncthreads();
  return r;
}
__global__ void reduce_partial_kernel(int mode, int64_t n, const float* x, const float* y, double* partial) {
  double s = 0.0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    s += mode == 0 ? double(x[i]) : double(fabsf(x[i] - y[i]));
  s = block_reduce(s);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}
__global__ void reduce_final_kernel(const double* partial, int blocks, double scale, float* out) {
  double s = 0.0;
  for (int i = threadIdx.x; i < blocks; i += blockDim.x) s += partial[i];
  s = block_reduce(s);
  if (threadIdx.x == 0) out[0] = float(s * scale);
}

__global__ void adam_kernel(int64_t n, float* p, const float* g, float* m, float* v, float lr, float b1, float b2,
                            float eps, float wd, float bc1, float bc2_sqrt) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float gi = g[i];
    if (wd != 0.f) gi += wd * p[i];
    const float mi = b1 * m[i] + (1.f - b1) * gi;
    const float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi, v[i] = vi;
    // torch: p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
    p[i] -= (lr / bc1) * mi / (sqrtf(vi) / bc2_sqrt + eps);
  }
}

// One block per row: max, sum of exp, normalise.
__global__ void softmax_kernel(int64_t cols, const float* x, float* y) {
  __shared__ float red[kThreads];
  const float* xr = x + blockIdx.x * cols;
  float* yr = y + blockIdx.x * cols;
  float mx = -INFINITY;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) mx = fmaxf(mx, xr[j]);
  red[threadIdx.x] = mx;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + w]);
    __syncthreads();
  }
  mx = red[0];
  __syncthreads();
  float s = 0.f;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += expf(xr[j] - mx);
  red[threadIdx.x] = s;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) red[threadIdx.x] += red[threadIdx.x + w];
    __syncthreads();
  }
  const float inv = 1.f / red[0];
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = expf(xr[j] - mx) * inv;
}

}  // namespace

// ============================================================================================
// launchers
// ============================================================================================
namespace {
int grid_for(int64_t n) { return int(std::max<int64_t>(1, std::min<int64_t>((n + kThreads - 1) / kThreads, 65535))); }
}  // namespace

template <class T>
void copy_strided(const StridedDesc& dd, T* dst, const StridedDesc& sd, const T* src, cudaStream_t stream) {
  const int64_t n = numel_of(dd);
  if (n == 0) return;
  CRISP_CHECK(sd.ndim == dd.ndim, ValueError, "cuda::copy_strided", "expected source and destination of equal rank, got ",
              sd.ndim, " and ", dd.ndim);
  launch("copy_strided_kernel", copy_strided_kernel<T>, grid_for(n), kThreads, 0, stream, dd, dst, sd, src, n);
}
template <class T>
void fill_strided(const StridedDesc& dd, T* dst, T value, cudaStream_t stream) {
  const int64_t n = numel_of(dd);
  if (n == 0) return;
  launch("fill_strided_kernel", fill_strided_kernel<T>, grid_for(n), kThreads, 0, stream, dd, dst, value, n);
}
template void copy_strided<float>(const StridedDesc&, float*, const StridedDesc&, const float*, cudaStream_t);
template void copy_strided<double>(const StridedDesc&, double*, const StridedDesc&, const double*, cudaStream_t);
template void copy_strided<int64_t>(const StridedDesc&, int64_t*, const StridedDesc&, const int64_t*, cudaStream_t);
template void fill_strided<float>(const StridedDesc&, float*, float, cudaStream_t);
template void fill_strided<double>(const StridedDesc&, double*, double, cudaStream_t);
template void fill_strided<int64_t>(const StridedDesc&, int64_t*, int64_t, cudaStream_t);

void binary(BinaryOp op, int64_t n, const StridedDesc& out_shape, float* out, const StridedDesc& a, const float* pa,
            const StridedDesc& b, const float* pb, cudaStream_t stream) {
  CRISP_CHECK(n == numel_of(out_shape) && a.ndim == out_shape.ndim && b.ndim == out_shape.ndim, ValueError,
              "cuda::binary", "expected operands described over the output's ", out_shape.ndim, " dims, got ranks ",
              a.ndim, " and ", b.ndim);
  if (n == 0) return;
  launch("binary_kernel", binary_kernel, grid_for(n), kThreads, 0, stream, op, n, out, a, pa, b, pb);
}

void unary(UnaryOp op, const StridedDesc& out_shape, float* out, const StridedDesc& a, const float* pa,
           cudaStream_t stream) {
  const int64_t n = numel_of(out_shape);
  if (n == 0) return;
  launch("unary_kernel", unary_kernel, grid_for(n), kThreads, 0, stream, op, n, out, a, pa);
}

void axpby(int64_t n, float alpha, const float* a, float beta, const float* b, float* out, cudaStream_t stream) {
  if (n == 0) return;
  launch("axpby_kernel", axpby_kernel, grid_for(n), kThreads, 0, stream, n, alpha, a, beta, b, out);
}

void relu_backward(int64_t n, const float* grad_out, const float* x, float* grad_in, cudaStream_t stream) {
  if (n == 0) return;
  launch("relu_backward_kernel", relu_backward_kernel, grid_for(n), kThreads, 0, stream, n, grad_out, x, grad_in);
}

namespace {
void reduce(int mode, int64_t n, const float* x, const float* y, double scale, float* out, cudaStream_t stream) {
  // Up to kReduceBlocks partial sums; fewer for small n (the block count depends on n only, so
  // the summation order, hence the result, is still fixed for a given n).
  const int blocks = int(std::min<int64_t>(kReduceBlocks, std::max<int64_t>(1, (n + kThreads - 1) / kThreads)));
  auto* partial = static_cast<double*>(caching_allocator().allocate(blocks * sizeof(double), current_device(), stream));
  try {
    launch("reduce_partial_kernel", reduce_partial_kernel, blocks, kThreads, 0, stream, mode, n, x, y, partial);
    launch("reduce_final_kernel", reduce_final_kernel, 1, kThreads, 0, stream, partial, blocks, scale, out);
  } catch (...) {
    caching_allocator().deallocate(partial);
    throw;
  }
  caching_allocator().deallocate(partial);  // stream-ordered reuse
}
}  // namespace

void sum_all(int64_t n, const float* x, float* out, cudaStream_t stream) { reduce(0, n, x, nullptr, 1.0, out, stream); }

void l1_loss(int64_t n, const float* a, const float* b, float* out, cudaStream_t stream) {
  CRISP_CHECK(n > 0, ValueError, "cuda::l1_loss", "expected a non-empty input, got 0 elements");
  reduce(1, n, a, b, 1.0 / double(n), out, stream);
}

void adam_step(int64_t n, float* param, const float* grad, float* exp_avg, float* exp_avg_sq, float lr, float beta1,
               float beta2, float eps, float weight_decay, int64_t step, cudaStream_t stream) {
  CRISP_CHECK(step >= 1, ValueError, "cuda::adam_step", "expected a 1-based step count, got ", step);
  if (n == 0) return;
  const float bc1 = float(1.0 - std::pow(double(beta1), double(step)));
  const float bc2_sqrt = float(std::sqrt(1.0 - std::pow(double(beta2), double(step))));
  launch("adam_kernel", adam_kernel, grid_for(n), kThreads, 0, stream, n, param, grad, exp_avg, exp_avg_sq, lr, beta1,
         beta2, eps, weight_decay, bc1, bc2_sqrt);
}

void softmax_lastdim(int64_t rows, int64_t cols, const float* x, float* y, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  CRISP_CHECK(rows <= INT32_MAX, ValueError, "cuda::softmax_lastdim", "expected fewer than 2^31 rows, got ", rows);
  launch("softmax_kernel", softmax_kernel, unsigned(rows), kThreads, 0, stream, cols, x, y);
}

}  // namespace crisp::cuda::native
