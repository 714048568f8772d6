// Tests for the CPU convolution kernels (crisp/backend/cpu/conv.hpp) against a direct 7-loop
// reference accumulated in double, over many geometries, for every GEMM micro-kernel the target has.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "crisp/backend/cpu/conv.hpp"

namespace {

using crisp::cpu::Conv2dGeometry;

// Forward with double accumulation; also the adjoint relations give backward-data / -weight.
template <class T>
std::vector<double> ref_forward(const Conv2dGeometry& g, const std::vector<T>& x, const std::vector<T>& w,
                                const std::vector<T>* bias) {
  std::vector<double> y(static_cast<size_t>(g.N * g.O * g.P * g.Q));
  const int64_t Cg = g.Cg(), Og = g.Og();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t p = 0; p < g.P; ++p)
        for (int64_t q = 0; q < g.Q; ++q) {
          double s = bias ? double((*bias)[o]) : 0.0;
          const int64_t gi = o / Og;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t i = 0; i < g.kh; ++i)
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t h = p * g.stride_h - g.pad_h + i * g.dil_h, ww = q * g.stride_w - g.pad_w + j * g.dil_w;
                if (h < 0 || h >= g.H || ww < 0 || ww >= g.W) continue;
                s += double(x[((n * g.C + gi * Cg + c) * g.H + h) * g.W + ww]) *
                     double(w[((o * Cg + c) * g.kh + i) * g.kw + j]);
              }
          y[((n * g.O + o) * g.P + p) * g.Q + q] = s;
        }
  return y;
}

template <class T>
void ref_backward(const Conv2dGeometry& g, const std::vector<T>& x, const std::vector<T>& w, const std::vector<T>& dy,
                  std::vector<double>& dx, std::vector<double>& dw, std::vector<double>& db) {
  dx.assign(x.size(), 0.0);
  dw.assign(w.size(), 0.0);
  db.assign(static_cast<size_t>(g.O), 0.0);
  const int64_t Cg = g.Cg(), Og = g.Og();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t p = 0; p < g.P; ++p)
        for (int64_t q = 0; q < g.Q; ++q) {
          const double d = dy[((n * g.O + o) * g.P + p) * g.Q + q];
          db[o] += d;
          const int64_t gi = o / Og;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t i = 0; i < g.kh; ++i)
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t h = p * g.stride_h - g.pad_h + i * g.dil_h, ww = q * g.stride_w - g.pad_w + j * g.dil_w;
                if (h < 0 || h >= g.H || ww < 0 || ww >= g.W) continue;
                const int64_t xi = ((n * g.C + gi * Cg + c) * g.H + h) * g.W + ww;
                const int64_t wi = ((o * Cg + c) * g.kh + i) * g.kw + j;
                dx[xi] += d * double(w[wi]);
                dw[wi] += d * double(x[xi]);
              }
        }
}

template <class T>
std::vector<T> random_vec(size_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> v(n);
  for (auto& e : v) e = static_cast<T>(u(rng));
  return v;
}

// |got - want| <= tol * (1 + scale), scale = the largest |want|.
template <class T>
void require_close(const std::vector<T>& got, const std::vector<double>& want, double tol, const std::string& what) {
  REQUIRE(got.size() == want.size());
  double scale = 0, worst = 0;
  size_t at = 0;
  for (double v : want) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(double(got[i]) - want[i]);
    if (!(err <= worst)) worst = err, at = i;
  }
  INFO(what << ": worst element " << at << " got " << (got.empty() ? 0 : got[at]) << " want "
            << (want.empty() ? 0 : want[at]) << " (scale " << scale << ")");
  REQUIRE(worst <= tol * (1 + scale));
}

std::string describe(const Conv2dGeometry& g) {
  std::ostringstream s;
  s << "N" << g.N << " C" << g.C << " " << g.H << "x" << g.W << " O" << g.O << " k" << g.kh << "x" << g.kw << " s"
    << g.stride_h << "," << g.stride_w << " p" << g.pad_h << "," << g.pad_w << " d" << g.dil_h << "," << g.dil_w << " g"
    << g.groups << " -> " << g.P << "x" << g.Q;
  return s.str();
}

