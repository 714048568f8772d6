// The argument of the batched-GEMM primitive (backend/matmul.hpp), shared by the CPU and CUDA
// twins: `batch` row-major products C_i[M x N] = op(A_i)[M x K] * op(B_i)[K x N], where A_i starts
// at offset_a[i] elements into A (likewise B), and C is contiguous [batch, M, N] (ldc = N).
// op(A) = A stored M x K with row stride lda, or with trans_a A^T (A stored K x M, row stride lda),
// as cpu::gemm. Broadcast batch dims give repeated offsets.
#pragma once

#include <cstdint>
#include <vector>

namespace crisp {

struct GemmBatch {
  int64_t M = 0, N = 0, K = 0;
  bool trans_a = false, trans_b = false;
  int64_t lda = 1, ldb = 1;
  std::vector<int64_t> offset_a, offset_b;  // one per product
  int64_t batch() const { return static_cast<int64_t>(offset_a.size()); }
  // The common step between consecutive offsets, or -1 when they are not evenly spaced.
  static int64_t uniform_stride(const std::vector<int64_t>& off) {
    if (off.size() < 2) return 0;
    const int64_t s = off[1] - off[0];
    for (size_t i = 2; i < off.size(); ++i)
      if (off[i] - off[i - 1] != s) return -1;
    return s;
  }
};

}  // namespace crisp
