// Convolution geometry and the gathers behind the CPU convolution kernels: im2col of a tile of
// output positions, either as plain rows or straight into the GEMM micro-kernel's packed panels.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <vector>

#include "crisp/backend/geometry.hpp"

namespace crisp::cpu {

using crisp::check_geometry;
using crisp::Conv2dGeometry;


namespace detail {

// One row of the im2col matrix: which source channel (as an element offset from the group's
// first channel) and the source offsets of output position (0, 0).
struct ConvTap {
  int64_t off;
  int64_t dh, dw;
};

// Taps of a forward convolution over channels [0, Cg): row k = (c, i, j) reads
// src[c][u * s_h + i * dil_h - pad_h][v * s_w + j * dil_w - pad_w].
inline std::vector<ConvTap> forward_taps(const Conv2dGeometry& g) {
  std::vector<ConvTap> taps;
  taps.reserve(static_cast<size_t>(g.Cg() * g.kh * g.kw));
  for (int64_t c = 0; c < g.Cg(); ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) taps.push_back({c * g.H * g.W, i * g.dil_h - g.pad_h, j * g.dil_w - g.pad_w});
  return taps;
}

// Writes cnt values row[iw0 + t * s] (t = 0..cnt-1) to dst, zero where the index leaves [0, Ws)
// or when row is null (a row outside the source).
template <class T>
inline void gather_row(const T* row, int64_t iw0, int64_t s, int64_t Ws, int64_t cnt, T* dst) {
  if (row == nullptr) {
    std::fill(dst, dst + cnt, T(0));
    return;
  }
  int64_t lo, hi;
  if (s == 1) {
    lo = std::clamp<int64_t>(-iw0, 0, cnt);
    hi = std::clamp<int64_t>(Ws - iw0, lo, cnt);
    std::fill(dst, dst + lo, T(0));
    std::memcpy(dst + lo, row + iw0 + lo, static_cast<size_t>(hi - lo) * sizeof(T));
  } else {
    lo = iw0 >= 0 ? 0 : std::min<int64_t>(cnt, (-iw0 + s - 1) / s);
    hi = iw0 >= Ws ? lo : std::clamp<int64_t>((Ws - 1 - iw0) / s + 1, lo, cnt);
    std::fill(dst, dst + lo, T(0));
    for (int64_t t = lo; t < hi; ++t) dst[t] = row[iw0 + t * s];
  }
  std::fill(dst + hi, dst + cnt, T(0));
}

#if defined(__AVX512F__)
// d[0 .. 128 bytes) = row[iw0 + t] for t < cols where 0 <= iw0 + t < Ws, else 0 (row null: all 0).
// Masked loads never touch the lanes outside the row, so the border costs no branches. d is
// 64-byte aligned (a packed panel row).
template <class T>
inline void copy_panel_row_avx512(const T* row, int64_t iw0, int64_t Ws, int64_t cols, T* d) {
  constexpr int L = 64 / sizeof(T);
  uint64_t m = 0;
  if (row != nullptr) {
    const int64_t lo = std::clamp<int64_t>(-iw0, 0, cols), hi = std::clamp<int64_t>(Ws - iw0, lo, cols);
    m = (hi >= 64 ? ~uint64_t(0) : (uint64_t(1) << hi) - 1) & ~((uint64_t(1) << lo) - 1);
  }
  const T* s = row ? row + iw0 : d;  // only dereferenced in the lanes m selects (none when row is null)
  if constexpr (sizeof(T) == 4) {
    _mm512_store_ps(d, _mm512_maskz_loadu_ps(static_cast<__mmask16>(m), s));
    _mm512_store_ps(d + L, _mm512_maskz_loadu_ps(static_cast<__mmask16>(m >> L), s + L));
  } else {
    _mm512_store_pd(d, _mm512_maskz_loadu_pd(static_cast<__mmask8>(m), s));
    _mm512_store_pd(d + L, _mm512_maskz_loadu_pd(static_cast<__mmask8>(m >> L), s + L));
  }
}
#endif

// The source: channels of Hs x Ws values, sampled with stride (s_h, s_w) on a U x V grid of
// output positions (flattened u * V + v).
template <class T>
struct ConvSource {
  const T* base;
  int64_t Hs, Ws, s_h, s_w, V;