// Geometry with PyTorch's output size for symmetric padding, plus optional extra bottom/right rows.
Conv2dGeometry geom(int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t kh, int64_t kw, int64_t s, int64_t p,
                    int64_t d, int64_t groups, int64_t sw = 0, int64_t pw = -1, int64_t dw = 0) {
  Conv2dGeometry g;
  g.N = N, g.C = C, g.H = H, g.W = W, g.O = O, g.kh = kh, g.kw = kw, g.groups = groups;
  g.stride_h = s, g.stride_w = sw ? sw : s, g.pad_h = p, g.pad_w = pw >= 0 ? pw : p, g.dil_h = d, g.dil_w = dw ? dw : d;
  g.P = (H + 2 * g.pad_h - g.dil_h * (kh - 1) - 1) / g.stride_h + 1;
  g.Q = (W + 2 * g.pad_w - g.dil_w * (kw - 1) - 1) / g.stride_w + 1;
  return g;
}

std::vector<Conv2dGeometry> geometries() {
  std::vector<Conv2dGeometry> gs = {
      geom(1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1),         // 1x1 everything
      geom(2, 3, 5, 7, 4, 3, 3, 1, 1, 1, 1),         // odd sizes, "same"-like
      geom(1, 3, 1, 1, 5, 3, 3, 1, 1, 1, 1),         // 1x1 image, padded
      geom(2, 4, 9, 8, 6, 3, 2, 2, 1, 1, 2),         // stride 2, groups 2, rectangular kernel
      geom(1, 6, 11, 10, 6, 3, 3, 3, 2, 1, 6),       // depthwise, stride 3, large padding
      geom(2, 5, 12, 13, 7, 3, 3, 1, 2, 2, 1),       // dilation 2
      geom(1, 3, 17, 15, 16, 5, 5, 2, 2, 1, 1),      // 5x5 stride 2
      geom(3, 2, 6, 6, 3, 4, 4, 2, 1, 1, 1),         // 4x4 s2 p1 (discriminator / transposed)
      geom(1, 2, 7, 9, 3, 3, 3, 1, 2, 1, 1, 2, 0, 3),  // anisotropic stride / padding / dilation
      geom(1, 16, 20, 35, 33, 1, 1, 1, 0, 1, 1),     // 1x1 conv, rows not a multiple of the panel
      geom(2, 3, 40, 37, 20, 7, 7, 1, 3, 1, 1),      // 7x7, many positions, crosses panel rows
      geom(1, 40, 12, 12, 30, 3, 3, 1, 1, 1, 1),     // K > KC (several reduction blocks)
      geom(1, 64, 9, 9, 17, 5, 5, 1, 2, 1, 1),       // K = 1600, M not a multiple of MR
      geom(2, 8, 10, 10, 12, 3, 3, 2, 1, 1, 4),      // groups 4, stride 2
      geom(1, 2, 5, 5, 2, 5, 5, 1, 4, 1, 1),         // padding as large as the kernel allows
      geom(1, 3, 8, 8, 3, 3, 3, 3, 0, 1, 1),         // stride 3 > kernel-dilation span coverage
      geom(1, 2, 9, 9, 3, 2, 2, 3, 0, 1, 1),         // stride > kernel: some input never read
      geom(2, 2, 13, 11, 3, 3, 3, 2, 3, 3, 1),       // stride 2 with dilation 3
      geom(1, 3, 8, 64, 5, 3, 3, 1, 1, 1, 1),        // rows a multiple of the panel width (row-wise packing)
      geom(1, 2, 6, 64, 3, 3, 3, 1, 2, 2, 1),        // the same, dilated
      geom(2, 3, 2, 100, 4, 3, 3, 1, 1, 1, 1),       // panels within a row and across rows
  };
  // "same" with an even kernel: odd total padding, extra at the bottom / right (P = H).
  Conv2dGeometry same = geom(1, 3, 7, 6, 2, 4, 2, 1, 1, 1, 1);
  same.P = 7, same.Q = 6, same.pad_h = 1, same.pad_w = 0;
  gs.push_back(same);
  // Output smaller than PyTorch's formula (a transposed conv's output_padding seen from the conv).
  Conv2dGeometry cut = geom(1, 2, 9, 9, 3, 3, 3, 2, 1, 1, 1);
  cut.P -= 1;
  gs.push_back(cut);
  return gs;
}

