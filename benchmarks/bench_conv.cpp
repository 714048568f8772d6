// bench_conv: crisp::conv2d / crisp::conv_transpose2d against oneDNN (convolution and deconvolution
// primitives in their preferred blocked formats) and, for the transposed convolutions, libtorch's CPU
// conv_transpose2d, on the layers of the semantic-deblurring, CycleGAN and SRN networks; forward and
// forward+backward (input and weight gradients). Prints GFLOP/s, % of the FP32 FMA peak measured in the
// same run, and a summary table of medians with crisp/oneDNN ratios and their geometric mean.
//
//   OMP_NUM_THREADS=2 ./bench_conv --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//   (rows are named <shape>/<fwd|fwdbwd>/<crisp|onednn|libtorch>, e.g. --benchmark_filter='s3a_.*/fwd/')
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <crisp/crisp.hpp>
#include <crisp/ops/conv.hpp>

#include "fma_peak.hpp"
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#if defined(CRISP_BENCH_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.hpp>
#endif
#if defined(CRISP_BENCH_HAVE_TORCH)
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#if __has_include(<torch/version.h>)  // in torch/csrc/api/include, which TorchConfig adds
#include <torch/version.h>
#endif
#endif

namespace {

int g_threads = 2;
double g_peak_gflops = 0;  // measured FP32 FMA peak, all threads

// ---- measured FMA peak (benchmarks/fma_peak.hpp) -------------------------------------------------
double fma_peak_once(int64_t iters) { return crisp::bench::fma_peak_once(g_threads, iters); }
double measure_peak() { return crisp::bench::measure_peak(g_threads); }

void BM_fma_peak(benchmark::State& state) {
  double gf = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    gf = fma_peak_once(20'000'000);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  state.counters["GFLOPS"] = gf;
  state.counters["pct_peak"] = g_peak_gflops > 0 ? 100.0 * gf / g_peak_gflops : 0;
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return f ? a + " " + b + " " + c : "n/a";
}

// ---- the layers ------------------------------------------------------------------------------
// A conv2d, or (transposed) a conv_transpose2d, with PyTorch's meaning of every field: C input and
// O output channels, H x W input, square kernel k, symmetric padding, groups = 1.
struct Layer {
  std::string name;  // filter-friendly row name
  bool transposed = false;
  int64_t N, C, O, H, W, k, stride = 1, pad = 0, out_pad = 0, dilation = 1;
  bool in_geomean = true;  // false for the extra "same-work conv" rows
  std::string same_work;   // transposed rows: the name of their same-work conv row

