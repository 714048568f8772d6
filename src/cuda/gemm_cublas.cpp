// The CUDA twin of the batched-GEMM primitive on cuBLAS (backend/cuda/matmul.hpp). Row-major
// C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the operands swap places and keep their
// transpose flags. Evenly spaced batches are one strided-batched call; others one call per product.
#include <cublas_v2.h>

#include <climits>

#include "crisp/backend/cuda/cublas.hpp"
#include "crisp/backend/cuda/matmul.hpp"

namespace crisp::cuda::native {

namespace {
int to_int(int64_t v, const char* what) {
  CRISP_CHECK(v >= 0 && v <= INT_MAX, ValueError, "cuda::matmul", "expected ", what, " below 2^31, got ", v);
  return static_cast<int>(v);
}

cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ob, cublasOperation_t oa, int n, int m, int k, const float* b,
                    int ldb, const float* a, int lda, float* c, int ldc) {
  const float one = 1, zero = 0;
  return cublasSgemm(h, ob, oa, n, m, k, &one, b, ldb, a, lda, &zero, c, ldc);
}
cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ob, cublasOperation_t oa, int n, int m, int k, const double* b,
                    int ldb, const double* a, int lda, double* c, int ldc) {
  const double one = 1, zero = 0;
  return cublasDgemm(h, ob, oa, n, m, k, &one, b, ldb, a, lda, &zero, c, ldc);
}
cublasStatus_t gemm_strided(cublasHandle_t h, cublasOperation_t ob, cublasOperation_t oa, int n, int m, int k,
                            const float* b, int ldb, long long sb, const float* a, int lda, long long sa, float* c,
                            int ldc, long long sc, int count) {
  const float one = 1, zero = 0;
  return cublasSgemmStridedBatched(h, ob, oa, n, m, k, &one, b, ldb, sb, a, lda, sa, &zero, c, ldc, sc, count);
}
cublasStatus_t gemm_strided(cublasHandle_t h, cublasOperation_t ob, cublasOperation_t oa, int n, int m, int k,
                            const double* b, int ldb, long long sb, const double* a, int lda, long long sa, double* c,
                            int ldc, long long sc, int count) {
  const double one = 1, zero = 0;
  return cublasDgemmStridedBatched(h, ob, oa, n, m, k, &one, b, ldb, sb, a, lda, sa, &zero, c, ldc, sc, count);
}
}  // namespace

template <class T>
void gemm_batched(const GemmBatch& g, const T* a, const T* b, T* c, cudaStream_t stream) {
  const int64_t nb = g.batch();
  CRISP_CHECK(static_cast<int64_t>(g.offset_b.size()) == nb, ValueError, "cuda::matmul",
              "expected as many B offsets as A offsets, got ", g.offset_b.size(), " and ", nb);
  if (nb == 0 || g.M == 0 || g.N == 0) return;
  if (g.K == 0) {  // empty sum: zeros, without asking cuBLAS to read A or B
    CRISP_CUDA_CHECK(cudaMemsetAsync(c, 0, static_cast<size_t>(nb * g.M * g.N) * sizeof(T), stream));
    return;
  }
  const int m = to_int(g.M, "M"), n = to_int(g.N, "N"), k = to_int(g.K, "K");
  const int lda = to_int(g.lda, "lda"), ldb = to_int(g.ldb, "ldb");
  const cublasOperation_t oa = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, ob = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasHandle_t h = cublas_handle(stream);
  const int64_t sa = GemmBatch::uniform_stride(g.offset_a), sb = GemmBatch::uniform_stride(g.offset_b);
  if (nb > 1 && sa >= 0 && sb >= 0 && nb <= INT_MAX) {
    CRISP_CUBLAS_CHECK(gemm_strided(h, ob, oa, n, m, k, b + g.offset_b[0], ldb, sb, a + g.offset_a[0], lda, sa, c, n,
                                    static_cast<long long>(g.M * g.N), static_cast<int>(nb)));
    return;
  }
  for (int64_t i = 0; i < nb; ++i)
    CRISP_CUBLAS_CHECK(gemm(h, ob, oa, n, m, k, b + g.offset_b[static_cast<size_t>(i)], ldb,
                            a + g.offset_a[static_cast<size_t>(i)], lda, c + i * g.M * g.N, n));
}

template void gemm_batched<float>(const GemmBatch&, const float*, const float*, float*, cudaStream_t);
template void gemm_batched<double>(const GemmBatch&, const double*, const double*, double*, cudaStream_t);

}  // namespace crisp::cuda::native
