// CPU twin of the batched-GEMM primitive (backend/matmul.hpp): one cpu::gemm per product. Many
// small products run one per thread; otherwise each GEMM parallelises inside itself.
#pragma once

#include <algorithm>

#include "crisp/backend/cpu/gemm.hpp"
#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/backend/gemm_batch.hpp"

namespace crisp::cpu {

template <class T>
void gemm_batched(const GemmBatch& g, const T* a, const T* b, T* c) {
  const int64_t nb = g.batch(), M = g.M, N = g.N, K = g.K;
  auto one = [&](int64_t i) {
    gemm<T>(g.trans_a, g.trans_b, M, N, K, T(1), a + g.offset_a[static_cast<size_t>(i)], g.lda,
            b + g.offset_b[static_cast<size_t>(i)], g.ldb, T(0), c + i * M * N, std::max<int64_t>(N, 1));
  };
  if (nb >= max_threads() && M * N * K < (int64_t(1) << 21)) {
    parallel_for(0, nb, 1, [&](int64_t b0, int64_t e0) {
      for (int64_t i = b0; i < e0; ++i) one(i);
    });
  } else {
    for (int64_t i = 0; i < nb; ++i) one(i);
  }
}

}  // namespace crisp::cpu