template <class T, class Fwd, class Bwd>
void check_all(Fwd forward, Bwd backward_data, double tol) {
  std::mt19937_64 rng(7);
  for (const Conv2dGeometry& g : geometries()) {
    INFO(describe(g));
    const auto x = random_vec<T>(static_cast<size_t>(g.N * g.C * g.H * g.W), rng);
    const auto w = random_vec<T>(static_cast<size_t>(g.O * g.Cg() * g.kh * g.kw), rng);
    const auto b = random_vec<T>(static_cast<size_t>(g.O), rng);
    const auto dy = random_vec<T>(static_cast<size_t>(g.N * g.O * g.P * g.Q), rng);
    std::vector<T> y(dy.size(), T(-7)), dx(x.size(), T(-7)), dw(w.size(), T(-7)), db(b.size(), T(-7));
    forward(g, x.data(), w.data(), b.data(), y.data());
    require_close(y, ref_forward(g, x, w, &b), tol, "forward");
    forward(g, x.data(), w.data(), static_cast<const T*>(nullptr), y.data());
    require_close(y, ref_forward<T>(g, x, w, nullptr), tol, "forward without bias");
    std::vector<double> rdx, rdw, rdb;
    ref_backward(g, x, w, dy, rdx, rdw, rdb);
    backward_data(g, dy.data(), w.data(), dx.data());
    require_close(dx, rdx, tol, "backward data");
    crisp::cpu::conv2d_backward_weight(g, x.data(), dy.data(), dw.data(), db.data());
    require_close(dw, rdw, tol, "backward weight");
    require_close(db, rdb, tol, "backward bias");
    // The batched small-map path (conv_batched.hpp) is valid on every geometry; the public entry
    // points pick it only for small output maps.
    std::fill(y.begin(), y.end(), T(-7));
    crisp::cpu::detail::conv2d_forward_batched(g, x.data(), w.data(), b.data(), y.data());
    require_close(y, ref_forward(g, x, w, &b), tol, "forward (batched)");
    std::fill(dx.begin(), dx.end(), T(-7));
    crisp::cpu::detail::conv2d_backward_data_batched(g, dy.data(), w.data(), dx.data());
    require_close(dx, rdx, tol, "backward data (batched)");
    std::fill(dw.begin(), dw.end(), T(-7));
    crisp::cpu::detail::conv2d_backward_weight_batched(g, x.data(), dy.data(), dw.data());
    require_close(dw, rdw, tol, "backward weight (batched)");
#if defined(__AVX512F__)
    // The direct backward-weight is only picked for wide images; check it on every geometry it can take.
    if (g.stride_w == 1) {
      std::fill(dw.begin(), dw.end(), T(-7));
      crisp::cpu::detail::conv2d_backward_weight_direct(g, x.data(), dy.data(), dw.data());
      require_close(dw, rdw, tol, "backward weight (direct)");
    }
#endif
  }
}

template <class T, class F>
void for_each_kernel(F&& f) {
  f.template operator()<crisp::cpu::detail::KernelGeneric<T>>();
#if defined(__AVX2__) && defined(__FMA__)
  f.template operator()<crisp::cpu::detail::KernelAvx2<T>>();
#endif
#if defined(__AVX512F__)
  f.template operator()<crisp::cpu::detail::KernelAvx512<T>>();
#endif
}

}  // namespace

TEMPLATE_TEST_CASE("conv kernels match the direct reference", "[conv]", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-12;
  for_each_kernel<T>([&]<class Kern>() {
    INFO("micro-kernel " << Kern::name);
    check_all<T>([](auto&&... a) { crisp::cpu::detail::conv2d_forward_with<Kern, T>(a...); },
                 [](auto&&... a) { crisp::cpu::detail::conv2d_backward_data_with<Kern, T>(a...); }, tol);
  });
}

TEST_CASE("conv kernels: public entry points and a larger layer", "[conv]") {
  // 64 -> 64 5x5 at 24x24, batch 3: several tiles per image, several reduction blocks.
  const Conv2dGeometry g = geom(3, 64, 24, 24, 64, 5, 5, 1, 2, 1, 1);
  std::mt19937_64 rng(3);
  const auto x = random_vec<float>(static_cast<size_t>(g.N * g.C * g.H * g.W), rng);
  const auto w = random_vec<float>(static_cast<size_t>(g.O * g.Cg() * 25), rng);
  const auto dy = random_vec<float>(static_cast<size_t>(g.N * g.O * g.P * g.Q), rng);
  std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
  crisp::cpu::conv2d_forward(g, x.data(), w.data(), static_cast<const float*>(nullptr), y.data());
  require_close(y, ref_forward<float>(g, x, w, nullptr), 2e-5, "forward");
  std::vector<double> rdx, rdw, rdb;
  ref_backward(g, x, w, dy, rdx, rdw, rdb);
  crisp::cpu::conv2d_backward_data(g, dy.data(), w.data(), dx.data());
  require_close(dx, rdx, 2e-5, "backward data");
  crisp::cpu::conv2d_backward_weight(g, x.data(), dy.data(), dw.data(), static_cast<float*>(nullptr));
  require_close(dw, rdw, 2e-5, "backward weight");
}

