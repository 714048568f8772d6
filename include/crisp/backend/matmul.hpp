// The batched matrix-product primitive of the dispatch layer: C_i = op(A_i) op(B_i) for the
// products a GemmBatch lists (backend/gemm_batch.hpp), on the CPU's packed GEMM or on cuBLAS.
#pragma once

#include "crisp/backend/cpu/matmul.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/matmul.hpp"
#endif

namespace crisp::backend {

// c: contiguous [g.batch(), M, N]; a and b: the storages the offsets point into (their data_ptr()).
template <class T>
void gemm_batched(const GemmBatch& g, const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& c) {
  CRISP_CHECK(c.is_contiguous() && c.numel() == g.batch() * g.M * g.N, ValueError, "matmul",
              "expected a contiguous output of ", g.batch() * g.M * g.N, " elements, got shape ", c.shape());
  CRISP_CHECK(g.offset_b.size() == g.offset_a.size(), ValueError, "matmul",
              "expected one B offset per A offset, got ", g.offset_b.size(), " and ", g.offset_a.size());
  CRISP_DISPATCH(common_device("matmul", a, b, c), gemm_batched, g, static_cast<const T*>(a.data_ptr()),
                 static_cast<const T*>(b.data_ptr()), c.data_ptr());
}

}  // namespace crisp::backend
