// Tests for crisp/train/image_grid.hpp (layout, gray -> RGB, kernel display) and the pure
// formatting of crisp/train/progress.hpp.
#include <catch2/catch.hpp>

#include <crisp/train/image_grid.hpp>
#include <crisp/train/progress.hpp>

using crisp::Shape;
using crisp::Tensor;

namespace {
Tensor<float> filled(Shape s, float v) {
  Tensor<float> t = Tensor<float>::empty(s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = v;
  return t;
}
float at(const Tensor<float>& t, int64_t c, int64_t y, int64_t x) { return t.data()[(c * t.size(1) + y) * t.size(2) + x]; }
}  // namespace

TEST_CASE("make_grid lays out cells as torchvision, centring smaller images", "[train][grid]") {
  std::vector<Tensor<float>> imgs{filled({3, 4, 6}, 0.5f), filled({1, 2, 2}, 1.0f), filled({4, 6}, 0.25f)};
  const Tensor<float> g = crisp::train::make_grid(imgs, {2, 1, 0.f});
  // 2 columns, 2 rows of 4 x 6 cells, padding 1: H = 2 * 5 + 1, W = 2 * 7 + 1.
  REQUIRE(g.shape() == Shape{3, 11, 15});
  CHECK(at(g, 0, 0, 0) == 0.f);  // border padding
  for (int64_t c = 0; c < 3; ++c) {
    CHECK(at(g, c, 1, 1) == 0.5f);  // image 0 at (1, 1)
    CHECK(at(g, c, 4, 6) == 0.5f);
    CHECK(at(g, c, 1 + 1, 8 + 2) == 1.0f);  // image 1 (2 x 2, gray -> RGB) centred: +1 row, +2 cols
    CHECK(at(g, c, 1, 8) == 0.f);           // its cell's margin is padding colour
    CHECK(at(g, c, 6, 1) == 0.25f);         // image 2, second row
  }
  CHECK(at(g, 0, 6, 8) == 0.f);  // the missing fourth cell stays background
}

TEST_CASE("make_grid and stack_rows reject bad input with clear errors", "[train][grid]") {
  CHECK_THROWS_AS(crisp::train::make_grid({}), crisp::ValueError);
  CHECK_THROWS_AS(crisp::train::make_grid({filled({2, 3, 3}, 0.f)}), crisp::ShapeError);
  CHECK_THROWS_AS(crisp::train::make_grid({filled({3, 3}, 0.f)}, {0, 2, 0.f}), crisp::ValueError);
  try {
    crisp::train::make_grid({filled({3, 3}, 0.f), filled({5, 3, 3}, 0.f)});
    FAIL("expected ShapeError");
  } catch (const crisp::ShapeError& e) {
    CHECK(std::string(e.what()).find("image 1") != std::string::npos);
  }
  CHECK_THROWS_AS(crisp::train::stack_rows({}), crisp::ValueError);
}

TEST_CASE("stack_rows keeps each row's height", "[train][grid]") {
  const Tensor<float> s = crisp::train::stack_rows({filled({3, 2, 4}, 0.5f), filled({1, 3, 2}, 1.f)}, 1, 0.f);
  REQUIRE(s.shape() == Shape{3, 2 + 3 + 3, 4 + 2});
  CHECK(at(s, 1, 1, 1) == 0.5f);
  CHECK(at(s, 2, 4, 2) == 1.f);  // second row centred: left = (6 - 2) / 2
  CHECK(at(s, 2, 4, 1) == 0.f);
}

TEST_CASE("kernel_image normalises to the maximum and enlarges with nearest sampling", "[train][grid]") {
  Tensor<float> k = filled({3, 3}, 0.f);
  k.data()[4] = 0.2f;
  k.data()[5] = 0.1f;
  const Tensor<float> img = crisp::train::kernel_image(k, 2);
  REQUIRE(img.shape() == Shape{3, 6, 6});
  for (int64_t c = 0; c < 3; ++c) {
    CHECK(at(img, c, 2, 2) == 1.f);
    CHECK(at(img, c, 3, 3) == 1.f);
    CHECK(at(img, c, 2, 4) == Approx(0.5f));
    CHECK(at(img, c, 0, 0) == 0.f);
  }
  CHECK(crisp::train::kernel_image(filled({3, 3}, 0.f)).data()[0] == 0.f);  // all-zero stays black
  CHECK_THROWS_AS(crisp::train::kernel_image(filled({1, 3, 3}, 0.f)), crisp::ShapeError);
  CHECK_THROWS_AS(crisp::train::kernel_image(k, 0), crisp::ValueError);
}

TEST_CASE("progress lines show count, rate and ETA", "[train][progress]") {
  using crisp::train::format_progress;
  CHECK(crisp::train::format_duration(7.2) == "7s");
  CHECK(crisp::train::format_duration(125) == "2:05");
  CHECK(crisp::train::format_duration(3723) == "1:02:03");
  CHECK(crisp::train::format_duration(-1) == "?");
  CHECK(format_progress("blur", 25, 100, 5.0, 4, true) == "blur [#...]  25% 25/100 | 5.0 it/s | 5s elapsed | ETA 15s");
  CHECK(format_progress("", 100, 100, 10.0, 4, false, "img") == "100% 100/100 | 10.0 img/s | 10s elapsed | ETA 0s");
  CHECK(format_progress("x", 3, 0, 1.0, 4, true, "it", "loss 0.5") == "x 3 | 3.0 it/s | 1s elapsed | loss 0.5");
}
