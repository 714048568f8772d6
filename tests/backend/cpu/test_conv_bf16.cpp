// ConvMath::BF16 on the CPU (crisp/backend/cpu/conv.hpp with gemm_kernel_avx512_bf16.hpp):
// forward, backward-data and backward-weight against references in double, the switch and its
// errors. Two bounds per result, both per element (S = sum over the K products of |a| * |b|):
//   * against the double reference of the bf16-rounded operands, only FP32 accumulation is left:
//     |err| <= K * 2^-23 * S — fails if anything other than the operands is rounded, or if the
//     operands are not rounded (that error is ~2^-8 * S, far above the bound for these K);
//   * against the exact double reference: bf16 keeps 8 significant bits (7 stored), so rounding
//     to nearest moves each operand by at most 2^-8 relative and each product by 2^-7 (+ 2^-16):
//     |err| <= (2^-7 + 2^-16 + K * 2^-23) * S.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "crisp/backend/cpu/conv.hpp"

namespace {

using crisp::ConvMath;
using crisp::cpu::ConvMathScope;
using crisp::cpu::Conv2dGeometry;

Conv2dGeometry geom(int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t kh, int64_t kw, int64_t s,
                    int64_t p, int64_t d, int64_t groups) {
  Conv2dGeometry g;
  g.N = N, g.C = C, g.H = H, g.W = W, g.O = O, g.kh = kh, g.kw = kw, g.stride_h = g.stride_w = s;
  g.pad_h = g.pad_w = p, g.dil_h = g.dil_w = d, g.groups = groups;
  g.P = (H + 2 * p - d * (kh - 1) - 1) / s + 1;
  g.Q = (W + 2 * p - d * (kw - 1) - 1) / s + 1;
  return g;
}

std::string describe(const Conv2dGeometry& g) {
  std::ostringstream os;
  os << "N" << g.N << " C" << g.C << " " << g.H << "x" << g.W << " O" << g.O << " k" << g.kh << "x" << g.kw << " s"
     << g.stride_h << " p" << g.pad_h << " d" << g.dil_h << " g" << g.groups;
  return os.str();
}

// y, dx, dw of one convolution in double (x, w, dy given), optionally of |operands| (for S).
struct Ref {
  std::vector<double> y, dx, dw;
};
Ref reference(const Conv2dGeometry& g, const std::vector<float>& x, const std::vector<float>& w,
              const std::vector<float>& dy, bool round, bool absolute) {
  auto v = [&](float f) {
    const double d = round ? double(crisp::cpu::detail::round_to_bf16(f)) : double(f);
    return absolute ? std::abs(d) : d;
  };
  Ref r;
  r.y.assign(dy.size(), 0.0), r.dx.assign(x.size(), 0.0), r.dw.assign(w.size(), 0.0);
  const int64_t Cg = g.Cg(), Og = g.Og();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t p = 0; p < g.P; ++p)
        for (int64_t q = 0; q < g.Q; ++q) {
          const int64_t yi = ((n * g.O + o) * g.P + p) * g.Q + q, gi = o / Og;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t i = 0; i < g.kh; ++i)
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t h = p * g.stride_h - g.pad_h + i * g.dil_h, ww = q * g.stride_w - g.pad_w + j * g.dil_w;
                if (h < 0 || h >= g.H || ww < 0 || ww >= g.W) continue;
                const int64_t xi = ((n * g.C + gi * Cg + c) * g.H + h) * g.W + ww, wi = ((o * Cg + c) * g.kh + i) * g.kw + j;
                r.y[yi] += v(x[xi]) * v(w[wi]);
                r.dx[xi] += v(dy[yi]) * v(w[wi]);
                r.dw[wi] += v(dy[yi]) * v(x[xi]);
              }
        }
  return r;
}

std::vector<float> random_vec(size_t n, std::mt19937_64& rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& e : v) e = d(rng);
  return v;
}

// |got - want| <= rel * s elementwise (+ a denormal-sized floor).
void require_within(const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& s,
                    double rel, const char* what) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(double(got[i]) - want[i]), bound = rel * s[i] + 1e-30;
    worst = std::max(worst, err / bound);
    if (!(err <= bound)) ++bad;
  }
  INFO(what << ": " << bad << " of " << got.size() << " elements out of bound, worst err/bound " << worst);
  CHECK(bad == 0);
}

