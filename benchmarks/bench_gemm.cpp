// bench_gemm: crisp::cpu::gemm against OpenBLAS (when found) on square sgemm, the three im2col GEMMs
// of a 64->64 5x5 convolution over 16 images of 128x128, and dgemm; plus the machine's measured FMA
// peak. Prints GFLOP/s and % of peak per row, then a summary table (medians over repetitions).
//
//   OMP_NUM_THREADS=2 OPENBLAS_CORETYPE=SkylakeX ./bench_gemm --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <crisp/backend/cpu/gemm.hpp>

#include "fma_peak.hpp"

#if defined(CRISP_BENCH_HAVE_OPENBLAS)
#include <cblas.h>
#endif

namespace {

int g_threads = 2;
double g_peak_gflops = 0;  // measured FP32 FMA peak, all threads

// ---- measured FMA peak (benchmarks/fma_peak.hpp) -------------------------------------------------
double fma_peak_once(int64_t iters) { return crisp::bench::fma_peak_once(g_threads, iters); }
double measure_peak() { return crisp::bench::measure_peak(g_threads); }

void BM_fma_peak(benchmark::State& state) {
  double gf = 0, total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    gf = fma_peak_once(20'000'000);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(dt);
    total += dt;
  }
  state.counters["GFLOPS"] = gf;
  state.counters["pct_peak"] = g_peak_gflops > 0 ? 100.0 * gf / g_peak_gflops : 0;
}

// ---- operands: lazily allocated, 64-byte aligned, huge-page advised, filled in [-1, 1] ----------
struct Free {
  void operator()(void* p) const { ::operator delete(p, std::align_val_t(64)); }
};
std::map<std::string, std::unique_ptr<void, Free>> g_buffers;

template <class T>
T* buffer(const std::string& name, int64_t count) {
  const std::string key = name + (sizeof(T) == 4 ? "/f" : "/d") + std::to_string(count);
  auto it = g_buffers.find(key);
  if (it != g_buffers.end()) return static_cast<T*>(it->second.get());
  const std::size_t bytes = static_cast<std::size_t>(count) * sizeof(T);
  void* raw = ::operator new(bytes, std::align_val_t(64));
#if defined(MADV_HUGEPAGE)
  madvise(reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(raw) & ~uintptr_t(4095)), bytes, MADV_HUGEPAGE);
#endif
  T* p = static_cast<T*>(raw);
  const uint64_t salt = std::hash<std::string>{}(name);
#pragma omp parallel for schedule(static) num_threads(g_threads)
  for (int64_t i = 0; i < count; ++i) {
    uint64_t x = (static_cast<uint64_t>(i) + salt) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    p[i] = static_cast<T>(static_cast<double>(x >> 11) * (2.0 / 9007199254740992.0) - 1.0);
  }
  g_buffers.emplace(key, std::unique_ptr<void, Free>(raw));
  return p;
}

// ---- the GEMM rows ------------------------------------------------------------------------
struct Shape {
  std::string name;
  bool ta, tb;
  int64_t M, N, K;
  // Buffers by role, so that the conv GEMMs share the im2col matrix like a real conv layer.
  std::string a, b, c;
};

template <class T>
void run_gemm(bool blas, const Shape& s, const T* A, const T* B, T* C) {
  const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N, ldc = s.N;
  if (!blas) {
    crisp::cpu::gemm<T>(s.ta, s.tb, s.M, s.N, s.K, T(1), A, lda, B, ldb, T(0), C, ldc);
    return;
  }
#if defined(CRISP_BENCH_HAVE_OPENBLAS)
  const auto ta = s.ta ? CblasTrans : CblasNoTrans, tb = s.tb ? CblasTrans : CblasNoTrans;
  if constexpr (sizeof(T) == 4)
    cblas_sgemm(CblasRowMajor, ta, tb, s.M, s.N, s.K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
  else
    cblas_dgemm(CblasRowMajor, ta, tb, s.M, s.N, s.K, 1.0, A, lda, B, ldb, 0.0, C, ldc);
#endif
}

template <class T>
void BM_gemm(benchmark::State& state, Shape s, bool blas) {
  const T* A = buffer<T>(s.a, s.M * s.K);
  const T* B = buffer<T>(s.b, s.K * s.N);
  T* C = buffer<T>(s.c, s.M * s.N);
  const double flops = 2.0 * static_cast<double>(s.M) * static_cast<double>(s.N) * static_cast<double>(s.K);
  run_gemm<T>(blas, s, A, B, C);  // warm-up: thread pools, packing buffers, page faults
  double total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    run_gemm<T>(blas, s, A, B, C);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(dt);
    total += dt;
  }
  benchmark::DoNotOptimize(C[0]);
  const double gf = flops * static_cast<double>(state.iterations()) / total * 1e-9;
  state.counters["GFLOPS"] = gf;
  // dgemm is compared against the FP32 peak halved (same FMA rate, half the lanes).
  const double peak = sizeof(T) == 8 ? g_peak_gflops / 2 : g_peak_gflops;
  state.counters["pct_peak"] = peak > 0 ? 100.0 * gf / peak : 0;
}