  int64_t out_h() const { return out_size(H); }
  int64_t out_w() const { return out_size(W); }
  int64_t out_size(int64_t in) const {
    return transposed ? (in - 1) * stride - 2 * pad + dilation * (k - 1) + out_pad + 1
                      : (in + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
  }
  // Forward FLOPs = 2 * MACs; a transposed conv does the MACs of the conv whose backward-data it is.
  double flops() const {
    const double pixels = transposed ? double(H) * double(W) : double(out_h()) * double(out_w());
    return 2.0 * double(N) * double(O) * double(C) * double(k * k) * pixels;
  }
  crisp::Shape weight_shape() const { return transposed ? crisp::Shape{C, O, k, k} : crisp::Shape{O, C, k, k}; }
  // The convolution whose backward-data this transposed convolution is: same MACs, roles swapped.
  Layer same_work_conv(std::string n) const {
    return Layer{std::move(n), false, N, O, C, out_h(), out_w(), k, stride, pad, 0, dilation, false, {}};
  }
};

std::vector<Layer> layers() {
  std::vector<Layer> v;
  auto conv = [&](std::string n, int64_t N, int64_t C, int64_t O, int64_t H, int64_t k, int64_t s, int64_t p) {
    v.push_back(Layer{std::move(n), false, N, C, O, H, H, k, s, p, 0, 1, true, {}});
  };
  auto tconv = [&](std::string n, int64_t N, int64_t C, int64_t O, int64_t H, int64_t k, int64_t s, int64_t p,
                   int64_t op) {
    const Layer t{n, true, N, C, O, H, H, k, s, p, op, 1, true, n + "_samework"};
    const Layer c = t.same_work_conv(t.same_work);
    v.push_back(t);
    v.push_back(c);
  };
  // Semantic deblurring (batch 16).
  conv("s1_conv_c14o64_k11p5_64x64_n16", 16, 14, 64, 64, 11, 1, 5);
  conv("s2_conv_c17o64_k11p5_128x128_n16", 16, 17, 64, 128, 11, 1, 5);
  conv("s3a_conv_c64o64_k5p2_64x64_n16", 16, 64, 64, 64, 5, 1, 2);
  conv("s3b_conv_c64o64_k5p2_128x128_n16", 16, 64, 64, 128, 5, 1, 2);
  conv("s4_conv_c64o3_k5p2_128x128_n16", 16, 64, 3, 128, 5, 1, 2);
  tconv("s5a_tconv_c3o3_k4s2p1_64x64_n16", 16, 3, 3, 64, 4, 2, 1, 0);
  tconv("s5b_tconv_c64o64_k4s2p1_64x64_n16", 16, 64, 64, 64, 4, 2, 1, 0);
  // Discriminator.
  conv("s6a_conv_c3o64_k4s2p1_128x128_n16", 16, 3, 64, 128, 4, 2, 1);
  conv("s6b_conv_c64o128_k4s2p1_64x64_n16", 16, 64, 128, 64, 4, 2, 1);
  // CycleGAN: the reflection padding is applied before the conv (pad 0 inside it), not timed.
  for (int64_t n : {1, 4}) {
    const std::string b = "_n" + std::to_string(n);
    conv("s7a_conv_c3o64_k7_262x262" + b, n, 3, 64, 262, 7, 1, 0);
    conv("s7b_conv_c256o256_k3_66x66" + b, n, 256, 256, 66, 3, 1, 0);
    tconv("s7c_tconv_c256o128_k3s2p1op1_64x64" + b, n, 256, 128, 64, 3, 2, 1, 1);
  }
  // SRN (batch 4).
  conv("s8a_conv_c32o32_k5p2_256x256_n4", 4, 32, 32, 256, 5, 1, 2);
  conv("s8b_conv_c64o64_k5p2_128x128_n4", 4, 64, 64, 128, 5, 1, 2);
  conv("s8c_conv_c128o128_k5p2_64x64_n4", 4, 128, 128, 64, 5, 1, 2);
  // The demo's DemoNet step (b8@48; not the papers' shapes, so outside the geometric mean).
  const size_t first_demo = v.size();
  conv("d1_conv_c3o32_k3p1_48x48_n8", 8, 3, 32, 48, 3, 1, 1);
  conv("d2_conv_c32o64_k3s2p1_48x48_n8", 8, 32, 64, 48, 3, 2, 1);
  conv("d3_conv_c64o64_k3p1_24x24_n8", 8, 64, 64, 24, 3, 1, 1);
  tconv("d4_tconv_c64o32_k4s2p1_24x24_n8", 8, 64, 32, 24, 4, 2, 1, 0);
  conv("d5_conv_c32o3_k3p1_48x48_n8", 8, 32, 3, 48, 3, 1, 1);
  for (size_t i = first_demo; i < v.size(); ++i) v[i].in_geomean = false;
  return v;
}

// Deterministic fill in [-1, 1], keyed by (layer, operand) so every implementation sees the same data.
void fill(float* p, int64_t count, const std::string& salt_text) {
  const uint64_t salt = std::hash<std::string>{}(salt_text);
#pragma omp parallel for schedule(static) num_threads(g_threads)
  for (int64_t i = 0; i < count; ++i) {
    uint64_t x = (static_cast<uint64_t>(i) + salt) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    p[i] = static_cast<float>(static_cast<double>(x >> 11) * (2.0 / 9007199254740992.0) - 1.0);
  }
}

enum class Mode { Fwd, FwdBwd };
const char* mode_name(Mode m) { return m == Mode::Fwd ? "fwd" : "fwdbwd"; }

// Cross-check of the forward outputs (same inputs everywhere): a weighted sum s = sum y_i * c_i of the
// NCHW output, c_i in -3..3, per (layer, implementation). Rounding moves s by ~1e-6 of its scale
// sqrt(sum (y_i c_i)^2); a wrong output (misplaced pixels, wrong channel order) moves it by ~1.
struct Checksum {
  double sum = 0, scale = 0;
};
std::map<std::string, std::map<std::string, Checksum>> g_checksums;
void record_checksum(const std::string& layer, const char* impl, const float* y, int64_t n) {
  double s = 0, sq = 0;
#pragma omp parallel for reduction(+ : s, sq) num_threads(g_threads)
  for (int64_t i = 0; i < n; ++i) {
    const double t = double(y[i]) * double(i % 7 - 3);
    s += t;
    sq += t * t;
  }
  g_checksums[layer][impl] = {s, std::sqrt(sq)};
}
bool have_checksum(const std::string& layer, const char* impl) {
  const auto it = g_checksums.find(layer);
  return it != g_checksums.end() && it->second.count(impl);
}
// Largest disagreement between implementations of a layer, relative to the scale; -1 if < 2 ran.
double checksum_spread(const std::string& layer) {
  const auto it = g_checksums.find(layer);
  if (it == g_checksums.end() || it->second.size() < 2) return -1;
  double lo = 1e300, hi = -1e300, scale = 0;
  for (const auto& [impl, c] : it->second)
    lo = std::min(lo, c.sum), hi = std::max(hi, c.sum), scale = std::max(scale, c.scale);
  return scale > 0 ? (hi - lo) / scale : 0;
}

// Each implementation keeps the operands of one (layer, mode) alive across the repetitions of a
// row (Google Benchmark calls the function once per repetition and per step of its iteration-count
// search) and frees them at the next row.
template <class State>
State& slot(std::unique_ptr<State>& s, const std::string& key) {
  if (!s || s->key != key) {
    s.reset();  // free the previous row's operands before allocating this row's
    s = std::make_unique<State>();
    s->key = key;
  }
  return *s;
}

// Times `body` per iteration (manual time), after one untimed warm-up call the first time a row
// runs (`warmed`); `reset` runs untimed before each call. Reports GFLOP/s and % of peak.
template <class Reset, class Body>
void time_rows(benchmark::State& state, bool& warmed, double flops, Reset&& reset, Body&& body) {
  if (!warmed) {
    reset();
    body();  // warm-up: thread pools, page faults, lazily created scratch buffers, JIT kernels
    warmed = true;
  }
  double total = 0;
  for (auto _ : state) {
    reset();
    const auto t0 = std::chrono::steady_clock::now();
    body();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(dt);
    total += dt;
  }
  const double gf = flops * static_cast<double>(state.iterations()) / total * 1e-9;
  state.counters["GFLOPS"] = gf;
  state.counters["pct_peak"] = g_peak_gflops > 0 ? 100.0 * gf / g_peak_gflops : 0;
}

// ---- crisp ----------------------------------------------------------------------------------
struct CrispRow {
  std::string key;
  bool warmed = false;
  crisp::Tensor<float> x, w, dy;
};
std::unique_ptr<CrispRow> g_crisp;

crisp::Tensor<float> crisp_run(const Layer& l, const crisp::Tensor<float>& x, const crisp::Tensor<float>& w) {
  if (l.transposed) return crisp::conv_transpose2d(x, w, {}, l.stride, l.pad, l.out_pad, 1, l.dilation);
  return crisp::conv2d(x, w, {}, l.stride, l.pad, l.dilation, 1);
}

void BM_crisp(benchmark::State& state, Layer l, Mode mode) {
  CrispRow& r = slot(g_crisp, l.name + mode_name(mode));
  if (!r.x.defined()) {
    r.x = crisp::Tensor<float>::empty({l.N, l.C, l.H, l.W});
    r.w = crisp::Tensor<float>::empty(l.weight_shape());
    fill(r.x.data(), r.x.numel(), l.name + "/x");
    fill(r.w.data(), r.w.numel(), l.name + "/w");
    if (mode == Mode::FwdBwd) {
      r.dy = crisp::Tensor<float>::empty({l.N, l.O, l.out_h(), l.out_w()});
      fill(r.dy.data(), r.dy.numel(), l.name + "/dy");
      r.x.requires_grad_(true);
      r.w.requires_grad_(true);
    }
  }
  if (mode == Mode::Fwd) {
    time_rows(
        state, r.warmed, l.flops(), [] {},
        [&] {
          crisp::NoGradGuard no_grad;
          crisp::Tensor<float> y = crisp_run(l, r.x, r.w);
          benchmark::DoNotOptimize(y.data());
        });
    if (have_checksum(l.name, "crisp")) return;
    crisp::NoGradGuard no_grad;
    const crisp::Tensor<float> y = crisp_run(l, r.x, r.w);
    if (!y.is_contiguous() || y.shape() != crisp::Shape{l.N, l.O, l.out_h(), l.out_w()})
      state.SkipWithError("crisp: unexpected output shape or layout");
    else
      record_checksum(l.name, "crisp", y.data(), y.numel());
    return;
  }
  // Dropping the previous gradients (and the graph of the previous call, destroyed with y at the end
  // of the body) is untimed, so every timed call allocates and writes fresh gradients.
  std::vector<crisp::Tensor<float>> keep;  // holds y past the timer; freed in reset()
  time_rows(
      state, r.warmed, 3 * l.flops(),
      [&] {
        keep.clear();
        r.x.set_grad({});
        r.w.set_grad({});
      },
      [&] {
        crisp::Tensor<float> y = crisp_run(l, r.x, r.w);
        y.backward(r.dy);
        keep.push_back(std::move(y));
      });
  if (!r.x.grad().defined() || !r.w.grad().defined()) state.SkipWithError("crisp: backward produced no gradient");
}

// ---- oneDNN ------------------------------------------------------------------------------------
#if defined(CRISP_BENCH_HAVE_DNNL)
using dnnl::memory;
using tag = memory::format_tag;

dnnl::engine& dnnl_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

struct DnnlRow {
  std::string key;
  bool warmed = false;
  dnnl::stream stream{dnnl_engine()};
  dnnl::primitive fwd, bwd_data, bwd_weights;
  std::unordered_map<int, memory> fwd_args, bwd_data_args, bwd_weights_args;
  std::string impl;  // implementation names, for the row label
};
std::unique_ptr<DnnlRow> g_dnnl;

// A memory in the primitive's chosen format `md`, filled from NCHW/OIHW data: the reorder from the
// plain layout happens here, outside the timed region.
memory dnnl_operand(DnnlRow& r, const memory::desc& md, const memory::dims& dims, tag plain, const std::string& salt) {
  memory user({dims, memory::data_type::f32, plain}, dnnl_engine());
  fill(static_cast<float*>(user.get_data_handle()), static_cast<int64_t>(user.get_desc().get_size() / 4), salt);
  if (md == user.get_desc()) return user;
  memory m(md, dnnl_engine());
  dnnl::reorder(user, m).execute(r.stream, user, m);
  r.stream.wait();
  return m;
}

// A memory format as a short string, outer to inner dims then inner blocks: "acdb" = NHWC,
// "abcd16b" = nChw16c, "abcd16b16a" = OIhw16i16o. The chosen formats go in the row label.
std::string dnnl_fmt(const memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  if (d.format_kind != dnnl_blocked) return "?";
  std::string s;
  const auto& b = d.format_desc.blocking;
  std::vector<int> order(d.ndims);
  for (int i = 0; i < d.ndims; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int c) { return b.strides[a] > b.strides[c]; });
  for (int i : order) s += static_cast<char>('a' + i);
  for (int i = 0; i < b.inner_nblks; ++i)
    s += std::to_string(b.inner_blks[i]) + static_cast<char>('a' + b.inner_idxs[i]);
  return s;
}

// F, BD, BW: the forward, backward-data and backward-weights primitives (convolution or deconvolution).
template <class F, class BD, class BW>
void dnnl_setup(DnnlRow& r, const Layer& l, Mode mode, const typename F::primitive_desc& fwd_pd,
                const typename BD::primitive_desc* bd_pd, const typename BW::primitive_desc* bw_pd,
                const memory::dims& src, const memory::dims& wei, const memory::dims& dst, tag wtag) {
  memory x = dnnl_operand(r, fwd_pd.src_desc(), src, tag::nchw, l.name + "/x");
  memory w = dnnl_operand(r, fwd_pd.weights_desc(), wei, wtag, l.name + "/w");
  memory y(fwd_pd.dst_desc(), dnnl_engine());
  r.fwd = F(fwd_pd);
  r.fwd_args = {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}};
  r.impl = std::string(fwd_pd.impl_info_str()) + " src " + dnnl_fmt(fwd_pd.src_desc()) + " wei " +
           dnnl_fmt(fwd_pd.weights_desc()) + " dst " + dnnl_fmt(fwd_pd.dst_desc());
  if (mode == Mode::Fwd) return;
  // Every backward operand is given in the format its primitive prefers (a real training step would
  // reorder where the forward's formats differ: this favours oneDNN).
  memory dy = dnnl_operand(r, bd_pd->diff_dst_desc(), dst, tag::nchw, l.name + "/dy");
  memory w_bd = bd_pd->weights_desc() == fwd_pd.weights_desc()
                    ? w
                    : dnnl_operand(r, bd_pd->weights_desc(), wei, wtag, l.name + "/w");
  memory dx(bd_pd->diff_src_desc(), dnnl_engine());
  r.bwd_data = BD(*bd_pd);
  r.bwd_data_args = {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, w_bd}, {DNNL_ARG_DIFF_SRC, dx}};
  memory x_bw =
      bw_pd->src_desc() == fwd_pd.src_desc() ? x : dnnl_operand(r, bw_pd->src_desc(), src, tag::nchw, l.name + "/x");
  memory dy_bw = bw_pd->diff_dst_desc() == bd_pd->diff_dst_desc()
                     ? dy
                     : dnnl_operand(r, bw_pd->diff_dst_desc(), dst, tag::nchw, l.name + "/dy");
  memory dw(bw_pd->diff_weights_desc(), dnnl_engine());
  r.bwd_weights = BW(*bw_pd);
  r.bwd_weights_args = {{DNNL_ARG_SRC, x_bw}, {DNNL_ARG_DIFF_DST, dy_bw}, {DNNL_ARG_DIFF_WEIGHTS, dw}};
  r.impl += std::string(" | bwd_d ") + bd_pd->impl_info_str() + " | bwd_w " + bw_pd->impl_info_str();
}

