// BF16 GEMM micro-kernel (AVX512_BF16: VDPBF16PS, 14x32 float tile, FP32 accumulation) for
// ConvMath::BF16. It plugs into the float GEMM and implicit-GEMM machinery unchanged: operands
// are packed as float first (same panels, same layout), then each panel is rounded in place to
// bf16 K-pairs — pair p of a panel row holds (k = 2p, k = 2p + 1) as two bf16 in one 32-bit slot
// at the float slot p, zero-padded when kc is odd — so the kernel does two k per instruction.
// Built only when the compiler targets AVX512_BF16; conv.hpp checks the CPU at run time.
#pragma once

#if defined(__AVX512BF16__) && defined(__AVX512BW__)

#include <immintrin.h>

#include <bit>
#include <cstdint>

#include "crisp/backend/cpu/gemm_kernel_avx512.hpp"

namespace crisp::cpu::detail {

// float -> bfloat16 bits, round to nearest even (as VCVTNE2PS2BF16; NaN stays NaN).
inline uint32_t bf16_bits(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

// float rounded to bfloat16 and back (what the kernel multiplies; tests use it).
inline float round_to_bf16(float x) { return std::bit_cast<float>(bf16_bits(x) << 16); }

// A panels: MR floats per k at p[k * MR + i] -> pairs at p[q * MR + i]. In place: slot q * MR + i
// is written after rows 2q, 2q + 1 of column i are read, and no later read touches it.
template <int MR>
inline void pair_up_a_panel(int64_t kc, float* p) {
  for (int64_t q = 0; 2 * q < kc; ++q)
    for (int i = 0; i < MR; ++i) {
      const uint32_t lo = bf16_bits(p[2 * q * MR + i]);
      const uint32_t hi = 2 * q + 1 < kc ? bf16_bits(p[(2 * q + 1) * MR + i]) : 0u;
      p[q * MR + i] = std::bit_cast<float>(lo | (hi << 16));
    }
}

// B panels: 32 floats per k -> 32 pairs per k-pair, interleaved so that 32-bit lane j holds
// column j's (even k, odd k). In place for the same reason as the A panels.
inline void pair_up_b_panel32(int64_t kc, float* p) {
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21,
                                       5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int64_t q = 0; 2 * q < kc; ++q) {
    const float* r0 = p + 2 * q * 32;
    const __m512 e0 = _mm512_load_ps(r0), e1 = _mm512_load_ps(r0 + 16);
    __m512 o0 = _mm512_setzero_ps(), o1 = _mm512_setzero_ps();
    if (2 * q + 1 < kc) o0 = _mm512_load_ps(r0 + 32), o1 = _mm512_load_ps(r0 + 48);
    const __m512i lo = _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(o0, e0));
    const __m512i hi = _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(o1, e1));
    _mm512_store_si512(p + q * 32, lo);
    _mm512_store_si512(p + q * 32 + 16, hi);
  }
}

struct KernelAvx512Bf16 {
  using T = float;
  static constexpr int MR = 14;
  static constexpr int NR = 32;
  static constexpr int64_t KC = 320;
  static constexpr int64_t MC = 14 * 12;
  static constexpr int64_t NC = 4096;
  static constexpr const char* name = "avx512_bf16";

  // Called by pack_a / pack_b / the conv tile on every freshly packed block.
  static void pair_up_a(int64_t mc, int64_t kc, float* dst) {
    for (int64_t i0 = 0; i0 < mc; i0 += MR) pair_up_a_panel<MR>(kc, dst + i0 * kc);
  }
  static void pair_up_b(int64_t kc, int64_t nc, float* dst) {
    for (int64_t j0 = 0; j0 < nc; j0 += NR) pair_up_b_panel32(kc, dst + j0 * kc);
  }
  static void pack_b_trans(int64_t kc, int64_t nc, const float* b, int64_t ldb, float* dst) {
    pack_b_trans_avx512(kc, nc, b, ldb, dst);
  }
  static void pack_a_notrans(int64_t mc, int64_t kc, const float* a, int64_t lda, float alpha, float* dst) {
    pack_a_avx512(mc, kc, a, lda, alpha, dst);
  }

  template <int M>
  [[gnu::always_inline]] static inline void run(int64_t kc, const float* __restrict a, const float* __restrict b,
                                                float* c, int64_t ldc, float beta) {
    __m512 c0[M], c1[M];
#pragma GCC unroll 14
    for (int i = 0; i < M; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
#pragma GCC unroll 14
    for (int i = 0; i < M; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 14
    for (int i = 0; i < M; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NR - 1), _MM_HINT_T0);
    const int64_t kp = (kc + 1) / 2;
#pragma GCC unroll 2
    for (int64_t q = 0; q < kp; ++q) {
      const __m512bh b0 = (__m512bh)_mm512_load_ps(b), b1 = (__m512bh)_mm512_load_ps(b + 16);
      _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR), _MM_HINT_T0);
#pragma GCC unroll 14
      for (int i = 0; i < M; ++i) {
        const __m512bh ai = (__m512bh)_mm512_set1_ps(a[i]);
        c0[i] = _mm512_dpbf16_ps(c0[i], ai, b0);
        c1[i] = _mm512_dpbf16_ps(c1[i], ai, b1);
      }
      a += MR;
      b += NR;
    }
    if (beta == 0.0f) {
#pragma GCC unroll 14
      for (int i = 0; i < M; ++i) {
        _mm512_storeu_ps(c + i * ldc, c0[i]);
        _mm512_storeu_ps(c + i * ldc + 16, c1[i]);
      }
    } else if (beta == 1.0f) {
#pragma GCC unroll 14
      for (int i = 0; i < M; ++i) {
        _mm512_storeu_ps(c + i * ldc, _mm512_add_ps(_mm512_loadu_ps(c + i * ldc), c0[i]));
        _mm512_storeu_ps(c + i * ldc + 16, _mm512_add_ps(_mm512_loadu_ps(c + i * ldc + 16), c1[i]));
      }
    } else {
      const __m512 bv = _mm512_set1_ps(beta);
#pragma GCC unroll 14
      for (int i = 0; i < M; ++i) {
        _mm512_storeu_ps(c + i * ldc, _mm512_fmadd_ps(bv, _mm512_loadu_ps(c + i * ldc), c0[i]));
        _mm512_storeu_ps(c + i * ldc + 16, _mm512_fmadd_ps(bv, _mm512_loadu_ps(c + i * ldc + 16), c1[i]));
      }
    }
  }
};

}  // namespace crisp::cpu::detail

#define CRISP_HAVE_BF16_KERNEL 1
#endif  // __AVX512BF16__ && __AVX512BW__
