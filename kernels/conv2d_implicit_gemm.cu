// 2-d convolution as implicit GEMM (the CUTLASS idea): forward, backward-data and backward-weight
// are ONE tiled GEMM kernel, D[M x N] = A[M x K] . B[K x N], with three operand mappings that
// gather A and B straight from the NCHW tensors (no im2col buffer). conv_transpose2d is the
// backward-data mapping. The inner product runs on FFMA (exact FP32) or, opted into, on tensor
// cores through mma.sync (TF32 m16n8k8, BF16 m16n8k16), accumulating in FP32.
//
//   mapping   M          N           K               A[m,k]                 B[k,n]
//   fprop     N*P*Q      O/g         C/g*kh*kw       x patch (zero pad)     w[o, k]
//   dgrad     N*H*W      C/g         O/g*kh*kw       dy at (h+pad-r)/stride  w[o, c, r, s]
//   wgrad     O/g        C/g*kh*kw   N*P*Q (split)   dy[n, o, p, q]          x patch
//
// CPU reference: crisp's own cpu::conv2d_forward / _backward_data / _backward_weight
// (include/crisp/backend/cpu/conv.hpp); tests/backend/cuda/test_conv_cuda.cpp compares them.
#include "cuda_compat.hpp"

#include <algorithm>
#include <climits>
#include <string>

#include "crisp/backend/cuda/caching_allocator.hpp"
#include "crisp/backend/cuda/native/conv.hpp"