void dnnl_create(DnnlRow& r, const Layer& l, Mode mode) {
  const memory::dims src{l.N, l.C, l.H, l.W}, dst{l.N, l.O, l.out_h(), l.out_w()}, wei{l.O, l.C, l.k, l.k};
  const memory::dims strides{l.stride, l.stride}, dil{l.dilation - 1, l.dilation - 1};
  // PyTorch's output_padding adds rows at the bottom/right: oneDNN's right padding shrinks by it.
  const memory::dims pad_l{l.pad, l.pad}, pad_r{l.pad - l.out_pad, l.pad - l.out_pad};
  auto any = [](const memory::dims& d) { return memory::desc(d, memory::data_type::f32, tag::any); };
  const auto prop = mode == Mode::Fwd ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
  auto& e = dnnl_engine();
  if (!l.transposed) {
    using F = dnnl::convolution_forward;
    using BD = dnnl::convolution_backward_data;
    using BW = dnnl::convolution_backward_weights;
    const auto algo = dnnl::algorithm::convolution_direct;
    F::primitive_desc fpd(F::desc(prop, algo, any(src), any(wei), any(dst), strides, dil, pad_l, pad_r), e);
    if (mode == Mode::Fwd) return dnnl_setup<F, BD, BW>(r, l, mode, fpd, nullptr, nullptr, src, wei, dst, tag::oihw);
    BD::primitive_desc bd(BD::desc(algo, any(src), any(wei), any(dst), strides, dil, pad_l, pad_r), e, fpd);
    BW::primitive_desc bw(BW::desc(algo, any(src), any(wei), any(dst), strides, dil, pad_l, pad_r), e, fpd);
    return dnnl_setup<F, BD, BW>(r, l, mode, fpd, &bd, &bw, src, wei, dst, tag::oihw);
  }
  using F = dnnl::deconvolution_forward;
  using BD = dnnl::deconvolution_backward_data;
  using BW = dnnl::deconvolution_backward_weights;
  const auto algo = dnnl::algorithm::deconvolution_direct;
  // oneDNN's deconvolution weights are {out, in, kh, kw}; PyTorch's are {in, out, kh, kw} ("iohw").
  F::primitive_desc fpd(F::desc(prop, algo, any(src), any(wei), any(dst), strides, dil, pad_l, pad_r), e);
  if (mode == Mode::Fwd) return dnnl_setup<F, BD, BW>(r, l, mode, fpd, nullptr, nullptr, src, wei, dst, tag::iohw);
  BD::primitive_desc bd(BD::desc(algo, any(src), any(wei), any(dst), strides, dil, pad_l, pad_r), e, fpd);
  BW::primitive_desc bw(BW::desc(algo, any(src), any(wei), any(dst), strides, dil, pad_l, pad_r), e, fpd);
  dnnl_setup<F, BD, BW>(r, l, mode, fpd, &bd, &bw, src, wei, dst, tag::iohw);
}

