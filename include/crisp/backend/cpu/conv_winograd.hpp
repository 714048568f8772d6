// Winograd F(2x2, 3x3) engine of the CPU convolution (float, AVX-512): 3x3 kernels at stride 1,
// dilation 1, one group. Each 2x2 output tile costs 16 multiplies per (input, output) channel pair
// instead of 36, so the reduction over channels (the only O(C * O) part) shrinks 2.25x; the
// transforms around it are adds only and O(C + O) per tile. Backward-data of such a convolution is
// one too (the flipped, transposed kernel at padding 2 - p), so both use this engine.
//
// Layout, per work item (a band of tile rows of one image), all vectors run over tiles:
//   slab  the band's input rows of every channel, zero-padded (rows 2*tr + 2, width wp)
//   V     [16][C][tbp]  B^T d B of each tile: lane = tile, tiles of the band in row-major order
//   M     [16][O][tbp]  M[xi] = U[xi] (O x C) . V[xi] (C x tbp), by the direct engine's kernels
//   out   A^T m A (+ bias), the two output columns of a tile interleaved back into image rows
// Rounding: the transforms' coefficients are 0, +-1 and +-1/2, so the error stays within a small
// multiple of a direct dot product's (tests hold it to the same bound against a double reference).
#pragma once

#if defined(__AVX512F__)

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "crisp/backend/cpu/conv_direct.hpp"
#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/backend/geometry.hpp"

namespace crisp::cpu {

namespace detail {
inline std::atomic<bool>& winograd_enabled_flag() {
  static std::atomic<bool> on{true};
  return on;
}
}  // namespace detail

// Whether float 3x3 stride-1 convolutions may use the Winograd engine (default on). Off, every
// convolution runs the direct or im2col engines, whose rounding is that of a plain dot product.
inline void set_conv_winograd(bool on) { detail::winograd_enabled_flag().store(on); }
inline bool conv_winograd() { return detail::winograd_enabled_flag().load(); }

// RAII: sets the Winograd switch for a scope and restores the previous value.
class ConvWinogradScope {
 public:
  explicit ConvWinogradScope(bool on) : prev_(conv_winograd()) { set_conv_winograd(on); }
  ~ConvWinogradScope() { set_conv_winograd(prev_); }
  ConvWinogradScope(const ConvWinogradScope&) = delete;
  ConvWinogradScope& operator=(const ConvWinogradScope&) = delete;

 private:
  bool prev_;
};

}  // namespace crisp::cpu

namespace crisp::cpu::detail {

// The geometry the engine computes: 3x3, stride 1, dilation 1, one group, padding 0..2 (so that
// backward-data, at padding 2 - p, is one as well).
inline bool winograd_geometry(const Conv2dGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1 &&
         g.groups == 1 && g.pad_h >= 0 && g.pad_h <= 2 && g.pad_w >= 0 && g.pad_w <= 2;
}

// Where it beats the direct engine (measured, 2-core AVX-512 Xeon): enough channels on both sides
// for the 16 products per tile to dominate the transforms, and maps of at least 8 x 8.
inline bool winograd_pays(const Conv2dGeometry& g) {
  return conv_winograd() && winograd_geometry(g) && g.C >= 16 && g.O >= 16 && g.P >= 8 && g.Q >= 8;
}

// The Winograd view of a convolution: y[n][o][u][v] = bias[o] + sum_c sum_ij
// x[n][c][u - pad_h + i][v - pad_w + j] * wt(o, c, i, j), with wt read through `weight`.
struct WinogradJob {
  int64_t N, C, H, W, O, P, Q, pad_h, pad_w;
};

// U[xi][o][c] = (G g G^T)[xi] for g = weight(o, c, ., .), packed panel by panel for the direct
// kernels (panel (m0, rows): dst[xi * O * C + m0 * C + c * rows + i]; direct_panels cuts the O
// rows the same way whatever the width it is given).
template <class Weight>
std::vector<float> winograd_weights(const WinogradJob& j, Weight weight) {
  const auto panels = direct_panels<float>(j.O, 16);
  std::vector<float> u(static_cast<size_t>(16 * j.O * j.C));
  std::vector<int64_t> panel_of(static_cast<size_t>(j.O));
  for (size_t p = 0; p < panels.size(); ++p)
    for (int64_t i = 0; i < panels[p].rows; ++i) panel_of[static_cast<size_t>(panels[p].m0 + i)] = static_cast<int64_t>(p);
  parallel_for(0, j.O, 1, [&](int64_t ob, int64_t oe) {
    for (int64_t o = ob; o < oe; ++o) {
      const auto& p = panels[static_cast<size_t>(panel_of[static_cast<size_t>(o)])];
      const int64_t i = o - p.m0;
      for (int64_t c = 0; c < j.C; ++c) {
        double gk[3][3], t[4][3];
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) gk[a][b] = static_cast<double>(weight(o, c, a, b));
        for (int b = 0; b < 3; ++b) {  // G g: rows g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2
          t[0][b] = gk[0][b];
          t[1][b] = 0.5 * (gk[0][b] + gk[1][b] + gk[2][b]);
          t[2][b] = 0.5 * (gk[0][b] - gk[1][b] + gk[2][b]);
          t[3][b] = gk[2][b];
        }
        for (int a = 0; a < 4; ++a) {  // (G g) G^T
          const double r[4] = {t[a][0], 0.5 * (t[a][0] + t[a][1] + t[a][2]), 0.5 * (t[a][0] - t[a][1] + t[a][2]),
                               t[a][2]};
          for (int b = 0; b < 4; ++b)
            u[static_cast<size_t>((a * 4 + b) * j.O * j.C + p.m0 * j.C + c * p.rows + i)] = static_cast<float>(r[b]);
        }
      }
    }
  });
  return u;
}

