// Direct (no im2col) AVX-512 engine of the CPU convolutions with unit column stride: the source
// rows a block of output rows needs are copied once into a zero-padded slab, and the micro-kernel
// reads its B vectors straight from the slab at per-tap offsets (no packing of B at all).
#pragma once

#if defined(__AVX512F__)

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "crisp/backend/cpu/conv_gemm.hpp"
#include "crisp/backend/cpu/conv_im2col.hpp"
#include "crisp/backend/cpu/gemm_kernel_avx512.hpp"
#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/tensor/host_allocator.hpp"

namespace crisp::cpu::detail {

// Widest strip (in vectors) a panel of `rows` output channels can keep in the 32 registers:
// rows * nv accumulators plus nv B vectors. Few rows get wide strips, so that small channel
// counts (3 output channels, 3 input channels in backward-data) still keep both FMA pipes busy.
constexpr int direct_nv_max(int rows) {
  int nv = 8;
  while (nv > 1 && rows * nv + nv > 31) --nv;
  return nv;
}
inline constexpr int kDirectMaxRows = 14;

template <class T>
using DirectFn = void (*)(int64_t, const T*, const T*, const int32_t*, const T*, T*, int64_t, int64_t);

// c[i][0 .. ncols) (row i at c + i * ldc) = init[i] (or 0) + sum_k a[k * R + i] * s[off[k] + 0 .. ncols),
// for a strip of NV vectors; ncols <= NV * L, the columns past ncols are computed but not stored.
template <class T, int R, int NV>
void direct_kernel(int64_t K, const T* __restrict a, const T* __restrict s, const int32_t* __restrict off,
                   const T* init, T* c, int64_t ldc, int64_t ncols) {
  using Ops = Avx512Vec<T>;
  using V = typename Ops::V;
  constexpr int L = Ops::L;
  V acc[R][NV];
#pragma GCC unroll 14
  for (int i = 0; i < R; ++i) {
    const V v0 = init != nullptr ? Ops::set1(init[i]) : Ops::zero();
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = v0;
  }
  for (int64_t k = 0; k < K; ++k) {
    const T* b = s + off[k];
    V bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = Ops::loadu(b + v * L);
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
      const V ai = Ops::set1(a[i]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = Ops::fmadd(ai, bv[v], acc[i][v]);
    }
    a += R;
  }
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const int64_t rem = ncols - v * L;
    if (rem >= L) {
#pragma GCC unroll 14
      for (int i = 0; i < R; ++i) Ops::storeu(c + i * ldc + v * L, acc[i][v]);
    } else if (rem > 0) {
      const unsigned m = (1u << rem) - 1u;
#pragma GCC unroll 14
      for (int i = 0; i < R; ++i) {
        if constexpr (sizeof(T) == 4)
          _mm512_mask_storeu_ps(c + i * ldc + v * L, static_cast<__mmask16>(m), acc[i][v]);
        else
          _mm512_mask_storeu_pd(c + i * ldc + v * L, static_cast<__mmask8>(m), acc[i][v]);
      }
    }
  }
}

template <class T, int R, int NV>
constexpr DirectFn<T> direct_pick() {
  if constexpr (NV <= direct_nv_max(R))
    return &direct_kernel<T, R, NV>;
  else
    return nullptr;
}

template <class T, int R, int... NVs>
constexpr std::array<DirectFn<T>, 9> direct_row_table(std::integer_sequence<int, NVs...>) {
  return {nullptr, direct_pick<T, R, NVs + 1>()...};
}

template <class T, int... Rs>
constexpr std::array<std::array<DirectFn<T>, 9>, kDirectMaxRows + 1> direct_table(std::integer_sequence<int, Rs...>) {
  return {std::array<DirectFn<T>, 9>{}, direct_row_table<T, Rs + 1>(std::make_integer_sequence<int, 8>{})...};
}

// A panel of output channels [m0, m0 + rows) and how its output rows are cut into strips: strips
// of nv vectors, the last one nv_last vectors (so that at most one vector per row is part-masked).
template <class T>
struct DirectPanel {
  int64_t m0, rows, nv, strips, nv_last;
  DirectFn<T> fn, fn_last;
};