void BM_onednn(benchmark::State& state, Layer l, Mode mode) {
  DnnlRow& r = slot(g_dnnl, l.name + mode_name(mode));
  if (!r.fwd) {
    try {
      dnnl_create(r, l, mode);
    } catch (const dnnl::error& e) {
      state.SkipWithError((std::string("oneDNN: ") + e.what()).c_str());
      return;
    }
  }
  state.SetLabel(r.impl);
  const double flops = mode == Mode::Fwd ? l.flops() : 3 * l.flops();
  time_rows(
      state, r.warmed, flops, [] {},
      [&] {
        r.fwd.execute(r.stream, r.fwd_args);
        if (mode == Mode::FwdBwd) {
          r.bwd_data.execute(r.stream, r.bwd_data_args);
          r.bwd_weights.execute(r.stream, r.bwd_weights_args);
        }
        r.stream.wait();
      });
  if (mode == Mode::Fwd && !have_checksum(l.name, "onednn")) {
    const memory& y = r.fwd_args.at(DNNL_ARG_DST);
    memory plain({{l.N, l.O, l.out_h(), l.out_w()}, memory::data_type::f32, tag::nchw}, dnnl_engine());
    dnnl::reorder(y, plain).execute(r.stream, const_cast<memory&>(y), plain);
    r.stream.wait();
    record_checksum(l.name, "onednn", static_cast<float*>(plain.get_data_handle()),
                    static_cast<int64_t>(plain.get_desc().get_size() / 4));
  }
}
#endif

