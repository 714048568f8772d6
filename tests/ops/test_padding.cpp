// pad: values of every mode on a small row, gradchecks of every mode and rank, and the
// argument errors (PyTorch's size rules). PyTorch goldens are in test_image_ops_golden.cpp.
#include "gradcheck_util.hpp"

#include "crisp/ops/padding.hpp"

using namespace crisp;
using namespace crisp::test;

namespace {
std::vector<float> row_pad(const std::vector<int64_t>& pads, PadMode mode, float value = 0) {
  return pad(arange<float>(4.0f).reshape({1, 1, 4}), pads, mode, value).to_vector();
}
}  // namespace

TEST_CASE("pad gives PyTorch's values in every mode") {
  using V = std::vector<float>;
  CHECK(row_pad({2, 1}, PadMode::Constant, 9) == V{9, 9, 0, 1, 2, 3, 9});
  CHECK(row_pad({2, 1}, PadMode::Reflect) == V{2, 1, 0, 1, 2, 3, 2});
  CHECK(row_pad({3, 3}, PadMode::Reflect) == V{3, 2, 1, 0, 1, 2, 3, 2, 1, 0});
  CHECK(row_pad({2, 1}, PadMode::Replicate) == V{0, 0, 0, 1, 2, 3, 3});
  CHECK(row_pad({2, 1}, PadMode::Circular) == V{2, 3, 0, 1, 2, 3, 0});
  CHECK(row_pad({4, 4}, PadMode::Circular) == V{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3});
  // Negative pads crop; circular wraps inside what the crop leaves, as PyTorch.
  CHECK(row_pad({-1, -1}, PadMode::Constant) == V{1, 2});
  CHECK(row_pad({-1, 1}, PadMode::Reflect) == V{1, 2, 3, 2});
  CHECK(row_pad({-5, 3}, PadMode::Reflect) == V{1, 0});
  CHECK(row_pad({-1, 2}, PadMode::Replicate) == V{1, 2, 3, 3, 3});
  CHECK(row_pad({-1, 2}, PadMode::Circular) == V{1, 2, 3, 1, 2});
  CHECK(row_pad({-2, -2}, PadMode::Constant).empty());

  // Four pads: {left, right, top, bottom}.
  auto img = arange<float>(6.0f).reshape({1, 1, 2, 3});
  auto y = pad(img, {1, 0, 0, 1}, PadMode::Replicate);
  CHECK(y.shape() == Shape{1, 1, 3, 4});
  CHECK(y.to_vector() == V{0, 0, 1, 2, 3, 3, 4, 5, 3, 3, 4, 5});
  // A 1x1 image replicated, and a strided (non-contiguous) input.
  CHECK(pad(ones<float>({1, 1, 1, 1}), {2, 2, 2, 2}, PadMode::Replicate).to_vector() == V(25, 1.0f));
  auto t = arange<float>(6.0f).reshape({1, 1, 3, 2}).transpose(2, 3);  // = [[0 2 4] [1 3 5]]
  CHECK(pad(t, {0, 0, 1, 0}, PadMode::Reflect).to_vector() == V{1, 3, 5, 0, 2, 4, 1, 3, 5});
}

TEST_CASE("pad passes gradcheck in every mode") {
  T x = leaf({2, 2, 4, 5}, 1);
  for (auto mode : {PadMode::Constant, PadMode::Reflect, PadMode::Replicate, PadMode::Circular}) {
    INFO("mode " << pad_mode_name(mode));
    CHECK(check_grad([&](const Inputs& v) { return pad(v[0], {2, 1, 3, 0}, mode, 0.5); }, {x}));
    CHECK(check_grad([&](const Inputs& v) { return pad(v[0], {-1, 2, 1, -2}, mode); }, {x}));
    CHECK(check_grad([&](const Inputs& v) { return pad(v[0].select(0, 1), {1, 1, 1, 1}, mode); }, {x}));  // CHW
    CHECK(check_grad([&](const Inputs& v) { return pad(v[0].select(0, 0), {3, 2}, mode); }, {x}));        // W only
  }
  // Largest allowed pads: reflect < size, circular <= size, replicate any.
  CHECK(check_grad([](const Inputs& v) { return pad(v[0], {4, 4, 3, 3}, PadMode::Reflect); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return pad(v[0], {5, 5, 4, 4}, PadMode::Circular); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return pad(v[0], {7, 6, 5, 9}, PadMode::Replicate); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return pad(v[0].transpose(2, 3), {1, 2, 2, 1}, PadMode::Reflect); }, {x}));
  T one = leaf({1, 1, 1, 1}, 2);
  CHECK(check_grad([](const Inputs& v) { return pad(v[0], {2, 1, 1, 2}, PadMode::Replicate); }, {one}));
  CHECK(check_grad([](const Inputs& v) { return pad(v[0], {1, 1, 1, 1}, PadMode::Circular); }, {one}));
}

