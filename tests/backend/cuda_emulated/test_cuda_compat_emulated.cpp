// The CUDA emulation itself (kernels/cuda_compat.hpp under CRISP_CUDA_EMULATION), through small
// kernels written here: thread / block coordinates of 3-d launches, __syncthreads (and exited
// threads leaving it), dynamic shared memory, warp shuffles and votes, atomics under real
// concurrency, the operand roundings of the tensor-core paths, one warp's mma.sync against a
// double GEMM, and launch-configuration errors naming the kernel.
#include <catch2/catch.hpp>

#include "cuda_compat.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace {

__global__ void coordinates_kernel(unsigned* out) {
  const unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const unsigned thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  out[block * threads + thread] = block * 1000 + thread;
}

// Reverses each block's slice through shared memory; threads past n return before the barrier.
__global__ void reverse_kernel(const int* in, int* out, int n) {
  __shared__ int tile[128];
  const int t = threadIdx.x, base = blockIdx.x * blockDim.x;
  if (base + t >= n) return;
  tile[t] = in[base + t];
  __syncthreads();
  const int count = min(int(blockDim.x), n - base);
  out[base + t] = tile[count - 1 - t];
}

__global__ void dynamic_shared_kernel(const float* in, float* out) {
  CRISP_DYNAMIC_SHARED(float, buf);
  buf[threadIdx.x] = in[threadIdx.x] * 2.f;
  __syncthreads();
  out[threadIdx.x] = buf[blockDim.x - 1 - threadIdx.x];
}

// Per warp: butterfly sum (xor), tree sum (down), broadcast of lane 5, shift up, ballot, and a
// 16-wide xor segment.
__global__ void warp_kernel(const float* in, float* out, unsigned* votes) {
  const int t = threadIdx.x, lane = t % 32;
  const float v = in[t];
  float s = v;
  for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
  float d = v;
  for (int o = 16; o > 0; o /= 2) d += __shfl_down_sync(0xffffffffu, d, o);
  const float b = __shfl_sync(0xffffffffu, v, 5);
  const float up = __shfl_up_sync(0xffffffffu, v, 1);
  float h = v;
  for (int o = 8; o > 0; o /= 2) h += __shfl_xor_sync(0xffffffffu, h, o, 16);
  const unsigned ballot = __ballot_sync(0xffffffffu, v > 0.f);
  out[5 * t + 0] = s, out[5 * t + 1] = lane == 0 ? d : 0.f, out[5 * t + 2] = b, out[5 * t + 3] = up;
  out[5 * t + 4] = h;
  if (lane == 0) votes[t / 32] = ballot;
}

__global__ void atomic_kernel(float* fsum, double* dsum, unsigned* count) {
  atomicAdd(fsum, 1.f);
  atomicAdd(dsum, 0.5);
  atomicAdd(count, 1u);
}

__global__ void syncthreads_count_kernel(int* out) {
  const int n = __syncthreads_count(threadIdx.x % 3 == 0);
  const int any = __syncthreads_or(threadIdx.x == 7);
  const int all = __syncthreads_and(threadIdx.x < 1000);
  if (threadIdx.x == 0) out[0] = n, out[1] = any, out[2] = all;
}

// One warp: D = A . B + C with A [16 x K] row-major and B [K x 8] row-major in global memory,
// loaded into fragments exactly as the comments of crisp::cuda::mma_* describe.
template <int K>
__global__ void mma_kernel(const float* A, const float* B, const float* C, float* D) {
  const int lane = threadIdx.x, g = lane / 4, t = lane % 4;
  uint32_t a[4], b[2];
  float acc[4];
  for (int i = 0; i < 4; ++i) acc[i] = C[(g + 8 * (i / 2)) * 8 + 2 * t + i % 2];
  if constexpr (K == 8) {
    a[0] = crisp::cuda::cvt_rna_tf32(A[g * K + t]);
    a[1] = crisp::cuda::cvt_rna_tf32(A[(g + 8) * K + t]);
    a[2] = crisp::cuda::cvt_rna_tf32(A[g * K + t + 4]);
    a[3] = crisp::cuda::cvt_rna_tf32(A[(g + 8) * K + t + 4]);
    b[0] = crisp::cuda::cvt_rna_tf32(B[t * 8 + g]);
    b[1] = crisp::cuda::cvt_rna_tf32(B[(t + 4) * 8 + g]);
    crisp::cuda::mma_m16n8k8_tf32(acc, a, b);
  } else {
    a[0] = crisp::cuda::pack_bf16x2(A[g * K + 2 * t], A[g * K + 2 * t + 1]);
    a[1] = crisp::cuda::pack_bf16x2(A[(g + 8) * K + 2 * t], A[(g + 8) * K + 2 * t + 1]);
    a[2] = crisp::cuda::pack_bf16x2(A[g * K + 2 * t + 8], A[g * K + 2 * t + 9]);
    a[3] = crisp::cuda::pack_bf16x2(A[(g + 8) * K + 2 * t + 8], A[(g + 8) * K + 2 * t + 9]);
    b[0] = crisp::cuda::pack_bf16x2(B[2 * t * 8 + g], B[(2 * t + 1) * 8 + g]);
    b[1] = crisp::cuda::pack_bf16x2(B[(2 * t + 8) * 8 + g], B[(2 * t + 9) * 8 + g]);
    crisp::cuda::mma_m16n8k16_bf16(acc, a, b);
  }
  for (int i = 0; i < 4; ++i) D[(g + 8 * (i / 2)) * 8 + 2 * t + i % 2] = acc[i];
}

