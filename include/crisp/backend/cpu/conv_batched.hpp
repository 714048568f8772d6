// Convolutions on small output maps (at most 64 positions: the 8 x 8 and 4 x 4 layers at the
// bottom of the discriminators, VGG's last block on 128 x 128 faces) as one GEMM over the whole
// batch. The per-image engines stream the weights once per image and run GEMMs with 16 to 64
// columns, where packing dominates; here the batch's im2col is one [K, N * P * Q] matrix, so the
// weights are read once and the GEMM has N times the columns (512 -> 1024 4x4 stride 2 at 8 x 8,
// batch 4, one thread: forward 17 -> 72-82 GF/s, backward-data 9 -> 55-62 GF/s; VGG's 512 -> 512
// 3x3 at 8 x 8: forward 37-53 -> 83-102, backward-data 29-36 -> 94-107; see docs/benchmarks.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "crisp/backend/cpu/conv_im2col.hpp"
#include "crisp/backend/cpu/gemm.hpp"
#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/backend/geometry.hpp"
#include "crisp/tensor/host_allocator.hpp"

namespace crisp::cpu::detail {

// Whether the batched path applies: a small output map, more than one image, at least 8 output
// channels per group (a GEMM with 1 row, as in a discriminator's final 1024 -> 1 layer, runs
// slower than the per-image path), and an im2col matrix of at most 64 MiB.
template <class T>
bool conv_batched_pays(const Conv2dGeometry& g) {
  const int64_t PQ = g.P * g.Q, K = g.Cg() * g.kh * g.kw;
  return g.N > 1 && PQ <= 64 && g.Og() >= 8 && K * g.N * PQ * static_cast<int64_t>(sizeof(T)) <= (int64_t(64) << 20);
}

// col[k][n * PQ + pq] = the source of tap k at output position pq of image n, for group gi.
template <class T>
void batched_im2col(const Conv2dGeometry& g, const std::vector<ConvTap>& taps, const T* x, int64_t gi, T* col) {
  const int64_t Cg = g.Cg(), HW = g.H * g.W, PQ = g.P * g.Q, NP = g.N * PQ, K = static_cast<int64_t>(taps.size());
  parallel_for(0, g.N * K, std::max<int64_t>(1, 4096 / std::max<int64_t>(PQ, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t n = i / K, k = i % K;
      const ConvSource<T> src{x + (n * g.C + gi * Cg) * HW, g.H, g.W, g.stride_h, g.stride_w, g.Q};
      src.gather(taps[static_cast<size_t>(k)], 0, PQ, col + k * NP + n * PQ);
    }
  });
}

// y [N, O, P, Q] = conv2d(x, w) + bias.
template <class T>
void conv2d_forward_batched(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const int64_t Og = g.Og(), K = g.Cg() * g.kh * g.kw, PQ = g.P * g.Q, NP = g.N * PQ;
  const std::vector<ConvTap> taps = forward_taps(g);
  HostVector<T> col(static_cast<size_t>(K * NP)), out(static_cast<size_t>(Og * NP));
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    batched_im2col(g, taps, x, gi, col.data());
    gemm<T>(false, false, Og, NP, K, T(1), w + gi * Og * K, K, col.data(), NP, T(0), out.data(), NP);
    parallel_for(0, g.N * Og, std::max<int64_t>(1, 4096 / PQ), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t n = i / Og, o = i % Og;
        const T add = bias != nullptr ? bias[gi * Og + o] : T(0);
        const T* src = out.data() + o * NP + n * PQ;
        T* dst = y + (n * g.O + gi * Og + o) * PQ;
        for (int64_t j = 0; j < PQ; ++j) dst[j] = src[j] + add;
      }
    });
  }
}

// dyt[o][n * PQ + pq] = dy[n][gi * Og + o][pq]: the batch's output gradient of group gi as one matrix.
template <class T>
void batched_gather_dy(const Conv2dGeometry& g, const T* dy, int64_t gi, T* dyt) {
  const int64_t Og = g.Og(), PQ = g.P * g.Q, NP = g.N * PQ;
  parallel_for(0, g.N * Og, std::max<int64_t>(1, 4096 / PQ), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t n = i / Og, o = i % Og;
      std::copy_n(dy + (n * g.O + gi * Og + o) * PQ, PQ, dyt + o * NP + n * PQ);
    }
  });
}

// dx [N, C, H, W] (overwritten): dcol = w^T dy over the batch, then each column scattered back
// (col2im), image by image and channel by channel so that no two threads add to one element.
template <class T>
void conv2d_backward_data_batched(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  const int64_t Cg = g.Cg(), Og = g.Og(), khw = g.kh * g.kw, K = Cg * khw, HW = g.H * g.W, PQ = g.P * g.Q,
                NP = g.N * PQ;
  const std::vector<ConvTap> taps = forward_taps(g);
  HostVector<T> dyt(static_cast<size_t>(Og * NP)), dcol(static_cast<size_t>(K * NP));
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    batched_gather_dy(g, dy, gi, dyt.data());
    gemm<T>(true, false, K, NP, Og, T(1), w + gi * Og * K, K, dyt.data(), NP, T(0), dcol.data(), NP);
    parallel_for(0, g.N * Cg, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t n = i / Cg, c = i % Cg;
        T* plane = dx + (n * g.C + gi * Cg + c) * HW;
        std::fill(plane, plane + HW, T(0));
        for (int64_t t = c * khw; t < (c + 1) * khw; ++t) {
          const ConvTap& tap = taps[static_cast<size_t>(t)];
          const T* src = dcol.data() + t * NP + n * PQ;
          for (int64_t u = 0; u < g.P; ++u) {
            const int64_t ih = u * g.stride_h + tap.dh;
            if (ih < 0 || ih >= g.H) continue;
            T* row = plane + ih * g.W;
            for (int64_t v = 0; v < g.Q; ++v) {
              const int64_t iw = v * g.stride_w + tap.dw;
              if (iw >= 0 && iw < g.W) row[iw] += src[u * g.Q + v];
            }
          }
        }
      }
    });
  }
}

// dw [O, Cg * kh * kw] (overwritten) = dy . im2col(x)^T over the batch, one GEMM per group.
template <class T>
void conv2d_backward_weight_batched(const Conv2dGeometry& g, const T* x, const T* dy, T* dw) {
  const int64_t Og = g.Og(), K = g.Cg() * g.kh * g.kw, NP = g.N * g.P * g.Q;
  const std::vector<ConvTap> taps = forward_taps(g);
  HostVector<T> dyt(static_cast<size_t>(Og * NP)), col(static_cast<size_t>(K * NP));
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    batched_gather_dy(g, dy, gi, dyt.data());
    batched_im2col(g, taps, x, gi, col.data());
    gemm<T>(false, true, Og, K, NP, T(1), dyt.data(), NP, col.data(), NP, T(0), dw + gi * Og * K, K);
  }
}

}  // namespace crisp::cpu::detail