// ---- libtorch (transposed convolutions) ------------------------------------------------------------
#if defined(CRISP_BENCH_HAVE_TORCH)
struct TorchRow {
  std::string key;
  bool warmed = false;
  at::Tensor x, w, dy;
};
std::unique_ptr<TorchRow> g_torch;

at::Tensor torch_operand(at::IntArrayRef shape, const std::string& salt) {
  at::Tensor t = at::empty(shape, at::kFloat);
  fill(t.data_ptr<float>(), t.numel(), salt);
  return t;
}

at::Tensor torch_run(const Layer& l, const at::Tensor& x, const at::Tensor& w) {
  if (l.transposed) return at::conv_transpose2d(x, w, {}, l.stride, l.pad, l.out_pad, 1, l.dilation);
  return at::conv2d(x, w, {}, l.stride, l.pad, l.dilation, 1);
}

void BM_libtorch(benchmark::State& state, Layer l, Mode mode) {
  TorchRow& r = slot(g_torch, l.name + mode_name(mode));
  if (!r.x.defined()) {
    r.x = torch_operand({l.N, l.C, l.H, l.W}, l.name + "/x");
    const auto ws = l.weight_shape();
    r.w = torch_operand({ws[0], ws[1], ws[2], ws[3]}, l.name + "/w");
    if (mode == Mode::FwdBwd) {
      r.dy = torch_operand({l.N, l.O, l.out_h(), l.out_w()}, l.name + "/dy");
      r.x.requires_grad_(true);
      r.w.requires_grad_(true);
    }
  }
  if (mode == Mode::Fwd) {
    time_rows(
        state, r.warmed, l.flops(), [] {},
        [&] {
          at::NoGradGuard no_grad;
          at::Tensor y = torch_run(l, r.x, r.w);
          benchmark::DoNotOptimize(y.data_ptr());
        });
    if (have_checksum(l.name, "libtorch")) return;
    at::NoGradGuard no_grad;
    const at::Tensor y = torch_run(l, r.x, r.w).contiguous();
    record_checksum(l.name, "libtorch", y.data_ptr<float>(), y.numel());
    return;
  }
  std::vector<at::Tensor> keep;
  time_rows(
      state, r.warmed, 3 * l.flops(),
      [&] {
        keep.clear();
        r.x.mutable_grad() = at::Tensor();
        r.w.mutable_grad() = at::Tensor();
      },
      [&] {
        at::Tensor y = torch_run(l, r.x, r.w);
        y.backward(r.dy);
        keep.push_back(std::move(y));
      });
  if (!r.x.grad().defined() || !r.w.grad().defined()) state.SkipWithError("libtorch: backward produced no gradient");
}
#endif