  const T* row(const ConvTap& t, int64_t u) const {
    const int64_t ih = u * s_h + t.dh;
    return ih >= 0 && ih < Hs ? base + t.off + ih * Ws : nullptr;
  }
  // Values of tap t at the flattened positions j0 .. j0 + cnt - 1 (may cross grid rows).
  void gather(const ConvTap& t, int64_t j0, int64_t cnt, T* dst) const {
    int64_t u = j0 / V, v = j0 % V;
    while (cnt > 0) {
      const int64_t seg = std::min(cnt, V - v);
      gather_row(row(t, u), v * s_w + t.dw, s_w, Ws, seg, dst);
      dst += seg, cnt -= seg, ++u, v = 0;
    }
  }
};

// im2col rows taps[0 .. K) over positions j0 .. j0 + n into dst (row k at dst + k * n).
template <class T>
void im2col_rows(const ConvSource<T>& src, const ConvTap* taps, int64_t K, int64_t j0, int64_t n, T* dst) {
  for (int64_t k = 0; k < K; ++k) src.gather(taps[k], j0, n, dst + k * n);
}

// The same block packed as the GEMM micro-kernel reads its B operand: panels of NR positions,
// panel p holding dst[p * NR * kc + k * NR + jj], zero past n. Gathering straight into this
// layout replaces both im2col and GEMM's packing of B (one pass over the data instead of three).
template <int NR, class T>
void im2col_packed(const ConvSource<T>& src, const ConvTap* taps, int64_t kc, int64_t j0, int64_t n, T* dst) {
#if defined(__AVX512F__)
  // Unit stride and every panel on one grid row (the common case: rows a multiple of NR wide):
  // tap by tap, all panels, so that the source is read along its rows (which the hardware
  // prefetcher follows) and each source line is reused by the next taps from L1.
  if constexpr (NR * sizeof(T) == 128) {
    if (src.s_w == 1 && ((src.V % NR == 0 && j0 % NR == 0) || (j0 % src.V) + n <= src.V)) {
      for (int64_t k = 0; k < kc; ++k) {
        const ConvTap& t = taps[k];
        for (int64_t p0 = 0; p0 < n; p0 += NR) {
          const int64_t cols = std::min<int64_t>(NR, n - p0);
          const int64_t u0 = (j0 + p0) / src.V, v0 = (j0 + p0) % src.V;
          copy_panel_row_avx512(src.row(t, u0), v0 + t.dw, src.Ws, cols, dst + p0 * kc + k * NR);
        }
      }
      return;
    }
  }
#endif
  for (int64_t p0 = 0; p0 < n; p0 += NR) {
    T* d = dst + p0 * kc;
    const int64_t cols = std::min<int64_t>(NR, n - p0);
    const int64_t u0 = (j0 + p0) / src.V, v0 = (j0 + p0) % src.V;
    if (v0 + cols <= src.V && src.s_w == 1) {
      // Whole panel on one grid row, unit stride: a 32-wide copy unless it touches the border.
      for (int64_t k = 0; k < kc; ++k, d += NR) {
        const ConvTap& t = taps[k];
        const T* row = src.row(t, u0);
        const int64_t iw0 = v0 + t.dw;
        if (row != nullptr && cols == NR && iw0 >= 0 && iw0 + NR <= src.Ws) {
          const T* s = row + iw0;
          for (int jj = 0; jj < NR; ++jj) d[jj] = s[jj];
        } else {
          gather_row(row, iw0, 1, src.Ws, cols, d);
          std::fill(d + cols, d + NR, T(0));
        }
      }
    } else {
      for (int64_t k = 0; k < kc; ++k, d += NR) {
        src.gather(taps[k], j0 + p0, cols, d);
        std::fill(d + cols, d + NR, T(0));
      }
    }
  }
}

}  // namespace detail
}  // namespace crisp::cpu