std::vector<Conv2dGeometry> geometries() {
  return {
      geom(2, 3, 5, 7, 4, 3, 3, 1, 1, 1, 1),     // odd sizes, K = 27 (odd)
      geom(2, 4, 9, 8, 6, 3, 2, 2, 1, 1, 2),     // stride 2, groups 2, K = 12
      geom(1, 6, 11, 10, 6, 3, 3, 3, 2, 1, 6),   // depthwise (K = 9), stride 3
      geom(2, 5, 12, 13, 7, 3, 3, 1, 2, 2, 1),   // dilation 2, K = 45
      geom(1, 3, 17, 15, 16, 5, 5, 2, 2, 1, 1),  // 5x5 stride 2, K = 75
      geom(3, 2, 6, 6, 3, 4, 4, 2, 1, 1, 1),     // 4x4 s2 p1 (its dgrad is a transposed conv)
      geom(1, 16, 20, 35, 33, 1, 1, 1, 0, 1, 1), // 1x1, positions not a multiple of 32 (edge tiles)
      geom(1, 37, 12, 12, 30, 3, 3, 1, 1, 1, 1), // K = 333 > KC = 320, odd (two reduction blocks)
      geom(2, 64, 9, 9, 17, 5, 5, 1, 2, 1, 1),   // K = 1600, M not a multiple of MR
      geom(2, 8, 10, 10, 12, 3, 3, 2, 1, 1, 4),  // groups 4, stride 2
      geom(1, 3, 8, 64, 5, 3, 3, 1, 1, 1, 1),    // rows a multiple of the panel width
      geom(2, 16, 33, 47, 20, 3, 3, 1, 1, 1, 1), // many tiles, N edge tiles on every row
      geom(2, 48, 20, 20, 40, 3, 3, 1, 1, 1, 1), // big enough for the blocked GEMM in wgrad
  };
}

}  // namespace

#if defined(CRISP_HAVE_BF16_KERNEL)

TEST_CASE("bf16 conv: forward, backward-data and backward-weight within the documented tolerance", "[conv][bf16]") {
  if (!crisp::cpu::cpu_has(crisp::cpu::kAvx512Bf16)) {
    WARN("skipped: this CPU has no avx512_bf16");
    return;
  }
  std::mt19937_64 rng(11);
  const ConvMathScope bf16(ConvMath::BF16);
  constexpr double prod = 1.0 / 128 + 1.0 / 65536, acc = 1.0 / (1 << 23);
  for (const Conv2dGeometry& g : geometries()) {
    INFO(describe(g));
    const auto x = random_vec(size_t(g.N * g.C * g.H * g.W), rng), w = random_vec(size_t(g.O * g.Cg() * g.kh * g.kw), rng);
    const auto dy = random_vec(size_t(g.N * g.O * g.P * g.Q), rng);
    std::vector<float> y(dy.size(), -7.f), dx(x.size(), -7.f), dw(w.size(), -7.f);
    crisp::cpu::conv2d_forward<float>(g, x.data(), w.data(), nullptr, y.data());
    crisp::cpu::conv2d_backward_data<float>(g, dy.data(), w.data(), dx.data());
    crisp::cpu::conv2d_backward_weight<float>(g, x.data(), dy.data(), dw.data(), nullptr);
    const Ref exact = reference(g, x, w, dy, false, false), rounded = reference(g, x, w, dy, true, false);
    const Ref s = reference(g, x, w, dy, false, true);
    const double Kf = double(g.Cg() * g.kh * g.kw), Kd = double(g.Og() * g.kh * g.kw), Kw = double(g.N * g.P * g.Q);
    require_within(y, rounded.y, s.y, Kf * acc, "forward vs rounded operands");
    require_within(dx, rounded.dx, s.dx, Kd * acc, "backward-data vs rounded operands");
    require_within(dw, rounded.dw, s.dw, Kw * acc, "backward-weight vs rounded operands");
    require_within(y, exact.y, s.y, prod + Kf * acc, "forward vs exact");
    require_within(dx, exact.dx, s.dx, prod + Kd * acc, "backward-data vs exact");
    require_within(dw, exact.dw, s.dw, prod + Kw * acc, "backward-weight vs exact");
  }
}

TEST_CASE("bf16 conv: bias and bias gradient are added in fp32", "[conv][bf16]") {
  if (!crisp::cpu::cpu_has(crisp::cpu::kAvx512Bf16)) {
    WARN("skipped: this CPU has no avx512_bf16");
    return;
  }
  std::mt19937_64 rng(3);
  const Conv2dGeometry g = geom(2, 5, 9, 9, 6, 3, 3, 1, 1, 1, 1);
  const auto x = random_vec(size_t(g.N * g.C * g.H * g.W), rng), w = random_vec(size_t(g.O * g.Cg() * 9), rng);
  const auto b = random_vec(size_t(g.O), rng), dy = random_vec(size_t(g.N * g.O * g.P * g.Q), rng);
  std::vector<float> y0(dy.size()), y1(dy.size()), dw(w.size()), db(b.size()), db32(b.size()), dw32(w.size());
  {
    const ConvMathScope bf16(ConvMath::BF16);
    crisp::cpu::conv2d_forward<float>(g, x.data(), w.data(), nullptr, y0.data());
    crisp::cpu::conv2d_forward<float>(g, x.data(), w.data(), b.data(), y1.data());
    crisp::cpu::conv2d_backward_weight<float>(g, x.data(), dy.data(), dw.data(), db.data());
  }
  crisp::cpu::conv2d_backward_weight<float>(g, x.data(), dy.data(), dw32.data(), db32.data());
  const int64_t PQ = g.P * g.Q;
  for (int64_t i = 0; i < int64_t(y0.size()); ++i) CHECK(y1[i] == Approx(y0[i] + b[(i / PQ) % g.O]).margin(1e-5));
  for (size_t o = 0; o < db.size(); ++o) CHECK(db[o] == db32[o]);  // the bias gradient is an fp32 sum
}

