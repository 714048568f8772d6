// Motion-blur kernels: 1,000 random kernels of every odd size 13..27 are valid PSFs whose support
// grows with the size; seeds reproduce; banks round-trip through safetensors; real kernels load.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "crisp/crisp.hpp"
#include "crisp/data/blur_kernels.hpp"
#include "data_test_util.hpp"

using namespace crisp;
using namespace crisp::data;
using crisp::test::scratch;

namespace {

struct KernelStats {
  double sum = 0;
  float min = 0;
  int64_t extent = 0;   // max(height, width) of the bounding box of non-zero weights
  double spread = 0;    // sqrt of the weighted second moment about the centroid
  double off_centre = 0;  // distance of the bounding box centre from the kernel centre
};

KernelStats stats(const Tensor<float>& k) {
  const int64_t n = k.size(0);
  KernelStats s;
  s.min = k.data()[0];
  int64_t r0 = n, r1 = -1, c0 = n, c1 = -1;
  double mx = 0, my = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < n; ++c) {
      const double v = k.data()[r * n + c];
      s.sum += v;
      s.min = std::min(s.min, k.data()[r * n + c]);
      if (v > 0) r0 = std::min(r0, r), r1 = std::max(r1, r), c0 = std::min(c0, c), c1 = std::max(c1, c);
      mx += v * c, my += v * r;
    }
  double m2 = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < n; ++c) m2 += k.data()[r * n + c] * ((c - mx) * (c - mx) + (r - my) * (r - my));
  s.extent = std::max(r1 - r0 + 1, c1 - c0 + 1);
  s.spread = std::sqrt(m2);
  s.off_centre = std::hypot((r0 + r1) / 2.0 - (n - 1) / 2.0, (c0 + c1) / 2.0 - (n - 1) / 2.0);
  return s;
}

}  // namespace

TEST_CASE("1,000 kernels of each odd size 13..27 are normalised PSFs growing with the size", "[data][kernels]") {
  Generator gen(2018);
  double prev_extent = 0, prev_spread = 0, first_extent = 0;
  for (int64_t size = 13; size <= 27; size += 2) {
    INFO("size " << size);
    double extent = 0, spread = 0, worst_sum = 0, worst_centre = 0;
    float worst_min = 0;
    int64_t distinct_from_previous = 0;
    std::vector<float> previous;
    const int count = 1000;
    for (int i = 0; i < count; ++i) {
      const Tensor<float> k = motion_blur_kernel(size, gen);
      REQUIRE(k.shape() == Shape{size, size});
      const KernelStats s = stats(k);
      worst_sum = std::max(worst_sum, std::fabs(s.sum - 1.0));
      worst_min = std::min(worst_min, s.min);
      worst_centre = std::max(worst_centre, s.off_centre);
      extent += double(s.extent);
      spread += s.spread;
      const auto v = k.to_vector();
      distinct_from_previous += v != previous;
      previous = v;
    }
    extent /= count, spread /= count;
    CHECK(worst_sum < 1e-6);
    CHECK(worst_min >= 0.0f);
    CHECK(worst_centre <= 1.0);  // the path's bounding box is centred (to within the splat)
    CHECK(distinct_from_previous == count);
    CHECK(extent > prev_extent);  // support grows with the size, on average
    CHECK(spread > prev_spread);
    CHECK(extent > 0.3 * double(size));  // about 0.3 size + 1.6 (DeblurGAN's canonical statistics)
    if (size == 13) first_extent = extent;
    prev_extent = extent, prev_spread = spread;
  }
  CHECK(prev_extent > 1.5 * first_extent);  // 27 vs 13
}

TEST_CASE("fill: the path spans the whole kernel", "[data][kernels]") {
  Generator gen(5);
  MotionBlurOptions o;
  o.fill = true;
  for (int64_t size : {13, 27}) {
    for (int i = 0; i < 100; ++i) {
      const KernelStats s = stats(motion_blur_kernel(size, gen, o));
      CHECK(s.extent >= size - 1);
      CHECK(std::fabs(s.sum - 1) < 1e-6);
    }
  }
}

TEST_CASE("kernels are reproducible from a seed and differ across seeds", "[data][kernels]") {
  for (int64_t size : {13, 21, 27, 41}) {
    Generator a(7), b(7), c(8);
    const auto ka = motion_blur_kernel(size, a).to_vector();
    CHECK(ka == motion_blur_kernel(size, b).to_vector());
    CHECK(ka != motion_blur_kernel(size, c).to_vector());
  }
  CHECK_THROWS_AS(motion_blur_kernel(14, *std::make_unique<Generator>(1)), ValueError);
  CHECK_THROWS_AS(motion_blur_kernel(1, *std::make_unique<Generator>(1)), ValueError);
  MotionBlurOptions bad;
  bad.exposures = {1.5};
  Generator g(1);
  CHECK_THROWS_AS(motion_blur_kernel(13, g, bad), ValueError);
}

