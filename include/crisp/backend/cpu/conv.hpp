// CPU kernels of 2-d convolution on contiguous NCHW buffers: forward, backward-data (which is also
// the transposed convolution's forward) and backward-weight, plus the per-channel bias helpers.
// Knows nothing of tensors or autograd; crisp/ops/conv.hpp checks the arguments and calls these.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "crisp/backend/conv_math.hpp"
#include "crisp/backend/cpu/conv_batched.hpp"
#include "crisp/backend/cpu/conv_direct.hpp"
#include "crisp/backend/cpu/conv_direct_wgrad.hpp"
#include "crisp/backend/cpu/conv_gemm.hpp"
#include "crisp/backend/cpu/conv_im2col.hpp"
#include "crisp/backend/cpu/conv_winograd.hpp"
#include "crisp/backend/cpu/cpu_features.hpp"
#include "crisp/backend/cpu/gemm.hpp"
#include "crisp/backend/cpu/parallel.hpp"

namespace crisp::cpu {

// y[n][c][:] += bias[c] for y [N, C, HW].
template <class T>
void add_channel_bias(int64_t N, int64_t C, int64_t HW, const T* bias, T* y) {
  parallel_for(0, N * C, std::max<int64_t>(1, 4096 / std::max<int64_t>(HW, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T v = bias[i % C];
      T* p = y + i * HW;
      for (int64_t j = 0; j < HW; ++j) p[j] += v;
    }
  });
}

// out[c] = sum over n and positions of g [N, C, HW], accumulated in double.
template <class T>
void channel_sum(int64_t N, int64_t C, int64_t HW, const T* g, T* out) {
  parallel_for(0, C, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* p = g + (n * C + c) * HW;
        T part = 0;  // short float runs, then double: exact enough and vectorisable
        for (int64_t j = 0; j < HW; ++j) part += p[j];
        s += part;
      }
      out[c] = static_cast<T>(s);
    }
  });
}

namespace detail {

template <class Kern, class T>
void conv2d_forward_with(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  check_geometry(g, "conv2d_forward");
  const int64_t Cg = g.Cg(), Og = g.Og(), K = Cg * g.kh * g.kw, HW = g.H * g.W, PQ = g.P * g.Q;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<Kern, KernelAvx512<T>>) {
    if (g.stride_w == 1) {
      const auto panels = direct_panels<T>(Og, g.Q);
      const HostVector<T> apack = direct_pack_a(panels, g.groups, Og, K, w, K, Og * K);
      direct_conv_run<T>(
          ConvGemmJob{g.N, g.groups, Og, K, g.P, g.Q}, panels, apack, forward_taps(g),
          [&](int64_t n, int64_t gi) {
            return ConvSource<T>{x + (n * g.C + gi * Cg) * HW, g.H, g.W, g.stride_h, 1, g.Q};
          },
          [&](int64_t n, int64_t gi) { return y + (n * g.O + gi * Og) * PQ; },
          [&](int64_t gi) { return bias != nullptr ? bias + gi * Og : nullptr; },
          [](int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, const T*, int64_t) {});
      return;
    }
  }
#endif
  const HostVector<T> apack = pack_conv_weights<Kern>(g.groups, Og, K, w, K, Og * K);
  const std::vector<ConvTap> taps = forward_taps(g);
  const ConvGemmJob job{g.N, g.groups, Og, K, g.P, g.Q};
  conv_gemm_run<Kern, T>(
      job, apack, taps,
      [&](int64_t n, int64_t gi) {
        return ConvSource<T>{x + (n * g.C + gi * Cg) * HW, g.H, g.W, g.stride_h, g.stride_w, g.Q};
      },
      [&](int64_t n, int64_t gi) { return y + (n * g.O + gi * Og) * PQ; },
      [&](int64_t, int64_t gi, int64_t, int64_t cnt, T* tile, int64_t ld) {
        if (bias == nullptr) return;
        for (int64_t m = 0; m < Og; ++m) {
          const T b = bias[gi * Og + m];
          T* r = tile + m * ld;
          for (int64_t j = 0; j < cnt; ++j) r[j] += b;
        }
      });
}

