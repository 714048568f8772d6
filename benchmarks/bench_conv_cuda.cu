// Google Benchmark: crisp's own CUDA convolution kernels against cuDNN's best algorithm
// (cudnnFind*, cached) in the same precision, same run, same buffers, for every convolution shape
// of the papers (issue #8 list), forward / backward-data / backward-weight, FP32 / TF32 / BF16.
// Each row reports TFLOP/s; each crisp row also reports vs_cudnn = cuDNN time / crisp time (> 1:
// crisp is faster), from the cuDNN row of the same case that ran just before it.
//
//   bench_conv_cuda --benchmark_filter=fp32          # one precision
//   bench_conv_cuda --benchmark_counters_tabular=true
//
// BF16: crisp's kernel reads FP32 tensors and rounds operands to bf16 in shared memory; cuDNN
// gets bf16 copies of the same data (the native layout of its bf16 mode). Both accumulate in FP32.
#include <benchmark/benchmark.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crisp/backend/cuda/caching_allocator.hpp"
#include "crisp/backend/cuda/native/conv.hpp"
#include "crisp/backend/cuda/cudnn_conv.hpp"
#include "crisp/tensor/generator.hpp"

namespace {

using crisp::cuda::ConvMath;
using crisp::cuda::ConvShape;

// A convolution of the papers. A transposed convolution is stored as the convolution it is the
// adjoint of (its input is that convolution's output), and its directions map accordingly.
struct Case {
  std::string name;
  ConvShape s;
  bool transposed = false;
};

ConvShape conv(int N, int C, int H, int O, int k, int stride, int pad) {
  ConvShape s;
  s.N = N, s.C = C, s.H = s.W = H, s.O = O, s.kh = s.kw = k, s.sh = s.sw = stride, s.ph = s.pw = pad;
  s.P = s.Q = (H + 2 * pad - (k - 1) - 1) / stride + 1;
  return s;
}
// conv_transpose2d(in -> out, k, stride, pad, output_padding) on an in_hw^2 input.
ConvShape conv_t(int N, int in, int out, int in_hw, int k, int stride, int pad, int out_pad) {
  const int H = (in_hw - 1) * stride - 2 * pad + (k - 1) + out_pad + 1;
  ConvShape s = conv(N, out, H, in, k, stride, pad);
  s.P = s.Q = in_hw;
  return s;
}

std::vector<Case> cases() {
  std::vector<Case> c = {
      {"semantic_14to64_k11_64sq_n16", conv(16, 14, 64, 64, 11, 1, 5)},
      {"semantic_17to64_k11_128sq_n16", conv(16, 17, 128, 64, 11, 1, 5)},
      {"semantic_64to64_k5_64sq_n16", conv(16, 64, 64, 64, 5, 1, 2)},
      {"semantic_64to64_k5_128sq_n16", conv(16, 64, 128, 64, 5, 1, 2)},
      {"semantic_64to3_k5_128sq_n16", conv(16, 64, 128, 3, 5, 1, 2)},
      {"semantic_convT_3to3_k4s2_64to128_n16", conv_t(16, 3, 3, 64, 4, 2, 1, 0), true},
      {"semantic_convT_64to64_k4s2_64to128_n16", conv_t(16, 64, 64, 64, 4, 2, 1, 0), true},
      {"dcgan_3to64_k4s2_128sq_n16", conv(16, 3, 128, 64, 4, 2, 1)},
      {"dcgan_64to128_k4s2_64sq_n16", conv(16, 64, 64, 128, 4, 2, 1)},
  };
  for (int n : {1, 4}) {
    const std::string b = "_n" + std::to_string(n);
    // Reflection padding is its own op: the convolutions see the padded input and pad 0.
    c.push_back({"cyclegan_3to64_k7_reflect_256sq" + b, conv(n, 3, 262, 64, 7, 1, 0)});
    c.push_back({"cyclegan_256to256_k3_reflect_64sq" + b, conv(n, 256, 66, 256, 3, 1, 0)});
    c.push_back({"cyclegan_convT_256to128_k3s2_op1_64to128" + b, conv_t(n, 256, 128, 64, 3, 2, 1, 1), true});
  }
  c.push_back({"srn_32to32_k5_256sq_n4", conv(4, 32, 256, 32, 5, 1, 2)});
  c.push_back({"srn_64to64_k5_128sq_n4", conv(4, 64, 128, 64, 5, 1, 2)});
  c.push_back({"srn_128to128_k5_64sq_n4", conv(4, 128, 64, 128, 5, 1, 2)});
  return c;
}

double flops(const ConvShape& s) {
  return 2.0 * s.N * s.O * double(s.C / s.groups) * s.kh * s.kw * s.P * s.Q;
}

#define BENCH_CHECK(call)                                                                      \
  do {                                                                                         \
    const cudaError_t e_ = (call);                                                             \
    if (e_ != cudaSuccess) {                                                                   \
      std::fprintf(stderr, "bench_conv_cuda: %s failed: %s\n", #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                            \
    }                                                                                          \
  } while (0)

__global__ void to_bf16_kernel(const float* in, __nv_bfloat16* out, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16_rn(in[i]);
}

// Device buffers of one case: x, w, y in FP32 (random N(0,1), never zeros) and bf16 copies.
struct Buffers {
  size_t nx, nw, ny;
  float *x, *w, *y;
  __nv_bfloat16 *xb, *wb, *yb;
  explicit Buffers(const ConvShape& s) {
    nx = size_t(s.N) * s.C * s.H * s.W, nw = size_t(s.O) * (s.C / s.groups) * s.kh * s.kw,
    ny = size_t(s.N) * s.O * s.P * s.Q;
    crisp::Generator gen(7);
    auto make = [&](size_t n, float** f, __nv_bfloat16** b) {
      std::vector<float> h(n);
      for (auto& v : h) v = float(gen.normal());
      BENCH_CHECK(cudaMalloc(f, n * sizeof(float)));
      BENCH_CHECK(cudaMalloc(b, n * sizeof(__nv_bfloat16)));
      BENCH_CHECK(cudaMemcpy(*f, h.data(), n * sizeof(float), cudaMemcpyHostToDevice));
      to_bf16_kernel<<<1024, 256>>>(*f, *b, n);
      BENCH_CHECK(cudaGetLastError());
    };
    make(nx, &x, &xb), make(nw, &w, &wb), make(ny, &y, &yb);
    BENCH_CHECK(cudaDeviceSynchronize());
  }
  ~Buffers() {
    for (void* p : {(void*)x, (void*)w, (void*)y, (void*)xb, (void*)wb, (void*)yb}) cudaFree(p);
  }
};

// One case's buffers at a time (cases run in registration order; cuDNN and crisp rows share them).
Buffers& buffers_for(const Case& c) {
  static std::string current;
  static std::unique_ptr<Buffers> b;
  if (!b || current != c.name) {
    b.reset();
    b = std::make_unique<Buffers>(c.s);
    current = c.name;
  }
  return *b;
}

enum class Dir { Fwd, BwdData, BwdWeight };
const char* dir_name(Dir d) { return d == Dir::Fwd ? "fwd" : d == Dir::BwdData ? "bwd_data" : "bwd_weight"; }

// Which convolution kernel a user-facing direction runs: a transposed conv's forward is its
// adjoint's backward-data and vice versa.
enum class Kernel { Fprop, Dgrad, Wgrad };
Kernel kernel_of(const Case& c, Dir d) {
  if (d == Dir::BwdWeight) return Kernel::Wgrad;
  if (c.transposed) return d == Dir::Fwd ? Kernel::Dgrad : Kernel::Fprop;
  return d == Dir::Fwd ? Kernel::Fprop : Kernel::Dgrad;
}

std::map<std::string, double>& cudnn_seconds() {
  static std::map<std::string, double> m;
  return m;
}

void run_once(const Case& c, Kernel k, ConvMath math, bool use_cudnn, Buffers& b, cudaStream_t st) {
  const ConvShape& s = c.s;
  // Roles: fprop reads x, w -> y; dgrad reads y (as dy), w -> x; wgrad reads x, y (as dy) -> w.
  if (use_cudnn) {
    const bool h = math == ConvMath::BF16;
    void *x = h ? (void*)b.xb : (void*)b.x, *w = h ? (void*)b.wb : (void*)b.w, *y = h ? (void*)b.yb : (void*)b.y;
    if (k == Kernel::Fprop) crisp::cuda::cudnn::conv2d_fprop(s, x, w, y, math, st);
    if (k == Kernel::Dgrad) crisp::cuda::cudnn::conv2d_dgrad(s, y, w, x, math, st);
    if (k == Kernel::Wgrad) crisp::cuda::cudnn::conv2d_wgrad(s, x, y, w, math, st);
  } else {
    if (k == Kernel::Fprop) crisp::cuda::native::conv2d_fprop(s, b.x, b.w, nullptr, b.y, math, st);
    if (k == Kernel::Dgrad) crisp::cuda::native::conv2d_dgrad(s, b.y, b.w, b.x, math, st);
    if (k == Kernel::Wgrad) crisp::cuda::native::conv2d_wgrad(s, b.x, b.y, b.w, math, st);
  }
}

void bench(benchmark::State& state, Case c, Dir d, ConvMath math, bool use_cudnn) {
  Buffers& b = buffers_for(c);
  const Kernel k = kernel_of(c, d);
  cudaStream_t st = nullptr;
  cudaEvent_t start, stop;
  BENCH_CHECK(cudaEventCreate(&start));
  BENCH_CHECK(cudaEventCreate(&stop));
  try {
    for (int i = 0; i < 3; ++i) run_once(c, k, math, use_cudnn, b, st);  // warm-up (+ cudnnFind)
    BENCH_CHECK(cudaDeviceSynchronize());
    double total = 0;
    for (auto _ : state) {
      BENCH_CHECK(cudaEventRecord(start, st));
      run_once(c, k, math, use_cudnn, b, st);
      BENCH_CHECK(cudaEventRecord(stop, st));
      BENCH_CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      BENCH_CHECK(cudaEventElapsedTime(&ms, start, stop));
      state.SetIterationTime(ms * 1e-3);
      total += ms * 1e-3;
    }
    const double per = total / double(state.iterations());
    state.counters["TFLOP/s"] = benchmark::Counter(flops(c.s) * 1e-12 / per);
    const std::string key = c.name + dir_name(d) + crisp::cuda::to_string(math);
    if (use_cudnn) {
      cudnn_seconds()[key] = per;
      state.SetLabel(std::string("cudnn ") + crisp::cuda::cudnn::algorithm_name(
                                                 k == Kernel::Fprop ? "fprop" : k == Kernel::Dgrad ? "dgrad" : "wgrad",
                                                 c.s, math));
    } else {
      auto it = cudnn_seconds().find(key);
      if (it != cudnn_seconds().end()) state.counters["vs_cudnn"] = benchmark::Counter(it->second / per);
      state.SetLabel("crisp implicit gemm");
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    std::fprintf(stderr, "bench_conv_cuda: no CUDA device visible to this process; nothing to benchmark.\n");
    return 1;
  }
  cudaDeviceProp prop{};
  BENCH_CHECK(cudaGetDeviceProperties(&prop, 0));
  benchmark::AddCustomContext("cuda_device", prop.name);
  benchmark::AddCustomContext("cuda_sms", std::to_string(prop.multiProcessorCount));
  for (const Case& c : cases())
    for (Dir d : {Dir::Fwd, Dir::BwdData, Dir::BwdWeight})
      for (ConvMath m : {ConvMath::FP32, ConvMath::TF32, ConvMath::BF16})
        for (bool use_cudnn : {true, false}) {
          const std::string name = c.name + "/" + dir_name(d) + "/" + crisp::cuda::to_string(m) + "/" +
                                   (use_cudnn ? "cudnn" : "crisp");
          benchmark::RegisterBenchmark(name.c_str(), bench, c, d, m, use_cudnn)
              ->UseManualTime()
              ->Unit(benchmark::kMillisecond)
              ->MinTime(0.2);
        }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