// Panels of at most 14 rows, balanced (64 = 13+13+13+13+12, the FMAs cost the same either way),
// each with the strip width that covers V with the fewest strips.
template <class T>
std::vector<DirectPanel<T>> direct_panels(int64_t M, int64_t V) {
  static constexpr auto table = direct_table<T>(std::make_integer_sequence<int, kDirectMaxRows>{});
  constexpr int64_t L = 64 / sizeof(T);
  std::vector<DirectPanel<T>> out;
  const int64_t np = (M + kDirectMaxRows - 1) / kDirectMaxRows;
  const int64_t nvec = (V + L - 1) / L;
  for (int64_t p = 0, m0 = 0; p < np; ++p) {
    const int64_t rows = (M - m0 + (np - p) - 1) / (np - p);
    const int64_t nvmax = direct_nv_max(static_cast<int>(rows));
    const int64_t strips = (nvec + nvmax - 1) / nvmax;
    const int64_t nv = (nvec + strips - 1) / strips, nv_last = nvec - (strips - 1) * nv;
    const auto& row = table[static_cast<size_t>(rows)];
    out.push_back({m0, rows, nv, strips, nv_last, row[static_cast<size_t>(nv)], row[static_cast<size_t>(nv_last)]});
    m0 += rows;
  }
  return out;
}

// Packs each group's M x K matrix A (row stride lda, group g at a + g * group_stride) panel by
// panel: panel (m0, rows) holds dst[g * M * K + m0 * K + k * rows + i] = A[m0 + i][k].
template <class T>
HostVector<T> direct_pack_a(const std::vector<DirectPanel<T>>& panels, int64_t groups, int64_t M, int64_t K,
                             const T* a, int64_t lda, int64_t group_stride) {
  HostVector<T> out(static_cast<size_t>(std::max<int64_t>(1, groups * M * K)));
  for (int64_t g = 0; g < groups; ++g)
    for (const auto& p : panels) {
      T* d = out.data() + g * M * K + p.m0 * K;
      for (int64_t i = 0; i < p.rows; ++i) {
        const T* s = a + g * group_stride + (p.m0 + i) * lda;
        for (int64_t k = 0; k < K; ++k) d[k * p.rows + i] = s[k];
      }
    }
  return out;
}

// The source rows a run of output rows reads, kept in a ring of Rin rows per channel (each Wp wide,
// zero-padded left and right), so that going down the image each source row is copied once.
// Tap k of output row u reads ring[off[k] + v] for positions v.
template <class T>
struct DirectRing {
  int64_t channels = 1, Rin = 1, Wp = 0, span = 1, s_h = 1, HWs = 1, dh_min = 0, dw_min = 0;
  std::vector<int64_t> tap_base, tap_dh;

  // cols: widest run of positions read from one row; R: output rows per step (at most).
  DirectRing(const std::vector<ConvTap>& taps, int64_t Hs, int64_t Ws, int64_t s_h_, int64_t cols, int64_t R)
      : s_h(s_h_), HWs(Hs * Ws) {
    constexpr int64_t L = 64 / sizeof(T);
    int64_t dh_max = 0, dw_max = 0;
    for (size_t k = 0; k < taps.size(); ++k) {
      const ConvTap& t = taps[k];
      dh_min = k ? std::min(dh_min, t.dh) : t.dh, dh_max = k ? std::max(dh_max, t.dh) : t.dh;
      dw_min = k ? std::min(dw_min, t.dw) : t.dw, dw_max = k ? std::max(dw_max, t.dw) : t.dw;
      channels = std::max(channels, t.off / HWs + 1);
    }
    Wp = round_up(cols + dw_max - dw_min, L) + L;
    span = dh_max - dh_min + 1;
    Rin = (R - 1) * s_h + span;
    tap_base.resize(taps.size());
    tap_dh.resize(taps.size());
    for (size_t k = 0; k < taps.size(); ++k) {
      tap_base[k] = (taps[k].off / HWs) * Rin * Wp + (taps[k].dw - dw_min);
      tap_dh[k] = taps[k].dh - dh_min;
    }
  }
  // Rows per step keeping channels x Rin x Wp within `bytes`, at most max_r.
  static int64_t rows_for(int64_t bytes, int64_t channels, int64_t Wp, int64_t span, int64_t s_h, int64_t max_r) {
    const int64_t row_bytes = channels * Wp * static_cast<int64_t>(sizeof(T));
    return std::clamp<int64_t>((bytes / row_bytes - span) / s_h + 1, 1, std::max<int64_t>(1, max_r));
  }
  size_t size() const { return static_cast<size_t>(channels * Rin * Wp); }

