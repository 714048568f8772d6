// Implicit-GEMM engine of the CPU convolutions: out[M x positions] = A[M x K] * im2col[K x positions],
// with the im2col block gathered straight into the micro-kernel's packed B layout, one tile of
// output positions per work item, tiles spread over the threads (inside an image as well).
#pragma once

#include <algorithm>
#include <cstdint>
#include <new>
#include <vector>

#include "crisp/backend/cpu/conv_im2col.hpp"
#include "crisp/backend/cpu/gemm.hpp"
#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/tensor/host_allocator.hpp"

namespace crisp::cpu::detail {

// Grow-only, 64-byte aligned scratch, one per thread and element type, reused across calls
// (separate from GEMM's packing buffer, which backward-weight uses at the same time).
template <class T>
T* conv_workspace(std::size_t n) {
  struct Buffer {
    T* p = nullptr;
    std::size_t n = 0;
    ~Buffer() { ::operator delete(p, std::align_val_t(64)); }
  };
  thread_local Buffer buf;
  if (buf.n < n) {
    ::operator delete(buf.p, std::align_val_t(64));
    buf.p = nullptr;
    buf.n = 0;
    buf.p = static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64)));
    buf.n = n;
  }
  return buf.p;
}

// A packed once per call, for each of `groups` matrices M x K (row stride lda, group g at
// a + g * group_stride): for each KC block of the reduction, round_up(M, MR) x kc in MR-row
// panels (the layout gemm_blocked's packed A has), blocks one after the other, groups likewise.
template <class Kern, class T>
HostVector<T> pack_conv_weights(int64_t groups, int64_t M, int64_t K, const T* a, int64_t lda, int64_t group_stride) {
  const int64_t mpad = round_up(M, Kern::MR);
  HostVector<T> out(static_cast<size_t>(std::max<int64_t>(1, groups * mpad * K)), T(0));
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t pc = 0; pc < K; pc += Kern::KC)
      pack_a<Kern>(M, std::min<int64_t>(Kern::KC, K - pc), a + g * group_stride + pc, lda, false, T(1),
                   out.data() + g * mpad * K + pc * mpad);
  return out;
}

// Output positions per work item: as wide as keeps the packed B block (KC x cols) within L2,
// narrowed until there are a few items per thread.
inline int64_t conv_tile_cols(int64_t positions, int64_t grids, int64_t nr, int64_t max_cols) {
  const int64_t want_items = 4 * std::max(1, max_threads());
  int64_t cols = std::min(max_cols, round_up(positions, nr));
  while (cols > nr && grids * ((positions + cols - 1) / cols) < want_items) cols = round_up(cols / 2, nr);
  return cols;
}

// c[M x n] (row m at c + m * ldc) = A * im2col(src, taps, positions j0 .. j0 + n); n <= cols.
// bbuf holds KC x round_up(n, NR) packed values, edge an MR x NR tile.
template <class Kern, class T>
void conv_gemm_tile(int64_t M, int64_t K, const T* apack, const ConvSource<T>& src, const ConvTap* taps, int64_t j0,
                    int64_t n, T* c, int64_t ldc, T* bbuf, T* edge) {
  constexpr int MR = Kern::MR, NR = Kern::NR;
  static constexpr auto table = make_kernel_table<Kern, T>(std::make_integer_sequence<int, MR>{});
  const int64_t mpad = round_up(M, MR);
  if (K == 0) {
    for (int64_t m = 0; m < M; ++m) std::fill(c + m * ldc, c + m * ldc + n, T(0));
    return;
  }
  for (int64_t pc = 0; pc < K; pc += Kern::KC) {
    const int64_t kc = std::min<int64_t>(Kern::KC, K - pc);
    im2col_packed<NR>(src, taps + pc, kc, j0, n, bbuf);
    if constexpr (requires { Kern::pair_up_b(kc, n, bbuf); }) Kern::pair_up_b(kc, n, bbuf);
    const T beta = pc == 0 ? T(0) : T(1);
    const T* ablk = apack + pc * mpad;
    for (int64_t jr = 0; jr < n; jr += NR) {
      const int64_t nn = std::min<int64_t>(NR, n - jr);
      const T* bp = bbuf + jr * kc;
      for (int64_t ir = 0; ir < M; ir += MR) {
        const int m = static_cast<int>(std::min<int64_t>(MR, M - ir));
        T* cp = c + ir * ldc + jr;
        if (nn == NR) {
          if (m == MR)
            Kern::template run<MR>(kc, ablk + ir * kc, bp, cp, ldc, beta);
          else
            table[m](kc, ablk + ir * kc, bp, cp, ldc, beta);
        } else {
          table[m](kc, ablk + ir * kc, bp, edge, NR, T(0));
          // On the first K block c holds uninitialised memory (possibly NaN): never read it.
          for (int i = 0; i < m; ++i)
            for (int64_t j = 0; j < nn; ++j)
              cp[i * ldc + j] = pc == 0 ? edge[i * NR + j] : edge[i * NR + j] + cp[i * ldc + j];
        }
      }
    }
  }
}

// Runs conv_gemm_tile over items (image n, group g, tile t) on the threads. For every item,
// src_of(n, g) is the group's source, and sink(n, g, j0, cnt, tile_result, ld) receives the
// result: when out_of(n, g) returns a pointer the tile is computed in place there (positions
// contiguous with row stride ld); otherwise into a per-thread scratch that sink scatters.
struct ConvGemmJob {
  int64_t N, groups, M, K, U, V;
};

template <class Kern, class T, class SrcOf, class OutOf, class Sink>
void conv_gemm_run(const ConvGemmJob& job, const HostVector<T>& apack, const std::vector<ConvTap>& taps,
                   SrcOf src_of, OutOf out_of, Sink sink) {
  constexpr int MR = Kern::MR, NR = Kern::NR;
  const int64_t positions = job.U * job.V;
  if (positions <= 0 || job.N <= 0) return;
  const int64_t mpad = round_up(job.M, MR);
  const int64_t cols = conv_tile_cols(positions, job.N * job.groups, NR, sizeof(T) == 4 ? 384 : 192);
  const int64_t tiles = (positions + cols - 1) / cols;
  const int64_t items = job.N * job.groups * tiles;
  const int64_t kc_max = std::min<int64_t>(Kern::KC, std::max<int64_t>(job.K, 1));
  const size_t ws = static_cast<size_t>(kc_max * round_up(cols, NR) + MR * NR + mpad * cols + 64);
  parallel_for(0, items, 1, [&](int64_t b, int64_t e) {
    T* const bbuf = conv_workspace<T>(ws);
    T* const edge = bbuf + kc_max * round_up(cols, NR);
    T* const scratch = edge + MR * NR;
    for (int64_t it = b; it < e; ++it) {
      const int64_t t = it % tiles, ng = it / tiles, g = ng % job.groups, n = ng / job.groups;
      const int64_t j0 = t * cols, cnt = std::min(cols, positions - j0);
      const ConvSource<T> src = src_of(n, g);
      const T* a = apack.data() + g * mpad * job.K;
      if (T* out = out_of(n, g)) {
        conv_gemm_tile<Kern>(job.M, job.K, a, src, taps.data(), j0, cnt, out + j0, positions, bbuf, edge);
        sink(n, g, j0, cnt, out + j0, positions);
      } else {
        conv_gemm_tile<Kern>(job.M, job.K, a, src, taps.data(), j0, cnt, scratch, cols, bbuf, edge);
        sink(n, g, j0, cnt, scratch, cols);
      }
    }
  });
}

}  // namespace crisp::cpu::detail
