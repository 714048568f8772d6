// AVX-512 GEMM micro-kernels (14x32 float, 14x16 double) and a transposing packer for op(B) = B^T,
// used by gemm.hpp when the compiler targets AVX-512F. Not meant to be included directly.
#pragma once

#if defined(__AVX512F__)

#include <immintrin.h>

#include <cstdint>

namespace crisp::cpu::detail {

template <class T>
struct Avx512Vec;

template <>
struct Avx512Vec<float> {
  using V = __m512;
  static constexpr int L = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_load_ps(p); }
  static V loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
};

template <>
struct Avx512Vec<double> {
  using V = __m512d;
  static constexpr int L = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const double* p) { return _mm512_load_pd(p); }
  static V loadu(const double* p) { return _mm512_loadu_pd(p); }
  static void storeu(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V set1(double x) { return _mm512_set1_pd(x); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
};

// GCC 12's AVX-512 headers trip a false -W(maybe-)uninitialized (GCC bug 105593) in the shuffles.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// In-register transpose of 16 rows of 16 floats: on return r[k] holds column k.
inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    const int b = 4 * i;
    r[b + 0] = _mm512_shuffle_ps(t[b + 0], t[b + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[b + 1] = _mm512_shuffle_ps(t[b + 0], t[b + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[b + 2] = _mm512_shuffle_ps(t[b + 1], t[b + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[b + 3] = _mm512_shuffle_ps(t[b + 1], t[b + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int h = 0; h < 2; ++h) {
    const int b = 8 * h;
    for (int i = 0; i < 4; ++i) {
      t[b + i] = _mm512_shuffle_f32x4(r[b + i], r[b + i + 4], 0x88);
      t[b + i + 4] = _mm512_shuffle_f32x4(r[b + i], r[b + i + 4], 0xdd);
    }
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
}

// Packs a kc x nc block of op(B) = B^T (element (k, j) at b[j * ldb + k]) into NR = 32 column
// panels: panel p holds dst[p * 32 * kc + k * 32 + jj], columns past nc are zero.
inline void pack_b_trans_avx512(int64_t kc, int64_t nc, const float* b, int64_t ldb, float* dst) {
  constexpr int NR = 32;
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    float* panel = dst + (j0 / NR) * NR * kc;
    for (int half = 0; half < 2; ++half) {
      const int64_t jb = j0 + 16 * half;
      const int64_t rows = nc - jb < 16 ? (nc - jb > 0 ? nc - jb : 0) : 16;
      for (int64_t k0 = 0; k0 < kc; k0 += 16) {
        const int64_t kk = kc - k0 < 16 ? kc - k0 : 16;
        const __mmask16 km = static_cast<__mmask16>((1u << kk) - 1u);
        __m512 r[16];
        for (int64_t i = 0; i < 16; ++i)
          r[i] = i < rows ? _mm512_maskz_loadu_ps(km, b + (jb + i) * ldb + k0) : _mm512_setzero_ps();
        transpose16x16(r);
        float* out = panel + k0 * NR + 16 * half;
        for (int64_t k = 0; k < kk; ++k) _mm512_store_ps(out + k * NR, r[k]);
      }
    }
  }
}

// Packs an mc x kc block of alpha * A (element (i, k) at a[i * lda + k]) into MR = 14 row panels:
// panel p holds dst[p * 14 * kc + k * 14 + ii]. Full panels go through 16x16 transposes.
inline void pack_a_avx512(int64_t mc, int64_t kc, const float* a, int64_t lda, float alpha, float* dst) {
  constexpr int MR = 14;
  const __m512 av = _mm512_set1_ps(alpha);
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int64_t m = mc - i0 < MR ? mc - i0 : MR;
    float* d = dst + i0 * kc;
    if (m < MR) {
      for (int64_t i = 0; i < m; ++i)
        for (int64_t k = 0; k < kc; ++k) d[k * MR + i] = alpha * a[(i0 + i) * lda + k];
      continue;
    }
    for (int64_t k0 = 0; k0 < kc; k0 += 16) {
      const int64_t kk = kc - k0 < 16 ? kc - k0 : 16;
      const __mmask16 km = static_cast<__mmask16>((1u << kk) - 1u);
      __m512 r[16];
      for (int i = 0; i < MR; ++i) r[i] = _mm512_mul_ps(av, _mm512_maskz_loadu_ps(km, a + (i0 + i) * lda + k0));
      r[14] = r[15] = _mm512_setzero_ps();
      transpose16x16(r);
      for (int64_t k = 0; k < kk; ++k) _mm512_mask_storeu_ps(d + (k0 + k) * MR, 0x3FFF, r[k]);
    }
  }
}

#pragma GCC diagnostic pop

// The micro-kernel: C[M x NR] (row stride ldc) = A_panel * B_panel + beta * C, where the packed
// A panel holds MR values per k (only the first M used) and the packed B panel NR values per k.
// beta == 0 overwrites C without reading it.
template <class T>
struct KernelAvx512 {
  using Ops = Avx512Vec<T>;
  using V = typename Ops::V;
  static constexpr int L = Ops::L;
  static constexpr int MR = 14;
  static constexpr int NR = 2 * L;
  static constexpr int64_t KC = sizeof(T) == 4 ? 320 : 192;
  static constexpr int64_t MC = 14 * 12;
  static constexpr int64_t NC = sizeof(T) == 4 ? 4096 : 2048;
  static constexpr const char* name = "avx512";

  template <int M>
  [[gnu::always_inline]] static inline void run(int64_t kc, const T* __restrict a, const T* __restrict b, T* c,
                                                int64_t ldc, T beta) {
    V c0[M], c1[M];
#pragma GCC unroll 14
    for (int i = 0; i < M; ++i) {
      c0[i] = Ops::zero();
      c1[i] = Ops::zero();
    }
#pragma GCC unroll 14
    for (int i = 0; i < M; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 14
    for (int i = 0; i < M; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NR - 1), _MM_HINT_T0);
#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; ++k) {
      const V b0 = Ops::load(b), b1 = Ops::load(b + L);
      _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR), _MM_HINT_T0);
#pragma GCC unroll 14
      for (int i = 0; i < M; ++i) {
        const V ai = Ops::set1(a[i]);
        c0[i] = Ops::fmadd(ai, b0, c0[i]);
        c1[i] = Ops::fmadd(ai, b1, c1[i]);
      }
      a += MR;
      b += NR;
    }
    if (beta == T(0)) {
#pragma GCC unroll 14
      for (int i = 0; i < M; ++i) {
        Ops::storeu(c + i * ldc, c0[i]);
        Ops::storeu(c + i * ldc + L, c1[i]);
      }
    } else if (beta == T(1)) {
#pragma GCC unroll 14
      for (int i = 0; i < M; ++i) {
        Ops::storeu(c + i * ldc, Ops::add(Ops::loadu(c + i * ldc), c0[i]));
        Ops::storeu(c + i * ldc + L, Ops::add(Ops::loadu(c + i * ldc + L), c1[i]));
      }
    } else {
      const V bv = Ops::set1(beta);
#pragma GCC unroll 14
      for (int i = 0; i < M; ++i) {
        Ops::storeu(c + i * ldc, Ops::fmadd(bv, Ops::loadu(c + i * ldc), c0[i]));
        Ops::storeu(c + i * ldc + L, Ops::fmadd(bv, Ops::loadu(c + i * ldc + L), c1[i]));
      }
    }
  }

  static void pack_b_trans(int64_t kc, int64_t nc, const T* b, int64_t ldb, T* dst)
    requires(sizeof(T) == 4)
  {
    pack_b_trans_avx512(kc, nc, b, ldb, dst);
  }
  static void pack_a_notrans(int64_t mc, int64_t kc, const T* a, int64_t lda, T alpha, T* dst)
    requires(sizeof(T) == 4)
  {
    pack_a_avx512(mc, kc, a, lda, alpha, dst);
  }
};

}  // namespace crisp::cpu::detail

#endif  // __AVX512F__
