// Packed, cache-blocked, OpenMP-parallel row-major GEMM for float and double (the CPU backend
// behind matmul and convolution): C = alpha * op(A) * op(B) + beta * C with BLAS semantics.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "crisp/backend/cpu/gemm_kernel_avx2.hpp"
#include "crisp/backend/cpu/gemm_kernel_avx512.hpp"
#include "crisp/backend/cpu/gemm_kernel_avx512_bf16.hpp"
#include "crisp/backend/cpu/gemm_kernel_generic.hpp"
#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/tensor/error.hpp"

namespace crisp::cpu {

namespace detail {

// The micro-kernel picked at compile time from the compiler's target (no runtime dispatch).
#if defined(__AVX512F__)
template <class T>
using DefaultGemmKernel = KernelAvx512<T>;
#elif defined(__AVX2__) && defined(__FMA__)
template <class T>
using DefaultGemmKernel = KernelAvx2<T>;
#else
template <class T>
using DefaultGemmKernel = KernelGeneric<T>;
#endif

// Below this many multiply-adds the plain loops beat packing + blocking.
inline constexpr int64_t kGemmSmallMacs = 40 * 40 * 40;
// Largest packed op(A) (elements) kept across NC blocks, and the packed-B budget in that case.
inline constexpr int64_t kGemmCacheAElems = int64_t(1) << 20;
inline constexpr int64_t kGemmSmallMBBytes = 512 * 1024;
// Each extra thread must get at least this many multiply-adds.
inline constexpr double kGemmMacsPerThread = 1 << 20;

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Grow-only, 64-byte aligned packing buffer, one per thread and element type (reused across calls).
template <class T>
T* thread_pack_buffer(std::size_t n) {
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

// Packs the mc x kc block of alpha * op(A) whose (0, 0) element is at a into MR-row panels:
// panel p holds dst[p * MR * kc + k * MR + i].
template <class Kern, class T>
void pack_a_values(int64_t mc, int64_t kc, const T* a, int64_t lda, bool trans, T alpha, T* dst) {
  constexpr int MR = Kern::MR;
  if constexpr (requires { Kern::pack_a_notrans(mc, kc, a, lda, alpha, dst); }) {
    if (!trans) {
      Kern::pack_a_notrans(mc, kc, a, lda, alpha, dst);
      return;
    }
  }
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int64_t m = std::min<int64_t>(MR, mc - i0);
    T* d = dst + i0 * kc;
    if (!trans) {
      for (int64_t i = 0; i < m; ++i) {
        const T* s = a + (i0 + i) * lda;
        for (int64_t k = 0; k < kc; ++k) d[k * MR + i] = alpha * s[k];
      }
    } else if (m == MR) {
      for (int64_t k = 0; k < kc; ++k) {
        const T* s = a + k * lda + i0;
        for (int i = 0; i < MR; ++i) d[k * MR + i] = alpha * s[i];
      }
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        const T* s = a + k * lda + i0;
        for (int64_t i = 0; i < m; ++i) d[k * MR + i] = alpha * s[i];
      }
    }
  }
}

// A kernel with reduced-precision operands (gemm_kernel_avx512_bf16.hpp) rounds each packed
// block in place after it has been packed as T.
template <class Kern, class T>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t lda, bool trans, T alpha, T* dst) {
  pack_a_values<Kern>(mc, kc, a, lda, trans, alpha, dst);
  if constexpr (requires { Kern::pair_up_a(mc, kc, dst); }) Kern::pair_up_a(mc, kc, dst);
}