__global__ void noop_kernel(int) {}

float bits(uint32_t u) { return std::bit_cast<float>(u); }

}  // namespace

TEST_CASE("emulation: 3-d grids and blocks see their own coordinates", "[cuda-emulated]") {
  const dim3 grid(2, 3, 2), block(4, 2, 3);
  std::vector<unsigned> out(12 * 24, ~0u);
  crisp::cuda::launch("coordinates_kernel", coordinates_kernel, grid, block, 0, nullptr, out.data());
  for (unsigned b = 0; b < 12; ++b)
    for (unsigned t = 0; t < 24; ++t) CHECK(out[b * 24 + t] == b * 1000 + t);
}

TEST_CASE("emulation: __syncthreads orders shared memory; exited threads leave the barrier", "[cuda-emulated]") {
  const int n = 200;  // the second block has 72 live threads, 56 return before __syncthreads
  std::vector<int> in(n), out(n, -1);
  for (int i = 0; i < n; ++i) in[size_t(i)] = i;
  crisp::cuda::launch("reverse_kernel", reverse_kernel, 2, 128, 0, nullptr, in.data(), out.data(), n);
  for (int i = 0; i < 128; ++i) CHECK(out[size_t(i)] == 127 - i);
  for (int i = 128; i < n; ++i) CHECK(out[size_t(i)] == 128 + (n - 1 - i));
}

TEST_CASE("emulation: dynamic shared memory has the launch's size", "[cuda-emulated]") {
  std::vector<float> in(96), out(96);
  for (size_t i = 0; i < in.size(); ++i) in[i] = float(i);
  crisp::cuda::launch("dynamic_shared_kernel", dynamic_shared_kernel, 1, 96, 96 * sizeof(float), nullptr, in.data(),
                      out.data());
  for (size_t i = 0; i < 96; ++i) CHECK(out[i] == 2.f * float(95 - i));
}

TEST_CASE("emulation: warp shuffles and ballot follow CUDA's lane rules", "[cuda-emulated]") {
  const int threads = 64;
  std::vector<float> in(threads), out(5 * threads);
  std::vector<unsigned> votes(2);
  for (int i = 0; i < threads; ++i) in[size_t(i)] = float((i * 7) % 11) - 5.f;  // small integers: exact sums
  crisp::cuda::launch("warp_kernel", warp_kernel, 1, threads, 0, nullptr, in.data(), out.data(), votes.data());
  for (int w = 0; w < 2; ++w) {
    float sum = 0.f;
    unsigned ballot = 0;
    for (int l = 0; l < 32; ++l) sum += in[size_t(32 * w + l)], ballot |= (in[size_t(32 * w + l)] > 0.f) << l;
    CHECK(votes[size_t(w)] == ballot);
    for (int l = 0; l < 32; ++l) {
      const size_t t = size_t(32 * w + l);
      float half = 0.f;
      for (int k = 0; k < 16; ++k) half += in[size_t(32 * w + (l / 16) * 16 + k)];
      CHECK(out[5 * t + 0] == sum);
      if (l == 0) CHECK(out[5 * t + 1] == sum);
      CHECK(out[5 * t + 2] == in[size_t(32 * w + 5)]);
      CHECK(out[5 * t + 3] == (l == 0 ? in[t] : in[t - 1]));  // lane 0 keeps its own value
      CHECK(out[5 * t + 4] == half);
    }
  }
}

TEST_CASE("emulation: atomics are atomic across concurrently running threads", "[cuda-emulated]") {
  float fsum = 0.f;
  double dsum = 0.0;
  unsigned count = 0;
  crisp::cuda::launch("atomic_kernel", atomic_kernel, 3, 256, 0, nullptr, &fsum, &dsum, &count);
  CHECK(fsum == 768.f);
  CHECK(dsum == 384.0);
  CHECK(count == 768u);
}