// dx = the adjoint of the forward map applied to dy. Output rows h = ph + s_h * u of one residue
// class (phase) ph mod s_h see only the kernel rows i with (ph + pad_h - i * dil_h) divisible by
// s_h, reading dy row u + (ph + pad_h - i * dil_h) / s_h: a stride-1 convolution of dy with that
// sub-kernel. Splitting into s_h * s_w phases skips the zeros a strided (transposed) convolution
// would otherwise multiply.
template <class Kern, class T>
void conv2d_backward_data_with(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  check_geometry(g, "conv2d_backward_data");
  const int64_t Cg = g.Cg(), Og = g.Og(), HW = g.H * g.W, PQ = g.P * g.Q, khw = g.kh * g.kw;
  auto phase_taps = [](int64_t phase, int64_t pad, int64_t k, int64_t dil, int64_t s) {
    std::vector<std::pair<int64_t, int64_t>> t;  // (kernel index, source offset)
    for (int64_t i = 0; i < k; ++i) {
      const int64_t num = phase + pad - i * dil;
      if (((num % s) + s) % s == 0) t.emplace_back(i, num / s);
    }
    return t;
  };
  for (int64_t ph = 0; ph < g.stride_h; ++ph) {
    for (int64_t pw = 0; pw < g.stride_w; ++pw) {
      const int64_t U = (g.H - ph + g.stride_h - 1) / g.stride_h, V = (g.W - pw + g.stride_w - 1) / g.stride_w;
      if (U <= 0 || V <= 0) continue;
      const auto th = phase_taps(ph, g.pad_h, g.kh, g.dil_h, g.stride_h);
      const auto tw = phase_taps(pw, g.pad_w, g.kw, g.dil_w, g.stride_w);
      const int64_t K = Og * static_cast<int64_t>(th.size() * tw.size());
      std::vector<ConvTap> taps;
      taps.reserve(static_cast<size_t>(K));
      for (int64_t o = 0; o < Og; ++o)
        for (const auto& [i, dh] : th)
          for (const auto& [j, dw] : tw) taps.push_back({o * PQ, dh, dw});
      // A[c][(o, i, j)] = w[o][c][i][j], per group.
      HostVector<T> a(static_cast<size_t>(std::max<int64_t>(1, g.groups * Cg * K)));
      for (int64_t gi = 0; gi < g.groups; ++gi)
        for (int64_t c = 0; c < Cg; ++c) {
          T* row = a.data() + (gi * Cg + c) * K;
          for (int64_t o = 0; o < Og; ++o)
            for (const auto& [i, dh] : th)
              for (const auto& [j, dw] : tw) *row++ = w[((gi * Og + o) * Cg + c) * khw + i * g.kw + j];
        }
      const bool direct = g.stride_h == 1 && g.stride_w == 1;
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<Kern, KernelAvx512<T>>) {
        const auto panels = direct_panels<T>(Cg, V);
        const HostVector<T> dpack = direct_pack_a(panels, g.groups, Cg, K, a.data(), K, Cg * K);
        direct_conv_run<T>(
            ConvGemmJob{g.N, g.groups, Cg, K, U, V}, panels, dpack, taps,
            [&](int64_t n, int64_t gi) { return ConvSource<T>{dy + (n * g.O + gi * Og) * PQ, g.P, g.Q, 1, 1, V}; },
            [&](int64_t n, int64_t gi) { return direct ? dx + (n * g.C + gi * Cg) * HW : nullptr; },
            [](int64_t) { return static_cast<const T*>(nullptr); },
            [&](int64_t n, int64_t gi, int64_t m0, int64_t rows, int64_t u, int64_t v0, int64_t cnt, const T* tile,
                int64_t ld) {
              for (int64_t c = 0; c < rows; ++c) {
                T* d = dx + ((n * g.C + gi * Cg + m0 + c) * g.H + ph + g.stride_h * u) * g.W + pw + g.stride_w * v0;
                const T* r = tile + c * ld;
                for (int64_t j = 0; j < cnt; ++j) d[j * g.stride_w] = r[j];
              }
            });
        continue;
      }
#endif
      const HostVector<T> apack = pack_conv_weights<Kern>(g.groups, Cg, K, a.data(), K, Cg * K);
      const ConvGemmJob job{g.N, g.groups, Cg, K, U, V};
      conv_gemm_run<Kern, T>(
          job, apack, taps,
          [&](int64_t n, int64_t gi) { return ConvSource<T>{dy + (n * g.O + gi * Og) * PQ, g.P, g.Q, 1, 1, V}; },
          [&](int64_t n, int64_t gi) { return direct ? dx + (n * g.C + gi * Cg) * HW : nullptr; },
          [&](int64_t n, int64_t gi, int64_t j0, int64_t cnt, T* tile, int64_t ld) {
            if (direct) return;
            for (int64_t c = 0; c < Cg; ++c) {
              T* base = dx + (n * g.C + gi * Cg + c) * HW;
              const T* r = tile + c * ld;
              int64_t u = j0 / V, v = j0 % V;
              for (int64_t j = 0; j < cnt; ++j) {
                base[(ph + g.stride_h * u) * g.W + pw + g.stride_w * v] = r[j];
                if (++v == V) v = 0, ++u;
              }
            }
          });
    }
  }
}

