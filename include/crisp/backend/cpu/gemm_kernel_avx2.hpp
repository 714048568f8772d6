// AVX2 + FMA GEMM micro-kernels (6x16 float, 6x8 double), used by gemm.hpp when the compiler
// targets AVX2 and FMA but not AVX-512F. Not meant to be included directly.
#pragma once

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

#include <cstdint>

namespace crisp::cpu::detail {

template <class T>
struct Avx2Vec;

template <>
struct Avx2Vec<float> {
  using V = __m256;
  static constexpr int L = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_load_ps(p); }
  static V loadu(const float* p) { return _mm256_loadu_ps(p); }
  static void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
};

template <>
struct Avx2Vec<double> {
  using V = __m256d;
  static constexpr int L = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const double* p) { return _mm256_load_pd(p); }
  static V loadu(const double* p) { return _mm256_loadu_pd(p); }
  static void storeu(double* p, V v) { _mm256_storeu_pd(p, v); }
  static V set1(double x) { return _mm256_set1_pd(x); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
};

// C[M x NR] = A_panel * B_panel + beta * C (beta == 0: C is write-only); see gemm_kernel_avx512.hpp.
template <class T>
struct KernelAvx2 {
  using Ops = Avx2Vec<T>;
  using V = typename Ops::V;
  static constexpr int L = Ops::L;
  static constexpr int MR = 6;
  static constexpr int NR = 2 * L;
  static constexpr int64_t KC = 256;
  static constexpr int64_t MC = 6 * 24;
  static constexpr int64_t NC = 4096;
  static constexpr const char* name = "avx2";

  template <int M>
  [[gnu::always_inline]] static inline void run(int64_t kc, const T* __restrict a, const T* __restrict b, T* c,
                                                int64_t ldc, T beta) {
    V c0[M], c1[M];
#pragma GCC unroll 6
    for (int i = 0; i < M; ++i) {
      c0[i] = Ops::zero();
      c1[i] = Ops::zero();
    }
#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; ++k) {
      const V b0 = Ops::load(b), b1 = Ops::load(b + L);
#pragma GCC unroll 6
      for (int i = 0; i < M; ++i) {
        const V ai = Ops::set1(a[i]);
        c0[i] = Ops::fmadd(ai, b0, c0[i]);
        c1[i] = Ops::fmadd(ai, b1, c1[i]);
      }
      a += MR;
      b += NR;
    }
    if (beta == T(0)) {
#pragma GCC unroll 6
      for (int i = 0; i < M; ++i) {
        Ops::storeu(c + i * ldc, c0[i]);
        Ops::storeu(c + i * ldc + L, c1[i]);
      }
    } else {
      const V bv = Ops::set1(beta);
#pragma GCC unroll 6
      for (int i = 0; i < M; ++i) {
        Ops::storeu(c + i * ldc, Ops::fmadd(bv, Ops::loadu(c + i * ldc), c0[i]));
        Ops::storeu(c + i * ldc + L, Ops::fmadd(bv, Ops::loadu(c + i * ldc + L), c1[i]));
      }
    }
  }
};

}  // namespace crisp::cpu::detail

#endif  // __AVX2__ && __FMA__
