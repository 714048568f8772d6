// Pooling CUDA kernels over contiguous [planes, H, W] buffers. CPU twins: cpu::max_pool2d_*,
// cpu::avg_pool2d_*, cpu::adaptive_avg_pool2d_* (backend/cpu/pool.hpp), with the same window
// rules, scan order and sums (ATen's). Backward passes gather per input element, in the order the
// CPU scatters, so they are deterministic and match it to rounding.
#include "kernel_common.cuh"  // first: launch() and, emulated, CUDA itself
#include "crisp/backend/cuda/native/spatial.hpp"

namespace crisp::cuda::native {

namespace {

__host__ __device__ inline int64_t div_floor(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
__host__ __device__ inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
__host__ __device__ inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

// CPU twin: cpu::max_pool2d_forward (and detail::max_window): row-major window scan, strictly
// greater or NaN replaces, index h * W + w of the first tap when nothing replaces.
template <class T>
__global__ void max_pool_fwd_kernel(const T* x, T* y, int64_t* idx, int64_t planes, PoolGeometry g) {
  CRISP_KERNEL_LOOP(t, planes * g.OH * g.OW) {
    const int64_t ow = t % g.OW, oh = (t / g.OW) % g.OH, p = t / (g.OW * g.OH);
    const T* xp = x + p * g.H * g.W;
    int64_t h0 = oh * g.sh - g.ph;
    const int64_t h1 = imin(h0 + (g.kh - 1) * g.dh + 1, g.H);
    while (h0 < 0) h0 += g.dh;
    int64_t w0 = ow * g.sw - g.pw;
    const int64_t w1 = imin(w0 + (g.kw - 1) * g.dw + 1, g.W);
    while (w0 < 0) w0 += g.dw;
    int64_t best = h0 * g.W + w0;
    T m = -INFINITY;
    for (int64_t h = h0; h < h1; h += g.dh)
      for (int64_t w = w0; w < w1; w += g.dw) {
        const T v = xp[h * g.W + w];
        if (v > m || v != v) m = v, best = h * g.W + w;
      }
    y[t] = m;
    if (idx) idx[t] = best;
  }
}

// Outputs o whose window starts at o * s - pad and spans `span` cover position i for
// o in [lo, hi] (clipped to [0, n)).
__device__ inline void covering(int64_t i, int64_t s, int64_t pad, int64_t span, int64_t n, int64_t& lo, int64_t& hi) {
  lo = imax(0, div_floor(i + pad - span, s) + 1);
  hi = imin(n - 1, div_floor(i + pad, s));
}

// CPU twin: cpu::max_pool2d_backward. Input (h, w) sums gy over the outputs whose argmax it is,
// in ascending output order (the CPU's scatter order).
template <class T>
__global__ void max_pool_bwd_kernel(const T* gy, const int64_t* idx, T* gx, int64_t planes, PoolGeometry g) {
  CRISP_KERNEL_LOOP(t, planes * g.H * g.W) {
    const int64_t in = t % (g.H * g.W), p = t / (g.H * g.W), h = in / g.W, w = in % g.W;
    int64_t oh0, oh1, ow0, ow1;
    covering(h, g.sh, g.ph, (g.kh - 1) * g.dh + 1, g.OH, oh0, oh1);
    covering(w, g.sw, g.pw, (g.kw - 1) * g.dw + 1, g.OW, ow0, ow1);
    const T* gyp = gy + p * g.OH * g.OW;
    const int64_t* ip = idx + p * g.OH * g.OW;
    T s = 0;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow)
        if (ip[oh * g.OW + ow] == in) s += gyp[oh * g.OW + ow];
    gx[t] = s;
  }
}

// CPU twin: cpu::avg_window.
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};
__device__ inline AvgWindow avg_window(const PoolGeometry& g, int64_t oh, int64_t ow, bool count_include_pad,
                                       int64_t divisor_override) {
  int64_t h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
  int64_t h1 = imin(h0 + g.kh, g.H + g.ph), w1 = imin(w0 + g.kw, g.W + g.pw);
  const int64_t padded = (h1 - h0) * (w1 - w0);
  h0 = imax(h0, 0), w0 = imax(w0, 0);
  h1 = imin(h1, g.H), w1 = imin(w1, g.W);
  const int64_t d = divisor_override > 0 ? divisor_override : count_include_pad ? padded : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, d};
}