// dw[o][(c, i, j)] = sum over images and positions of dy[o][pq] * im2col(x)[(c, i, j)][pq]: per
// thread, im2col of a tile of positions then a serial GEMM into that thread's partial dw; the
// partials are summed at the end.
template <class Kern, class T>
void conv2d_backward_weight_with(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, T* dbias) {
  check_geometry(g, "conv2d_backward_weight");
  const int64_t Cg = g.Cg(), Og = g.Og(), K = Cg * g.kh * g.kw, HW = g.H * g.W, PQ = g.P * g.Q;
  // The batched path computes in the default kernel's precision: not under BF16.
  if (std::is_same_v<Kern, DefaultGemmKernel<T>> && conv_batched_pays<T>(g)) {
    conv2d_backward_weight_batched(g, x, dy, dw);
    if (dbias != nullptr) channel_sum(g.N, g.O, PQ, dy, dbias);
    return;
  }
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<Kern, KernelAvx512<T>>) {
    if constexpr (std::is_same_v<T, float>) {
      if (winograd_wgrad_pays(g)) {
        conv2d_backward_weight_winograd(g, x, dy, dw);
        if (dbias != nullptr) channel_sum(g.N, g.O, PQ, dy, dbias);
        return;
      }
    }
    if (g.stride_w == 1 && conv2d_backward_weight_direct_pays<T>(g)) {
      conv2d_backward_weight_direct(g, x, dy, dw);
      if (dbias != nullptr) channel_sum(g.N, g.O, PQ, dy, dbias);
      return;
    }
  }
#endif
  const int64_t wsize = g.O * K;
  const std::vector<ConvTap> taps = forward_taps(g);
  const int nt = std::max(1, max_threads());
  // Tiles of positions: the im2col block (K x cols) about 1 MB, and enough tiles for every thread.
  int64_t cols = std::clamp<int64_t>((int64_t(1) << 18) / K, 64, 1024);
  cols = std::min(cols, std::max<int64_t>(16, (g.N * PQ + 2 * nt - 1) / (2 * nt)));
  cols = std::min(cols, PQ);
  const int64_t tiles = (PQ + cols - 1) / cols, items = g.N * tiles;
  HostVector<T> partial(static_cast<size_t>(nt) * static_cast<size_t>(wsize), T(0));
  parallel_for(0, nt, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      T* part = partial.data() + t * wsize;
      T* col = conv_workspace<T>(static_cast<size_t>(K * cols));
      for (int64_t it = items * t / nt; it < items * (t + 1) / nt; ++it) {
        const int64_t n = it / tiles, j0 = (it % tiles) * cols, cnt = std::min(cols, PQ - j0);
        for (int64_t gi = 0; gi < g.groups; ++gi) {
          const ConvSource<T> src{x + (n * g.C + gi * Cg) * HW, g.H, g.W, g.stride_h, g.stride_w, g.Q};
          im2col_rows(src, taps.data(), K, j0, cnt, col);
          gemm_with<Kern>(false, true, Og, K, cnt, T(1), dy + (n * g.O + gi * Og) * PQ + j0, PQ, col, cnt,
                          T(1), part + gi * Og * K, K);
        }
      }
    }
  });
  parallel_for(0, wsize, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T s = 0;
      for (int t = 0; t < nt; ++t) s += partial[static_cast<size_t>(t * wsize + i)];
      dw[i] = s;
    }
  });
  if (dbias != nullptr) channel_sum(g.N, g.O, PQ, dy, dbias);
}

