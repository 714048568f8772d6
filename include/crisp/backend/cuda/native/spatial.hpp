// Launchers of the spatial CUDA kernels over contiguous [planes, H, W] buffers: pooling
// (kernels/pool.cu), padding and resizing (kernels/resize.cu). Device pointers; float and double.
// The backward passes gather (one thread per input element, summing its outputs in the CPU's
// order) instead of scattering with atomics, so they are deterministic.
#pragma once

#include "crisp/backend/cuda/runtime_api.hpp"

#include <cstdint>

#include "crisp/backend/geometry.hpp"

namespace crisp::cuda::native {

template <class T>
void max_pool2d_forward(const T* x, T* y, int64_t* idx, int64_t planes, const PoolGeometry& g, cudaStream_t stream);
template <class T>
void max_pool2d_backward(const T* gy, const int64_t* idx, T* gx, int64_t planes, const PoolGeometry& g,
                         cudaStream_t stream);
// divisor <= 0: ATen's divisor (count_include_pad decides); > 0: divisor_override.
template <class T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, const PoolGeometry& g, bool count_include_pad,
                        int64_t divisor, cudaStream_t stream);
template <class T>
void avg_pool2d_backward(const T* gy, T* gx, int64_t planes, const PoolGeometry& g, bool count_include_pad,
                         int64_t divisor, cudaStream_t stream);
template <class T>
void adaptive_avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                 cudaStream_t stream);
template <class T>
void adaptive_avg_pool2d_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                  cudaStream_t stream);

// An output -> input index map (and weight) of one dim, inverted: input i's outputs are
// out[start[i] .. start[i + 1]) (ascending), with weights w (null for nearest / pad). Device arrays.
template <class T>
struct InverseMap {
  const int64_t* start;
  const int64_t* out;
  const T* w;
};

// y[p, oh, ow] = x[p, rows[oh], cols[ow]], or value where either is -1. rows / cols: device arrays.
template <class T>
void gather2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const int64_t* rows, int64_t OH,
                      const int64_t* cols, int64_t OW, T value, cudaStream_t stream);
// gx[p, h, w] = sum over (oh, ow) in inv_rows(h) x inv_cols(w) of wr * wc * gy[p, oh, ow] (weights 1 when null).
template <class T>
void gather2d_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                       InverseMap<T> rows, InverseMap<T> cols, cudaStream_t stream);
// y = bilinear blend of x through per-dim taps (device arrays, OH / OW entries each).
template <class T>
void bilinear_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const int64_t* r0, const int64_t* r1,
                      const T* rl0, const T* rl1, int64_t OH, const int64_t* c0, const int64_t* c1, const T* cl0,
                      const T* cl1, int64_t OW, cudaStream_t stream);

}  // namespace crisp::cuda::native
