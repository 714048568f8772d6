// Dropout-mask CUDA kernel. CPU twin: cpu::dropout_mask (backend/cpu/dropout.hpp): chunk k of
// kDropoutChunk elements draws from Generator(seed + k) (xoshiro256** seeded by splitmix64,
// tensor/generator.hpp), two 32-bit uniforms per draw, so both devices draw the identical mask.
#include "kernel_common.cuh"  // first: launch() and, emulated, CUDA itself
#include "crisp/backend/cuda/native/softmax.hpp"

namespace crisp::cuda::native {

namespace {

constexpr int64_t kDropoutChunk = 1 << 14;  // = cpu::kDropoutChunk: part of the mask's definition

__device__ inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// crisp::Generator, state for state: manual_seed's splitmix64, then next_u64.
struct DeviceXoshiro {
  uint64_t s[4];
  __device__ explicit DeviceXoshiro(uint64_t seed) {
    uint64_t x = seed;
    for (auto& si : s) {
      x += 0x9E3779B97F4A7C15ull;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      si = z ^ (z >> 31);
    }
  }
  __device__ uint64_t next_u64() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

// CPU twin: cpu::dropout_mask. One thread per chunk: the generator is sequential within a chunk.
template <class T>
__global__ void dropout_mask_kernel(T* mask, int64_t n, uint64_t seed, uint64_t threshold, int64_t chunks) {
  CRISP_KERNEL_LOOP(k, chunks) {
    DeviceXoshiro gen(seed + static_cast<uint64_t>(k));
    const int64_t b = k * kDropoutChunk, e = min(n, b + kDropoutChunk);
    for (int64_t i = b; i < e; i += 2) {
      const uint64_t r = gen.next_u64();
      mask[i] = (r & 0xffffffffu) >= threshold ? T(1) : T(0);
      if (i + 1 < e) mask[i + 1] = (r >> 32) >= threshold ? T(1) : T(0);
    }
  }
}

}  // namespace

template <class T>
void dropout_mask(T* mask, int64_t n, uint64_t seed, double p, cudaStream_t stream) {
  if (n == 0) return;
  const uint64_t threshold = static_cast<uint64_t>(p * 4294967296.0);
  const int64_t chunks = (n + kDropoutChunk - 1) / kDropoutChunk;
  launch("dropout_mask_kernel", dropout_mask_kernel<T>, kern::grid_for(chunks, 64), 64, 0, stream, mask, n, seed,
         threshold, chunks);
}

template void dropout_mask<float>(float*, int64_t, uint64_t, double, cudaStream_t);
template void dropout_mask<double>(double*, int64_t, uint64_t, double, cudaStream_t);

}  // namespace crisp::cuda::native