TEST_CASE("pad rejects bad arguments with the op, the pads and the sizes") {
  auto x = zeros<float>({1, 2, 3, 4});
  CHECK_THROWS_AS(pad(x, {1, 1, 1}), ValueError);
  CHECK_THROWS_WITH(pad(x, {1, 1, 1}), Catch::Contains("pad") && Catch::Contains("3 values"));
  CHECK_THROWS_AS(pad(x, {4, 0, 0, 0}, PadMode::Reflect), ShapeError);
  CHECK_THROWS_WITH(pad(x, {4, 0, 0, 0}, PadMode::Reflect),
                    Catch::Contains("pad") && Catch::Contains("reflect") && Catch::Contains("(4, 0)") &&
                        Catch::Contains("width 4") && Catch::Contains("[1, 2, 3, 4]"));
  CHECK_THROWS_WITH(pad(x, {0, 0, 0, 3}, PadMode::Reflect), Catch::Contains("height 3"));
  CHECK_NOTHROW(pad(x, {3, 3, 2, 2}, PadMode::Reflect));
  CHECK_THROWS_WITH(pad(x, {5, 0, 0, 0}, PadMode::Circular),
                    Catch::Contains("circular") && Catch::Contains("at most once") && Catch::Contains("width 4"));
  CHECK_THROWS_AS(pad(x, {4, -1, 0, 0}, PadMode::Circular), ShapeError);  // 3 left after the crop
  CHECK_NOTHROW(pad(x, {3, -1, 0, 0}, PadMode::Circular));
  CHECK_THROWS_WITH(pad(x, {-3, -2, 0, 0}), Catch::Contains("pad") && Catch::Contains("negative") &&
                                                Catch::Contains("[1, 2, 3, 4]"));
  // Ranks: constant takes any rank that has the padded dims, the others PyTorch's.
  CHECK_THROWS_AS(pad(zeros<float>({4}), {1, 1, 1, 1}), ShapeError);
  CHECK(pad(zeros<float>({4}), {1, 1}).shape() == Shape{6});
  CHECK(pad(zeros<float>({2, 1, 2, 3, 4}), {1, 1, 1, 1}).shape() == Shape{2, 1, 2, 5, 6});
  CHECK_THROWS_WITH(pad(zeros<float>({3, 4}), {1, 1, 1, 1}, PadMode::Reflect),
                    Catch::Contains("pad") && Catch::Contains("3-d or 4-d") && Catch::Contains("[3, 4]"));
  CHECK_THROWS_AS(pad(zeros<float>({1, 1, 1, 3, 4}), {1, 1, 1, 1}, PadMode::Replicate), ShapeError);
  CHECK_THROWS_AS(pad(x, {1, 1}, PadMode::Reflect), ShapeError);
  CHECK_THROWS_WITH(pad(zeros<float>({1, 0, 4}), {1, 1, 1, 1}, PadMode::Replicate),
                    Catch::Contains("non-empty height"));
}

TEST_CASE("padding many planes (split across threads) equals padding plane by plane") {
  Generator gen(7);
  auto x = rand<float>({4, 16, 40, 40}, gen);
  for (auto mode : {PadMode::Constant, PadMode::Reflect, PadMode::Replicate, PadMode::Circular}) {
    const auto y = pad(x, {3, 2, -1, 5}, mode);
    for (int64_t n = 0; n < 4; ++n)
      for (int64_t c = 0; c < 16; c += 5) {
        const auto one = pad(x.slice(0, n, n + 1).slice(1, c, c + 1), {3, 2, -1, 5}, mode);
        REQUIRE(one.to_vector() == y.slice(0, n, n + 1).slice(1, c, c + 1).contiguous().to_vector());
      }
  }
}