// ---- summary: collect the per-row (median) GFLOP/s as they are reported ---------------------------
std::map<std::string, std::vector<double>> g_results;  // "shape/mode/impl" -> GFLOP/s per report
std::vector<double> g_peaks;

class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal (a custom display reporter ignores --benchmark_color).
  CollectingReporter() : ConsoleReporter(isatty(fileno(stdout)) ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      if (r.error_occurred) continue;
      const auto it = r.counters.find("GFLOPS");
      if (it == r.counters.end()) continue;
      const std::string& name = r.run_name.function_name;
      if (name == "fma_peak")
        g_peaks.push_back(it->second.value);
      else
        g_results[name].push_back(it->second.value);
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

double result(const std::string& layer, Mode m, const char* impl) {
  const auto it = g_results.find(layer + "/" + mode_name(m) + "/" + impl);
  return it == g_results.end() ? 0 : median(it->second);
}

std::string fmt(const char* f, double v, bool ok = true) {
  if (!ok) return "-";
  char b[32];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

void print_summary(const std::vector<Layer>& all) {
  const double peak = g_peaks.empty() ? g_peak_gflops : median(g_peaks);
  std::printf(
      "\nSummary (median GFLOP/s over the reported runs; FP32 FMA peak %.1f GFLOP/s measured, %d threads;"
      " load average now %s)\n",
      peak, g_threads, loadavg().c_str());
  std::printf(
      "c/oDNN = crisp/oneDNN; c/torch = crisp/libtorch; samework = crisp on the conv whose backward-data the"
      " transposed conv is, c/samew = crisp tconv/that; check = forward outputs agree across implementations;\n"
      "bwd c/o = crisp/oneDNN on the backward alone, derived as 2F / (time fwdbwd - time fwd) (noisier)\n");
  const char* row = "%-48s %-6s %8s %8s %7s %7s %7s %8s %7s %9s %7s %6s\n";
  std::printf(row, "shape", "mode", "crisp", "oneDNN", "c/oDNN", "%peak", "bwd c/o", "libtorch", "c/torch", "samework",
              "c/samew", "check");
  // Backward-only GFLOP/s from the fwd and fwdbwd rows (FLOPs F and 3F): 2F / (3F/fwdbwd - F/fwd).
  auto bwd_only = [](double f, double fb) { return f > 0 && fb > 0 && 3 / fb > 1 / f ? 2 / (3 / fb - 1 / f) : 0; };
  std::map<Mode, std::vector<double>> ratios;
  int mismatches = 0;
  for (const Layer& l : all) {
    for (Mode m : {Mode::Fwd, Mode::FwdBwd}) {
      const double c = result(l.name, m, "crisp"), o = result(l.name, m, "onednn"), t = result(l.name, m, "libtorch");
      if (c == 0 && o == 0 && t == 0) continue;
      const double sw = l.transposed ? result(l.same_work, m, "crisp") : 0;
      if (c > 0 && o > 0 && l.in_geomean) ratios[m].push_back(c / o);
      const double spread = m == Mode::Fwd ? checksum_spread(l.name) : -1;
      const bool bad = spread > 1e-3;
      mismatches += bad;
      double bwd = 0;  // crisp/oneDNN on the backward alone
      if (m == Mode::FwdBwd) {
        const double cb = bwd_only(result(l.name, Mode::Fwd, "crisp"), c);
        const double ob = bwd_only(result(l.name, Mode::Fwd, "onednn"), o);
        bwd = cb > 0 && ob > 0 ? cb / ob : 0;
      }
      std::printf(row, l.name.c_str(), mode_name(m), fmt("%.1f", c, c > 0).c_str(), fmt("%.1f", o, o > 0).c_str(),
                  fmt("%.2f", c / o, c > 0 && o > 0).c_str(), fmt("%.1f%%", 100 * c / peak, c > 0 && peak > 0).c_str(),
                  fmt("%.2f", bwd, bwd > 0).c_str(), fmt("%.1f", t, t > 0).c_str(),
                  fmt("%.2f", c / t, c > 0 && t > 0).c_str(), fmt("%.1f", sw, sw > 0).c_str(),
                  fmt("%.2f", c / sw, c > 0 && sw > 0).c_str(),
                  spread < 0 ? "-"
                  : bad      ? "DIFF"
                             : "ok");
    }
  }
  auto geomean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += std::log(x);
    return v.empty() ? 0 : std::exp(s / double(v.size()));
  };
  std::vector<double> both = ratios[Mode::Fwd];
  both.insert(both.end(), ratios[Mode::FwdBwd].begin(), ratios[Mode::FwdBwd].end());
  std::printf(
      "geometric mean of crisp/oneDNN over the issue's shapes (same-work rows excluded): fwd %s (%zu rows),"
      " fwdbwd %s (%zu rows), both %s\n",
      fmt("%.3f", geomean(ratios[Mode::Fwd]), !ratios[Mode::Fwd].empty()).c_str(), ratios[Mode::Fwd].size(),
      fmt("%.3f", geomean(ratios[Mode::FwdBwd]), !ratios[Mode::FwdBwd].empty()).c_str(), ratios[Mode::FwdBwd].size(),
      fmt("%.3f", geomean(both), !both.empty()).c_str());
  if (mismatches)
    std::printf("WARNING: %d layer(s) whose forward outputs differ between implementations (DIFF)\n", mismatches);
}

}  // namespace