// Even (odd) lanes of the 32 floats lo:hi.
inline __m512 winograd_even(__m512 lo, __m512 hi) {
  const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return _mm512_permutex2var_ps(lo, idx, hi);
}
inline __m512 winograd_odd(__m512 lo, __m512 hi) {
  const __m512i idx = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  return _mm512_permutex2var_ps(lo, idx, hi);
}

// B^T d B for 16 tiles at once: row r of the 4 x 4 input tile of tile l starts at s[r * ld + 2 l].
inline void winograd_input_tile(const float* s, int64_t ld, __m512 v[16]) {
  __m512 t[4][4];
  for (int r = 0; r < 4; ++r) {
    const float* p = s + r * ld;
    const __m512 lo = _mm512_loadu_ps(p), hi = _mm512_loadu_ps(p + 16);
    const __m512 lo2 = _mm512_loadu_ps(p + 2), hi2 = _mm512_loadu_ps(p + 18);
    const __m512 d0 = winograd_even(lo, hi), d1 = winograd_odd(lo, hi);
    const __m512 d2 = winograd_even(lo2, hi2), d3 = winograd_odd(lo2, hi2);
    t[r][0] = _mm512_sub_ps(d0, d2);
    t[r][1] = _mm512_add_ps(d1, d2);
    t[r][2] = _mm512_sub_ps(d2, d1);
    t[r][3] = _mm512_sub_ps(d1, d3);
  }
  for (int b = 0; b < 4; ++b) {
    v[0 * 4 + b] = _mm512_sub_ps(t[0][b], t[2][b]);
    v[1 * 4 + b] = _mm512_add_ps(t[1][b], t[2][b]);
    v[2 * 4 + b] = _mm512_sub_ps(t[2][b], t[1][b]);
    v[3 * 4 + b] = _mm512_sub_ps(t[1][b], t[3][b]);
  }
}

// A^T m A for 16 tiles: y[0] = (0,0), y[1] = (0,1), y[2] = (1,0), y[3] = (1,1) of each 2 x 2 tile.
inline void winograd_output_tile(const __m512 m[16], __m512 y[4]) {
  __m512 s[2][4];
  for (int b = 0; b < 4; ++b) {
    s[0][b] = _mm512_add_ps(_mm512_add_ps(m[0 * 4 + b], m[1 * 4 + b]), m[2 * 4 + b]);
    s[1][b] = _mm512_sub_ps(_mm512_sub_ps(m[1 * 4 + b], m[2 * 4 + b]), m[3 * 4 + b]);
  }
  for (int a = 0; a < 2; ++a) {
    y[a * 2 + 0] = _mm512_add_ps(_mm512_add_ps(s[a][0], s[a][1]), s[a][2]);
    y[a * 2 + 1] = _mm512_sub_ps(_mm512_sub_ps(s[a][1], s[a][2]), s[a][3]);
  }
}

inline __mmask16 winograd_mask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << std::max<int64_t>(n, 0)) - 1u);
}