// Packs the kc x nc block of op(B) whose (0, 0) element is at b into NR-column panels:
// panel p holds dst[p * NR * kc + k * NR + j], zero-padded past nc.
template <class Kern, class T>
void pack_b_values(int64_t kc, int64_t nc, const T* b, int64_t ldb, bool trans, T* dst) {
  constexpr int NR = Kern::NR;
  if (!trans) {
    for (int64_t j0 = 0; j0 < nc; j0 += NR) {
      const int64_t n = std::min<int64_t>(NR, nc - j0);
      T* d = dst + j0 * kc;
      if (n == NR) {
        for (int64_t k = 0; k < kc; ++k) {
          const T* s = b + k * ldb + j0;
          for (int j = 0; j < NR; ++j) d[k * NR + j] = s[j];
        }
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          const T* s = b + k * ldb + j0;
          for (int64_t j = 0; j < NR; ++j) d[k * NR + j] = j < n ? s[j] : T(0);
        }
      }
    }
    return;
  }
  if constexpr (requires { Kern::pack_b_trans(kc, nc, b, ldb, dst); }) {
    Kern::pack_b_trans(kc, nc, b, ldb, dst);
  } else {
    for (int64_t j0 = 0; j0 < nc; j0 += NR) {
      const int64_t n = std::min<int64_t>(NR, nc - j0);
      T* d = dst + j0 * kc;
      for (int64_t j = 0; j < NR; ++j) {
        if (j < n) {
          const T* s = b + (j0 + j) * ldb;
          for (int64_t k = 0; k < kc; ++k) d[k * NR + j] = s[k];
        } else {
          for (int64_t k = 0; k < kc; ++k) d[k * NR + j] = T(0);
        }
      }
    }
  }
}

template <class Kern, class T>
void pack_b(int64_t kc, int64_t nc, const T* b, int64_t ldb, bool trans, T* dst) {
  pack_b_values<Kern>(kc, nc, b, ldb, trans, dst);
  if constexpr (requires { Kern::pair_up_b(kc, nc, dst); }) Kern::pair_up_b(kc, nc, dst);
}

template <class Kern, class T>
using KernelFn = void (*)(int64_t, const T*, const T*, T*, int64_t, T);

template <class Kern, class T, int M>
void run_rows(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T beta) {
  Kern::template run<M>(kc, a, b, c, ldc, beta);
}

// table[m] runs the kernel on the first m rows of a panel (m in 1..MR).
template <class Kern, class T, int... Is>
constexpr auto make_kernel_table(std::integer_sequence<int, Is...>) {
  return std::array<KernelFn<Kern, T>, sizeof...(Is) + 1>{nullptr, &run_rows<Kern, T, Is + 1>...};
}

