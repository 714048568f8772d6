// PSNR and SSIM against scikit-image (goldens from tools/make_data_goldens.py: skimage's
// structural_similarity with gaussian_weights=True, sigma=1.5, use_sample_covariance=False).
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "crisp/crisp.hpp"
#include "crisp/io/safetensors.hpp"
#include "crisp/metrics/psnr_ssim.hpp"

using namespace crisp;
using namespace crisp::metrics;

namespace {
const std::string kGolden = std::string(CRISP_TEST_DATA_DIR) + "/golden/data_ops.safetensors";
}

TEST_CASE("PSNR and SSIM match scikit-image", "[metrics][golden]") {
  const auto g = io::load_safetensors<float>(kGolden);
  const auto gd = io::load_safetensors<double>(kGolden);
  const auto meta = io::load_safetensors_metadata(kGolden);
  const std::set<std::string> table{"rgb_blur_noise", "rgb_heavy_noise", "gray_2d", "window_sized", "range_255"};
  std::set<std::string> in_file;
  for (const auto& [k, v] : meta)
    if (k.rfind("metric.", 0) == 0) in_file.insert(k.substr(7));
  REQUIRE(in_file == table);
  for (const auto& name : table) {
    INFO("case " << name);
    const std::string p = "metric." + name;
    SsimOptions o;
    o.data_range = std::stod(meta.at(p).substr(meta.at(p).find('=') + 1));
    const Tensor<float>& a = g.at(p + ".a");
    const Tensor<float>& b = g.at(p + ".b");
    const double s = ssim(a, b, o), want_s = gd.at(p + ".ssim").item();
    CHECK(s == Approx(want_s).margin(1e-10));
    CHECK(psnr(a, b, o.data_range) == Approx(gd.at(p + ".psnr").item()).margin(1e-9));
    // Double inputs give the same numbers.
    CHECK(ssim(cast<double>(a), cast<double>(b), o) == Approx(want_s).margin(1e-12));
  }
}

TEST_CASE("SSIM and PSNR edge cases", "[metrics]") {
  Generator gen(1);
  const Tensor<float> a = rand<float>(Shape{3, 16, 16}, gen);
  CHECK(ssim(a, a) == Approx(1.0).margin(1e-12));
  CHECK(std::isinf(psnr(a, a)));
  const Tensor<float> b = a * 0.5f;
  CHECK(ssim(a, b) < 1.0);
  CHECK(ssim(a, b) == Approx(ssim(b, a)).margin(1e-12));  // symmetric
  CHECK(psnr(a, b) == Approx(10 * std::log10(1.0 / mse(a, b))));
  // A strided view gives the same value as its contiguous copy.
  CHECK(ssim(a.transpose(1, 2), b.transpose(1, 2)) ==
        Approx(ssim(a.transpose(1, 2).contiguous(), b.transpose(1, 2).contiguous())).margin(1e-12));
  CHECK_THROWS_AS(ssim(a, rand<float>(Shape{3, 16, 15}, gen)), ShapeError);
  CHECK_THROWS_AS(ssim(rand<float>(Shape{3, 10, 16}, gen), rand<float>(Shape{3, 10, 16}, gen)), ShapeError);
  CHECK_THROWS_AS(psnr(a, a, 0.0), ValueError);
  const Tensor<float> batch_a = rand<float>(Shape{2, 3, 12, 12}, gen), batch_b = rand<float>(Shape{2, 3, 12, 12}, gen);
  const auto bs = batch_ssim(batch_a, batch_b);
  REQUIRE(bs.size() == 2);
  CHECK(bs[1] == Approx(ssim(batch_a.select(0, 1).contiguous(), batch_b.select(0, 1).contiguous())).margin(1e-12));
  const auto bp = batch_psnr(batch_a, batch_b);
  CHECK(bp[0] == Approx(psnr(batch_a.select(0, 0).contiguous(), batch_b.select(0, 0).contiguous())));
}