TEST_CASE("large sizes and partial exposures", "[data][kernels]") {
  Generator g(3);
  MotionBlurOptions o;
  o.exposures = {0.1, 0.5, 1.0};  // DeblurGAN's parts 1-3
  for (int i = 0; i < 20; ++i) {
    const Tensor<float> k = motion_blur_kernel(65, g, o);
    const KernelStats s = stats(k);
    CHECK(std::fabs(s.sum - 1) < 1e-6);
    CHECK(s.min >= 0);
  }
  const auto traj = motion_trajectory(g, 0.005);
  REQUIRE(traj.size() == 2000);
  // Every step has length max_len / (iters - 1).
  CHECK(std::abs(traj[1] - traj[0]) == Approx(60.0 / 1999));
  CHECK(std::abs(traj[1500] - traj[1499]) == Approx(60.0 / 1999));
}

TEST_CASE("kernel banks round-trip through one safetensors file", "[data][kernels]") {
  Generator g(42);
  const KernelBank bank = make_kernel_bank({13, 15, 27}, 5, g);
  REQUIRE(bank.size() == 15);
  CHECK(bank[0].size(0) == 13);
  CHECK(bank[14].size(0) == 27);
  save_kernel_bank(bank, scratch("bank.safetensors"));
  const KernelBank back = load_kernel_bank(scratch("bank.safetensors"));
  REQUIRE(back.size() == bank.size());
  for (size_t i = 0; i < bank.size(); ++i) CHECK(back[i].to_vector() == bank[i].to_vector());
  // A safetensors file that is not a bank, and a file that is not safetensors.
  io::save_safetensors<float>(scratch("other.safetensors"), {{"w", ones<float>(Shape{3, 3})}});
  CHECK_THROWS_AS(load_kernel_bank(scratch("other.safetensors")), IoError);
  crisp::test::write_bytes(scratch("junk.safetensors"), {1, 2, 3});
  CHECK_THROWS_AS(load_kernel_bank(scratch("junk.safetensors")), IoError);
  io::save_safetensors<float>(scratch("gap.safetensors"), {{"kernel_000001", ones<float>(Shape{3, 3})}},
                              {{"crisp.kind", "kernel_bank"}});
  CHECK_THROWS_AS(load_kernel_bank(scratch("gap.safetensors")), IoError);
}

TEST_CASE("kernels from PNG and text are normalised by their sum", "[data][kernels]") {
  Tensor<float> img = zeros<float>(Shape{1, 3, 3});
  img.data()[1] = 1.0f, img.data()[4] = 1.0f, img.data()[7] = 0.2f;  // 255, 255, 51
  save_image(img, scratch("k.png"));
  const Tensor<float> k = load_kernel_image(scratch("k.png"));
  REQUIRE(k.shape() == Shape{3, 3});
  CHECK(k.data()[1] == Approx(255.0 / 561));
  CHECK(k.data()[7] == Approx(51.0 / 561));
  save_image(zeros<float>(Shape{1, 3, 3}), scratch("zero.png"));
  CHECK_THROWS_AS(load_kernel_image(scratch("zero.png")), ValueError);

  std::ofstream(scratch("k.txt")) << "# a kernel\n0 1, 0\n\n0 2 0\n0 1 0  # last row\n";
  const Tensor<float> t = load_kernel_text(scratch("k.txt"));
  REQUIRE(t.shape() == Shape{3, 3});
  CHECK(t.data()[4] == Approx(0.5));
  CHECK(load_kernel_text(scratch("k.txt"), false).data()[4] == 2.0f);
  std::ofstream(scratch("ragged.txt")) << "1 2\n3\n";
  CHECK_THROWS_AS(load_kernel_text(scratch("ragged.txt")), IoError);
  std::ofstream(scratch("word.txt")) << "1 x\n";
  CHECK_THROWS_AS(load_kernel_text(scratch("word.txt")), IoError);
  CHECK_THROWS_AS(load_kernel_text(scratch("none.txt")), IoError);
}

TEST_CASE("the real lai16 kernels load as normalised PSFs (skipped without ../shared/data)", "[data][kernels][real]") {
  if (!crisp::test::have_shared("kernels/lai16/kernel_01.png")) return;
  const int64_t sizes[] = {31, 51, 55, 75};
  for (int i = 0; i < 4; ++i) {
    const Tensor<float> k = load_kernel_image(crisp::test::shared_data("kernels/lai16/kernel_0" + std::to_string(i + 1) + ".png"));
    CHECK(k.shape() == Shape{sizes[i], sizes[i]});
    const KernelStats s = stats(k);
    CHECK(std::fabs(s.sum - 1) < 1e-5);
    CHECK(s.min >= 0);
  }
}