// Runs the job: x [N, C, H, W] -> y [N, O, P, Q] (overwritten), bias [O] or null, u from
// winograd_weights.
inline void winograd_run(const WinogradJob& j, const std::vector<float>& u, const float* x, const float* bias,
                         float* y) {
  constexpr int64_t L = 16;
  const int64_t tP = (j.P + 1) / 2, tQ = (j.Q + 1) / 2, chunks = (tQ + L - 1) / L;
  // Tile rows per item: V and M within ~384 KB (L2, beside the weights), at least one tile row,
  // and enough items for every thread.
  const int64_t nt = std::max(1, max_threads());
  int64_t tr = std::max<int64_t>(1, (int64_t(96) << 10) / (16 * (j.C + j.O) * std::max<int64_t>(tQ, 1)));
  tr = std::min(tr, tP);
  while (tr > 1 && j.N * ((tP + tr - 1) / tr) < 2 * nt) tr = (tr + 1) / 2;
  const int64_t bands = (tP + tr - 1) / tr, items = j.N * bands;
  const int64_t tbp = round_up(tr * tQ, L);
  const auto panels = direct_panels<float>(j.O, tbp);
  const int64_t srows = 2 * tr + 2, wp = 32 * chunks + 16;
  const size_t slab_size = static_cast<size_t>(j.C * srows * wp);
  const size_t v_size = static_cast<size_t>(16 * j.C * tbp), m_size = static_cast<size_t>(16 * j.O * tbp);
  const size_t off_size = static_cast<size_t>(round_up(j.C, 16));
  const size_t ws = slab_size + v_size + m_size + off_size + 64;
  const int64_t HW = j.H * j.W, PQ = j.P * j.Q;
  std::atomic<int64_t> next{0};
  parallel_for(0, nt, 1, [&](int64_t, int64_t) {
    float* const slab = conv_workspace<float>(ws);
    float* const V = slab + slab_size;
    float* const M = V + v_size;
    int32_t* const off = reinterpret_cast<int32_t*>(M + m_size);
    for (int64_t c = 0; c < j.C; ++c) off[c] = static_cast<int32_t>(c * tbp);
    for (int64_t it = next.fetch_add(1); it < items; it = next.fetch_add(1)) {
      const int64_t n = it / bands, band = it % bands;
      const int64_t ty0 = band * tr, nty = std::min(tr, tP - ty0), tb = nty * tQ;
      // The band's input rows 2 ty0 - pad_h + r, r < 2 nty + 2, zero-padded: slab column X holds
      // input column X - pad_w.
      const int64_t y0 = 2 * ty0 - j.pad_h, nrows = 2 * nty + 2;
      for (int64_t c = 0; c < j.C; ++c) {
        const float* xc = x + (n * j.C + c) * HW;
        for (int64_t r = 0; r < nrows; ++r) {
          float* d = slab + (c * srows + r) * wp;
          const int64_t yy = y0 + r;
          if (yy < 0 || yy >= j.H) {
            std::memset(d, 0, static_cast<size_t>(wp) * sizeof(float));
            continue;
          }
          const int64_t lead = std::min(j.pad_w, wp), cnt = std::min(j.W, wp - lead);
          std::memset(d, 0, static_cast<size_t>(lead) * sizeof(float));
          std::memcpy(d + lead, xc + yy * j.W, static_cast<size_t>(cnt) * sizeof(float));
          std::memset(d + lead + cnt, 0, static_cast<size_t>(wp - lead - cnt) * sizeof(float));
        }
      }
      // V[xi][c][t]; the padding lanes t >= tb are zeroed (no stale NaNs or denormals in the GEMM).
      for (int64_t c = 0; c < j.C; ++c)
        for (int64_t r = 0; r < nty; ++r)
          for (int64_t ch = 0; ch < chunks; ++ch) {
            __m512 v[16];
            winograd_input_tile(slab + (c * srows + 2 * r) * wp + 32 * ch, wp, v);
            const __mmask16 k = winograd_mask(tQ - ch * L);
            float* dst = V + c * tbp + r * tQ + ch * L;
            for (int xi = 0; xi < 16; ++xi) _mm512_mask_storeu_ps(dst + xi * j.C * tbp, k, v[xi]);
          }
      if (tb < tbp)
        for (int64_t xi = 0; xi < 16; ++xi)
          for (int64_t c = 0; c < j.C; ++c)
            std::memset(V + (xi * j.C + c) * tbp + tb, 0, static_cast<size_t>(tbp - tb) * sizeof(float));
      // M[xi] = U[xi] . V[xi], by the direct engine's register-blocked kernels (K = C).
      for (int64_t xi = 0; xi < 16; ++xi) {
        const float* uxi = u.data() + xi * j.O * j.C;
        const float* vxi = V + xi * j.C * tbp;
        float* mxi = M + xi * j.O * tbp;
        for (const auto& p : panels) {
          const int64_t width = p.nv * L;
          for (int64_t st = 0; st < p.strips; ++st) {
            const int64_t v0 = st * width;
            if (v0 >= tb) break;
            const int64_t cnt = std::min(st + 1 < p.strips ? width : p.nv_last * L, tb - v0);
            const DirectFn<float> fn = st + 1 < p.strips ? p.fn : p.fn_last;
            fn(j.C, uxi + p.m0 * j.C, vxi + v0, off, nullptr, mxi + p.m0 * tbp + v0, tbp, cnt);
          }
        }
      }
      // Output tiles back into the image, two rows per tile row.
      for (int64_t o = 0; o < j.O; ++o) {
        float* yo = y + (n * j.O + o) * PQ;
        const __m512 bv = _mm512_set1_ps(bias != nullptr ? bias[o] : 0.f);
        for (int64_t r = 0; r < nty; ++r) {
          const int64_t row = 2 * (ty0 + r);
          for (int64_t ch = 0; ch < chunks; ++ch) {
            const __mmask16 k = winograd_mask(tQ - ch * L);
            const float* src = M + o * tbp + r * tQ + ch * L;
            __m512 m[16], t[4];
            for (int xi = 0; xi < 16; ++xi) m[xi] = _mm512_maskz_loadu_ps(k, src + xi * j.O * tbp);
            winograd_output_tile(m, t);
            const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            const int64_t col = 2 * ch * L, left = j.Q - col;
            const __mmask16 klo = winograd_mask(left), khi = winograd_mask(left - L);
            for (int a = 0; a < 2 && row + a < j.P; ++a) {
              const __m512 e = _mm512_add_ps(t[2 * a], bv), f = _mm512_add_ps(t[2 * a + 1], bv);
              float* d = yo + (row + a) * j.Q + col;
              _mm512_mask_storeu_ps(d, klo, _mm512_permutex2var_ps(e, lo_idx, f));
              if (khi) _mm512_mask_storeu_ps(d + L, khi, _mm512_permutex2var_ps(e, hi_idx, f));
            }
          }
        }
      }
    }
  });
}

