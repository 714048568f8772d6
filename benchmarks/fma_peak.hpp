// The machine's FP32 FMA peak, measured: 16 independent FMA chains per thread on every thread
// (enough to cover FMA latency x 2 pipes), no memory traffic. Shared by bench_gemm and bench_conv
// so that every "% of peak" is against the same measurement.
#pragma once

#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>

namespace crisp::bench {

// GFLOP/s of one run of `iters` FMA rounds on `threads` threads (0 when no FMA unit is targeted).
inline double fma_peak_once(int threads, int64_t iters) {
  double flops = 0;
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
  {
    volatile float seed = 1e-7f;
#if defined(__AVX512F__)
    using V = __m512;
    constexpr int lanes = 16;
    const V m = _mm512_set1_ps(1.0f - seed), c = _mm512_set1_ps(seed);
#define CRISP_FMA(x) x = _mm512_fmadd_ps(x, m, c)
    V z = _mm512_set1_ps(seed);
#elif defined(__AVX2__) && defined(__FMA__)
    using V = __m256;
    constexpr int lanes = 8;
    const V m = _mm256_set1_ps(1.0f - seed), c = _mm256_set1_ps(seed);
#define CRISP_FMA(x) x = _mm256_fmadd_ps(x, m, c)
    V z = _mm256_set1_ps(seed);
#endif
#if defined(__AVX2__) || defined(__AVX512F__)
    // Distinct starting values and an empty asm barrier keep the compiler from merging chains.
    V a0 = z, a1 = z * 2, a2 = z * 3, a3 = z * 4, a4 = z * 5, a5 = z * 6, a6 = z * 7, a7 = z * 8;
    V a8 = z * 9, a9 = z * 10, a10 = z * 11, a11 = z * 12, a12 = z * 13, a13 = z * 14, a14 = z * 15, a15 = z * 16;
    for (int64_t i = 0; i < iters; ++i) {
      CRISP_FMA(a0); CRISP_FMA(a1); CRISP_FMA(a2); CRISP_FMA(a3);
      CRISP_FMA(a4); CRISP_FMA(a5); CRISP_FMA(a6); CRISP_FMA(a7);
      CRISP_FMA(a8); CRISP_FMA(a9); CRISP_FMA(a10); CRISP_FMA(a11);
      CRISP_FMA(a12); CRISP_FMA(a13); CRISP_FMA(a14); CRISP_FMA(a15);
      __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7));
      __asm__ volatile("" : "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11), "+v"(a12), "+v"(a13), "+v"(a14), "+v"(a15));
    }
#undef CRISP_FMA
    alignas(64) float out[lanes];
    V s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
    std::memcpy(out, &s, sizeof(out));
    benchmark::DoNotOptimize(out[0]);
    flops = 2.0 * 16 * lanes * static_cast<double>(iters);
#else
    flops = 0;  // no FMA vector unit targeted: peak not measured
#endif
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return flops / s * 1e-9;
}

// The best of seven runs.
inline double measure_peak(int threads) {
  double best = 0;
  for (int i = 0; i < 7; ++i) best = std::max(best, fma_peak_once(threads, 20'000'000));
  return best;
}

}  // namespace crisp::bench