namespace crisp::cuda::native {

// ============================================================================================
// kernels
// ============================================================================================
namespace {

constexpr int BM = 64, BN = 64, BK = 16, kThreads = 256;
constexpr int kPad = 4;  // smem row padding: keeps the column reads of the mma fragments off one bank

// Each mapping: a_row(g, m) / b_col(g, n) do the per-row / per-column index work once per tile;
// a(row, k) / b(col, k) gather one element (0 outside the tensor); store(g, m, n, v) writes D.
struct FpropMap {
  ConvShape s;
  const float* x;
  const float* w;
  const float* bias;
  float* y;
  int PQ, khw, K;
  struct Row { const float* base; int h0, w0; bool ok; };
  struct Col { const float* base; bool ok; };
  __device__ Row a_row(int g, int m, int M) const {
    Row r{x, 0, 0, m < M};
    if (!r.ok) return r;
    const int n = m / PQ, pq = m - n * PQ, p = pq / s.Q, q = pq - p * s.Q;
    r.base = x + (size_t(n) * s.C + size_t(g) * (s.C / s.groups)) * s.H * s.W;
    r.h0 = p * s.sh - s.ph, r.w0 = q * s.sw - s.pw;
    return r;
  }
  __device__ float a(const Row& r, int k) const {
    if (!r.ok) return 0.f;
    const int c = k / khw, rs = k - c * khw, i = rs / s.kw, j = rs - i * s.kw;
    const int h = r.h0 + i * s.dh, ww = r.w0 + j * s.dw;
    if (h < 0 || h >= s.H || ww < 0 || ww >= s.W) return 0.f;
    return __ldg(r.base + (size_t(c) * s.H + h) * s.W + ww);
  }
  __device__ Col b_col(int g, int n, int Nn) const {
    return Col{w + (size_t(g) * (s.O / s.groups) + n) * K, n < Nn};
  }
  __device__ float b(const Col& c, int k) const { return c.ok ? __ldg(c.base + k) : 0.f; }
  __device__ void store(int g, int m, int n, float v) const {
    const int img = m / PQ, pq = m - img * PQ, o = g * (s.O / s.groups) + n;
    y[(size_t(img) * s.O + o) * PQ + pq] = v + (bias ? bias[o] : 0.f);
  }
};

struct DgradMap {
  ConvShape s;
  const float* dy;
  const float* w;
  float* dx;
  int HW, khw, Cg, Og;
  struct Row { const float* base; int h, w; bool ok; };
  struct Col { int c; bool ok; };
  __device__ Row a_row(int g, int m, int M) const {
    Row r{dy, 0, 0, m < M};
    if (!r.ok) return r;
    const int n = m / HW, hw = m - n * HW;
    r.h = hw / s.W + s.ph, r.w = hw - (hw / s.W) * s.W + s.pw;
    r.base = dy + (size_t(n) * s.O + size_t(g) * Og) * s.P * s.Q;
    return r;
  }
  __device__ float a(const Row& r, int k) const {
    if (!r.ok) return 0.f;
    const int o = k / khw, rs = k - o * khw, i = rs / s.kw, j = rs - i * s.kw;
    const int ph = r.h - i * s.dh, pw = r.w - j * s.dw;
    if (ph < 0 || pw < 0 || ph % s.sh || pw % s.sw) return 0.f;
    const int p = ph / s.sh, q = pw / s.sw;
    if (p >= s.P || q >= s.Q) return 0.f;
    return __ldg(r.base + (size_t(o) * s.P + p) * s.Q + q);
  }
  __device__ Col b_col(int /*g*/, int n, int Nn) const { return Col{n, n < Nn}; }
  __device__ float b(const Col& c, int k) const {
    if (!c.ok) return 0.f;
    const int o = k / khw, rs = k - o * khw;
    // g is folded into w by the launcher's per-group pointer (see wg below).
    return __ldg(w + (size_t(o) * Cg + c.c) * khw + rs);
  }
  __device__ void store(int g, int m, int n, float v) const {
    const int img = m / HW, hw = m - img * HW;
    dx[(size_t(img) * s.C + size_t(g) * Cg + n) * HW + hw] = v;
  }
};

struct WgradMap {
  ConvShape s;
  const float* x;
  const float* dy;
  float* dw;  // or the split-K workspace
  int PQ, khw, Cg, Og;
  size_t split_stride;  // elements between two splits' partial results (0: no split)
  struct Row { const float* base; bool ok; };
  struct Col { const float* base; int roff, soff; bool ok; };
  __device__ Row a_row(int g, int m, int M) const { return Row{dy + (size_t(g) * Og + m) * PQ, m < M}; }
  __device__ float a(const Row& r, int k) const {
    if (!r.ok) return 0.f;
    const int n = k / PQ, pq = k - n * PQ;
    return __ldg(r.base + size_t(n) * s.O * PQ + pq);
  }
  __device__ Col b_col(int g, int j, int Nn) const {
    Col c{x, 0, 0, j < Nn};
    if (!c.ok) return c;
    const int ch = j / khw, rs = j - ch * khw, i = rs / s.kw, jj = rs - i * s.kw;
    c.base = x + (size_t(g) * Cg + ch) * s.H * s.W;
    c.roff = i * s.dh - s.ph, c.soff = jj * s.dw - s.pw;
    return c;
  }
  __device__ float b(const Col& c, int k) const {
    if (!c.ok) return 0.f;
    const int n = k / PQ, pq = k - n * PQ, p = pq / s.Q, q = pq - p * s.Q;
    const int h = p * s.sh + c.roff, ww = q * s.sw + c.soff;
    if (h < 0 || h >= s.H || ww < 0 || ww >= s.W) return 0.f;
    return __ldg(c.base + size_t(n) * s.C * s.H * s.W + size_t(h) * s.W + ww);
  }
  __device__ void store(int g, int m, int n, float v) const {
    dw[(size_t(g) * Og + m) * (size_t(Cg) * khw) + n] = v;
  }
};

// One BM x BN tile of D per block, K walked in BK slices through shared memory. blockIdx.z =
// split * groups + group. With `partial`, each split writes its own D slice (reduced later).
template <class Map, ConvMath Math>
__global__ void __launch_bounds__(kThreads) igemm_kernel(Map map, int groups, int M, int Nn, int K, int kchunk,
                                                         size_t split_stride, float* partial) {
  __shared__ float As[BK][BM + kPad];
  __shared__ float Bs[BK][BN + kPad];
  const int g = blockIdx.z % groups, split = blockIdx.z / groups;
  const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
  const int kb = split * kchunk, ke = min(K, kb + kchunk);
  const int t = threadIdx.x;
  // Loader: each thread owns one row of A and one column of B and loads 4 k's of each per slice.
  const int lm = t % BM, lk = t / BM;
  const auto row = map.a_row(g, m0 + lm, M);
  const auto col = map.b_col(g, n0 + lm, Nn);

  constexpr bool kMma = Math != ConvMath::FP32;
  float acc[kMma ? 2 : 4][kMma ? 2 : 4][kMma ? 4 : 1] = {};
  const int lane = t % 32, warp = t / 32, gid = lane / 4, tig = lane % 4;
  const int wm = (warp % 2) * 32, wn = (warp / 2) * 16;  // mma: 8 warps as 2 (m) x 4 (n), 32 x 16 each
  const int tx = t % 16, ty = t / 16;                    // ffma: 16 x 16 threads, 4 x 4 each, strided

  for (int k0 = kb; k0 < ke; k0 += BK) {
#pragma unroll
    for (int i = 0; i < BK / 4; ++i) {
      const int kk = lk + 4 * i, k = k0 + kk;
      As[kk][lm] = k < ke ? map.a(row, k) : 0.f;
      Bs[kk][lm] = k < ke ? map.b(col, k) : 0.f;
    }
    __syncthreads();
    if constexpr (Math == ConvMath::FP32) {
#pragma unroll
      for (int kk = 0; kk < BK; ++kk) {
        float av[4], bv[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) av[i] = As[kk][tx + 16 * i], bv[i] = Bs[kk][ty + 16 * i];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[i][j][0] = fmaf(av[i], bv[j], acc[i][j][0]);
      }
    } else if constexpr (Math == ConvMath::TF32) {
#pragma unroll
      for (int kk = 0; kk < BK; kk += 8) {
        unsigned af[2][4], bf[2][2];
#pragma unroll
        for (int mi = 0; mi < 2; ++mi) {
          const int r = wm + mi * 16 + gid;
          af[mi][0] = cvt_rna_tf32(As[kk + tig][r]);
          af[mi][1] = cvt_rna_tf32(As[kk + tig][r + 8]);
          af[mi][2] = cvt_rna_tf32(As[kk + tig + 4][r]);
          af[mi][3] = cvt_rna_tf32(As[kk + tig + 4][r + 8]);
        }
#pragma unroll
        for (int ni = 0; ni < 2; ++ni) {
          const int c = wn + ni * 8 + gid;
          bf[ni][0] = cvt_rna_tf32(Bs[kk + tig][c]);
          bf[ni][1] = cvt_rna_tf32(Bs[kk + tig + 4][c]);
        }
#pragma unroll
        for (int mi = 0; mi < 2; ++mi)
#pragma unroll
          for (int ni = 0; ni < 2; ++ni) mma_m16n8k8_tf32(acc[mi][ni], af[mi], bf[ni]);
      }
    } else {  // BF16: one m16n8k16 step per BK = 16 slice
      unsigned af[2][4], bf[2][2];
      const int k2 = 2 * tig;
#pragma unroll
      for (int mi = 0; mi < 2; ++mi) {
        const int r = wm + mi * 16 + gid;
        af[mi][0] = pack_bf16x2(As[k2][r], As[k2 + 1][r]);
        af[mi][1] = pack_bf16x2(As[k2][r + 8], As[k2 + 1][r + 8]);
        af[mi][2] = pack_bf16x2(As[k2 + 8][r], As[k2 + 9][r]);
        af[mi][3] = pack_bf16x2(As[k2 + 8][r + 8], As[k2 + 9][r + 8]);
      }
#pragma unroll
      for (int ni = 0; ni < 2; ++ni) {
        const int c = wn + ni * 8 + gid;
        bf[ni][0] = pack_bf16x2(Bs[k2][c], Bs[k2 + 1][c]);
        bf[ni][1] = pack_bf16x2(Bs[k2 + 8][c], Bs[k2 + 9][c]);
      }
#pragma unroll
      for (int mi = 0; mi < 2; ++mi)
#pragma unroll
        for (int ni = 0; ni < 2; ++ni) mma_m16n8k16_bf16(acc[mi][ni], af[mi], bf[ni]);
    }
    __syncthreads();
  }

  auto put = [&](int m, int n, float v) {
    if (m >= M || n >= Nn) return;
    if (partial)
      partial[size_t(split) * split_stride + (size_t(g) * M + m) * Nn + n] = v;
    else
      map.store(g, m, n, v);
  };
  if constexpr (Math == ConvMath::FP32) {
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) put(m0 + tx + 16 * i, n0 + ty + 16 * j, acc[i][j][0]);
  } else {
#pragma unroll
    for (int mi = 0; mi < 2; ++mi)
#pragma unroll
      for (int ni = 0; ni < 2; ++ni) {
        const int m = m0 + wm + mi * 16 + gid, n = n0 + wn + ni * 8 + 2 * tig;
        put(m, n, acc[mi][ni][0]);
        put(m, n + 1, acc[mi][ni][1]);
        put(m + 8, n, acc[mi][ni][2]);
        put(m + 8, n + 1, acc[mi][ni][3]);
      }
  }
}

// dw = sum over splits of the partial results, in split order (deterministic).
__global__ void splitk_reduce_kernel(const float* partial, int splits, size_t n, float* out) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    float s = 0.f;
    for (int k = 0; k < splits; ++k) s += partial[size_t(k) * n + i];
    out[i] = s;
  }
}