// CPU twin: cpu::avg_pool2d_forward (sum row-major from 0, then one division).
template <class T>
__global__ void avg_pool_fwd_kernel(const T* x, T* y, int64_t planes, PoolGeometry g, bool cip, int64_t divisor) {
  CRISP_KERNEL_LOOP(t, planes * g.OH * g.OW) {
    const int64_t ow = t % g.OW, oh = (t / g.OW) % g.OH, p = t / (g.OW * g.OH);
    const T* xp = x + p * g.H * g.W;
    const AvgWindow a = avg_window(g, oh, ow, cip, divisor);
    T s = 0;
    for (int64_t h = a.h0; h < a.h1; ++h)
      for (int64_t w = a.w0; w < a.w1; ++w) s += xp[h * g.W + w];
    y[t] = a.h0 >= a.h1 || a.w0 >= a.w1 ? T(0) : s / static_cast<T>(a.divisor);
  }
}

// CPU twin: cpu::avg_pool2d_backward.
template <class T>
__global__ void avg_pool_bwd_kernel(const T* gy, T* gx, int64_t planes, PoolGeometry g, bool cip, int64_t divisor) {
  CRISP_KERNEL_LOOP(t, planes * g.H * g.W) {
    const int64_t in = t % (g.H * g.W), p = t / (g.H * g.W), h = in / g.W, w = in % g.W;
    int64_t oh0, oh1, ow0, ow1;
    covering(h, g.sh, g.ph, g.kh, g.OH, oh0, oh1);
    covering(w, g.sw, g.pw, g.kw, g.OW, ow0, ow1);
    const T* gyp = gy + p * g.OH * g.OW;
    T s = 0;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow) {
        const AvgWindow a = avg_window(g, oh, ow, cip, divisor);
        if (h >= a.h0 && h < a.h1 && w >= a.w0 && w < a.w1) s += gyp[oh * g.OW + ow] / static_cast<T>(a.divisor);
      }
    gx[t] = s;
  }
}

__device__ inline int64_t adaptive_start(int64_t i, int64_t out, int64_t in) { return (i * in) / out; }
__device__ inline int64_t adaptive_end(int64_t i, int64_t out, int64_t in) { return ((i + 1) * in + out - 1) / out; }

// CPU twin: cpu::adaptive_avg_pool2d_forward.
template <class T>
__global__ void adaptive_avg_fwd_kernel(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                        int64_t OW) {
  CRISP_KERNEL_LOOP(t, planes * OH * OW) {
    const int64_t ow = t % OW, oh = (t / OW) % OH, p = t / (OW * OH);
    const T* xp = x + p * H * W;
    const int64_t h0 = adaptive_start(oh, OH, H), h1 = adaptive_end(oh, OH, H);
    const int64_t w0 = adaptive_start(ow, OW, W), w1 = adaptive_end(ow, OW, W);
    T s = 0;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) s += xp[h * W + w];
    y[t] = s / static_cast<T>(h1 - h0) / static_cast<T>(w1 - w0);
  }
}

