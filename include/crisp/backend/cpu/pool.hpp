// CPU kernels of 2-d max / average / adaptive-average pooling over contiguous [planes, H, W]
// buffers, forward and backward, with ATen's window rules (see ops/pooling.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/backend/geometry.hpp"

namespace crisp::cpu {

using crisp::PoolGeometry;

namespace detail {
// Rows of all planes, split so that a chunk holds about 32K window reads.
inline int64_t pool_row_grain(const PoolGeometry& g) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, g.OW * g.kh * g.kw));
}
inline int64_t pool_plane_grain(const PoolGeometry& g) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, g.OH * g.OW * g.kh * g.kw + g.H * g.W));
}
}  // namespace detail

// Output columns [lo, hi) whose windows lie wholly inside the input's width: there every
// column sees the same window shape, so a row can be computed tap by tap across columns
// (vectorisable) instead of window by window.
struct ColumnRange {
  int64_t lo, hi;
};
inline ColumnRange interior_columns(const PoolGeometry& g) {
  const int64_t lo = std::min((g.pw + g.sw - 1) / g.sw, g.OW);
  const int64_t last = g.W - 1 + g.pw - (g.kw - 1) * g.dw;  // ow * sw must not exceed this
  const int64_t hi = last < 0 ? lo : std::clamp(last / g.sw + 1, lo, g.OW);
  return {lo, hi};
}

namespace detail {
// One max-pool output, window clipped to the input (ATen's loop, used at the edges).
template <class T>
void max_window(const T* xp, const PoolGeometry& g, int64_t h0, int64_t h1, int64_t ow, T* y, int64_t* idx) {
  const int64_t W = g.W, dh = g.dh, dw = g.dw;
  int64_t w0 = ow * g.sw - g.pw;
  const int64_t w1 = std::min(w0 + (g.kw - 1) * dw + 1, W);
  while (w0 < 0) w0 += dw;
  int64_t best = h0 * W + w0;
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t h = h0; h < h1; h += dh)
    for (int64_t w = w0; w < w1; w += dw) {
      const T v = xp[h * W + w];
      if (v > m || v != v) m = v, best = h * W + w;
    }
  *y = m;
  if (idx) *idx = best;
}
}  // namespace detail

// The first maximum of each window (strictly-greater scan in row-major window order, so ties
// keep the earliest), or the last NaN when the window holds NaNs, as ATen. idx (null when no
// gradient is needed) gets the flat h * W + w inside the plane.
template <class T>
void max_pool2d_forward(const T* x, T* y, int64_t* idx, int64_t planes, const PoolGeometry& g) {
  const ColumnRange c = interior_columns(g);
  parallel_for(0, planes * g.OH, detail::pool_row_grain(g), [&](int64_t b, int64_t e) {
    // Locals: stores through idx (int64_t*) may alias g's fields and would force reloads.
    const int64_t H = g.H, W = g.W, OH = g.OH, OW = g.OW, kw = g.kw, sw = g.sw, pw = g.pw, dh = g.dh, dw = g.dw;
    const int64_t lo = c.lo, hi = c.hi;
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / OH, oh = r % OH;
      const T* xp = x + p * H * W;
      int64_t h0 = oh * g.sh - g.ph;
      const int64_t h1 = std::min(h0 + (g.kh - 1) * dh + 1, H);
      while (h0 < 0) h0 += dh;
      T* yr = y + r * OW;
      int64_t* ir = idx ? idx + r * OW : nullptr;
      for (int64_t ow = 0; ow < lo; ++ow) detail::max_window(xp, g, h0, h1, ow, yr + ow, ir ? ir + ow : nullptr);
      for (int64_t ow = hi; ow < OW; ++ow) detail::max_window(xp, g, h0, h1, ow, yr + ow, ir ? ir + ow : nullptr);
      // Interior: the same scan order per output, taps outer and columns inner. Selects, not
      // branches: on real data the comparison is unpredictable.
      for (int64_t ow = lo; ow < hi; ++ow) yr[ow] = -std::numeric_limits<T>::infinity();
      if (ir)
        for (int64_t ow = lo; ow < hi; ++ow) ir[ow] = h0 * W + ow * sw - pw;
      for (int64_t h = h0; h < h1; h += dh)
        for (int64_t j = 0; j < kw; ++j) {
          const int64_t base = h * W + j * dw - pw;
          const T* src = xp + base;
          if (ir) {
#pragma omp simd
            for (int64_t ow = lo; ow < hi; ++ow) {
              const T v = src[ow * sw];
              const bool take = v > yr[ow] || v != v;
              yr[ow] = take ? v : yr[ow];
              ir[ow] = take ? base + ow * sw : ir[ow];
            }
          } else {
#pragma omp simd
            for (int64_t ow = lo; ow < hi; ++ow) {
              const T v = src[ow * sw];
              yr[ow] = (v > yr[ow] || v != v) ? v : yr[ow];
            }
          }
        }
    }
  });
}

// gx (overwritten) = scatter-add of gy to the argmax positions. Overlapping windows can pick the
// same input, so each plane is one task. An index outside the plane (an all-padding window,
// whose output is -inf) receives nothing.
template <class T>
void max_pool2d_backward(const T* gy, const int64_t* idx, T* gx, int64_t planes, const PoolGeometry& g) {
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  parallel_for(0, planes, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, in + out)), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T* gp = gx + p * in;
      std::fill(gp, gp + in, T(0));
      const T* gyp = gy + p * out;
      const int64_t* ip = idx + p * out;
      for (int64_t o = 0; o < out; ++o)
        if (ip[o] >= 0 && ip[o] < in) gp[ip[o]] += gyp[o];
    }
  });
}