int main(int argc, char** argv) {
  if (const char* t = std::getenv("CRISP_BENCH_THREADS")) g_threads = std::max(1, std::atoi(t));
  // CRISP_BENCH_WINOGRAD=0: crisp's 3x3 stride-1 convolutions without the Winograd engine (A/B).
  if (const char* wg = std::getenv("CRISP_BENCH_WINOGRAD")) crisp::cpu::set_conv_winograd(std::atoi(wg) != 0);
  omp_set_num_threads(g_threads);
#if defined(CRISP_BENCH_HAVE_TORCH)
  at::set_num_threads(g_threads);
#endif
  // Minimum measured time per repetition of a row; Google Benchmark searches the iteration count in
  // the first repetition (a large layer stops at one iteration) and reuses it for the others.
  double min_time = 0.4;
  if (const char* s = std::getenv("CRISP_BENCH_CONV_MIN_TIME")) min_time = std::max(0.0, std::atof(s));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  std::printf("crisp conv, threads: %d (OMP_NUM_THREADS=%s), Winograd %s, load average at start: %s\n", g_threads,
              std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "unset",
              crisp::cpu::conv_winograd() ? "on" : "off", loadavg().c_str());
#if defined(CRISP_BENCH_HAVE_DNNL)
  const dnnl_version_t* v = dnnl::version();
  const auto isa = dnnl::get_effective_cpu_isa();
  const char* isa_name = isa == dnnl::cpu_isa::avx512_core_amx    ? "avx512_core_amx"
                         : isa == dnnl::cpu_isa::avx512_core_bf16 ? "avx512_core_bf16"
                         : isa == dnnl::cpu_isa::avx512_core_vnni ? "avx512_core_vnni"
                         : isa == dnnl::cpu_isa::avx512_core      ? "avx512_core"
                         : isa == dnnl::cpu_isa::avx2             ? "avx2"
                                                                  : "other";
  std::printf("oneDNN %d.%d.%d (cpu runtime %s), cpu isa: %s\n", v->major, v->minor, v->patch,
              v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other", isa_name);
#else
  std::printf("oneDNN not found at build time: no oneDNN rows\n");
#endif
#if defined(CRISP_BENCH_HAVE_TORCH)
#if defined(TORCH_VERSION)
  std::printf("libtorch %s, intra-op threads: %d\n", TORCH_VERSION, at::get_num_threads());
#else
  std::printf("libtorch, intra-op threads: %d\n", at::get_num_threads());
#endif
#else
  std::printf("libtorch not found at build time: no libtorch rows\n");
#endif
  g_peak_gflops = measure_peak();
  std::printf("measured FP32 FMA peak (%d threads): %.1f GFLOP/s\n", g_threads, g_peak_gflops);

  benchmark::RegisterBenchmark("fma_peak", BM_fma_peak)->UseManualTime()->Unit(benchmark::kMillisecond);
  const std::vector<Layer> all = layers();
  for (const Layer& l : all) {
    for (Mode m : {Mode::Fwd, Mode::FwdBwd}) {
      const std::string base = l.name + "/" + mode_name(m) + "/";
      auto add = [&](const std::string& impl, auto fn) {
        benchmark::RegisterBenchmark((base + impl).c_str(), fn, l, m)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond)
            ->MinTime(min_time);
      };
      add("crisp", BM_crisp);
#if defined(CRISP_BENCH_HAVE_DNNL)
      add("onednn", BM_onednn);
#endif
#if defined(CRISP_BENCH_HAVE_TORCH)
      if (l.transposed) add("libtorch", BM_libtorch);
#endif
    }
  }

  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  print_summary(all);
  return 0;
}
