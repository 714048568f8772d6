// cuBLAS has no CPU emulation either; in the emulated CUDA backend the batched GEMM behind the
// device matmul (cuda::native::gemm_batched, src/cuda/gemm_cublas.cpp on a real build) is
// computed by the CPU twin on the emulated "device" memory, which is host memory. This lets the
// ops' and models' device paths run end to end here; the row-major-to-cuBLAS operand mapping
// itself is checked only on a GPU (tests/backend/cuda/test_kernels_cuda.cpp).
#include "crisp/backend/cpu/matmul.hpp"
#include "crisp/backend/cuda/matmul.hpp"

namespace crisp::cuda::native {

template <class T>
void gemm_batched(const GemmBatch& g, const T* a, const T* b, T* c, cudaStream_t) {
  cpu::gemm_batched<T>(g, a, b, c);
}

template void gemm_batched<float>(const GemmBatch&, const float*, const float*, float*, cudaStream_t);
template void gemm_batched<double>(const GemmBatch&, const double*, const double*, double*, cudaStream_t);

}  // namespace crisp::cuda::native