// Whether this call runs in BF16 (crisp/backend/conv_math.hpp): only float convolutions are
// rounded; TF32 (a CUDA mode) and BF16 without AVX512_BF16 (CPU or build) are refused, never
// quietly run in FP32.
template <class T>
bool conv_runs_bf16(const char* op) {
  const ConvMath m = conv_math();
  CRISP_CHECK(m != ConvMath::TF32, ValueError, op,
              "expected ConvMath::FP32 or BF16 on the CPU, got tf32 (a CUDA tensor-core mode)");
  if (m != ConvMath::BF16 || !std::is_same_v<T, float>) return false;
#if defined(CRISP_HAVE_BF16_KERNEL)
  CRISP_CHECK(cpu_has(kAvx512Bf16), ValueError, op,
              "ConvMath::BF16 needs a CPU with avx512_bf16 (VDPBF16PS) and avx512bw; this CPU has ",
              cpu_features_string(), " (use ConvMath::FP32)");
  return true;
#else
  CRISP_CHECK(false, ValueError, op,
              "ConvMath::BF16 needs crisp compiled for AVX512_BF16 (-march=native on such a CPU, or "
              "-mavx512bf16 -mavx512bw); this build does not target it (the CPU has ",
              cpu_features_string(), "; use ConvMath::FP32)");
  return false;
#endif
}

}  // namespace detail

namespace detail {

// Calls f(std::type_identity<Kern>{}) with the micro-kernel this call runs on: the BF16 one when
// conv_runs_bf16 says so, else the default FP32 one (which alone may take the batched path).
template <class T, class F>
void with_conv_kernel(const char* op, F&& f) {
#if defined(CRISP_HAVE_BF16_KERNEL)
  if constexpr (std::is_same_v<T, float>)
    if (conv_runs_bf16<T>(op)) return f(std::type_identity<KernelAvx512Bf16>{});
#else
  conv_runs_bf16<T>(op);
#endif
  f(std::type_identity<DefaultGemmKernel<T>>{});
}

template <class Kern, class T>
inline constexpr bool is_default_kernel_v = std::is_same_v<Kern, DefaultGemmKernel<T>>;

// Whether this call takes the Winograd engine (conv_winograd.hpp): float, the default FP32
// kernel (not BF16), a geometry where it pays.
template <class Kern, class T>
bool takes_winograd([[maybe_unused]] const Conv2dGeometry& g) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && is_default_kernel_v<Kern, T>) return winograd_pays(g);
#endif
  return false;
}

}  // namespace detail

// y [N, O, P, Q] = conv2d(x [N, C, H, W], w [O, C/groups, kh, kw]) + bias [O] (bias may be null).
template <class T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  detail::with_conv_kernel<T>("conv2d_forward", [&]<class Kern>(std::type_identity<Kern>) {
    check_geometry(g, "conv2d_forward");
    if (detail::is_default_kernel_v<Kern, T> && detail::conv_batched_pays<T>(g))
      return detail::conv2d_forward_batched(g, x, w, bias, y);
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>)
      if (detail::takes_winograd<Kern, T>(g)) return detail::conv2d_forward_winograd(g, x, w, bias, y);
#endif
    detail::conv2d_forward_with<Kern>(g, x, w, bias, y);
  });
}

// dx [N, C, H, W] (overwritten) = gradient of the forward with respect to x, given dy [N, O, P, Q].
template <class T>
void conv2d_backward_data(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  detail::with_conv_kernel<T>("conv2d_backward_data", [&]<class Kern>(std::type_identity<Kern>) {
    check_geometry(g, "conv2d_backward_data");
    if (detail::is_default_kernel_v<Kern, T> && detail::conv_batched_pays<T>(g))
      return detail::conv2d_backward_data_batched(g, dy, w, dx);
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>)
      if (detail::takes_winograd<Kern, T>(detail::winograd_backward_data_view(g)))
        return detail::conv2d_backward_data_winograd(g, dy, w, dx);
#endif
    detail::conv2d_backward_data_with<Kern>(g, dy, w, dx);
  });
}

// dw [O, C/groups, kh, kw] and dbias [O] (nullable) overwritten with the gradients given dy.
template <class T>
void conv2d_backward_weight(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, T* dbias) {
  detail::with_conv_kernel<T>("conv2d_backward_weight", [&]<class Kern>(std::type_identity<Kern>) {
    detail::conv2d_backward_weight_with<Kern>(g, x, dy, dw, dbias);
  });
}

}  // namespace crisp::cpu
