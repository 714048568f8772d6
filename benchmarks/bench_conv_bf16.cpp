// bench_conv_bf16: crisp's CPU convolution kernels in ConvMath::BF16 (AVX512_BF16, fp32
// accumulation) against the same kernels in FP32, in the same process, on the papers' layers:
// forward, backward-data and backward-weight. Each (layer, pass) runs FP32 then BF16 back to back
// (Google Benchmark registration order), repeated; the summary prints best-of per row and the
// BF16/FP32 speed-up, with the geometric mean.
//
//   OMP_NUM_THREADS=2 ./bench_conv_bf16 --benchmark_repetitions=3
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <crisp/backend/cpu/conv.hpp>

namespace {

using crisp::ConvMath;
using crisp::Conv2dGeometry;

struct Layer {
  std::string name;
  Conv2dGeometry g;
};

Conv2dGeometry geom(int64_t N, int64_t C, int64_t O, int64_t H, int64_t k, int64_t s, int64_t p) {
  Conv2dGeometry g;
  g.N = N, g.C = C, g.O = O, g.H = g.W = H, g.kh = g.kw = k, g.stride_h = g.stride_w = s, g.pad_h = g.pad_w = p;
  g.P = g.Q = (H + 2 * p - k) / s + 1;
  return g;
}

// The same layers as bench_conv (semantic deblurring b16, CycleGAN b1, SRN b4). A transposed
// convolution's forward is the backward-data of the convolution listed (its "dgrad" row).
std::vector<Layer> layers() {
  return {
      {"s1_c14o64_k11p5_64x64_n16", geom(16, 14, 64, 64, 11, 1, 5)},
      {"s3a_c64o64_k5p2_64x64_n16", geom(16, 64, 64, 64, 5, 1, 2)},
      {"s4_c64o3_k5p2_128x128_n16", geom(16, 64, 3, 128, 5, 1, 2)},
      {"s6b_c64o128_k4s2p1_64x64_n16", geom(16, 64, 128, 64, 4, 2, 1)},
      {"s7a_c3o64_k7_262x262_n1", geom(1, 3, 64, 262, 7, 1, 0)},
      {"s7b_c256o256_k3_66x66_n1", geom(1, 256, 256, 66, 3, 1, 0)},
      {"s7c_c128o256_k3s2p1_128x128_n1 (tconv 256->128)", geom(1, 128, 256, 128, 3, 2, 1)},
      {"s8c_c128o128_k5p2_64x64_n4", geom(4, 128, 128, 64, 5, 1, 2)},
  };
}

const char* kPass[] = {"fwd", "dgrad", "wgrad"};

struct Buffers {
  std::vector<float> x, w, y, dy, dx, dw;
};
Buffers make(const Conv2dGeometry& g) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d;
  Buffers b;
  auto fill = [&](std::vector<float>& v, int64_t n) {
    v.resize(static_cast<size_t>(n));
    for (auto& e : v) e = d(rng);
  };
  fill(b.x, g.N * g.C * g.H * g.W), fill(b.w, g.O * g.Cg() * g.kh * g.kw), fill(b.dy, g.N * g.O * g.P * g.Q);
  b.y = b.dy, b.dx = b.x, b.dw = b.w;
  return b;
}

// Issue rate of one core, 24 independent accumulators (no latency bound), billions of zmm
// instructions per second: VFMADD231PS (16 multiply-adds) and VDPBF16PS (32). Their ratio bounds
// what any BF16 kernel built on VDPBF16PS can gain over an FP32 FMA kernel on this CPU.
#if defined(__AVX512BF16__)
template <bool Bf16>
double issue_rate() {
  __m512 c[24];
  for (int i = 0; i < 24; ++i) c[i] = _mm512_set1_ps(float(i));
  __m512 a = _mm512_set1_ps(1.0001f);
  const __m512 b = _mm512_set1_ps(0.9999f);
  const long iters = 4000000;
  const double t0 = omp_get_wtime();
  for (long k = 0; k < iters; ++k) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i)
      c[i] = Bf16 ? _mm512_dpbf16_ps(c[i], (__m512bh)a, (__m512bh)b) : _mm512_fmadd_ps(a, b, c[i]);
    __asm__ volatile("" : "+v"(a));
  }
  const double t = omp_get_wtime() - t0;
  alignas(64) float lanes[16];
  float sink = 0;
  for (int i = 0; i < 24; ++i) _mm512_store_ps(lanes, c[i]), sink += lanes[i % 16];
  benchmark::DoNotOptimize(sink);
  return 24.0 * double(iters) / t / 1e9;
}
#endif

