// Winograd F(2x2, 3x3) engine of the CPU convolution (float, AVX-512): 3x3 kernels at stride 1,
// dilation 1, one group. Each 2x2 output tile costs 16 multiplies per (input, output) channel pair
// instead of 36, so the reduction over channels (the only O(C * O) part) shrinks 2.25x; the
// transforms around it are adds only and O(C + O) per tile. Backward-data of such a convolution is
// one too (the flipped, transposed kernel at padding 2 - p), and backward-weight is the adjoint
// (bottom of the file), so all three passes use this engine.
//
// Layout, per work item (a band of tile rows of one image), all vectors run over tiles:
//   slab  the band's input rows of every channel, zero-padded (rows 2*tr + 2, width wp)
//   V     [16][C][tbp]  B^T d B of each tile: lane = tile, tiles of the band in row-major order
//   M     [16][O][tbp]  M[xi] = U[xi] (O x C) . V[xi] (C x tbp), by the direct engine's kernels
//   out   A^T m A (+ bias), the two output columns of a tile interleaved back into image rows
// Rounding: the transforms' coefficients are 0, +-1 and +-1/2, so the error stays within a small
// multiple of a direct dot product's (tests hold it to the same bound against a double reference).
#pragma once

#include <atomic>

namespace crisp::cpu {

namespace detail {
inline std::atomic<bool>& winograd_enabled_flag() {
  static std::atomic<bool> on{true};
  return on;
}
}  // namespace detail

// Whether float 3x3 stride-1 convolutions may use the Winograd engine (default on). Off, every
// convolution runs the direct or im2col engines, whose rounding is that of a plain dot product
// (builds without AVX-512 have no Winograd engine: there it is off whatever the setting).
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

#if defined(__AVX512F__)

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "crisp/backend/cpu/conv_direct.hpp"
#include "crisp/backend/cpu/gemm_kernel_avx512.hpp"
#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/backend/geometry.hpp"
#include "crisp/tensor/host_allocator.hpp"

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

// Backward-weight keeps a 16 x C x O accumulator per thread and sums it at the end: it pays while
// that stays small beside the work (512 -> 512 at 16 x 16, batch 4, ran at half the direct
// engine's speed; 256 -> 256 at 64 x 64 and 64 -> 64 at 24 x 24 at 1.3-1.6x).
inline bool winograd_wgrad_pays(const Conv2dGeometry& g) {
  return winograd_pays(g) && g.C * g.O <= 256 * 256 && g.N * g.P * g.Q >= 2048;
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
HostVector<float> winograd_weights(const WinogradJob& j, Weight weight) {
  const auto panels = direct_panels<float>(j.O, 16);
  HostVector<float> u(static_cast<size_t>(16 * j.O * j.C));
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

// Tile rows per work item and the buffers' shapes, for a job whose per-tile buffers hold `per_tile`
// floats per tile (16 x the rows of every tile-major buffer): within ~384 KB (L2, beside the
// weights), at least one tile row, and enough items for every thread.
struct WinogradPlan {
  int64_t tP, tQ, chunks, tr, bands, items, tbp, srows, wp;
};
inline WinogradPlan winograd_plan(const WinogradJob& j, int64_t per_tile) {
  constexpr int64_t L = 16;
  WinogradPlan p{};
  p.tP = (j.P + 1) / 2, p.tQ = (j.Q + 1) / 2, p.chunks = (p.tQ + L - 1) / L;
  const int64_t nt = std::max(1, max_threads());
  p.tr = std::max<int64_t>(1, (int64_t(96) << 10) / (per_tile * std::max<int64_t>(p.tQ, 1)));
  // At least 32 tiles (two vectors) per item whatever the budget: fewer leave lanes idle.
  p.tr = std::max(p.tr, (32 + p.tQ - 1) / std::max<int64_t>(p.tQ, 1));
  p.tr = std::min(p.tr, p.tP);
  while (p.tr > 1 && j.N * ((p.tP + p.tr - 1) / p.tr) < 2 * nt) p.tr = (p.tr + 1) / 2;
  p.bands = (p.tP + p.tr - 1) / p.tr, p.items = j.N * p.bands;
  p.tbp = round_up(p.tr * p.tQ, L);
  p.srows = 2 * p.tr + 2, p.wp = 32 * p.chunks + 16;
  return p;
}

// V[xi * vstride + c * tbp + t] = B^T d B of tile t (row-major over the band) of channel c, for
// the band of nty tile rows from ty0 of image n; the lanes t in [tb, tbp) are zeroed (no stale
// NaNs or denormals in the products). slab: C * srows * wp floats of scratch.
inline void winograd_band_input(const WinogradJob& j, const WinogradPlan& p, const float* x, int64_t n,
                                int64_t ty0, int64_t nty, float* slab, float* V, int64_t vstride) {
  constexpr int64_t L = 16;
  const int64_t HW = j.H * j.W, tb = nty * p.tQ, wp = p.wp;
  // The band's input rows 2 ty0 - pad_h + r, zero-padded: slab column X holds input column X - pad_w.
  const int64_t y0 = 2 * ty0 - j.pad_h, nrows = 2 * nty + 2;
  for (int64_t c = 0; c < j.C; ++c) {
    const float* xc = x + (n * j.C + c) * HW;
    for (int64_t r = 0; r < nrows; ++r) {
      float* d = slab + (c * p.srows + r) * wp;
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
  for (int64_t c = 0; c < j.C; ++c)
    for (int64_t r = 0; r < nty; ++r)
      for (int64_t ch = 0; ch < p.chunks; ++ch) {
        __m512 v[16];
        winograd_input_tile(slab + (c * p.srows + 2 * r) * wp + 32 * ch, wp, v);
        const __mmask16 k = winograd_mask(p.tQ - ch * L);
        float* dst = V + c * p.tbp + r * p.tQ + ch * L;
        for (int xi = 0; xi < 16; ++xi) _mm512_mask_storeu_ps(dst + xi * vstride, k, v[xi]);
      }
  if (tb < p.tbp)
    for (int64_t xi = 0; xi < 16; ++xi)
      for (int64_t c = 0; c < j.C; ++c)
        std::memset(V + xi * vstride + c * p.tbp + tb, 0, static_cast<size_t>(p.tbp - tb) * sizeof(float));
}

// Runs the job: x [N, C, H, W] -> y [N, O, P, Q] (overwritten), bias [O] or null, u from
// winograd_weights.
inline void winograd_run(const WinogradJob& j, const HostVector<float>& u, const float* x, const float* bias,
                         float* y) {
  constexpr int64_t L = 16;
  const WinogradPlan p = winograd_plan(j, 16 * (j.C + j.O));
  const int64_t tQ = p.tQ, tbp = p.tbp;
  const auto panels = direct_panels<float>(j.O, tbp);
  const size_t slab_size = static_cast<size_t>(j.C * p.srows * p.wp);
  const size_t v_size = static_cast<size_t>(16 * j.C * tbp), m_size = static_cast<size_t>(16 * j.O * tbp);
  const size_t off_size = static_cast<size_t>(round_up(j.C, 16));
  const size_t ws = slab_size + v_size + m_size + off_size + 64;
  const int64_t PQ = j.P * j.Q;
  const int nt = std::max(1, max_threads());
  std::atomic<int64_t> next{0};
  parallel_for(0, nt, 1, [&](int64_t, int64_t) {
    float* const slab = conv_workspace<float>(ws);
    float* const V = slab + slab_size;
    float* const M = V + v_size;
    int32_t* const off = reinterpret_cast<int32_t*>(M + m_size);
    for (int64_t c = 0; c < j.C; ++c) off[c] = static_cast<int32_t>(c * tbp);
    for (int64_t it = next.fetch_add(1); it < p.items; it = next.fetch_add(1)) {
      const int64_t n = it / p.bands, ty0 = (it % p.bands) * p.tr, nty = std::min(p.tr, p.tP - ty0), tb = nty * tQ;
      winograd_band_input(j, p, x, n, ty0, nty, slab, V, j.C * tbp);
      // M[xi] = U[xi] . V[xi], by the direct engine's register-blocked kernels (K = C).
      for (int64_t xi = 0; xi < 16; ++xi) {
        const float* uxi = u.data() + xi * j.O * j.C;
        const float* vxi = V + xi * j.C * tbp;
        float* mxi = M + xi * j.O * tbp;
        for (const auto& pn : panels) {
          const int64_t width = pn.nv * L;
          for (int64_t st = 0; st < pn.strips; ++st) {
            const int64_t v0 = st * width;
            if (v0 >= tb) break;
            const int64_t cnt = std::min(st + 1 < pn.strips ? width : pn.nv_last * L, tb - v0);
            const DirectFn<float> fn = st + 1 < pn.strips ? pn.fn : pn.fn_last;
            fn(j.C, uxi + pn.m0 * j.C, vxi + v0, off, nullptr, mxi + pn.m0 * tbp + v0, tbp, cnt);
          }
        }
      }
      // Output tiles back into the image, two rows per tile row.
      const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      for (int64_t o = 0; o < j.O; ++o) {
        float* yo = y + (n * j.O + o) * PQ;
        const __m512 bv = _mm512_set1_ps(bias != nullptr ? bias[o] : 0.f);
        for (int64_t r = 0; r < nty; ++r) {
          const int64_t row = 2 * (ty0 + r);
          for (int64_t ch = 0; ch < p.chunks; ++ch) {
            const __mmask16 k = winograd_mask(tQ - ch * L);
            const float* src = M + o * tbp + r * tQ + ch * L;
            __m512 m[16], t[4];
            for (int xi = 0; xi < 16; ++xi) m[xi] = _mm512_maskz_loadu_ps(k, src + xi * j.O * tbp);
            winograd_output_tile(m, t);
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

// ---- backward-weight ------------------------------------------------------------------------
// The adjoint of the forward: with E = A dy A^T (the 2 x 2 output-gradient tile lifted to 4 x 4),
// dW = G^T (sum over tiles of E (.) (B^T d B)) G. The sum over tiles is a product of two
// tile-major matrices per xi, Mw[xi][c][o] += sum_t V[xi][c][t] E[xi][o][t]; E is transposed to
// [t][o] so that the kernel broadcasts V and streams E as vectors over o (no lane sums).

inline constexpr int kWinogradWgradRows = 6;

// c[i][16 v ..] += sum_k a[i * lda + k] * b[k * ldb + 16 v ..] for i < 6 rows, v < NV vectors.
template <int NV>
void winograd_wgrad_kernel(int64_t K, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                           int64_t ldc) {
  constexpr int R = kWinogradWgradRows;
  __m512 acc[R][NV];
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + k * ldb + 16 * v);
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i * lda + k]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* d = c + i * ldc + 16 * v;
      _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), acc[i][v]));
    }
}

// dw [O, C, 3, 3] (overwritten) of y = conv2d(x, w) for a winograd_geometry g.
inline void conv2d_backward_weight_winograd(const Conv2dGeometry& g, const float* x, const float* dy, float* dw) {
  constexpr int64_t L = 16, R = kWinogradWgradRows;
  const WinogradJob j{g.N, g.C, g.H, g.W, g.O, g.P, g.Q, g.pad_h, g.pad_w};
  const int64_t Cp = round_up(j.C, R), Op = round_up(j.O, L);
  const WinogradPlan p = winograd_plan(j, 16 * (Cp + j.O + Op));
  const int64_t tQ = p.tQ, tbp = p.tbp, PQ = j.P * j.Q;
  const size_t slab_size = static_cast<size_t>(j.C * p.srows * p.wp);
  const size_t v_size = static_cast<size_t>(16 * Cp * tbp), e_size = static_cast<size_t>(16 * j.O * tbp);
  const size_t et_size = static_cast<size_t>(16 * tbp * Op);
  const size_t ws = slab_size + v_size + e_size + et_size + 64;
  const int64_t msize = 16 * Cp * Op;
  const int nt = std::max(1, max_threads());
  HostVector<float> partial(static_cast<size_t>(nt * msize), 0.f);
  std::atomic<int64_t> next{0};
  parallel_for(0, nt, 1, [&](int64_t t, int64_t) {
    float* const slab = conv_workspace<float>(ws);
    float* const V = slab + slab_size;
    float* const E = V + v_size;
    float* const Et = E + e_size;
    float* const Mw = partial.data() + t * msize;
    // Rows C .. Cp of V stay zero (the kernel runs 6 rows at a time); columns O .. Op of Et too.
    for (int64_t xi = 0; xi < 16; ++xi)
      std::memset(V + (xi * Cp + j.C) * tbp, 0, static_cast<size_t>((Cp - j.C) * tbp) * sizeof(float));
    std::memset(Et, 0, et_size * sizeof(float));
    for (int64_t it = next.fetch_add(1); it < p.items; it = next.fetch_add(1)) {
      const int64_t n = it / p.bands, ty0 = (it % p.bands) * p.tr, nty = std::min(p.tr, p.tP - ty0), tb = nty * tQ;
      winograd_band_input(j, p, x, n, ty0, nty, slab, V, Cp * tbp);
      // E[xi][o][t] = A dy A^T: A lifts (y0, y1) to (y0, y0 + y1, y0 - y1, -y1); tiles past the
      // output's edge read zeros.
      for (int64_t o = 0; o < j.O; ++o) {
        const float* dyo = dy + (n * j.O + o) * PQ;
        for (int64_t r = 0; r < nty; ++r) {
          const int64_t row = 2 * (ty0 + r);
          for (int64_t ch = 0; ch < p.chunks; ++ch) {
            const int64_t col = 2 * ch * L, left = j.Q - col;
            __m512 yv[2][2];
            for (int a = 0; a < 2; ++a) {
              if (row + a >= j.P) {
                yv[a][0] = yv[a][1] = _mm512_setzero_ps();
                continue;
              }
              const float* src = dyo + (row + a) * j.Q + col;
              const __m512 lo = _mm512_maskz_loadu_ps(winograd_mask(left), src);
              const __m512 hi = _mm512_maskz_loadu_ps(winograd_mask(left - L), src + L);
              yv[a][0] = winograd_even(lo, hi), yv[a][1] = winograd_odd(lo, hi);
            }
            __m512 rr[2][4];
            for (int a = 0; a < 2; ++a) {
              rr[a][0] = yv[a][0];
              rr[a][1] = _mm512_add_ps(yv[a][0], yv[a][1]);
              rr[a][2] = _mm512_sub_ps(yv[a][0], yv[a][1]);
              rr[a][3] = _mm512_sub_ps(_mm512_setzero_ps(), yv[a][1]);
            }
            const __mmask16 k = winograd_mask(tQ - ch * L);
            float* dst = E + o * tbp + r * tQ + ch * L;
            for (int b = 0; b < 4; ++b) {
              _mm512_mask_storeu_ps(dst + (0 * 4 + b) * j.O * tbp, k, rr[0][b]);
              _mm512_mask_storeu_ps(dst + (1 * 4 + b) * j.O * tbp, k, _mm512_add_ps(rr[0][b], rr[1][b]));
              _mm512_mask_storeu_ps(dst + (2 * 4 + b) * j.O * tbp, k, _mm512_sub_ps(rr[0][b], rr[1][b]));
              _mm512_mask_storeu_ps(dst + (3 * 4 + b) * j.O * tbp, k, _mm512_sub_ps(_mm512_setzero_ps(), rr[1][b]));
            }
          }
        }
      }
      // Et[xi][t][o] = E[xi][o][t], 16 x 16 blocks (the tail rows of a block read lanes < tbp,
      // whatever they hold, into columns t >= tb that the kernel never reads).
      for (int64_t xi = 0; xi < 16; ++xi)
        for (int64_t o0 = 0; o0 < j.O; o0 += L)
          for (int64_t t0 = 0; t0 < tb; t0 += L) {
            __m512 blk[16];
            const int64_t ro = std::min(L, j.O - o0);
            for (int64_t i = 0; i < 16; ++i)
              blk[i] = i < ro ? _mm512_loadu_ps(E + (xi * j.O + o0 + i) * tbp + t0) : _mm512_setzero_ps();
            transpose16x16(blk);
            const int64_t rt = std::min(L, tb - t0);
            for (int64_t i = 0; i < rt; ++i) _mm512_storeu_ps(Et + (xi * tbp + t0 + i) * Op + o0, blk[i]);
          }
      // Mw[xi][c][o] += V[xi][c][:tb] . Et[xi][:tb][o]
      for (int64_t xi = 0; xi < 16; ++xi)
        for (int64_t o0 = 0; o0 < Op; o0 += 4 * L) {
          const int64_t nv = std::min<int64_t>(4, (Op - o0) / L);
          for (int64_t c0 = 0; c0 < Cp; c0 += R) {
            const float* a = V + (xi * Cp + c0) * tbp;
            const float* b = Et + xi * tbp * Op + o0;
            float* c = Mw + (xi * Cp + c0) * Op + o0;
            switch (nv) {
              case 4: winograd_wgrad_kernel<4>(tb, a, tbp, b, Op, c, Op); break;
              case 3: winograd_wgrad_kernel<3>(tb, a, tbp, b, Op, c, Op); break;
              case 2: winograd_wgrad_kernel<2>(tb, a, tbp, b, Op, c, Op); break;
              default: winograd_wgrad_kernel<1>(tb, a, tbp, b, Op, c, Op); break;
            }
          }
        }
    }
  });
  // dw[o][c] = G^T (sum over threads of Mw[.][c][o]) G, G^T = [[1, 1/2, 1/2, 0], [0, 1/2, -1/2, 0], [0, 1/2, 1/2, 1]].
  parallel_for(0, j.O, 1, [&](int64_t ob, int64_t oe) {
    static constexpr double Gt[3][4] = {{1, 0.5, 0.5, 0}, {0, 0.5, -0.5, 0}, {0, 0.5, 0.5, 1}};
    for (int64_t o = ob; o < oe; ++o)
      for (int64_t c = 0; c < j.C; ++c) {
        double m[4][4] = {};
        for (int t = 0; t < nt; ++t)
          for (int xi = 0; xi < 16; ++xi)
            m[xi / 4][xi % 4] += partial[static_cast<size_t>(t * msize + (xi * Cp + c) * Op + o)];
        for (int i = 0; i < 3; ++i)
          for (int k = 0; k < 3; ++k) {
            double s = 0;
            for (int a = 0; a < 4; ++a)
              for (int b = 0; b < 4; ++b) s += Gt[i][a] * m[a][b] * Gt[k][b];
            dw[((o * j.C + c) * 3 + i) * 3 + k] = static_cast<float>(s);
          }
      }
  });
}

}  // namespace crisp::cpu::detail

#endif  // __AVX512F__
