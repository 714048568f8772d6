// The first include of every kernels/*.cu: one kernel source for two compilers.
//  - nvcc: the CUDA headers; the wrappers below are inline PTX; launch() is a <<<>>> launch.
//  - g++ with CRISP_CUDA_EMULATION: CUDA's execution model on the host (kernels/emulation/):
//    one std::thread per CUDA thread, std::barrier for __syncthreads, warp collectives and
//    mma.sync emulated from the PTX ISA fragment tables, "device" memory = host memory; launch()
//    runs the grid before returning. tests/backend/cuda_emulated/ checks every kernel this way.
//
// Contract for kernel authors (both modes):
//  - launch only through crisp::cuda::launch("name", kernel, grid, block, dynamic_smem_bytes,
//    stream, args...): it checks the launch and throws crisp::cuda::CudaError naming the kernel;
//  - tensor cores only through mma_m16n8k8_tf32 / mma_m16n8k16_bf16 and their operand helpers
//    cvt_rna_tf32 / pack_bf16x2 (no inline asm in kernels: it has no host meaning);
//  - dynamic shared memory only through CRISP_DYNAMIC_SHARED(type, name);
//  - warp collectives (__shfl*_sync, __ballot_sync, __syncwarp, mma) with every live lane of the
//    warp taking part (the emulation aborts otherwise);
//  - temporary device memory through caching_allocator() (emulated cudaMalloc = host memory).
#pragma once

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#elif defined(CRISP_CUDA_EMULATION)
#include <cmath>
#include "emulation/thread_model.hpp"
#include "emulation/builtins.hpp"
#include "emulation/mma.hpp"
#else
#error "kernels/*.cu compile with nvcc, or with g++ and CRISP_CUDA_EMULATION defined"
#endif

#include <cstddef>
#include <cstdint>
#include <utility>

#include "crisp/backend/cuda/runtime.hpp"

// `CRISP_DYNAMIC_SHARED(float, smem);` declares the block's dynamic shared memory (the launch's
// dynamic_smem_bytes) as `float* smem` / `extern __shared__ float smem[]`.
#if defined(__CUDACC__)
#define CRISP_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#else
#define CRISP_DYNAMIC_SHARED(type, name) \
  type* const name = static_cast<type*>(::crisp::cuda::emulation::dynamic_shared_memory())
#endif

namespace crisp::cuda {

// ---- tensor-core operands and instructions (sm_80+; the launchers refuse them below) ---------

// cvt.rna.tf32.f32: f rounded to TF32 (nearest, ties away), as the .b32 operand of an mma.
__device__ __forceinline__ uint32_t cvt_rna_tf32(float f) {
#if defined(__CUDACC__)
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(f));
  return r;
#else
  return emulation::cvt_rna_tf32(f);
#endif
}

// Two floats rounded to bf16 (nearest even), lo in the low 16 bits: one .bf16x2 mma operand.
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
#if defined(__CUDACC__)
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
#else
  return emulation::pack_bf16x2(lo, hi);
#endif
}

// D = A . B + C for one warp, D and C in acc[4]: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32.
// Fragments (groupID = lane / 4, tig = lane % 4): a[0] A[g][t], a[1] A[g+8][t], a[2] A[g][t+4],
// a[3] A[g+8][t+4]; b[0] B[t][g], b[1] B[t+4][g]; acc[i] D[g + 8*(i/2)][2t + i%2].
__device__ __forceinline__ void mma_m16n8k8_tf32(float* acc, const uint32_t* a, const uint32_t* b) {
#if defined(__CUDACC__)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();
#endif
#else
  emulation::mma_sync(0, acc, a, b);
#endif
}

// D = A . B + C for one warp: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32. Each register
// holds two bf16 (lower k in the low half): a[0] A[g][2t..2t+1], a[1] A[g+8][2t..], a[2]
// A[g][2t+8..], a[3] A[g+8][2t+8..]; b[0] B[2t..2t+1][g], b[1] B[2t+8..2t+9][g]; acc as above.
__device__ __forceinline__ void mma_m16n8k16_bf16(float* acc, const uint32_t* a, const uint32_t* b) {
#if defined(__CUDACC__)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();
#endif
#else
  emulation::mma_sync(1, acc, a, b);
#endif
}

// ---- the launch -------------------------------------------------------------------------------

// Launches kernel<<<grid, block, dynamic_smem_bytes, stream>>>(args...) and throws CudaError
// naming `kernel_name` when the launch is rejected (bad configuration, no device, ...). Under
// emulation the same checks apply (block of 1..1024 threads, grid.y/z <= 65535, dynamic shared
// memory within the device's opt-in limit) and the grid has run when it returns.
template <class... Params, class... Args>
void launch(const char* kernel_name, void (*kernel)(Params...), dim3 grid, dim3 block, size_t dynamic_smem_bytes,
            cudaStream_t stream, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "crisp::cuda::launch: argument count differs from the kernel's");
#if defined(__CUDACC__)
  kernel<<<grid, block, dynamic_smem_bytes, stream>>>(std::forward<Args>(args)...);
#else
  (void)stream;
  const auto& dev = emulation::device_properties();
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  const bool ok = threads >= 1 && threads <= unsigned(dev.max_threads_per_block) && block.z <= 64 && grid.x >= 1 &&
                  grid.y >= 1 && grid.z >= 1 && grid.x <= 0x7fffffffu && grid.y <= 65535 && grid.z <= 65535 &&
                  dynamic_smem_bytes <= size_t(dev.max_shared_memory_per_block_optin);
  if (!ok) {
    emulation::set_launch_error(cudaErrorInvalidConfiguration);
  } else {
    // Arguments are copied once, converted to the kernel's parameter types, as a launch does.
    const std::tuple<std::decay_t<Params>...> packed(std::forward<Args>(args)...);
    std::lock_guard<std::mutex> lock(emulation::launch_mutex());
    emulation::current_kernel() = kernel_name;
    emulation::run_grid(grid, block, dynamic_smem_bytes, [&] { std::apply(kernel, packed); });
  }
#endif
  const cudaError_t e = cudaPeekAtLastError();
  if (e != cudaSuccess)
    detail::throw_cuda(e, ::crisp::detail::str_cat("launch of ", kernel_name).c_str(), __FILE__, __LINE__);
}

}  // namespace crisp::cuda