// y = conv2d(x, w) + bias for a winograd_geometry g.
inline void conv2d_forward_winograd(const Conv2dGeometry& g, const float* x, const float* w, const float* bias,
                                    float* y) {
  const WinogradJob j{g.N, g.C, g.H, g.W, g.O, g.P, g.Q, g.pad_h, g.pad_w};
  const auto u = winograd_weights(j, [&](int64_t o, int64_t c, int a, int b) {
    return w[((o * j.C + c) * 3 + a) * 3 + b];
  });
  winograd_run(j, u, x, bias, y);
}

// dx = backward-data of a winograd_geometry g: the convolution of dy with the kernel flipped and
// its channel roles swapped, at padding 2 - p, onto the input's H x W.
inline void conv2d_backward_data_winograd(const Conv2dGeometry& g, const float* dy, const float* w, float* dx) {
  const WinogradJob j{g.N, g.O, g.P, g.Q, g.C, g.H, g.W, 2 - g.pad_h, 2 - g.pad_w};
  const auto u = winograd_weights(j, [&](int64_t o, int64_t c, int a, int b) {
    return w[((c * g.C + o) * 3 + (2 - a)) * 3 + (2 - b)];
  });
  winograd_run(j, u, dy, nullptr, dx);
}

// The backward-data geometry as a forward one, for winograd_pays.
inline Conv2dGeometry winograd_backward_data_view(const Conv2dGeometry& g) {
  Conv2dGeometry t = g;
  t.C = g.O, t.O = g.C, t.H = g.P, t.W = g.Q, t.P = g.H, t.Q = g.W, t.pad_h = 2 - g.pad_h, t.pad_w = 2 - g.pad_w;
  return t;
}

}  // namespace crisp::cpu::detail

#endif  // __AVX512F__