// ---- summary: collect the per-row (median) GFLOP/s as they are reported ---------------------------
struct Row {
  std::vector<double> crisp, blas;
};
std::vector<std::string> g_order;
std::map<std::string, Row> g_rows;
std::vector<double> g_peaks;

class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal (a custom display reporter ignores --benchmark_color).
  CollectingReporter() : ConsoleReporter(isatty(fileno(stdout)) ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      const bool aggregate = r.run_type == Run::RT_Aggregate;
      if (aggregate && r.aggregate_name != "median") continue;
      if (r.error_occurred) continue;
      const auto it = r.counters.find("GFLOPS");
      if (it == r.counters.end()) continue;
      std::string name = r.run_name.function_name;
      const double v = it->second.value;
      if (name == "fma_peak") {
        g_peaks.push_back(v);
        continue;
      }
      const auto slash = name.rfind('/');
      const std::string shape = name.substr(0, slash), impl = name.substr(slash + 1);
      if (!g_rows.count(shape)) g_order.push_back(shape);
      (impl == "openblas" ? g_rows[shape].blas : g_rows[shape].crisp).push_back(v);
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  if (const char* t = std::getenv("CRISP_BENCH_THREADS")) g_threads = std::max(1, std::atoi(t));
  omp_set_num_threads(g_threads);
#if defined(CRISP_BENCH_HAVE_OPENBLAS)
  openblas_set_num_threads(g_threads);
  const bool have_blas = true;
#else
  const bool have_blas = false;
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  std::printf("crisp gemm kernel: %s, threads: %d\n", crisp::cpu::gemm_kernel_name(), g_threads);
#if defined(CRISP_BENCH_HAVE_OPENBLAS)
  std::printf("OpenBLAS core: %s, config: %s\n", openblas_get_corename(), openblas_get_config());
  if (std::getenv("OPENBLAS_CORETYPE") == nullptr)
    std::printf(
        "WARNING: OPENBLAS_CORETYPE is unset. Debian's OpenBLAS 0.3.21 does not recognise Zen 4/5 CPUs and\n"
        "         silently falls back to slow kernels; for a fair comparison run with OPENBLAS_CORETYPE=SkylakeX\n");
#else
  std::printf("OpenBLAS not found at build time: crisp only\n");
#endif
  g_peak_gflops = measure_peak();
  std::printf("measured FP32 FMA peak (%d threads): %.1f GFLOP/s\n", g_threads, g_peak_gflops);

  benchmark::RegisterBenchmark("fma_peak", BM_fma_peak)->UseManualTime()->Unit(benchmark::kMillisecond);

  std::vector<std::pair<Shape, bool>> rows;  // (shape, is_double)
  for (int64_t n : {256, 512, 1024, 2048, 4096})
    rows.push_back({{"sgemm_square_" + std::to_string(n), false, false, n, n, n, "A", "B", "C"}, false});
  // 64 -> 64 channels, 5x5 kernel, 16 images of 128x128 ("same" padding): K = 64*25, N = 16*128*128.
  const int64_t co = 64, kk = 64 * 25, np = 16 * 128 * 128;
  rows.push_back({{"sgemm_conv_fwd_M64_K1600_N262144", false, false, co, np, kk, "W", "cols", "Y"}, false});
  rows.push_back({{"sgemm_conv_bwd_data_M1600_K64_N262144", true, false, kk, np, co, "W", "Y", "cols"}, false});
  rows.push_back({{"sgemm_conv_bwd_weight_M64_K262144_N1600", false, true, co, kk, np, "Y", "cols", "dW"}, false});
  rows.push_back({{"dgemm_square_1024", false, false, 1024, 1024, 1024, "A", "B", "C"}, true});
  for (const auto& [s, dbl] : rows) {
    for (bool blas : {false, true}) {
      if (blas && !have_blas) continue;
      const std::string name = s.name + (blas ? "/openblas" : "/crisp");
      auto* b = dbl ? benchmark::RegisterBenchmark(name.c_str(), BM_gemm<double>, s, blas)
                    : benchmark::RegisterBenchmark(name.c_str(), BM_gemm<float>, s, blas);
      b->UseManualTime()->Unit(benchmark::kMillisecond);
    }
  }

  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const double peak = g_peaks.empty() ? g_peak_gflops : median(g_peaks);
  std::printf("\nSummary (median GFLOP/s; peak = %.1f GFLOP/s FP32 measured, %d threads)\n", peak, g_threads);
  std::printf("%-42s %10s %10s %8s %8s\n", "shape", "crisp", "openblas", "ratio", "%peak");
  for (const std::string& shape : g_order) {
    const Row& r = g_rows[shape];
    const double c = median(r.crisp), o = median(r.blas);
    // dgemm rows are compared against the FP32 peak halved (same FMA rate, half the lanes).
    const double p = shape.rfind("dgemm", 0) == 0 ? peak / 2 : peak;
    char ob[32] = "-", ratio[32] = "-";
    if (o > 0) std::snprintf(ob, sizeof ob, "%.1f", o), std::snprintf(ratio, sizeof ratio, "%.2f", c / o);
    std::printf("%-42s %10.1f %10s %8s %7.1f%%\n", shape.c_str(), c, ob, ratio, p > 0 ? 100.0 * c / p : 0.0);
  }
  return 0;
}