  // Makes source rows [need_lo, need_hi) present (loaded_hi: rows below it already are).
  void load(const ConvSource<T>& src, int64_t need_lo, int64_t need_hi, int64_t& loaded_hi, T* ring) const {
    const int64_t c_lo = std::clamp<int64_t>(-dw_min, 0, Wp), c_hi = std::clamp<int64_t>(src.Ws - dw_min, c_lo, Wp);
    for (int64_t sr = std::max(need_lo, loaded_hi); sr < need_hi; ++sr) {
      const int64_t slot = ((sr % Rin) + Rin) % Rin;
      for (int64_t ch = 0; ch < channels; ++ch) {
        T* d = ring + (ch * Rin + slot) * Wp;
        if (sr < 0 || sr >= src.Hs) {
          std::fill(d, d + Wp, T(0));
          continue;
        }
        const T* s = src.base + ch * HWs + sr * src.Ws + dw_min;
        std::fill(d, d + c_lo, T(0));
        std::memcpy(d + c_lo, s + c_lo, static_cast<size_t>(c_hi - c_lo) * sizeof(T));
        std::fill(d + c_hi, d + Wp, T(0));
      }
    }
    loaded_hi = std::max(loaded_hi, need_hi);
  }
  // Loads what output rows [u0, u0 + rb) read and writes their tap offsets to off[r * K + k].
  void step(const ConvSource<T>& src, int64_t u0, int64_t rb, int64_t& loaded_hi, T* ring, int32_t* off) const {
    load(src, u0 * s_h + dh_min, (u0 + rb - 1) * s_h + dh_min + span, loaded_hi, ring);
    const int64_t K = static_cast<int64_t>(tap_base.size());
    for (int64_t r = 0; r < rb; ++r) {
      const int64_t slot0 = ((((u0 + r) * s_h + dh_min) % Rin) + Rin) % Rin;
      int32_t* o = off + r * K;
      for (int64_t k = 0; k < K; ++k) {
        int64_t slot = slot0 + tap_dh[static_cast<size_t>(k)];
        if (slot >= Rin) slot -= Rin;
        o[k] = static_cast<int32_t>(tap_base[static_cast<size_t>(k)] + slot * Wp);
      }
    }
  }
  int64_t first_row(int64_t u) const { return u * s_h + dh_min; }
};

// Runs of output rows per (image, group) so that every thread gets a few items.
inline int64_t direct_run_rows(int64_t U, int64_t images) {
  const int64_t nt = std::max(1, max_threads());
  const int64_t runs = std::clamp<int64_t>((4 * nt + images - 1) / images, 1, U);
  return (U + runs - 1) / runs;
}

