// Real data (../shared/data, skipped when absent): PSNR / SSIM of degraded real faces agree with
// scikit-image, and blurring a real face with the real lai16 kernels agrees with
// scipy.ndimage.convolve. Goldens: tests/data/golden/data_real.safetensors, numbers only, made by
// `tools/make_data_goldens.py --real BUILD`, which runs the hidden [.export] case below to get
// the exact inputs crisp computes (stb's JPEG decoder differs from libjpeg, so Python cannot
// decode the faces itself).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "crisp/crisp.hpp"
#include "crisp/data/blur_kernels.hpp"
#include "crisp/data/degradation.hpp"
#include "crisp/data/image_io.hpp"
#include "crisp/data/transforms.hpp"
#include "crisp/io/safetensors.hpp"
#include "crisp/metrics/psnr_ssim.hpp"
#include "data_test_util.hpp"

using namespace crisp;
using namespace crisp::data;

namespace {

const std::string kGolden = std::string(CRISP_TEST_DATA_DIR) + "/golden/data_real.safetensors";
const std::vector<std::string> kFaces{"28083", "28090", "28093", "28123"};
const std::vector<std::string> kKernels{"kernel_01", "kernel_02", "kernel_03", "kernel_04"};

struct Inputs {
  std::map<std::string, Tensor<float>> tensors;
};

// The exact inputs both sides use: faces decoded by stb and area-resized to 128 x 128, their
// degradations, and the real kernels.
Inputs make_inputs() {
  Inputs in;
  for (const auto& k : kKernels)
    in.tensors["kernel." + k] = load_kernel_image(crisp::test::shared_data("kernels/lai16/" + k + ".png"));
  for (size_t i = 0; i < kFaces.size(); ++i) {
    const std::string& s = kFaces[i];
    const Tensor<float> sharp = resize(load_image(crisp::test::shared_data("faces/" + s + ".jpg")), {128, 128}, Interpolation::Area);
    Generator blur_gen(100 + i), noise_gen(200 + i);
    const Tensor<float> blurred = degrade(sharp, in.tensors.at("kernel." + kKernels[i % 2]), blur_gen);  // replicate, sigma 0.01, clamp
    Tensor<float> noisy = add_gaussian_noise(sharp, 0.05, noise_gen);
    for (int64_t j = 0; j < noisy.numel(); ++j) noisy.data()[j] = std::clamp(noisy.data()[j], 0.0f, 1.0f);
    in.tensors["face." + s + ".sharp"] = sharp;
    in.tensors["face." + s + ".blurred"] = blurred;
    in.tensors["face." + s + ".noisy"] = noisy;
  }
  in.tensors["blur_input"] = in.tensors.at("face." + kFaces[0] + ".sharp");
  return in;
}

// Same formula as checksum() in tools/make_data_goldens.py.
std::array<double, 3> checksum(const Tensor<float>& x) {
  std::array<double, 3> c{0, 0, 0};
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = x.data()[i];
    c[0] += v, c[1] += v * v, c[2] += v * std::cos(0.01 * double(i));
  }
  return c;
}

void check_checksum(const Tensor<float>& x, const Tensor<double>& want, const std::string& what) {
  INFO(what << ": if the inputs changed (stb, resize, degrade), regenerate with tools/make_data_goldens.py --real BUILD");
  const auto c = checksum(x);
  REQUIRE(want.numel() == 3);
  for (int i = 0; i < 3; ++i) CHECK(c[static_cast<size_t>(i)] == Approx(want.data()[i]).epsilon(1e-6));
}

bool have_real_data() {
  return crisp::test::have_shared("faces/28083.jpg") && crisp::test::have_shared("kernels/lai16/kernel_01.png");
}

}  // namespace

