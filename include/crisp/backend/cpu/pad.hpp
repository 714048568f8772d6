// CPU kernels of 2-d padding over contiguous [planes, H, W] buffers. The pad mode is folded
// into two index maps (output row -> input row, output column -> input column; -1 = fill).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/backend/geometry.hpp"

namespace crisp::cpu {

using crisp::PadIndex;
using crisp::pad_index_map;

// Output columns [lo, hi) read input column ow - left in every mode: a contiguous run.
struct PadRun {
  int64_t lo, hi;
};
inline PadRun pad_identity_run(int64_t W, int64_t OW, int64_t left) {
  const int64_t lo = std::clamp<int64_t>(left, 0, OW);
  return {lo, std::clamp<int64_t>(left + W, lo, OW)};
}

// y[p, oh, ow] = x[p, rows[oh], cols[ow]], or `value` where either map says -1.
template <class T>
void pad2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t left,
                   const std::vector<int64_t>& rows, const std::vector<int64_t>& cols, T value) {
  const int64_t OH = static_cast<int64_t>(rows.size()), OW = static_cast<int64_t>(cols.size());
  if (OH == 0 || OW == 0) return;
  const int64_t* cm = cols.data();
  const PadRun run = pad_identity_run(W, OW, left);
  parallel_for(0, planes * OH, std::max<int64_t>(1, 16384 / OW), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / OH, oh = r % OH, sh = rows[static_cast<size_t>(oh)];
      T* yr = y + r * OW;
      if (sh < 0) {
        std::fill(yr, yr + OW, value);
        continue;
      }
      const T* xr = x + (p * H + sh) * W;
      for (int64_t ow = 0; ow < run.lo; ++ow) yr[ow] = cm[ow] < 0 ? value : xr[cm[ow]];
      std::copy(xr + (run.lo - left), xr + (run.hi - left), yr + run.lo);
      for (int64_t ow = run.hi; ow < OW; ++ow) yr[ow] = cm[ow] < 0 ? value : xr[cm[ow]];
    }
  });
}

// gx[p, rows[oh], cols[ow]] += gy[p, oh, ow] (the adjoint of pad2d_forward; gx is overwritten).
// Reflect / replicate / circular send several outputs to one input, so a plane is one task.
template <class T>
void pad2d_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t left,
                    const std::vector<int64_t>& rows, const std::vector<int64_t>& cols) {
  const int64_t OH = static_cast<int64_t>(rows.size()), OW = static_cast<int64_t>(cols.size());
  const int64_t* cm = cols.data();
  const PadRun run = pad_identity_run(W, OW, left);
  parallel_for(0, planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, OH * OW + H * W)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) {
                   T* g = gx + p * H * W;
                   std::fill(g, g + H * W, T(0));
                   for (int64_t oh = 0; oh < OH; ++oh) {
                     const int64_t sh = rows[static_cast<size_t>(oh)];
                     if (sh < 0) continue;
                     const T* gr = gy + (p * OH + oh) * OW;
                     T* xr = g + sh * W;
                     for (int64_t ow = 0; ow < run.lo; ++ow)
                       if (cm[ow] >= 0) xr[cm[ow]] += gr[ow];
                     T* xm = xr + (run.lo - left);
                     const T* gm = gr + run.lo;
#pragma omp simd
                     for (int64_t k = 0; k < run.hi - run.lo; ++k) xm[k] += gm[k];
                     for (int64_t ow = run.hi; ow < OW; ++ow)
                       if (cm[ow] >= 0) xr[cm[ow]] += gr[ow];
                   }
                 }
               });
}

}  // namespace crisp::cpu