// Direct convolution: for every image n and group g, out[m][u][v] = init[m] +
// sum_k A[m][k] * src[tap k channel][u * s_h + dh_k][v + dw_k] (zero outside the source), on a
// U x V grid (src.s_w must be 1). out_of(n, g) gives the output of channel 0 (channel m at
// + m * U * V, position (u, v) at + u * V + v), or nullptr: then each tile goes through
// sink(n, g, m0, rows, u, v0, cnt, tile, ld). init_of(g) gives the per-channel start values or null.
// Each work item is a run of output rows of one image and group, computed R rows at a time (the
// A panel is reused over R rows' strips).
template <class T, class SrcOf, class OutOf, class InitOf, class Sink>
void direct_conv_run(const ConvGemmJob& job, const std::vector<DirectPanel<T>>& panels, const HostVector<T>& apack,
                     const std::vector<ConvTap>& taps, SrcOf src_of, OutOf out_of, InitOf init_of, Sink sink) {
  constexpr int64_t L = 64 / sizeof(T);
  const int64_t U = job.U, V = job.V, M = job.M, K = job.K;
  if (U <= 0 || V <= 0 || job.N <= 0) return;
  const ConvSource<T> src0 = src_of(0, 0);
  int64_t max_cols = 0;
  for (const auto& p : panels) max_cols = std::max(max_cols, ((p.strips - 1) * p.nv + p.nv_last) * L);
  // Rows per step: the ring within about 384 KB, so that it stays in L2 next to the A panel.
  const DirectRing<T> probe(taps, src0.Hs, src0.Ws, src0.s_h, max_cols, 1);
  const int64_t R = DirectRing<T>::rows_for(int64_t(384) << 10, probe.channels, probe.Wp, probe.span, src0.s_h,
                                            std::min<int64_t>(U, 8));
  const DirectRing<T> ring(taps, src0.Hs, src0.Ws, src0.s_h, max_cols, R);
  const int64_t run_rows = direct_run_rows(U, job.N * job.groups);
  const int64_t runs = (U + run_rows - 1) / run_rows, items = job.N * job.groups * runs;
  const int nt = std::max(1, max_threads());
  const size_t slab_size = ring.size();
  const size_t tile_size = static_cast<size_t>(kDirectMaxRows * max_cols);
  const size_t off_size = static_cast<size_t>(round_up(R * std::max<int64_t>(K, 1), 16));
  const size_t ws = slab_size + tile_size + (off_size * sizeof(int32_t) + sizeof(T) - 1) / sizeof(T) + 64;
  std::atomic<int64_t> next{0};
  // Items are handed out dynamically: on a shared machine a descheduled thread does not hold up
  // the others at the end.
  parallel_for(0, nt, 1, [&](int64_t, int64_t) {
    T* const slab = conv_workspace<T>(ws);
    T* const tile = slab + slab_size;
    int32_t* const off = reinterpret_cast<int32_t*>(tile + tile_size);
    for (int64_t it = next.fetch_add(1); it < items; it = next.fetch_add(1)) {
      const int64_t run = it % runs, ng = it / runs, g = ng % job.groups, n = ng / job.groups;
      const int64_t ua = run * run_rows, ub = std::min(U, ua + run_rows);
      const ConvSource<T> src = src_of(n, g);
      const T* a_g = apack.data() + g * M * K;
      T* const out = out_of(n, g);
      const T* const init = init_of(g);
      int64_t loaded_hi = ring.first_row(ua);
      for (int64_t u0 = ua; u0 < ub; u0 += R) {
        const int64_t rb = std::min(R, ub - u0);
        ring.step(src, u0, rb, loaded_hi, slab, off);
        for (const auto& p : panels) {
          const T* a = a_g + p.m0 * K;
          const T* ini = init != nullptr ? init + p.m0 : nullptr;
          const int64_t width = p.nv * L;
          for (int64_t r = 0; r < rb; ++r) {
            for (int64_t st = 0; st < p.strips; ++st) {
              const int64_t v0 = st * width, cnt = std::min(st + 1 < p.strips ? width : p.nv_last * L, V - v0);
              const DirectFn<T> fn = st + 1 < p.strips ? p.fn : p.fn_last;
              if (out != nullptr) {
                fn(K, a, slab + v0, off + r * K, ini, out + p.m0 * U * V + (u0 + r) * V + v0, U * V, cnt);
              } else {
                fn(K, a, slab + v0, off + r * K, ini, tile, max_cols, cnt);
                sink(n, g, p.m0, p.rows, u0 + r, v0, cnt, static_cast<const T*>(tile), max_cols);
              }
            }
          }
        }
      }
    }
  });
}

}  // namespace crisp::cpu::detail

#endif  // __AVX512F__
