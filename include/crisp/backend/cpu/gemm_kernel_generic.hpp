// Portable C++ GEMM micro-kernel (4x16 tile, plain loops the compiler may vectorise), the
// fallback used by gemm.hpp when neither AVX-512F nor AVX2+FMA is targeted. Always available.
#pragma once

#include <cstdint>

namespace crisp::cpu::detail {

// C[M x NR] = A_panel * B_panel + beta * C (beta == 0: C is write-only); see gemm_kernel_avx512.hpp.
template <class T>
struct KernelGeneric {
  static constexpr int MR = 4;
  static constexpr int NR = 16;
  static constexpr int64_t KC = 256;
  static constexpr int64_t MC = 4 * 32;
  static constexpr int64_t NC = 2048;
  static constexpr const char* name = "generic";

  template <int M>
  static inline void run(int64_t kc, const T* __restrict a, const T* __restrict b, T* c, int64_t ldc, T beta) {
    T acc[M][NR] = {};
    for (int64_t k = 0; k < kc; ++k) {
      for (int i = 0; i < M; ++i) {
        const T ai = a[i];
        for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
      }
      a += MR;
      b += NR;
    }
    for (int i = 0; i < M; ++i) {
      T* cr = c + i * ldc;
      if (beta == T(0)) {
        for (int j = 0; j < NR; ++j) cr[j] = acc[i][j];
      } else {
        for (int j = 0; j < NR; ++j) cr[j] = acc[i][j] + beta * cr[j];
      }
    }
  }
};

}  // namespace crisp::cpu::detail
