// interpolate: nearest and bilinear values on known inputs (incl. SRN's x0.5 and x2),
// gradchecks of every mode, and argument errors. PyTorch goldens are in
// test_image_ops_golden.cpp.
#include "gradcheck_util.hpp"

#include <limits>

#include "crisp/ops/pooling.hpp"
#include "crisp/ops/resize.hpp"

using namespace crisp;
using namespace crisp::test;
using V = std::vector<float>;
using Scale = std::pair<double, double>;

namespace {
void require_all_close(const Tensor<float>& a, const Tensor<float>& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i) REQUIRE(x[i] == Approx(y[i]).margin(1e-6));
}
}  // namespace

TEST_CASE("nearest resizing repeats and picks floor(dst * in / out)") {
  auto x = arange<float>(4.0f).reshape({1, 1, 2, 2});
  CHECK(interpolate(x, Pair2{4, 4}).to_vector() == V{0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3});
  CHECK(interpolate(x, std::nullopt, Scale{2, 2}).to_vector() == interpolate(x, Pair2{4, 4}).to_vector());
  auto r = arange<float>(5.0f).reshape({1, 1, 1, 5});
  CHECK(interpolate(r, Pair2{1, 3}).to_vector() == V{0, 1, 3});  // scale 5/3: 0, 1.67, 3.33
  // With a scale factor the source index uses 1 / scale_factor, not in / out.
  CHECK(interpolate(r, std::nullopt, Scale{1, 0.7}).to_vector() == V{0, 1, 2});  // 1/0.7: 0, 1.43, 2.86
  CHECK(interpolate(r, Pair2{1, 3}).to_vector() != interpolate(r, std::nullopt, Scale{1, 0.7}).to_vector());
}

TEST_CASE("bilinear resizing with align_corners false and true") {
  Generator g(3);
  auto x = rand<float>({2, 3, 8, 10}, g);
  // SRN's x0.5 with align_corners=false samples the centre of each 2x2 block: a 2x2 average.
  auto half = interpolate(x, std::nullopt, Scale{0.5, 0.5}, InterpolateMode::Bilinear);
  CHECK(half.shape() == Shape{2, 3, 4, 5});
  require_all_close(half, avg_pool2d(x, 2));
  // x2: interior outputs blend 3/4 and 1/4; the first row / column clamps to the edge.
  auto r = from_vector<float>({0, 4, 8}, {1, 1, 1, 3});
  auto up = interpolate(r, std::nullopt, Scale{2, 2}, InterpolateMode::Bilinear);
  CHECK(up.shape() == Shape{1, 1, 2, 6});
  require_all_close(up.slice(2, 0, 1), from_vector<float>({0, 1, 3, 5, 7, 8}, {1, 1, 1, 6}));
  // align_corners=true keeps the corners and spaces the rest evenly.
  auto ac = interpolate(r, Pair2{1, 5}, std::nullopt, InterpolateMode::Bilinear, true);
  require_all_close(ac, from_vector<float>({0, 2, 4, 6, 8}, {1, 1, 1, 5}));
  CHECK(interpolate(r, Pair2{1, 1}, std::nullopt, InterpolateMode::Bilinear, true).item() == 0.0f);
  // A constant image stays constant; out == in is a copy.
  require_all_close(interpolate(full<float>({1, 2, 3, 5}, 2.5f), Pair2{7, 4}, std::nullopt, InterpolateMode::Bilinear),
                    full<float>({1, 2, 7, 4}, 2.5f));
  require_all_close(interpolate(x, Pair2{8, 10}, std::nullopt, InterpolateMode::Bilinear), x);
}