// Serial blocked GEMM (BLIS loop order jc / pc / ic / jr / ir) on one thread's block; M, N, K > 0.
template <class Kern, class T>
void gemm_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                  const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  constexpr int MR = Kern::MR, NR = Kern::NR;
  static constexpr auto table = make_kernel_table<Kern, T>(std::make_integer_sequence<int, MR>{});
  const int64_t kc_max = std::min<int64_t>(K, Kern::KC);
  const int64_t mc_max = round_up(std::min<int64_t>(M, Kern::MC), MR);
  // When op(A) is a single MC block of moderate size (small M: conv forward / weight gradient),
  // pack all of it once and reuse it for every NC block; then NC is cut so that the packed B
  // block stays in L2, since each B panel is reused only M / MR times.
  const bool cache_a = M <= Kern::MC && mc_max * K <= kGemmCacheAElems;
  const int64_t nc_block =
      cache_a ? std::clamp<int64_t>(kGemmSmallMBBytes / static_cast<int64_t>(sizeof(T)) / kc_max / NR * NR, 4 * NR,
                                    Kern::NC)
              : Kern::NC;
  const int64_t nc_max = round_up(std::min<int64_t>(N, nc_block), NR);
  const int64_t a_size = round_up(cache_a ? mc_max * K : mc_max * kc_max, 64);
  const int64_t b_size = round_up(nc_max * kc_max, 64);
  T* const pa = thread_pack_buffer<T>(static_cast<std::size_t>(a_size + b_size + MR * NR));
  T* const pb = pa + a_size;
  T* const tile = pb + b_size;

  for (int64_t jc = 0; jc < N; jc += nc_block) {
    const int64_t nc = std::min<int64_t>(nc_block, N - jc);
    for (int64_t pc = 0; pc < K; pc += Kern::KC) {
      const int64_t kc = std::min<int64_t>(Kern::KC, K - pc);
      pack_b<Kern>(kc, nc, B + (trans_b ? jc * ldb + pc : pc * ldb + jc), ldb, trans_b, pb);
      const T beta_k = pc == 0 ? beta : T(1);
      for (int64_t ic = 0; ic < M; ic += Kern::MC) {
        const int64_t mc = std::min<int64_t>(Kern::MC, M - ic);
        T* const pa_blk = cache_a ? pa + pc * mc_max : pa;
        if (!cache_a || jc == 0)
          pack_a<Kern>(mc, kc, A + (trans_a ? pc * lda + ic : ic * lda + pc), lda, trans_a, alpha, pa_blk);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t n = std::min<int64_t>(NR, nc - jr);
          const T* bp = pb + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int m = static_cast<int>(std::min<int64_t>(MR, mc - ir));
            const T* ap = pa_blk + ir * kc;
            T* cp = C + (ic + ir) * ldc + jc + jr;
            if (n == NR) {
              if (m == MR)
                Kern::template run<MR>(kc, ap, bp, cp, ldc, beta_k);
              else
                table[m](kc, ap, bp, cp, ldc, beta_k);
            } else {  // right edge: compute the full tile into a scratch buffer, copy n columns
              table[m](kc, ap, bp, tile, NR, T(0));
              for (int i = 0; i < m; ++i) {
                T* cr = cp + i * ldc;
                const T* tr = tile + i * NR;
                if (beta_k == T(0))
                  for (int64_t j = 0; j < n; ++j) cr[j] = tr[j];
                else
                  for (int64_t j = 0; j < n; ++j) cr[j] = tr[j] + beta_k * cr[j];
              }
            }
          }
        }
      }
    }
  }
}

// C = beta * C with beta == 0 writing zeros (NaNs in C are not propagated).
template <class T>
void scale_c(int64_t M, int64_t N, T beta, T* C, int64_t ldc) {
  if (beta == T(1)) return;
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0))
      std::fill(c, c + N, T(0));
    else
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

// Plain loops for tiny problems, where packing would cost more than it saves.
template <class T>
void gemm_small(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  scale_c(M, N, beta, C, ldc);
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (!trans_b) {
      for (int64_t k = 0; k < K; ++k) {
        const T aik = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
        const T* b = B + k * ldb;
        for (int64_t j = 0; j < N; ++j) c[j] += aik * b[j];
      }
    } else {
      for (int64_t j = 0; j < N; ++j) {
        const T* b = B + j * ldb;
        T s = 0;
        if (trans_a)
          for (int64_t k = 0; k < K; ++k) s += A[k * lda + i] * b[k];
        else
          for (int64_t k = 0; k < K; ++k) s += A[i * lda + k] * b[k];
        c[j] += alpha * s;
      }
    }
  }
}

template <class T>
void gemm_check(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                int64_t ldb, const T* C, int64_t ldc) {
  CRISP_CHECK(M >= 0 && N >= 0 && K >= 0, ShapeError, "gemm", "expected non-negative sizes, got M=", M, ", N=", N,
              ", K=", K);
  const int64_t a_cols = std::max<int64_t>(1, trans_a ? M : K);
  const int64_t b_cols = std::max<int64_t>(1, trans_b ? K : N);
  const int64_t c_cols = std::max<int64_t>(1, N);
  CRISP_CHECK(lda >= a_cols, ShapeError, "gemm", "expected lda >= ", a_cols, " (", trans_a ? "M" : "K",
              " of a", trans_a ? " transposed" : "", " A), got lda=", lda);
  CRISP_CHECK(ldb >= b_cols, ShapeError, "gemm", "expected ldb >= ", b_cols, " (", trans_b ? "K" : "N",
              " of a", trans_b ? " transposed" : "", " B), got ldb=", ldb);
  CRISP_CHECK(ldc >= c_cols, ShapeError, "gemm", "expected ldc >= ", c_cols, " (N), got ldc=", ldc);
  // A and B are only read when there is a product to compute.
  const bool reads_ab = M > 0 && N > 0 && K > 0 && alpha != T(0);
  CRISP_CHECK(A != nullptr || !reads_ab, ValueError, "gemm", "expected a non-null A, got nullptr");
  CRISP_CHECK(B != nullptr || !reads_ab, ValueError, "gemm", "expected a non-null B, got nullptr");
  CRISP_CHECK(C != nullptr || M == 0 || N == 0, ValueError, "gemm", "expected a non-null C, got nullptr");
}