TEST_CASE("bf16 conv: double convolutions stay exact under ConvMath::BF16", "[conv][bf16]") {
  // Double is the reference / gradcheck type: the switch applies to float only (documented).
  const Conv2dGeometry g = geom(1, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1);
  std::vector<double> x(size_t(g.C * 49)), w(size_t(g.O * g.C * 9)), y32(size_t(g.O * 49)), y16(y32.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(double(i)) / 3;
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::cos(double(i)) / 7;
  crisp::cpu::conv2d_forward<double>(g, x.data(), w.data(), nullptr, y32.data());
  {
    const ConvMathScope bf16(ConvMath::BF16);
    crisp::cpu::HideCpuFeatures none(crisp::cpu::kAvx512Bf16);  // and never asks for the feature
    crisp::cpu::conv2d_forward<double>(g, x.data(), w.data(), nullptr, y16.data());
  }
  CHECK(y16 == y32);
}

#endif  // CRISP_HAVE_BF16_KERNEL

TEST_CASE("bf16 conv: a CPU (or build) without avx512_bf16 is refused with a clear error", "[conv][bf16]") {
  const Conv2dGeometry g = geom(1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1);
  std::vector<float> x(50, 1.f), w(54, 1.f), y(75), dy(75, 1.f), dx(50), dw(54);
  const crisp::cpu::HideCpuFeatures hidden(crisp::cpu::kAvx512Bf16);
  const ConvMathScope bf16(ConvMath::BF16);
  auto message = [](auto f) {
    try {
      f();
    } catch (const crisp::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string fwd = message([&] { crisp::cpu::conv2d_forward<float>(g, x.data(), w.data(), nullptr, y.data()); });
  CHECK_THAT(fwd, Catch::Contains("conv2d_forward") && Catch::Contains("avx512_bf16") &&
                      Catch::Contains("ConvMath::FP32"));
#if defined(CRISP_HAVE_BF16_KERNEL)
  REQUIRE(fwd.find("this CPU has") != std::string::npos);
  CHECK(fwd.substr(fwd.find("this CPU has")).find("avx512_bf16") == std::string::npos);  // hidden
#endif
  CHECK_THAT(message([&] { crisp::cpu::conv2d_backward_data<float>(g, dy.data(), w.data(), dx.data()); }),
             Catch::Contains("conv2d_backward_data") && Catch::Contains("avx512_bf16"));
  CHECK_THAT(message([&] { crisp::cpu::conv2d_backward_weight<float>(g, x.data(), dy.data(), dw.data(), nullptr); }),
             Catch::Contains("conv2d_backward_weight") && Catch::Contains("avx512_bf16"));
}

TEST_CASE("conv math: TF32 is refused on the CPU, the scope restores the previous setting", "[conv][bf16]") {
  REQUIRE(crisp::cpu::conv_math() == ConvMath::FP32);
  const Conv2dGeometry g = geom(1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1);
  std::vector<float> x(50, 1.f), w(54, 1.f), y(75);
  {
    const ConvMathScope tf32(ConvMath::TF32);
    CHECK(crisp::cpu::conv_math() == ConvMath::TF32);
    CHECK_THROWS_WITH(crisp::cpu::conv2d_forward<float>(g, x.data(), w.data(), nullptr, y.data()),
                      Catch::Contains("conv2d_forward") && Catch::Contains("tf32"));
    {
      const ConvMathScope fp32(ConvMath::FP32);
      crisp::cpu::conv2d_forward<float>(g, x.data(), w.data(), nullptr, y.data());
      CHECK(y[12] == 18.f);  // interior: 2 channels x 9 taps
    }
    CHECK(crisp::cpu::conv_math() == ConvMath::TF32);
  }
  CHECK(crisp::cpu::conv_math() == ConvMath::FP32);
  CHECK(std::string(crisp::to_string(ConvMath::BF16)) == "bf16");
}