__global__ void add_channel_bias_kernel(int C, int HW, size_t total, const float* bias, float* y) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < total; i += size_t(gridDim.x) * blockDim.x)
    y[i] += bias[(i / HW) % C];
}

// One block per channel; a fixed-shape tree reduction, so the sum is deterministic.
__global__ void channel_sum_kernel(int N, int C, int HW, const float* g, float* out) {
  __shared__ float red[256];
  const int c = blockIdx.x;
  float s = 0.f;
  for (int n = 0; n < N; ++n)
    for (int i = threadIdx.x; i < HW; i += blockDim.x) s += g[(size_t(n) * C + c) * HW + i];
  red[threadIdx.x] = s;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) red[threadIdx.x] += red[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[c] = red[0];
}

}  // namespace

// ============================================================================================
// launchers
// ============================================================================================
namespace {

void check_shape(const ConvShape& s, const char* op) {
  auto fits = [](double v) { return v < double(INT_MAX); };
  CRISP_CHECK(s.N > 0 && s.C > 0 && s.H > 0 && s.W > 0 && s.O > 0 && s.kh > 0 && s.kw > 0 && s.P > 0 && s.Q > 0 &&
                  s.sh > 0 && s.sw > 0 && s.dh > 0 && s.dw > 0 && s.ph >= 0 && s.pw >= 0 && s.groups > 0 &&
                  s.C % s.groups == 0 && s.O % s.groups == 0,
              ValueError, op, "expected positive extents and groups dividing C and O, got N=", s.N, " C=", s.C,
              " H=", s.H, " W=", s.W, " O=", s.O, " k=", s.kh, "x", s.kw, " groups=", s.groups);
  CRISP_CHECK(fits(double(s.N) * s.C * s.H * s.W) && fits(double(s.N) * s.O * s.P * s.Q) &&
                  fits(double(s.O) * s.C * s.kh * s.kw),
              ValueError, op, "expected every tensor under 2^31 elements (the kernels index in int32), got N=", s.N,
              " C=", s.C, " H=", s.H, " W=", s.W, " O=", s.O, " P=", s.P, " Q=", s.Q);
}

int sm_count() {
  int dev = 0, n = 0;
  CRISP_CUDA_CHECK(cudaGetDevice(&dev));
  CRISP_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
  return n;
}

void check_math(ConvMath math, const char* op) {
  if (math == ConvMath::FP32) return;
  int dev = 0, major = 0;
  CRISP_CUDA_CHECK(cudaGetDevice(&dev));
  CRISP_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  CRISP_CHECK(major >= 8, ValueError, op, "expected a device of compute capability >= 8.0 for ", to_string(math),
              " tensor-core math, got ", major, ".x (use ConvMath::FP32)");
}

template <class Map>
void run_igemm(const Map& map, int groups, int M, int Nn, int K, int splits, size_t split_stride, float* partial,
               ConvMath math, cudaStream_t stream, const char* name) {
  const int kchunk = (K + splits - 1) / splits;
  const int kchunk_aligned = (kchunk + BK - 1) / BK * BK;
  const dim3 grid((M + BM - 1) / BM, (Nn + BN - 1) / BN, groups * splits);
  CRISP_CHECK(grid.y <= 65535 && grid.z <= 65535, ValueError, name, "GEMM of ", M, "x", Nn, " (", groups,
              " groups, ", splits, " splits) exceeds the launch grid");
  auto kernel = igemm_kernel<Map, ConvMath::FP32>;
  if (math == ConvMath::TF32) kernel = igemm_kernel<Map, ConvMath::TF32>;
  if (math == ConvMath::BF16) kernel = igemm_kernel<Map, ConvMath::BF16>;
  const std::string kernel_name = ::crisp::detail::str_cat("igemm_kernel<", to_string(math), "> of ", name);
  launch(kernel_name.c_str(), kernel, grid, kThreads, 0, stream, map, groups, M, Nn, K, kchunk_aligned, split_stride,
         partial);
}

}  // namespace