TEST_CASE("emulation: __syncthreads_count / _or / _and", "[cuda-emulated]") {
  int out[3] = {-1, -1, -1};
  crisp::cuda::launch("syncthreads_count_kernel", syncthreads_count_kernel, 1, 100, 0, nullptr, out);
  CHECK(out[0] == 34);  // 0, 3, ..., 99
  CHECK(out[1] == 1);
  CHECK(out[2] == 1);
}

TEST_CASE("emulation: TF32 and BF16 operand rounding", "[cuda-emulated]") {
  using crisp::cuda::cvt_rna_tf32;
  using crisp::cuda::pack_bf16x2;
  // cvt.rna: 13 dropped bits; exactly half an ulp rounds away from zero, in both signs.
  CHECK(cvt_rna_tf32(bits(0x3f801000u)) == 0x3f802000u);
  CHECK(cvt_rna_tf32(bits(0xbf801000u)) == 0xbf802000u);
  CHECK(cvt_rna_tf32(bits(0x3f800fffu)) == 0x3f800000u);
  CHECK(cvt_rna_tf32(bits(0x3f803000u)) == 0x3f804000u);  // a tie with an odd kept bit: away, not even
  CHECK(cvt_rna_tf32(1.5f) == std::bit_cast<uint32_t>(1.5f));
  CHECK(cvt_rna_tf32(INFINITY) == 0x7f800000u);
  CHECK(std::isnan(bits(cvt_rna_tf32(NAN))));
  CHECK(cvt_rna_tf32(bits(0x7f7fffffu)) == 0x7f800000u);  // FLT_MAX rounds up to inf
  // bf16: round to nearest even; lo in the low half.
  CHECK(pack_bf16x2(bits(0x3f808000u), 0.f) == 0x3f80u);          // tie, even kept bit: down
  CHECK(pack_bf16x2(bits(0x3f818000u), 0.f) == 0x3f82u);          // tie, odd kept bit: up
  CHECK(pack_bf16x2(bits(0x3f808001u), 0.f) == 0x3f81u);          // past the tie: up
  CHECK(pack_bf16x2(1.f, -2.f) == (0x3f80u | 0xc000u << 16));
  CHECK(std::isnan(bits(pack_bf16x2(NAN, 0.f) << 16)));
}

TEST_CASE("emulation: one warp's mma.sync (TF32 m16n8k8, BF16 m16n8k16) against a double GEMM", "[cuda-emulated]") {
  std::mt19937 rng(41);
  std::normal_distribution<float> dist;
  auto check_mma = [&](auto kernel, int K, bool tf32) {
    std::vector<float> A(size_t(16 * K)), B(size_t(K * 8)), C(128), D(128, NAN);
    for (auto* v : {&A, &B, &C})
      for (auto& x : *v) x = dist(rng);
    crisp::cuda::launch("mma_kernel", kernel, 1, 32, 0, nullptr, A.data(), B.data(), C.data(), D.data());
    // Reference: operands rounded as the instruction rounds them, products and sum in double.
    auto round = [&](float x) {
      return tf32 ? double(bits(crisp::cuda::cvt_rna_tf32(x) & ~0x1fffu))
                  : double(bits((crisp::cuda::pack_bf16x2(x, 0.f) & 0xffffu) << 16));
    };
    for (int r = 0; r < 16; ++r)
      for (int c = 0; c < 8; ++c) {
        double want = C[size_t(r * 8 + c)], scale = std::fabs(want);
        for (int k = 0; k < K; ++k) {
          const double p = round(A[size_t(r * K + k)]) * round(B[size_t(k * 8 + c)]);
          want += p, scale += std::fabs(p);
        }
        INFO("D[" << r << "][" << c << "]");
        CHECK(std::fabs(D[size_t(r * 8 + c)] - want) <= 1e-6 * scale);
      }
  };
  check_mma(mma_kernel<8>, 8, true);
  check_mma(mma_kernel<16>, 16, false);
}

TEST_CASE("emulation: a rejected launch configuration throws CudaError naming the kernel", "[cuda-emulated]") {
  CHECK_THROWS_WITH(crisp::cuda::launch("noop_kernel", noop_kernel, 1, 2048, 0, nullptr, 0),
                    Catch::Contains("launch of noop_kernel") && Catch::Contains("cudaErrorInvalidConfiguration"));
  CHECK_THROWS_AS(crisp::cuda::launch("noop_kernel", noop_kernel, dim3(1, 70000), 32, 0, nullptr, 0),
                  crisp::cuda::CudaError);
  CHECK_THROWS_AS(crisp::cuda::launch("noop_kernel", noop_kernel, 1, 32, size_t(1) << 20, nullptr, 0),
                  crisp::cuda::CudaError);
  crisp::cuda::launch("noop_kernel", noop_kernel, 1, 32, 0, nullptr, 0);  // the error does not stick
}
