// Padding and resizing CUDA kernels over contiguous [planes, H, W] buffers: a map-driven gather
// (pad in all four modes, nearest resize), the bilinear blend, and one deterministic backward for
// all three that gathers each input element's outputs through inverted maps. CPU twins:
// cpu::pad2d_* (backend/cpu/pad.hpp), cpu::resize_nearest_* and cpu::resize_bilinear_*
// (backend/cpu/resize.hpp); the backward sums in the CPU's scatter order (output row, then column).
#include "kernel_common.cuh"  // first: launch() and, emulated, CUDA itself
#include "crisp/backend/cuda/native/spatial.hpp"

namespace crisp::cuda::native {

namespace {

// CPU twins: cpu::pad2d_forward, cpu::resize_nearest_forward.
template <class T>
__global__ void gather2d_fwd_kernel(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const int64_t* rows,
                                    int64_t OH, const int64_t* cols, int64_t OW, T value) {
  CRISP_KERNEL_LOOP(t, planes * OH * OW) {
    const int64_t ow = t % OW, oh = (t / OW) % OH, p = t / (OW * OH);
    const int64_t sh = rows[oh], sw = cols[ow];
    y[t] = sh < 0 || sw < 0 ? value : x[(p * H + sh) * W + sw];
  }
}

// CPU twins: cpu::pad2d_backward, cpu::resize_nearest_backward, cpu::resize_bilinear_backward.
template <class T>
__global__ void gather2d_bwd_kernel(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                    InverseMap<T> rows, InverseMap<T> cols) {
  CRISP_KERNEL_LOOP(t, planes * H * W) {
    const int64_t w = t % W, h = (t / W) % H, p = t / (W * H);
    const T* gp = gy + p * OH * OW;
    T s = 0;
    for (int64_t a = rows.start[h]; a < rows.start[h + 1]; ++a) {
      const T* gr = gp + rows.out[a] * OW;
      const T wr = rows.w ? rows.w[a] : T(1);
      for (int64_t b = cols.start[w]; b < cols.start[w + 1]; ++b) {
        const T v = gr[cols.out[b]];
        s += cols.w ? (wr * v) * cols.w[b] : (rows.w ? wr * v : v);
      }
    }
    gx[t] = s;
  }
}

// CPU twin: cpu::resize_bilinear_forward (same expression, same association).
template <class T>
__global__ void bilinear_fwd_kernel(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const int64_t* r0,
                                    const int64_t* r1, const T* rl0, const T* rl1, int64_t OH, const int64_t* c0,
                                    const int64_t* c1, const T* cl0, const T* cl1, int64_t OW) {
  CRISP_KERNEL_LOOP(t, planes * OH * OW) {
    const int64_t ow = t % OW, oh = (t / OW) % OH, p = t / (OW * OH);
    const T* x0 = x + (p * H + r0[oh]) * W;
    const T* x1 = x + (p * H + r1[oh]) * W;
    y[t] = rl0[oh] * (cl0[ow] * x0[c0[ow]] + cl1[ow] * x0[c1[ow]]) +
           rl1[oh] * (cl0[ow] * x1[c0[ow]] + cl1[ow] * x1[c1[ow]]);
  }
}

}  // namespace

template <class T>
void gather2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const int64_t* rows, int64_t OH,
                      const int64_t* cols, int64_t OW, T value, cudaStream_t stream) {
  const int64_t n = planes * OH * OW;
  if (n == 0) return;
  launch("gather2d_fwd_kernel", gather2d_fwd_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, x, y, planes, H,
         W, rows, OH, cols, OW, value);
}

template <class T>
void gather2d_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                       InverseMap<T> rows, InverseMap<T> cols, cudaStream_t stream) {
  const int64_t n = planes * H * W;
  if (n == 0) return;
  launch("gather2d_bwd_kernel", gather2d_bwd_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, gy, gx, planes, H,
         W, OH, OW, rows, cols);
}

template <class T>
void bilinear_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const int64_t* r0, const int64_t* r1,
                      const T* rl0, const T* rl1, int64_t OH, const int64_t* c0, const int64_t* c1, const T* cl0,
                      const T* cl1, int64_t OW, cudaStream_t stream) {
  const int64_t n = planes * OH * OW;
  if (n == 0) return;
  launch("bilinear_fwd_kernel", bilinear_fwd_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, x, y, planes, H, W,
         r0, r1, rl0, rl1, OH, c0, c1, cl0, cl1, OW);
}

#define CRISP_RESIZE(T)                                                                                               \
  template void gather2d_forward<T>(const T*, T*, int64_t, int64_t, int64_t, const int64_t*, int64_t, const int64_t*, \
                                    int64_t, T, cudaStream_t);                                                        \
  template void gather2d_backward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, InverseMap<T>,        \
                                     InverseMap<T>, cudaStream_t);                                                    \
  template void bilinear_forward<T>(const T*, T*, int64_t, int64_t, int64_t, const int64_t*, const int64_t*,          \
                                    const T*, const T*, int64_t, const int64_t*, const int64_t*, const T*, const T*,  \
                                    int64_t, cudaStream_t);
CRISP_RESIZE(float)
CRISP_RESIZE(double)
#undef CRISP_RESIZE

}  // namespace crisp::cuda::native