TEST_CASE("conv kernels: small output maps take the batched GEMM through the public entry points", "[conv]") {
  // DCGAN discriminator's 512 -> 1024 4x4 stride 2 layer at 8 x 8 (4 x 4 out), batch 3, and
  // VGG's 3x3 at 8 x 8 with groups: both within conv_batched_pays.
  for (const Conv2dGeometry& g : {geom(3, 32, 8, 8, 48, 4, 4, 2, 1, 1, 1), geom(2, 16, 8, 8, 24, 3, 3, 1, 1, 1, 2)}) {
    INFO(describe(g));
    REQUIRE(crisp::cpu::detail::conv_batched_pays<float>(g));
    std::mt19937_64 rng(5);
    const auto x = random_vec<float>(static_cast<size_t>(g.N * g.C * g.H * g.W), rng);
    const auto w = random_vec<float>(static_cast<size_t>(g.O * g.Cg() * g.kh * g.kw), rng);
    const auto b = random_vec<float>(static_cast<size_t>(g.O), rng);
    const auto dy = random_vec<float>(static_cast<size_t>(g.N * g.O * g.P * g.Q), rng);
    std::vector<float> y(dy.size()), dx(x.size()), dw(w.size()), db(b.size());
    crisp::cpu::conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
    require_close(y, ref_forward(g, x, w, &b), 2e-5, "forward");
    std::vector<double> rdx, rdw, rdb;
    ref_backward(g, x, w, dy, rdx, rdw, rdb);
    crisp::cpu::conv2d_backward_data(g, dy.data(), w.data(), dx.data());
    require_close(dx, rdx, 2e-5, "backward data");
    crisp::cpu::conv2d_backward_weight(g, x.data(), dy.data(), dw.data(), db.data());
    require_close(dw, rdw, 2e-5, "backward weight");
    require_close(db, rdb, 2e-5, "backward bias");
  }
}

TEST_CASE("conv kernels reject impossible geometries", "[conv]") {
  Conv2dGeometry g = geom(1, 4, 5, 5, 4, 3, 3, 1, 1, 1, 1);
  std::vector<float> buf(1000);
  g.groups = 3;
  REQUIRE_THROWS_AS(crisp::cpu::conv2d_forward(g, buf.data(), buf.data(), static_cast<const float*>(nullptr),
                                               buf.data()),
                    crisp::ValueError);
  g.groups = 1, g.stride_h = 0;
  REQUIRE_THROWS_AS(crisp::cpu::conv2d_backward_data(g, buf.data(), buf.data(), buf.data()), crisp::ValueError);
}