// The window of output (oh, ow) clipped to the input, and the divisor ATen uses for it.
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};
inline AvgWindow avg_window(const PoolGeometry& g, int64_t oh, int64_t ow, bool count_include_pad,
                            std::optional<int64_t> divisor_override) {
  int64_t h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
  int64_t h1 = std::min(h0 + g.kh, g.H + g.ph), w1 = std::min(w0 + g.kw, g.W + g.pw);
  const int64_t padded = (h1 - h0) * (w1 - w0);  // the window, clipped to the padded input
  h0 = std::max<int64_t>(h0, 0), w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, g.H), w1 = std::min(w1, g.W);
  const int64_t d = divisor_override ? *divisor_override : count_include_pad ? padded : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, d};
}

template <class T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, const PoolGeometry& g, bool count_include_pad,
                        std::optional<int64_t> divisor_override) {
  const ColumnRange c = interior_columns(g);
  parallel_for(0, planes * g.OH, detail::pool_row_grain(g), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / g.OH, oh = r % g.OH;
      const T* xp = x + p * g.H * g.W;
      T* yr = y + r * g.OW;
      auto edge = [&](int64_t ow) {
        const AvgWindow a = avg_window(g, oh, ow, count_include_pad, divisor_override);
        T s = 0;
        for (int64_t h = a.h0; h < a.h1; ++h)
          for (int64_t w = a.w0; w < a.w1; ++w) s += xp[h * g.W + w];
        yr[ow] = a.h0 >= a.h1 || a.w0 >= a.w1 ? T(0) : s / static_cast<T>(a.divisor);
      };
      for (int64_t ow = 0; ow < c.lo; ++ow) edge(ow);
      for (int64_t ow = c.hi; ow < g.OW; ++ow) edge(ow);
      if (c.lo >= c.hi) continue;
      // Interior columns share the row's clipped height and hence one divisor.
      const AvgWindow a = avg_window(g, oh, c.lo, count_include_pad, divisor_override);
      const T div = static_cast<T>(a.divisor);
      const int64_t sw = g.sw, lo = c.lo, hi = c.hi;
      for (int64_t ow = lo; ow < hi; ++ow) yr[ow] = T(0);
      for (int64_t h = a.h0; h < a.h1; ++h)
        for (int64_t j = 0; j < g.kw; ++j) {
          const T* src = xp + h * g.W + j - g.pw;
#pragma omp simd
          for (int64_t ow = lo; ow < hi; ++ow) yr[ow] += src[ow * sw];
        }
      if (a.h0 >= a.h1) {
        for (int64_t ow = lo; ow < hi; ++ow) yr[ow] = T(0);
        continue;
      }
#pragma omp simd
      for (int64_t ow = lo; ow < hi; ++ow) yr[ow] /= div;
    }
  });
}

template <class T>
void avg_pool2d_backward(const T* gy, T* gx, int64_t planes, const PoolGeometry& g, bool count_include_pad,
                         std::optional<int64_t> divisor_override) {
  parallel_for(0, planes, detail::pool_plane_grain(g), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T* gp = gx + p * g.H * g.W;
      std::fill(gp, gp + g.H * g.W, T(0));
      const T* gyp = gy + p * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const AvgWindow a = avg_window(g, oh, ow, count_include_pad, divisor_override);
          const T v = gyp[oh * g.OW + ow] / static_cast<T>(a.divisor);
          for (int64_t h = a.h0; h < a.h1; ++h)
            for (int64_t w = a.w0; w < a.w1; ++w) gp[h * g.W + w] += v;
        }
    }
  });
}

// Adaptive windows: [floor(i * in / out), ceil((i + 1) * in / out)).
inline int64_t adaptive_start(int64_t i, int64_t out, int64_t in) { return (i * in) / out; }
inline int64_t adaptive_end(int64_t i, int64_t out, int64_t in) { return ((i + 1) * in + out - 1) / out; }

template <class T>
void adaptive_avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  if (OH == 0 || OW == 0) return;
  const int64_t work = OW * ((H + OH - 1) / OH + 1) * ((W + OW - 1) / OW + 1);
  parallel_for(0, planes * OH, std::max<int64_t>(1, 32768 / work), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / OH, oh = r % OH;
      const T* xp = x + p * H * W;
      const int64_t h0 = adaptive_start(oh, OH, H), h1 = adaptive_end(oh, OH, H);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = adaptive_start(ow, OW, W), w1 = adaptive_end(ow, OW, W);
        T s = 0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) s += xp[h * W + w];
        y[r * OW + ow] = s / static_cast<T>(h1 - h0) / static_cast<T>(w1 - w0);
      }
    }
  });
}

template <class T>
void adaptive_avg_pool2d_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  parallel_for(0, planes, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, 2 * H * W + OH * OW)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) {
                   T* gp = gx + p * H * W;
                   std::fill(gp, gp + H * W, T(0));
                   const T* gyp = gy + p * OH * OW;
                   for (int64_t oh = 0; oh < OH; ++oh) {
                     const int64_t h0 = adaptive_start(oh, OH, H), h1 = adaptive_end(oh, OH, H);
                     for (int64_t ow = 0; ow < OW; ++ow) {
                       const int64_t w0 = adaptive_start(ow, OW, W), w1 = adaptive_end(ow, OW, W);
                       const T v = gyp[oh * OW + ow] / static_cast<T>(h1 - h0) / static_cast<T>(w1 - w0);
                       for (int64_t h = h0; h < h1; ++h)
                         for (int64_t w = w0; w < w1; ++w) gp[h * W + w] += v;
                     }
                   }
                 }
               });
}

}  // namespace crisp::cpu