void conv2d_fprop(const ConvShape& s, const float* x, const float* w, const float* bias, float* y, ConvMath math,
                  cudaStream_t stream) {
  check_shape(s, "cuda::conv2d_fprop");
  check_math(math, "cuda::conv2d_fprop");
  FpropMap map{s, x, w, bias, y, s.P * s.Q, s.kh * s.kw, (s.C / s.groups) * s.kh * s.kw};
  run_igemm(map, s.groups, s.N * s.P * s.Q, s.O / s.groups, map.K, 1, 0, nullptr, math, stream, "cuda::conv2d_fprop");
}

void conv2d_dgrad(const ConvShape& s, const float* dy, const float* w, float* dx, ConvMath math, cudaStream_t stream) {
  check_shape(s, "cuda::conv2d_dgrad");
  check_math(math, "cuda::conv2d_dgrad");
  const int Cg = s.C / s.groups, Og = s.O / s.groups, khw = s.kh * s.kw;
  // One launch per group keeps B's indexing free of the group (groups are rare: 1 in every paper net).
  for (int g = 0; g < s.groups; ++g) {
    DgradMap map{s, dy, w + size_t(g) * Og * Cg * khw, dx, s.H * s.W, khw, Cg, Og};
    // the map's group offsets for dy / dx come from blockIdx.z; run with groups = 1 and shift them here
    DgradMap gmap = map;
    gmap.dy = dy + size_t(g) * Og * s.P * s.Q;
    gmap.dx = dx + size_t(g) * Cg * s.H * s.W;
    run_igemm(gmap, 1, s.N * s.H * s.W, Cg, Og * khw, 1, 0, nullptr, math, stream, "cuda::conv2d_dgrad");
  }
}