TEST_CASE("interpolate passes gradcheck") {
  T x = leaf({2, 2, 5, 6}, 1);
  CHECK(check_grad([](const Inputs& v) { return interpolate(v[0], Pair2{10, 12}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return interpolate(v[0], Pair2{3, 8}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return interpolate(v[0], std::nullopt, Scale{1.5, 0.7}); }, {x}));
  for (bool ac : {false, true}) {
    INFO("align_corners " << ac);
    auto bil = InterpolateMode::Bilinear;
    CHECK(check_grad([&](const Inputs& v) { return interpolate(v[0], Pair2{9, 4}, std::nullopt, bil, ac); }, {x}));
    CHECK(check_grad([&](const Inputs& v) { return interpolate(v[0], std::nullopt, Scale{2, 2}, bil, ac); }, {x}));
    CHECK(check_grad([&](const Inputs& v) { return interpolate(v[0], std::nullopt, Scale{0.5, 0.5}, bil, ac); }, {x}));
    CHECK(check_grad([&](const Inputs& v) { return interpolate(v[0], std::nullopt, Scale{1.7, 0.6}, bil, ac); }, {x}));
    CHECK(check_grad([&](const Inputs& v) { return interpolate(v[0].transpose(2, 3), Pair2{1, 1}, std::nullopt, bil, ac); },
                     {x}));
  }
  T one = leaf({1, 2, 1, 1}, 2);
  CHECK(check_grad([](const Inputs& v) { return interpolate(v[0], Pair2{3, 2}, std::nullopt, InterpolateMode::Bilinear); },
                   {one}));
}

TEST_CASE("interpolate rejects bad arguments with the op and the sizes") {
  auto x = zeros<float>({1, 2, 3, 4});
  CHECK_THROWS_AS(interpolate(zeros<float>({2, 3, 4}), Pair2{2, 2}), ShapeError);
  CHECK_THROWS_WITH(interpolate(zeros<float>({2, 3, 4}), Pair2{2, 2}),
                    Catch::Contains("interpolate") && Catch::Contains("4-d") && Catch::Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(interpolate(x, Pair2{2, 2}, Scale{2, 2}), Catch::Contains("interpolate") && Catch::Contains("both"));
  CHECK_THROWS_WITH(interpolate(x, std::nullopt), Catch::Contains("neither"));
  CHECK_THROWS_AS(interpolate(x, Pair2{2, 2}, std::nullopt, InterpolateMode::Nearest, true), ValueError);
  CHECK_THROWS_WITH(interpolate(x, Pair2{2, 2}, std::nullopt, InterpolateMode::Nearest, true),
                    Catch::Contains("align_corners"));
  CHECK_THROWS_WITH(interpolate(x, Pair2{0, 2}), Catch::Contains("interpolate") && Catch::Contains("H: 3") &&
                                                     Catch::Contains("H: 0"));
  CHECK_THROWS_AS(interpolate(x, Pair2{-2, 2}), ShapeError);
  CHECK_THROWS_WITH(interpolate(x, std::nullopt, Scale{0.2, 1}), Catch::Contains("H: 0"));
  CHECK_THROWS_WITH(interpolate(x, std::nullopt, Scale{-1, 1}), Catch::Contains("scale_factor") && Catch::Contains("-1"));
  CHECK_THROWS_AS(interpolate(x, std::nullopt, Scale{std::numeric_limits<double>::quiet_NaN(), 1}), ValueError);
  CHECK_THROWS_AS(interpolate(zeros<float>({1, 1, 0, 4}), Pair2{2, 2}), ShapeError);
}

TEST_CASE("resizing many planes (split across threads) equals resizing plane by plane") {
  Generator gen(7);
  auto x = rand<float>({4, 16, 40, 40}, gen);
  auto check = [&](auto f) {
    const auto y = f(x);
    for (int64_t n = 0; n < 4; ++n)
      for (int64_t c = 0; c < 16; c += 5) {
        const auto one = f(x.slice(0, n, n + 1).slice(1, c, c + 1));
        REQUIRE(one.to_vector() == y.slice(0, n, n + 1).slice(1, c, c + 1).contiguous().to_vector());
      }
  };
  check([](const Tensor<float>& t) { return interpolate(t, std::nullopt, Scale{2, 2}); });
  check([](const Tensor<float>& t) { return interpolate(t, Pair2{57, 23}); });
  check([](const Tensor<float>& t) { return interpolate(t, std::nullopt, Scale{0.5, 0.5}, InterpolateMode::Bilinear); });
  check([](const Tensor<float>& t) { return interpolate(t, Pair2{81, 33}, std::nullopt, InterpolateMode::Bilinear, true); });
}