// gemm with an explicit micro-kernel (tests run every kernel the target supports).
template <class Kern, class T>
void gemm_with(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
               const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  gemm_check(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, C, ldc);
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  // (Not for a reduced-precision kernel: its products must be rounded whatever the size.)
  constexpr bool rounds = requires(T* p) { Kern::pair_up_b(int64_t(1), int64_t(1), p); };
  if (!rounds && M * N * K <= kGemmSmallMacs) {
    gemm_small(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  constexpr int64_t MR = Kern::MR, NR = Kern::NR;
  const double macs = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const int nt = static_cast<int>(std::min<double>(max_threads(), std::max(1.0, macs / kGemmMacsPerThread)));
  if (nt <= 1) {
    gemm_blocked<Kern>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Split C into a tm x tn grid of independent blocks (no reduction over K), picking the grid that
  // minimises per-thread work: multiply-adds plus a packing penalty (A is repacked per NC block).
  int tm = 1, tn = nt;
  double best = -1;
  for (int m = 1; m <= nt; ++m) {
    if (nt % m != 0) continue;
    const int n = nt / m;
    const double mt = static_cast<double>(m == 1 ? M : round_up((M + m - 1) / m, MR));
    const double ntc = static_cast<double>(round_up((N + n - 1) / n, NR));
    const double blocks = static_cast<double>((static_cast<int64_t>(ntc) + Kern::NC - 1) / Kern::NC);
    const double cost = mt * ntc * static_cast<double>(K) + 16.0 * static_cast<double>(K) * (mt * blocks + ntc);
    if (best < 0 || cost < best) best = cost, tm = m, tn = n;
  }
  const int64_t mstep = tm == 1 ? M : round_up((M + tm - 1) / tm, MR);
  const int64_t nstep = tn == 1 ? N : round_up((N + tn - 1) / tn, NR);
  parallel_for(0, nt, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t m0 = (t / tn) * mstep, n0 = (t % tn) * nstep;
      const int64_t m1 = std::min(M, m0 + mstep), n1 = std::min(N, n0 + nstep);
      if (m0 >= m1 || n0 >= n1) continue;
      gemm_blocked<Kern>(trans_a, trans_b, m1 - m0, n1 - n0, K, alpha, A + (trans_a ? m0 : m0 * lda), lda,
                         B + (trans_b ? n0 * ldb : n0), ldb, beta, C + m0 * ldc + n0, ldc);
    }
  });
}

}  // namespace detail

// Row-major: C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C.
// op(A) = A (stored M x K, row stride lda) or A^T when trans_a (A stored K x M, row stride lda);
// likewise for B. beta == 0 means C is write-only (NaNs in C are not propagated); alpha == 0 or
// K == 0 leaves C = beta * C without reading A or B. Runs on the OpenMP threads unless called from
// inside a parallel region. Throws crisp::Error on negative sizes or too-small leading dimensions.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "gemm: T must be float or double");
  detail::gemm_with<detail::DefaultGemmKernel<T>>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// Name of the micro-kernel gemm uses: "avx512", "avx2" or "generic".
inline const char* gemm_kernel_name() { return detail::DefaultGemmKernel<float>::name; }

}  // namespace crisp::cpu
