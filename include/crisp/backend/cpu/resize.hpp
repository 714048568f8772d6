// CPU kernels of nearest and bilinear resizing over contiguous [planes, H, W] buffers, forward
// and backward. Source indices and weights come precomputed per row and per column.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/backend/geometry.hpp"

namespace crisp::cpu {

using crisp::LinearTaps;

// The integer factor f when map[j] == j / f for every j (a plain f-fold repeat, e.g. x2), else 0.
inline int64_t repeat_factor(const std::vector<int64_t>& map, int64_t in) {
  const int64_t out = static_cast<int64_t>(map.size());
  if (out % in != 0) return 0;
  const int64_t f = out / in;
  for (int64_t j = 0; j < out; ++j)
    if (map[static_cast<size_t>(j)] != j / f) return 0;
  return f;
}

// y[p, oh, ow] = x[p, rows[oh], cols[ow]]. An output row whose source row equals the previous
// one's is a copy of it.
template <class T>
void resize_nearest_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const std::vector<int64_t>& rows,
                            const std::vector<int64_t>& cols) {
  const int64_t OH = static_cast<int64_t>(rows.size()), OW = static_cast<int64_t>(cols.size());
  const int64_t* cm = cols.data();
  const int64_t f = repeat_factor(cols, W);
  parallel_for(0, planes * OH, std::max<int64_t>(1, 16384 / OW), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / OH, oh = r % OH;
      T* yr = y + r * OW;
      if (r > b && oh > 0 && rows[static_cast<size_t>(oh)] == rows[static_cast<size_t>(oh - 1)]) {
        std::copy(yr - OW, yr, yr);
        continue;
      }
      const T* xr = x + (p * H + rows[static_cast<size_t>(oh)]) * W;
      if (f == 2) {
#pragma omp simd
        for (int64_t i = 0; i < W; ++i) yr[2 * i] = yr[2 * i + 1] = xr[i];
      } else if (f > 0) {
        for (int64_t i = 0; i < W; ++i) std::fill(yr + i * f, yr + (i + 1) * f, xr[i]);
      } else {
        for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = xr[cm[ow]];
      }
    }
  });
}

// gx (overwritten) = scatter-add of gy through the same maps; one plane per task.
template <class T>
void resize_nearest_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, const std::vector<int64_t>& rows,
                             const std::vector<int64_t>& cols) {
  const int64_t OH = static_cast<int64_t>(rows.size()), OW = static_cast<int64_t>(cols.size());
  const int64_t* cm = cols.data();
  const int64_t f = repeat_factor(cols, W);
  parallel_for(0, planes, std::max<int64_t>(1, 16384 / (OH * OW + H * W)), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T* gp = gx + p * H * W;
      std::fill(gp, gp + H * W, T(0));
      for (int64_t oh = 0; oh < OH; ++oh) {
        const T* gr = gy + (p * OH + oh) * OW;
        T* xr = gp + rows[static_cast<size_t>(oh)] * W;
        if (f == 2) {
#pragma omp simd
          for (int64_t i = 0; i < W; ++i) xr[i] += gr[2 * i] + gr[2 * i + 1];
        } else {
          for (int64_t ow = 0; ow < OW; ++ow) xr[cm[ow]] += gr[ow];
        }
      }
    }
  });
}

// Bilinear: each output row blends two input rows, each of which blends two columns.
template <class T>
void resize_bilinear_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const LinearTaps<T>& rt,
                             const LinearTaps<T>& ct) {
  const int64_t OH = static_cast<int64_t>(rt.i0.size()), OW = static_cast<int64_t>(ct.i0.size());
  const int64_t *c0 = ct.i0.data(), *c1 = ct.i1.data();
  const T *cl0 = ct.l0.data(), *cl1 = ct.l1.data();
  parallel_for(0, planes * OH, std::max<int64_t>(1, 8192 / OW), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / OH, oh = r % OH;
      const size_t k = static_cast<size_t>(oh);
      const T* x0 = x + (p * H + rt.i0[k]) * W;
      const T* x1 = x + (p * H + rt.i1[k]) * W;
      const T h0 = rt.l0[k], h1 = rt.l1[k];
      T* yr = y + r * OW;
      for (int64_t ow = 0; ow < OW; ++ow)
        yr[ow] = h0 * (cl0[ow] * x0[c0[ow]] + cl1[ow] * x0[c1[ow]]) + h1 * (cl0[ow] * x1[c0[ow]] + cl1[ow] * x1[c1[ow]]);
    }
  });
}

template <class T>
void resize_bilinear_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, const LinearTaps<T>& rt,
                              const LinearTaps<T>& ct) {
  const int64_t OH = static_cast<int64_t>(rt.i0.size()), OW = static_cast<int64_t>(ct.i0.size());
  const int64_t *c0 = ct.i0.data(), *c1 = ct.i1.data();
  const T *cl0 = ct.l0.data(), *cl1 = ct.l1.data();
  parallel_for(0, planes, std::max<int64_t>(1, 8192 / (OH * OW + H * W)), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T* gp = gx + p * H * W;
      std::fill(gp, gp + H * W, T(0));
      for (int64_t oh = 0; oh < OH; ++oh) {
        const size_t k = static_cast<size_t>(oh);
        const T* gr = gy + (p * OH + oh) * OW;
        T* x0 = gp + rt.i0[k] * W;
        T* x1 = gp + rt.i1[k] * W;
        const T h0 = rt.l0[k], h1 = rt.l1[k];
        for (int64_t ow = 0; ow < OW; ++ow) {
          const T g0 = h0 * gr[ow], g1 = h1 * gr[ow];
          x0[c0[ow]] += g0 * cl0[ow];
          x0[c1[ow]] += g0 * cl1[ow];
          x1[c0[ow]] += g1 * cl0[ow];
          x1[c1[ow]] += g1 * cl1[ow];
        }
      }
    }
  });
}

}  // namespace crisp::cpu