TEST_CASE("PSNR and SSIM of real degraded faces agree with scikit-image", "[data][metrics][real]") {
  if (!have_real_data()) return;
  const auto g = io::load_safetensors<double>(kGolden);
  const Inputs in = make_inputs();
  double worst_ssim = 0, worst_psnr = 0;
  for (const auto& s : kFaces) {
    const Tensor<float>& sharp = in.tensors.at("face." + s + ".sharp");
    check_checksum(sharp, g.at("face." + s + ".sharp.checksum"), s + " sharp");
    for (const std::string kind : {"blurred", "noisy"}) {
      INFO("face " << s << " " << kind);
      const Tensor<float>& d = in.tensors.at("face." + s + "." + kind);
      check_checksum(d, g.at("face." + s + "." + kind + ".checksum"), s + " " + kind);
      const double ss = metrics::ssim(sharp, d), ps = metrics::psnr(sharp, d);
      const double want_ss = g.at("face." + s + "." + kind + ".ssim").item();
      const double want_ps = g.at("face." + s + "." + kind + ".psnr").item();
      CHECK(ss == Approx(want_ss).margin(1e-6));
      CHECK(ps == Approx(want_ps).margin(1e-6));
      worst_ssim = std::max(worst_ssim, std::fabs(ss - want_ss));
      worst_psnr = std::max(worst_psnr, std::fabs(ps - want_ps));
    }
  }
  CHECK(worst_ssim < 1e-4);  // the done-when tolerance; measured ~1e-10
  CHECK(worst_psnr < 1e-4);
}

TEST_CASE("blurring a real face with the real lai16 kernels matches scipy", "[data][degradation][real]") {
  if (!have_real_data()) return;
  const auto gd = io::load_safetensors<double>(kGolden);
  const auto gf = io::load_safetensors<float>(kGolden);
  const auto meta = io::load_safetensors_metadata(kGolden);
  const Inputs in = make_inputs();
  const Tensor<float>& x = in.tensors.at("blur_input");
  check_checksum(x, gd.at("blur_input.checksum"), "blur input");
  std::set<std::string> cases;
  for (const auto& [k, v] : meta)
    if (k.rfind("blur.", 0) == 0) cases.insert(k);
  REQUIRE(cases == std::set<std::string>{"blur.kernel_01.replicate", "blur.kernel_02.replicate", "blur.kernel_03.replicate",
                                         "blur.kernel_04.replicate", "blur.kernel_01.zero"});
  for (const auto& key : cases) {
    INFO(key);
    const std::string kname = key.substr(5, 9);
    const BorderMode border = key.substr(15) == "zero" ? BorderMode::Zero : BorderMode::Replicate;
    const Tensor<float>& k = in.tensors.at("kernel." + kname);
    check_checksum(k, gd.at("kernel." + kname + ".checksum"), kname);
    const Tensor<float> y = blur(x, k, border);
    check_checksum(y, gd.at(key + ".checksum"), key);
    const int64_t H = y.size(1), W = y.size(2);
    const std::pair<const char*, std::array<int64_t, 2>> crops[] = {
        {".top_left", {0, 0}}, {".centre", {60, 60}}, {".bottom_right", {H - 8, W - 8}}};
    for (const auto& [suffix, at] : crops) {
      const Tensor<float>& want = gf.at(key + suffix);
      double err = 0;
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t r = 0; r < 8; ++r)
          for (int64_t q = 0; q < 8; ++q)
            err = std::max(err, std::fabs(double(y.data()[(c * H + at[0] + r) * W + at[1] + q]) - want.data()[(c * 8 + r) * 8 + q]));
      INFO(suffix);
      CHECK(err < 1e-5);
    }
  }
}

// Run by tools/make_data_goldens.py --real: writes the inputs above for the Python side.
TEST_CASE("export the real-data inputs", "[.export]") {
  const char* dir = std::getenv("CRISP_EXPORT_DIR");
  REQUIRE(dir != nullptr);
  REQUIRE(have_real_data());
  const Inputs in = make_inputs();
  io::save_safetensors<float>(std::string(dir) + "/real_inputs.safetensors", in.tensors);
}