#if defined(__AVX512F__)
TEST_CASE("conv kernels: the Winograd F(2x2,3x3) engine matches the double reference", "[conv][winograd]") {
  // Odd and even maps (partial tiles at the bottom and right), one and several 16-tile chunks per
  // tile row, paddings 0..2, channel counts off the panel and vector sizes, a map smaller than the
  // padding formula (a transposed conv's output_padding seen from the conv), batch 1 and 3.
  std::vector<Conv2dGeometry> gs = {
      geom(2, 16, 24, 24, 16, 3, 3, 1, 1, 1, 1),  geom(1, 17, 9, 11, 19, 3, 3, 1, 1, 1, 1),
      geom(3, 20, 13, 12, 33, 3, 3, 1, 0, 1, 1),  geom(1, 24, 10, 70, 18, 3, 3, 1, 2, 1, 1),
      geom(1, 16, 40, 37, 29, 3, 3, 1, 1, 1, 1),  geom(2, 64, 12, 12, 64, 3, 3, 1, 1, 1, 1),
      geom(3, 24, 30, 28, 20, 3, 3, 1, 1, 1, 1),  // backward-weight through the public entry point too
      geom(1, 18, 9, 11, 16, 3, 3, 1, 1, 1, 1, 1, 0),  // pad_h 1, pad_w 0
  };
  Conv2dGeometry cut = geom(1, 16, 12, 11, 16, 3, 3, 1, 1, 1, 1);
  cut.P -= 1, cut.Q -= 1;
  gs.push_back(cut);
  std::mt19937_64 rng(11);
  for (const Conv2dGeometry& g : gs) {
    INFO(describe(g));
    REQUIRE(crisp::cpu::detail::winograd_pays(g));
    const auto x = random_vec<float>(static_cast<size_t>(g.N * g.C * g.H * g.W), rng);
    const auto w = random_vec<float>(static_cast<size_t>(g.O * g.C * 9), rng);
    const auto b = random_vec<float>(static_cast<size_t>(g.O), rng);
    const auto dy = random_vec<float>(static_cast<size_t>(g.N * g.O * g.P * g.Q), rng);
    std::vector<float> y(dy.size(), -7.f), dx(x.size(), -7.f);
    crisp::cpu::detail::conv2d_forward_winograd(g, x.data(), w.data(), b.data(), y.data());
    require_close(y, ref_forward(g, x, w, &b), 2e-5, "forward (Winograd)");
    crisp::cpu::detail::conv2d_forward_winograd(g, x.data(), w.data(), nullptr, y.data());
    require_close(y, ref_forward<float>(g, x, w, nullptr), 2e-5, "forward without bias (Winograd)");
    std::vector<double> rdx, rdw, rdb;
    ref_backward(g, x, w, dy, rdx, rdw, rdb);
    crisp::cpu::detail::conv2d_backward_data_winograd(g, dy.data(), w.data(), dx.data());
    require_close(dx, rdx, 2e-5, "backward data (Winograd)");
    std::vector<float> dw(w.size(), -7.f), db(b.size(), -7.f);
    crisp::cpu::detail::conv2d_backward_weight_winograd(g, x.data(), dy.data(), dw.data());
    require_close(dw, rdw, 2e-5, "backward weight (Winograd)");
    // The public entry points take it (the view of backward-data as a forward pays too).
    REQUIRE(crisp::cpu::detail::winograd_pays(crisp::cpu::detail::winograd_backward_data_view(g)));
    std::fill(y.begin(), y.end(), -7.f);
    crisp::cpu::conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
    require_close(y, ref_forward(g, x, w, &b), 2e-5, "forward (public)");
    std::fill(dx.begin(), dx.end(), -7.f);
    crisp::cpu::conv2d_backward_data(g, dy.data(), w.data(), dx.data());
    require_close(dx, rdx, 2e-5, "backward data (public)");
    std::fill(dw.begin(), dw.end(), -7.f);
    crisp::cpu::conv2d_backward_weight(g, x.data(), dy.data(), dw.data(), db.data());
    require_close(dw, rdw, 2e-5, std::string("backward weight (public, ") +
                                     (crisp::cpu::detail::winograd_wgrad_pays(g) ? "Winograd)" : "direct)"));
    require_close(db, rdb, 2e-5, "backward bias (public)");
  }
}

TEST_CASE("conv kernels: Winograd is taken only where it applies, and can be switched off", "[conv][winograd]") {
  using crisp::cpu::detail::winograd_pays;
  REQUIRE(winograd_pays(geom(1, 64, 24, 24, 64, 3, 3, 1, 1, 1, 1)));
  REQUIRE_FALSE(winograd_pays(geom(1, 64, 24, 24, 64, 3, 3, 2, 1, 1, 1)));    // stride 2
  REQUIRE_FALSE(winograd_pays(geom(1, 64, 24, 24, 64, 3, 3, 1, 2, 2, 1)));    // dilation 2
  REQUIRE_FALSE(winograd_pays(geom(1, 64, 24, 24, 64, 3, 3, 1, 1, 1, 2)));    // groups 2
  REQUIRE_FALSE(winograd_pays(geom(1, 64, 24, 24, 64, 5, 5, 1, 2, 1, 1)));    // 5x5
  REQUIRE_FALSE(winograd_pays(geom(1, 3, 24, 24, 64, 3, 3, 1, 1, 1, 1)));     // 3 input channels
  REQUIRE_FALSE(winograd_pays(geom(1, 64, 24, 24, 64, 3, 3, 1, 3, 1, 1)));    // padding 3
  REQUIRE(crisp::cpu::detail::winograd_wgrad_pays(geom(8, 64, 24, 24, 64, 3, 3, 1, 1, 1, 1)));
  REQUIRE_FALSE(crisp::cpu::detail::winograd_wgrad_pays(geom(4, 512, 16, 16, 512, 3, 3, 1, 1, 1, 1)));
  {
    crisp::cpu::ConvWinogradScope off(false);
    REQUIRE_FALSE(crisp::cpu::conv_winograd());
    REQUIRE_FALSE(winograd_pays(geom(1, 64, 24, 24, 64, 3, 3, 1, 1, 1, 1)));
  }
  REQUIRE(crisp::cpu::conv_winograd());
}
#endif