std::map<std::string, double> g_best;  // "layer pass math" -> best seconds per call

void run(benchmark::State& st, const Layer& l, int pass, ConvMath math) {
  const Buffers b0 = make(l.g);
  Buffers b = b0;
  const crisp::cpu::ConvMathScope scope(math);
  auto once = [&] {
    if (pass == 0) crisp::cpu::conv2d_forward<float>(l.g, b.x.data(), b.w.data(), nullptr, b.y.data());
    if (pass == 1) crisp::cpu::conv2d_backward_data<float>(l.g, b.dy.data(), b.w.data(), b.dx.data());
    if (pass == 2) crisp::cpu::conv2d_backward_weight<float>(l.g, b.x.data(), b.dy.data(), b.dw.data(), nullptr);
  };
  once();  // warm-up (workspaces, page faults)
  double best = 1e30;
  for (auto _ : st) {
    const double t0 = omp_get_wtime();
    once();
    best = std::min(best, omp_get_wtime() - t0);
  }
  st.counters["GFLOP/s"] = benchmark::Counter(l.g.flops(), benchmark::Counter::kIsIterationInvariantRate);
  const std::string key = l.name + " " + kPass[pass] + " " + crisp::to_string(math);
  auto it = g_best.find(key);
  g_best[key] = it == g_best.end() ? best : std::min(it->second, best);
}

}  // namespace

int main(int argc, char** argv) {
  if (!crisp::cpu::cpu_has(crisp::cpu::kAvx512Bf16)) {
    std::printf("bench_conv_bf16: this CPU has no avx512_bf16 (%s); nothing to compare\n",
                crisp::cpu::cpu_features_string().c_str());
    return 0;
  }
#if defined(__AVX512BF16__)
  double fma = 0, dp = 0;
  for (int r = 0; r < 3; ++r) fma = std::max(fma, issue_rate<false>()), dp = std::max(dp, issue_rate<true>());
  std::printf("one core: VFMADD231PS zmm %.2f G/s (%.0f GFLOP/s), VDPBF16PS zmm %.2f G/s (%.0f GFLOP/s): "
              "a VDPBF16PS kernel can reach at most %.2fx an FMA kernel here\n",
              fma, fma * 32, dp, dp * 64, 2 * dp / fma);
#endif
  const std::vector<Layer> ls = layers();
  for (const Layer& l : ls)
    for (int pass = 0; pass < 3; ++pass)
      for (ConvMath m : {ConvMath::FP32, ConvMath::BF16})
        benchmark::RegisterBenchmark((l.name + "/" + kPass[pass] + "/" + crisp::to_string(m)).c_str(),
                                     [&l, pass, m](benchmark::State& st) { run(st, l, pass, m); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->MinTime(0.3);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  std::printf("\nbest of all iterations (ms) and BF16 speed-up over FP32, threads %d\n", omp_get_max_threads());
  std::printf("%-48s %-6s %9s %9s %7s\n", "layer", "pass", "fp32", "bf16", "x");
  double log_sum = 0;
  int count = 0;
  for (const Layer& l : ls)
    for (int pass = 0; pass < 3; ++pass) {
      const std::string k = l.name + " " + kPass[pass];
      if (!g_best.count(k + " fp32") || !g_best.count(k + " bf16")) continue;
      const double f = g_best[k + " fp32"], h = g_best[k + " bf16"];
      std::printf("%-48s %-6s %9.2f %9.2f %7.2f\n", l.name.c_str(), kPass[pass], f * 1e3, h * 1e3, f / h);
      log_sum += std::log(f / h), ++count;
    }
  if (count > 0) std::printf("geometric mean speed-up: %.2fx over %d rows\n", std::exp(log_sum / count), count);
}