// CPU twin: cpu::adaptive_avg_pool2d_backward. The windows covering h are among
// oh in [h * OH / H - 1, (h + 1) * OH / H + 1]; each is checked.
template <class T>
__global__ void adaptive_avg_bwd_kernel(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                        int64_t OW) {
  CRISP_KERNEL_LOOP(t, planes * H * W) {
    const int64_t in = t % (H * W), p = t / (H * W), h = in / W, w = in % W;
    const T* gyp = gy + p * OH * OW;
    const int64_t oh0 = imax(0, h * OH / H - 1), oh1 = imin(OH - 1, (h + 1) * OH / H + 1);
    const int64_t ow0 = imax(0, w * OW / W - 1), ow1 = imin(OW - 1, (w + 1) * OW / W + 1);
    T s = 0;
    for (int64_t oh = oh0; oh <= oh1; ++oh) {
      const int64_t h0 = adaptive_start(oh, OH, H), h1 = adaptive_end(oh, OH, H);
      if (h < h0 || h >= h1) continue;
      for (int64_t ow = ow0; ow <= ow1; ++ow) {
        const int64_t w0 = adaptive_start(ow, OW, W), w1 = adaptive_end(ow, OW, W);
        if (w < w0 || w >= w1) continue;
        s += gyp[oh * OW + ow] / static_cast<T>(h1 - h0) / static_cast<T>(w1 - w0);
      }
    }
    gx[t] = s;
  }
}

}  // namespace

template <class T>
void max_pool2d_forward(const T* x, T* y, int64_t* idx, int64_t planes, const PoolGeometry& g, cudaStream_t stream) {
  const int64_t n = planes * g.OH * g.OW;
  if (n == 0) return;
  launch("max_pool_fwd_kernel", max_pool_fwd_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, x, y, idx, planes,
         g);
}
template <class T>
void max_pool2d_backward(const T* gy, const int64_t* idx, T* gx, int64_t planes, const PoolGeometry& g,
                         cudaStream_t stream) {
  const int64_t n = planes * g.H * g.W;
  if (n == 0) return;
  launch("max_pool_bwd_kernel", max_pool_bwd_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, gy, idx, gx,
         planes, g);
}
template <class T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, const PoolGeometry& g, bool cip, int64_t divisor,
                        cudaStream_t stream) {
  const int64_t n = planes * g.OH * g.OW;
  if (n == 0) return;
  launch("avg_pool_fwd_kernel", avg_pool_fwd_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, x, y, planes, g,
         cip, divisor);
}
template <class T>
void avg_pool2d_backward(const T* gy, T* gx, int64_t planes, const PoolGeometry& g, bool cip, int64_t divisor,
                         cudaStream_t stream) {
  const int64_t n = planes * g.H * g.W;
  if (n == 0) return;
  launch("avg_pool_bwd_kernel", avg_pool_bwd_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, gy, gx, planes, g,
         cip, divisor);
}
template <class T>
void adaptive_avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                 cudaStream_t stream) {
  const int64_t n = planes * OH * OW;
  if (n == 0) return;
  launch("adaptive_avg_fwd_kernel", adaptive_avg_fwd_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, x, y,
         planes, H, W, OH, OW);
}
template <class T>
void adaptive_avg_pool2d_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                  cudaStream_t stream) {
  const int64_t n = planes * H * W;
  if (n == 0) return;
  launch("adaptive_avg_bwd_kernel", adaptive_avg_bwd_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, gy, gx,
         planes, H, W, OH, OW);
}

#define CRISP_POOL(T)                                                                                             \
  template void max_pool2d_forward<T>(const T*, T*, int64_t*, int64_t, const PoolGeometry&, cudaStream_t);        \
  template void max_pool2d_backward<T>(const T*, const int64_t*, T*, int64_t, const PoolGeometry&, cudaStream_t); \
  template void avg_pool2d_forward<T>(const T*, T*, int64_t, const PoolGeometry&, bool, int64_t, cudaStream_t);   \
  template void avg_pool2d_backward<T>(const T*, T*, int64_t, const PoolGeometry&, bool, int64_t, cudaStream_t);  \
  template void adaptive_avg_pool2d_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t,         \
                                               cudaStream_t);                                                     \
  template void adaptive_avg_pool2d_backward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, cudaStream_t);
CRISP_POOL(float)
CRISP_POOL(double)
#undef CRISP_POOL

}  // namespace crisp::cuda::native
