// Direct AVX-512 backward-weight of the CPU convolution with unit column stride: dw[o][k] is the
// dot product over positions of dy[o] with tap k's source row, both read as vectors straight from
// dy and from the source ring (conv_direct.hpp), so neither im2col nor any transposing pack runs.
#pragma once

#if defined(__AVX512F__)

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "crisp/backend/cpu/conv_direct.hpp"
#include "crisp/tensor/host_allocator.hpp"

// GCC 12 warns, wrongly, that _mm512_reduce_add_pd reads an uninitialised vector (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace crisp::cpu::detail {

template <class T>
using WgradFn = void (*)(int64_t, int64_t, int64_t, const T*, int64_t, int64_t, const T*, const int32_t*, int64_t,
                         T*, int64_t);

// acc[i][j] (vectors over positions) += dy[o0 + i][row][v] * src(tap k0 + j)[row][v] over rb rows of
// V positions; then dw[i * ldw + j] += the lane sums. An RO x RK block of outer products per
// vector step: RO + RK loads for RO * RK FMAs.
template <class T, int RO, int RK>
void wgrad_kernel(int64_t rb, int64_t V, int64_t K, const T* dy, int64_t dy_ch, int64_t dy_row, const T* ring,
                  const int32_t* off, int64_t, T* dw, int64_t ldw) {
  using Ops = Avx512Vec<T>;
  using V_ = typename Ops::V;
  constexpr int L = Ops::L;
  V_ acc[RO][RK];
#pragma GCC unroll 4
  for (int i = 0; i < RO; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < RK; ++j) acc[i][j] = Ops::zero();
  const int64_t full = V / L, rem = V - full * L;
  for (int64_t r = 0; r < rb; ++r) {
    const T* d = dy + r * dy_row;
    const int32_t* o = off + r * K;
    const T* x[RK];
#pragma GCC unroll 8
    for (int j = 0; j < RK; ++j) x[j] = ring + o[j];
    auto step = [&](int64_t v, auto load_dy) {
      V_ dv[RO];
#pragma GCC unroll 4
      for (int i = 0; i < RO; ++i) dv[i] = load_dy(d + i * dy_ch + v);
#pragma GCC unroll 8
      for (int j = 0; j < RK; ++j) {
        V_ xv = Ops::loadu(x[j] + v);
        // Keeps xv in a register: GCC otherwise folds the load into each of the RO FMAs, RO times
        // the loads (unaligned, often line-splitting) of the one this needs.
        asm("" : "+v"(xv));
#pragma GCC unroll 4
        for (int i = 0; i < RO; ++i) acc[i][j] = Ops::fmadd(dv[i], xv, acc[i][j]);
      }
    };
    for (int64_t vv = 0; vv < full; ++vv) step(vv * L, [](const T* p) { return Ops::loadu(p); });
    if (rem > 0) {
      const unsigned m = (1u << rem) - 1u;
      step(full * L, [m](const T* p) {
        if constexpr (sizeof(T) == 4)
          return _mm512_maskz_loadu_ps(static_cast<__mmask16>(m), p);
        else
          return _mm512_maskz_loadu_pd(static_cast<__mmask8>(m), p);
      });
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < RO; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < RK; ++j) {
      if constexpr (sizeof(T) == 4)
        dw[i * ldw + j] += _mm512_reduce_add_ps(acc[i][j]);
      else
        dw[i * ldw + j] += _mm512_reduce_add_pd(acc[i][j]);
    }
}

inline constexpr int kWgradRO = 4, kWgradRK = 6;

template <class T, int RO, int... RKs>
constexpr std::array<WgradFn<T>, kWgradRK + 1> wgrad_row_table(std::integer_sequence<int, RKs...>) {
  return {nullptr, &wgrad_kernel<T, RO, RKs + 1>...};
}
template <class T, int... ROs>
constexpr std::array<std::array<WgradFn<T>, kWgradRK + 1>, kWgradRO + 1> wgrad_table(std::integer_sequence<int, ROs...>) {
  return {std::array<WgradFn<T>, kWgradRK + 1>{},
          wgrad_row_table<T, ROs + 1>(std::make_integer_sequence<int, kWgradRK>{})...};
}

// Rows per kernel call for backward-weight: the ring within about 512 KB, at most 16.
template <class T>
int64_t wgrad_rows(const Conv2dGeometry& g, const std::vector<ConvTap>& taps, int64_t cols) {
  const DirectRing<T> probe(taps, g.H, g.W, g.stride_h, cols, 1);
  return DirectRing<T>::rows_for(int64_t(512) << 10, probe.channels, probe.Wp, probe.span, g.stride_h,
                                 std::min<int64_t>(g.P, 16));
}

// Whether the direct backward-weight beats im2col + GEMM (measured on Zen 5): only when each
// kernel call reduces over enough vectors of positions to hide its 4 x 6 lane sums; many channels
// on narrow images (256 -> 256 at 64 x 64: 3 rows of 4 vectors) do better with the GEMM. (Rows
// with idle lanes, 24 columns, were tried on the GEMM too: faster alone on one thread, slower in
// the demo's whole step on two.)
template <class T>
bool conv2d_backward_weight_direct_pays(const Conv2dGeometry& g) {
  constexpr int64_t L = 64 / sizeof(T);
  const int64_t nvec = (g.Q + L - 1) / L;
  return wgrad_rows<T>(g, forward_taps(g), nvec * L) * nvec >= 32;
}

// dw [O, Cg * kh * kw] (overwritten) for a convolution with stride_w == 1: per thread a partial dw
// over runs of output rows, summed at the end.
template <class T>
void conv2d_backward_weight_direct(const Conv2dGeometry& g, const T* x, const T* dy, T* dw) {
  static constexpr auto table = wgrad_table<T>(std::make_integer_sequence<int, kWgradRO>{});
  constexpr int64_t L = 64 / sizeof(T);
  const int64_t Cg = g.Cg(), Og = g.Og(), K = Cg * g.kh * g.kw, HW = g.H * g.W, PQ = g.P * g.Q;
  const int64_t U = g.P, V = g.Q, wsize = g.O * K;
  const std::vector<ConvTap> taps = forward_taps(g);
  const int64_t cols = round_up(V, L);
  const int64_t R = wgrad_rows<T>(g, taps, cols);
  const DirectRing<T> ring(taps, g.H, g.W, g.stride_h, cols, R);
  const int64_t run_rows = direct_run_rows(U, g.N * g.groups);
  const int64_t runs = (U + run_rows - 1) / run_rows, items = g.N * g.groups * runs;
  const int nt = std::max(1, max_threads());
  const size_t slab_size = ring.size();
  const size_t off_size = static_cast<size_t>(round_up(R * std::max<int64_t>(K, 1), 16));
  const size_t ws = slab_size + (off_size * sizeof(int32_t) + sizeof(T) - 1) / sizeof(T) + 64;
  HostVector<T> partial(static_cast<size_t>(nt) * static_cast<size_t>(wsize), T(0));
  std::atomic<int64_t> next{0};
  parallel_for(0, nt, 1, [&](int64_t t, int64_t) {
    T* const slab = conv_workspace<T>(ws);
    int32_t* const off = reinterpret_cast<int32_t*>(slab + slab_size);
    T* const part = partial.data() + t * wsize;
    for (int64_t it = next.fetch_add(1); it < items; it = next.fetch_add(1)) {
      const int64_t run = it % runs, ng = it / runs, gi = ng % g.groups, n = ng / g.groups;
      const int64_t ua = run * run_rows, ub = std::min(U, ua + run_rows);
      const ConvSource<T> src{x + (n * g.C + gi * Cg) * HW, g.H, g.W, g.stride_h, 1, V};
      const T* dy_g = dy + (n * g.O + gi * Og) * PQ;
      int64_t loaded_hi = ring.first_row(ua);
      for (int64_t u0 = ua; u0 < ub; u0 += R) {
        const int64_t rb = std::min(R, ub - u0);
        ring.step(src, u0, rb, loaded_hi, slab, off);
        for (int64_t o0 = 0; o0 < Og; o0 += kWgradRO) {
          const int64_t ro = std::min<int64_t>(kWgradRO, Og - o0);
          for (int64_t k0 = 0; k0 < K; k0 += kWgradRK) {
            const int64_t rk = std::min<int64_t>(kWgradRK, K - k0);
            table[static_cast<size_t>(ro)][static_cast<size_t>(rk)](rb, V, K, dy_g + o0 * PQ + u0 * V, PQ, V, slab,
                                                                    off + k0, 0, part + (gi * Og + o0) * K + k0, K);
          }
        }
      }
    }
  });
  parallel_for(0, wsize, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T s = 0;
      for (int t = 0; t < nt; ++t) s += partial[static_cast<size_t>(t * wsize + i)];
      dw[i] = s;
    }
  });
}

}  // namespace crisp::cpu::detail

#pragma GCC diagnostic pop

#endif  // __AVX512F__
