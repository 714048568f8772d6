// The implicit-GEMM convolution kernels (kernels/conv2d_implicit_gemm.cu) run by the CUDA
// emulation: fprop / dgrad / wgrad x FP32 / TF32 / BF16 against a double-precision direct
// convolution, plus the bias and channel-sum kernels. Each element must lie within a bound
// scaled by its own sum of |products| and K (the reduced length): operand rounding (TF32 2^-10,
// BF16 2^-7 relative per product) plus FP32 accumulation. A misplaced fragment register, a
// wrong operand map or a lost split-K slice moves elements by O(1) of that sum and fails.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "crisp/backend/cuda/caching_allocator.hpp"
#include "crisp/backend/cuda/native/conv.hpp"
#include "crisp/backend/cuda/runtime_api.hpp"

namespace {

using crisp::cuda::ConvMath;
using crisp::cuda::ConvShape;

ConvShape shape(int N, int C, int H, int W, int O, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                int groups = 1) {
  ConvShape s;
  s.N = N, s.C = C, s.H = H, s.W = W, s.O = O, s.kh = kh, s.kw = kw, s.sh = sh, s.sw = sw, s.ph = ph, s.pw = pw;
  s.dh = dh, s.dw = dw, s.groups = groups;
  s.P = (H + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
  s.Q = (W + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  return s;
}

std::string describe(const ConvShape& s) {
  std::ostringstream os;
  os << "N" << s.N << " C" << s.C << " " << s.H << "x" << s.W << " -> O" << s.O << " " << s.P << "x" << s.Q << " k"
     << s.kh << "x" << s.kw << " s" << s.sh << "," << s.sw << " p" << s.ph << "," << s.pw << " d" << s.dh << ","
     << s.dw << " g" << s.groups;
  return os.str();
}

// The shapes. Every one has M, N and K off the 64 / 64 / 16 tile sizes, so partial tiles, the
// zero fill past K and the store guards all run; P != Q and kh != kw everywhere, so swapping
// two spatial roles (or two fragment registers that cover different rows / k) cannot cancel out.
std::vector<ConvShape> shapes() {
  return {
      // asymmetric stride, padding and dilation; 3x5 kernel; fprop M = 70 (two m-tiles)
      shape(2, 4, 9, 11, 12, 3, 5, 2, 1, 1, 2, 1, 2),
      // groups 2, 2x3 kernel, stride (1, 2), dilation (2, 1)
      shape(1, 6, 8, 7, 10, 2, 3, 1, 2, 0, 1, 2, 1, 2),
      // 1x4 kernel, stride (1, 3): Q much smaller than P; 17 output channels (odd n-tile edge)
      shape(3, 2, 7, 13, 17, 1, 4, 1, 3, 0, 2, 1, 1),
      // 1x1, stride 2, C = 40 (K = 40: three BK slices), O = 70 (two n-tiles)
      shape(1, 40, 5, 6, 70, 1, 1, 2, 2, 0, 0, 1, 1),
  };
}

// An even kernel with "same" padding (stride 1): the launcher gets pad = span / 2 and P = H, the
// odd padding row / column falls past the input's bottom / right edge (crisp::conv2d's rule).
ConvShape even_same() {
  ConvShape s = shape(2, 3, 7, 6, 9, 4, 2, 1, 1, 1, 0, 1, 1);
  s.P = s.H, s.Q = s.W;
  return s;
}

// wgrad's K = N*P*Q = 512 with 4 emulated SMs: the launcher splits K four ways.
ConvShape split_k() { return shape(2, 3, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1); }

std::vector<float> random_vector(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Double-precision direct convolution, all three directions at once, with the sums of |products|
// that bound each element's rounding error.
struct Reference {
  std::vector<double> y, dx, dw, y_abs, dx_abs, dw_abs;
};
Reference reference(const ConvShape& s, const std::vector<float>& x, const std::vector<float>& w,
                    const std::vector<float>& dy) {
  const int Cg = s.C / s.groups, Og = s.O / s.groups;
  Reference r;
  r.y.assign(size_t(s.N) * s.O * s.P * s.Q, 0.0), r.y_abs = r.y;
  r.dx.assign(x.size(), 0.0), r.dx_abs = r.dx;
  r.dw.assign(w.size(), 0.0), r.dw_abs = r.dw;
  for (int n = 0; n < s.N; ++n)
    for (int o = 0; o < s.O; ++o) {
      const int g = o / Og;
      for (int c = 0; c < Cg; ++c)
        for (int i = 0; i < s.kh; ++i)
          for (int j = 0; j < s.kw; ++j) {
            const size_t wi = ((size_t(o) * Cg + c) * s.kh + i) * s.kw + j;
            for (int p = 0; p < s.P; ++p)
              for (int q = 0; q < s.Q; ++q) {
                const int h = p * s.sh - s.ph + i * s.dh, ww = q * s.sw - s.pw + j * s.dw;
                if (h < 0 || h >= s.H || ww < 0 || ww >= s.W) continue;
                const size_t xi = ((size_t(n) * s.C + g * Cg + c) * s.H + h) * s.W + ww;
                const size_t yi = ((size_t(n) * s.O + o) * s.P + p) * s.Q + q;
                r.y[yi] += double(x[xi]) * w[wi], r.y_abs[yi] += std::fabs(double(x[xi]) * w[wi]);
                r.dx[xi] += double(dy[yi]) * w[wi], r.dx_abs[xi] += std::fabs(double(dy[yi]) * w[wi]);
                r.dw[wi] += double(dy[yi]) * x[xi], r.dw_abs[wi] += std::fabs(double(dy[yi]) * x[xi]);
              }
          }
    }
  return r;
}

// Relative error bound per product: operand rounding of the math mode.
double operand_rounding(ConvMath m) {
  switch (m) {
    case ConvMath::FP32: return 0.0;
    case ConvMath::TF32: return std::ldexp(1.0, -10);  // two operands, 2^-11 each (round to nearest)
    case ConvMath::BF16: return std::ldexp(1.0, -7);   // two operands, 2^-8 each
  }
  return 0.0;
}

struct Check {
  double worst_ratio = 0;  // max |got - ref| / bound (must be <= 1)
  double rel_l2 = 0;
  bool all_written = true;
};
// K: the GEMM's reduced length for this direction.
Check check(const std::vector<float>& got, const std::vector<double>& ref, const std::vector<double>& abs_sum,
            ConvMath m, int K) {
  Check c;
  const double per_product = operand_rounding(m) + (K + 16) * std::ldexp(1.0, -24);
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) {
      c.all_written = false;
      continue;
    }
    const double err = std::fabs(double(got[i]) - ref[i]);
    const double bound = per_product * abs_sum[i] + 1e-30;
    c.worst_ratio = std::max(c.worst_ratio, err / bound);
    num += err * err, den += ref[i] * ref[i];
  }
  c.rel_l2 = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  return c;
}

// Emulated device buffers: host memory behind cudaMalloc, poisoned with NaN so that an element
// the kernel never writes fails the check.
struct Buffer {
  explicit Buffer(size_t n) : n(n) {
    REQUIRE(cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(float)) == cudaSuccess);
    for (size_t i = 0; i < n; ++i) p[i] = NAN;
  }
  explicit Buffer(const std::vector<float>& v) : Buffer(v.size()) { std::copy(v.begin(), v.end(), p); }
  ~Buffer() { cudaFree(p); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  std::vector<float> host() const { return std::vector<float>(p, p + n); }
  size_t n;
  float* p = nullptr;
};

struct Directions {
  Check fprop, dgrad, wgrad;
};
// wgrad_only: the split-K shape, whose M = N*P*Q is large for fprop / dgrad (slow to emulate) and
// already covered by the other shapes.
Directions run(const ConvShape& s, ConvMath m, std::mt19937& rng, bool wgrad_only = false) {
  const int Cg = s.C / s.groups, Og = s.O / s.groups, khw = s.kh * s.kw;
  const auto x = random_vector(size_t(s.N) * s.C * s.H * s.W, rng);
  const auto w = random_vector(size_t(s.O) * Cg * khw, rng);
  const auto dy = random_vector(size_t(s.N) * s.O * s.P * s.Q, rng);
  const Reference r = reference(s, x, w, dy);
  Buffer bx(x), bw(w), bdy(dy), y(dy.size()), dx(x.size()), dw(w.size());
  crisp::cuda::native::conv2d_wgrad(s, bx.p, bdy.p, dw.p, m, nullptr);
  Directions d;
  d.wgrad = check(dw.host(), r.dw, r.dw_abs, m, s.N * s.P * s.Q);
  if (wgrad_only) return d;
  crisp::cuda::native::conv2d_fprop(s, bx.p, bw.p, nullptr, y.p, m, nullptr);
  crisp::cuda::native::conv2d_dgrad(s, bdy.p, bw.p, dx.p, m, nullptr);
  d.fprop = check(y.host(), r.y, r.y_abs, m, Cg * khw);
  d.dgrad = check(dx.host(), r.dx, r.dx_abs, m, Og * khw);
  return d;
}

void require_within(const Directions& d, ConvMath m, const ConvShape& s, bool wgrad_only = false) {
  INFO(describe(s) << " math " << crisp::cuda::to_string(m));
  INFO("worst error / bound: fprop " << d.fprop.worst_ratio << " dgrad " << d.dgrad.worst_ratio << " wgrad "
                                     << d.wgrad.worst_ratio);
  INFO("relative L2: fprop " << d.fprop.rel_l2 << " dgrad " << d.dgrad.rel_l2 << " wgrad " << d.wgrad.rel_l2);
  // The documented tolerances of the tensor-core paths (backend/cuda/native/conv.hpp), and a floor showing the
  // rounding really happened (a math mode that is accepted and ignored fails there).
  const double documented = m == ConvMath::FP32 ? 1e-5 : m == ConvMath::TF32 ? 2e-3 : 1.5e-2;
  const double floor = m == ConvMath::FP32 ? -1.0 : m == ConvMath::TF32 ? 1e-5 : 1e-4;
  for (const Check* c : {&d.wgrad, &d.fprop, &d.dgrad}) {
    if (wgrad_only && c != &d.wgrad) break;
    INFO((c == &d.fprop ? "fprop" : c == &d.dgrad ? "dgrad" : "wgrad"));
    CHECK(c->all_written);
    CHECK(c->worst_ratio <= 1.0);
    CHECK(c->rel_l2 <= documented);
    CHECK(c->rel_l2 > floor);
  }
}

const ConvMath kMaths[] = {ConvMath::FP32, ConvMath::TF32, ConvMath::BF16};

}  // namespace

TEST_CASE("emulated implicit-GEMM conv: fprop, dgrad, wgrad x FP32 / TF32 / BF16 on odd shapes", "[cuda-emulated]") {
  std::mt19937 rng(13);
  for (const ConvShape& s : shapes())
    for (ConvMath m : kMaths) require_within(run(s, m, rng), m, s);
}

TEST_CASE("emulated implicit-GEMM conv: even kernel with \"same\" padding", "[cuda-emulated]") {
  std::mt19937 rng(14);
  const ConvShape s = even_same();
  for (ConvMath m : kMaths) require_within(run(s, m, rng), m, s);
}

TEST_CASE("emulated implicit-GEMM conv: split-K wgrad reduces every slice once", "[cuda-emulated]") {
  auto& dev = crisp::cuda::emulation::device_properties();
  const int sms = dev.multiprocessor_count;
  dev.multiprocessor_count = 4;  // one 64x64 tile, K = 512: min(8 / 1, 512 / 128, 64) = 4 splits
  std::mt19937 rng(15);
  const ConvShape s = split_k();
  auto& alloc = crisp::cuda::caching_allocator();
  for (ConvMath m : kMaths) {
    alloc.reset_peak_stats();
    const auto before = alloc.stats();
    require_within(run(s, m, rng, true), m, s, true);
    // The workspace held 4 partial results of dw (8 x 27 floats each): the launcher did split.
    const auto after = alloc.stats();
    CHECK(after.peak_allocated_bytes - before.allocated_bytes ==
          int64_t(crisp::cuda::CachingAllocator::round_size(4 * 8 * 27 * sizeof(float))));
    CHECK(after.allocated_bytes == before.allocated_bytes);  // and gave it back
  }
  dev.multiprocessor_count = sms;
}

TEST_CASE("emulated conv: bias add and channel sum", "[cuda-emulated]") {
  std::mt19937 rng(16);
  const int N = 2, C = 5, HW = 37;
  const auto y0 = random_vector(size_t(N) * C * HW, rng), bias = random_vector(size_t(C), rng);
  Buffer y(y0), b(bias), sums{size_t(C)};
  crisp::cuda::native::add_channel_bias(N, C, HW, b.p, y.p, nullptr);
  const auto got = y.host();
  std::vector<double> expected_sum(size_t(C), 0.0);
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < HW; ++i) {
        const size_t k = (size_t(n) * C + c) * HW + i;
        REQUIRE(got[k] == y0[k] + bias[size_t(c)]);  // one rounding, same as the CPU
        expected_sum[size_t(c)] += got[k];
      }
  crisp::cuda::native::channel_sum(N, C, HW, y.p, sums.p, nullptr);
  const auto s = sums.host();
  for (int c = 0; c < C; ++c) CHECK(std::fabs(s[size_t(c)] - expected_sum[size_t(c)]) <= 1e-5 * (1 + std::fabs(expected_sum[size_t(c)])));
}

TEST_CASE("emulated conv: the launchers reject what the kernels cannot run", "[cuda-emulated]") {
  ConvShape s = shape(1, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 3);  // groups 3 divides neither C nor O
  Buffer x(100), w(200), y(200);
  CHECK_THROWS_WITH(crisp::cuda::native::conv2d_fprop(s, x.p, w.p, nullptr, y.p, ConvMath::FP32, nullptr),
                    Catch::Contains("cuda::conv2d_fprop") && Catch::Contains("groups dividing C and O"));
  auto& dev = crisp::cuda::emulation::device_properties();
  dev.cc_major = 7;  // Volta: no TF32 / BF16 mma.sync
  s.groups = 1;
  CHECK_THROWS_WITH(crisp::cuda::native::conv2d_fprop(s, x.p, w.p, nullptr, y.p, ConvMath::TF32, nullptr),
                    Catch::Contains("compute capability >= 8.0"));
  dev.cc_major = 9;
}
