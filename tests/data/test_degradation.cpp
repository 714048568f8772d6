// Degradation: blur is scipy.ndimage.convolve (true convolution, centred kernel) for every border
// rule (goldens from tools/make_data_goldens.py); noise and JPEG are deterministic for a seed.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "crisp/crisp.hpp"
#include "crisp/data/blur_kernels.hpp"
#include "crisp/data/degradation.hpp"
#include "crisp/io/safetensors.hpp"
#include "crisp/metrics/psnr_ssim.hpp"

using namespace crisp;
using namespace crisp::data;

namespace {
const std::string kGolden = std::string(CRISP_TEST_DATA_DIR) + "/golden/data_ops.safetensors";

Tensor<float> smooth(int64_t C, int64_t H, int64_t W) {
  Tensor<float> t = Tensor<float>::empty(Shape{C, H, W});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) t.data()[(c * H + y) * W + x] = 0.5f + 0.4f * std::sin(0.2f * x + 0.13f * y + c);
  return t;
}
}  // namespace

TEST_CASE("blur matches scipy.ndimage.convolve for every border rule", "[data][degradation][golden]") {
  const auto g = io::load_safetensors<float>(kGolden);
  const auto meta = io::load_safetensors_metadata(kGolden);
  const std::set<std::string> table{"odd5_replicate",  "odd5_zero",         "odd5_reflect",    "row7_replicate",
                                    "col3x5_zero",     "big15_replicate",   "big15_zero",      "big15_reflect",
                                    "delta_corner_zero", "even4_replicate", "even2x4_zero"};
  std::set<std::string> in_file;
  for (const auto& [k, v] : meta)
    if (k.rfind("blur.", 0) == 0) in_file.insert(k.substr(5));
  REQUIRE(in_file == table);
  const std::map<std::string, BorderMode> modes{
      {"border=replicate", BorderMode::Replicate}, {"border=zero", BorderMode::Zero}, {"border=reflect", BorderMode::Reflect}};
  for (const auto& name : table) {
    INFO("case " << name);
    const Tensor<float> out = blur(g.at("blur." + name + ".in"), g.at("blur." + name + ".k"), modes.at(meta.at("blur." + name)));
    const Tensor<float>& want = g.at("blur." + name + ".out");
    REQUIRE(out.shape() == want.shape());
    double err = 0;
    for (int64_t i = 0; i < out.numel(); ++i) err = std::max(err, std::fabs(double(out.data()[i]) - want.data()[i]));
    CHECK(err < 1e-6);
  }
}

TEST_CASE("blur: a delta is the identity, a shifted delta shifts, any leading dims", "[data][degradation]") {
  const Tensor<float> x = smooth(2, 6, 7);
  Tensor<float> delta = zeros<float>(Shape{5, 5});
  delta.data()[12] = 1;
  for (auto b : {BorderMode::Replicate, BorderMode::Zero, BorderMode::Reflect})
    CHECK(blur(x, delta, b).to_vector() == x.to_vector());
  // Weight at kernel (0, 0), centre (2, 2): out(y, x) = in(y + 2, x + 2) - content moves up-left.
  Tensor<float> corner = zeros<float>(Shape{5, 5});
  corner.data()[0] = 1;
  const Tensor<float> s = blur(x, corner, BorderMode::Zero);
  CHECK(s.data()[0] == x.data()[2 * 7 + 2]);
  CHECK(s.data()[5 * 7 + 6] == 0.0f);
  const Tensor<float> batch = smooth(6, 6, 7).reshape(Shape{2, 3, 6, 7});
  CHECK(blur(batch, corner).shape() == Shape{2, 3, 6, 7});
  CHECK(blur(x.transpose(1, 2), delta).to_vector() == x.transpose(1, 2).contiguous().to_vector());
  CHECK_THROWS_AS(blur(x, Tensor<float>::empty(Shape{3})), ShapeError);
  CHECK_THROWS_AS(blur(x.reshape(Shape{84}), delta), ShapeError);
}

TEST_CASE("noise: sigma, seed determinism, and the same numbers as randn", "[data][degradation]") {
  const Tensor<float> x = full<float>(Shape{3, 64, 64}, 0.5f);
  Generator g1(9), g2(9), g3(10), g4(9);
  const Tensor<float> a = add_gaussian_noise(x, 0.01, g1), b = add_gaussian_noise(x, 0.01, g2);
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != add_gaussian_noise(x, 0.01, g3).to_vector());
  const Tensor<float> n = randn<float>(x.shape(), g4);
  double mean = 0, var = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double d = a.data()[i] - 0.5;
    CHECK(d == Approx(0.01 * n.data()[i]).margin(1e-7));
    mean += d, var += d * d;
  }
  mean /= double(a.numel());
  var /= double(a.numel());
  CHECK(std::fabs(mean) < 3e-4);
  CHECK(std::sqrt(var) == Approx(0.01).epsilon(0.03));
  CHECK(x.data()[0] == 0.5f);  // input untouched
  CHECK_THROWS_AS(add_gaussian_noise(x, -1, g1), ValueError);
}

TEST_CASE("degrade: blur + noise + clamp, optional JPEG, deterministic", "[data][degradation]") {
  const Tensor<float> x = smooth(3, 32, 40);
  Generator kg(1);
  const Tensor<float> k = motion_blur_kernel(13, kg);
  Generator g1(5), g2(5);
  DegradeOptions o;
  const Tensor<float> a = degrade(x, k, g1, o), b = degrade(x, k, g2, o);
  CHECK(a.to_vector() == b.to_vector());
  for (float v : a.to_vector()) {
    CHECK(v >= 0.0f);
    CHECK(v <= 1.0f);
  }
  o.noise_sigma = 0;
  Generator g3(5);
  const Tensor<float> clean = degrade(x, k, g3, o);
  CHECK(clean.to_vector() == blur(x, k).to_vector());
  o.jpeg_quality = 90;
  Generator g4(5), g5(5);
  const Tensor<float> j = degrade(x, k, g4, o);
  CHECK(j.to_vector() == degrade(x, k, g5, o).to_vector());
  CHECK(j.shape() == x.shape());
  CHECK(metrics::psnr(j, clean) > 30);
  CHECK(metrics::psnr(j, clean) < 80);
  o.jpeg_quality = 101;
  CHECK_THROWS_AS(degrade(x, k, g4, o), ValueError);
  const Tensor<float> gray = jpeg_reencode(smooth(1, 16, 16).reshape(Shape{16, 16}), 95);
  CHECK(gray.shape() == Shape{16, 16});
}