void conv2d_wgrad(const ConvShape& s, const float* x, const float* dy, float* dw, ConvMath math, cudaStream_t stream) {
  check_shape(s, "cuda::conv2d_wgrad");
  check_math(math, "cuda::conv2d_wgrad");
  const int Cg = s.C / s.groups, Og = s.O / s.groups, khw = s.kh * s.kw;
  const int M = Og, Nn = Cg * khw, K = s.N * s.P * s.Q;
  WgradMap map{s, x, dy, dw, s.P * s.Q, khw, Cg, Og, 0};
  // Split K (= N*P*Q, often 10^5+) until the grid fills the device twice over, keeping at least
  // 8 slices of work per split.
  const int blocks = ((M + BM - 1) / BM) * ((Nn + BN - 1) / BN) * s.groups;
  int splits = std::max(1, std::min({(2 * sm_count() + blocks - 1) / blocks, K / (8 * BK), 64}));
  if (splits == 1) {
    run_igemm(map, s.groups, M, Nn, K, 1, 0, nullptr, math, stream, "cuda::conv2d_wgrad");
    return;
  }
  const size_t n = size_t(s.groups) * M * Nn;
  float* partial = static_cast<float*>(caching_allocator().allocate(n * splits * sizeof(float), current_device(), stream));
  try {
    run_igemm(map, s.groups, M, Nn, K, splits, n, partial, math, stream, "cuda::conv2d_wgrad");
    const int threads = 256, grid = int(std::min<size_t>((n + threads - 1) / threads, 4096));
    launch("splitk_reduce_kernel", splitk_reduce_kernel, grid, threads, 0, stream, partial, splits, n, dw);
  } catch (...) {
    caching_allocator().deallocate(partial);
    throw;
  }
  caching_allocator().deallocate(partial);  // stream-ordered: reused only after this stream's work
}

void add_channel_bias(int N, int C, int HW, const float* bias, float* y, cudaStream_t stream) {
  const size_t total = size_t(N) * C * HW;
  if (total == 0) return;
  const int threads = 256, grid = int(std::min<size_t>((total + threads - 1) / threads, 65535));
  launch("add_channel_bias_kernel", add_channel_bias_kernel, grid, threads, 0, stream, C, HW, total, bias, y);
}

void channel_sum(int N, int C, int HW, const float* g, float* out, cudaStream_t stream) {
  if (C == 0) return;
  launch("channel_sum_kernel", channel_sum_kernel, C, 256, 0, stream, N, C, HW, g, out);
}

}  // namespace crisp::cuda::native
