// Transforms: resize against PyTorch's F.interpolate (goldens from tools/make_data_goldens.py),
// torchvision-style crops and flips, and affine warps applied identically to images and labels.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <sstream>

#include "crisp/crisp.hpp"
#include "crisp/data/transforms.hpp"
#include "crisp/io/safetensors.hpp"

using namespace crisp;
using namespace crisp::data;

namespace {

const std::string kGolden = std::string(CRISP_TEST_DATA_DIR) + "/golden/data_ops.safetensors";

std::map<std::string, std::string> parse_spec(const std::string& s) {
  std::map<std::string, std::string> m;
  std::istringstream in(s);
  for (std::string tok; in >> tok;) m[tok.substr(0, tok.find('='))] = tok.substr(tok.find('=') + 1);
  return m;
}

Tensor<float> ramp(int64_t C, int64_t H, int64_t W) {
  Tensor<float> t = Tensor<float>::empty(Shape{C, H, W});
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(i);
  return t;
}

}  // namespace

TEST_CASE("resize matches torch.nn.functional.interpolate", "[data][transforms][golden]") {
  const auto g = io::load_safetensors<float>(kGolden);
  const auto meta = io::load_safetensors_metadata(kGolden);
  const std::set<std::string> table{"bilinear_down", "bilinear_up", "bilinear_same", "bicubic_down",
                                    "bicubic_up",    "area_int",    "area_frac",     "area_up",
                                    "nearest_down",  "nearest_up",  "nearest_x2"};
  std::set<std::string> in_file;
  for (const auto& [k, v] : meta)
    if (k.rfind("resize.", 0) == 0) in_file.insert(k.substr(7));
  REQUIRE(in_file == table);  // no case silently skipped
  for (const auto& name : table) {
    INFO("case " << name);
    const auto spec = parse_spec(meta.at("resize." + name));
    const std::map<std::string, Interpolation> modes{{"bilinear", Interpolation::Bilinear},
                                                     {"bicubic", Interpolation::Bicubic},
                                                     {"area", Interpolation::Area},
                                                     {"nearest", Interpolation::Nearest}};
    const Tensor<float> out = resize(g.at("resize." + name + ".in"), {std::stoll(spec.at("h")), std::stoll(spec.at("w"))},
                                     modes.at(spec.at("mode")));
    const Tensor<float>& want = g.at("resize." + name + ".out");
    REQUIRE(out.shape() == want.shape());
    double err = 0;
    for (int64_t i = 0; i < out.numel(); ++i) err = std::max(err, std::fabs(double(out.data()[i]) - want.data()[i]));
    CHECK(err < 1e-5);
  }
}

TEST_CASE("resize keeps [H, W] shapes, checks arguments, and labels use nearest", "[data][transforms]") {
  const Tensor<float> x = ramp(1, 4, 6).reshape(Shape{4, 6});
  CHECK(resize(x, {2, 3}, Interpolation::Area).shape() == Shape{2, 3});
  CHECK(resize(x, {2, 3}, Interpolation::Area).data()[0] == Approx((0 + 1 + 6 + 7) / 4.0));
  CHECK_THROWS_AS(resize(x, {0, 3}), ValueError);
  CHECK_THROWS_AS(resize(ramp(1, 1, 1).reshape(Shape{1}), {2, 2}), ShapeError);
  Tensor<int64_t> lab = Tensor<int64_t>::empty(Shape{4, 6});
  for (int64_t i = 0; i < 24; ++i) lab.data()[i] = i % 5;
  const Tensor<int64_t> up = resize_label_map(lab, {8, 12});
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t xx = 0; xx < 12; ++xx) CHECK(up.data()[y * 12 + xx] == lab.data()[(y / 2) * 6 + xx / 2]);
}

TEST_CASE("crops follow torchvision", "[data][transforms]") {
  const Tensor<float> x = ramp(2, 7, 10);
  const Tensor<float> c = crop(x, 1, 2, 3, 4);
  REQUIRE(c.shape() == Shape{2, 3, 4});
  CHECK(c.data()[0] == 12);                 // (0, 1, 2)
  CHECK(c.data()[12] == 70 + 12);           // (1, 1, 2)
  CHECK_THROWS_AS(crop(x, 5, 0, 3, 4), ValueError);
  // centre: top = round((7 - 4) / 2) = round(1.5) = 2 (half to even), left = round((10 - 5) / 2) = 2.
  const Tensor<float> cc = center_crop(x, {4, 5});
  CHECK(cc.data()[0] == 2 * 10 + 2);
  const Tensor<float> cc2 = center_crop(ramp(1, 9, 9), {4, 4});  // round(2.5) = 2
  CHECK(cc2.data()[0] == 2 * 9 + 2);
  CHECK_THROWS_AS(center_crop(x, {8, 5}), ValueError);

  Generator g1(3), g2(3);
  const Tensor<float> r1 = random_crop(x, {3, 3}, g1), r2 = random_crop(x, {3, 3}, g2);
  CHECK(r1.to_vector() == r2.to_vector());
  std::set<float> corners;
  Generator g(11);
  for (int i = 0; i < 2000; ++i) {
    const CropParams p = random_crop_params(7, 10, {3, 3}, g);
    REQUIRE(p.top >= 0);
    REQUIRE(p.top <= 4);
    REQUIRE(p.left >= 0);
    REQUIRE(p.left <= 7);
    corners.insert(float(p.top * 10 + p.left));
  }
  CHECK(corners.size() == 40);  // all 5 x 8 positions reached

  Tensor<int64_t> lab = Tensor<int64_t>::empty(Shape{7, 10});
  for (int64_t i = 0; i < 70; ++i) lab.data()[i] = i;
  Generator g3(5);
  const auto [ci, cl] = random_crop(x, lab, {4, 4}, g3);
  for (int64_t i = 0; i < 16; ++i) CHECK(ci.data()[i] == float(cl.data()[i]));
  CHECK_THROWS_AS(random_crop(x, resize_label_map(lab, {7, 9}), {4, 4}, g3), ShapeError);
}

TEST_CASE("flips", "[data][transforms]") {
  const Tensor<float> x = ramp(2, 3, 4);
  const Tensor<float> h = hflip(x), v = vflip(x);
  CHECK(h.data()[0] == 3);
  CHECK(h.data()[12 + 4 + 3] == 12 + 4);
  CHECK(v.data()[0] == 8);
  CHECK(hflip(h).to_vector() == x.to_vector());
  Tensor<int64_t> lab = Tensor<int64_t>::empty(Shape{2, 3});
  for (int64_t i = 0; i < 6; ++i) lab.data()[i] = i;
  CHECK(hflip(lab).to_vector() == std::vector<int64_t>{2, 1, 0, 5, 4, 3});
  CHECK(hflip(x.transpose(1, 2)).data()[0] == x.data()[2 * 4]);  // strided input: xt(0, 0, 2) = x(0, 2, 0)
}

TEST_CASE("affine: identity, integer shifts and a quarter turn are exact", "[data][transforms]") {
  const Tensor<float> x = ramp(2, 5, 5);
  CHECK(affine(x, AffineParams{}).to_vector() == x.to_vector());
  AffineParams shift;
  shift.translate = {1, 2};  // right 1, down 2
  const Tensor<float> s = affine(x, shift, -1.0f);
  for (int64_t y = 0; y < 5; ++y)
    for (int64_t xx = 0; xx < 5; ++xx) {
      const float want = (y >= 2 && xx >= 1) ? x.data()[(y - 2) * 5 + xx - 1] : -1.0f;
      CHECK(s.data()[y * 5 + xx] == want);
    }
  // 90 degrees counter-clockwise on screen: the right edge's middle goes to the top's middle.
  AffineParams q;
  q.angle = 90;
  const Tensor<float> r = affine(x, q);
  for (int64_t y = 0; y < 5; ++y)
    for (int64_t xx = 0; xx < 5; ++xx) CHECK(r.data()[y * 5 + xx] == Approx(x.data()[xx * 5 + (4 - y)]).margin(1e-4));
  Tensor<int64_t> lab = Tensor<int64_t>::empty(Shape{5, 5});
  for (int64_t i = 0; i < 25; ++i) lab.data()[i] = i;
  const Tensor<int64_t> rl = affine_label_map(lab, q);
  for (int64_t y = 0; y < 5; ++y)
    for (int64_t xx = 0; xx < 5; ++xx) CHECK(rl.data()[y * 5 + xx] == xx * 5 + (4 - y));
  AffineParams half;
  half.scale = 2;  // zoom in about the centre pixel
  CHECK(affine(x, half).data()[2 * 5 + 2] == x.data()[12]);
  half.scale = 0;
  CHECK_THROWS_AS(affine(x, half), ValueError);
}

TEST_CASE("random affine: seeded, and image and labels move together", "[data][transforms]") {
  const int64_t H = 24, W = 20, K = 4;
  Tensor<int64_t> lab = Tensor<int64_t>::empty(Shape{H, W});
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) lab.data()[y * W + x] = (y / 6 + x / 5) % K;
  // One-hot image of the labels: bilinear warps of channel k are positive wherever one of the
  // four source taps has label k, and the nearest tap (the label's source) is one of them.
  Tensor<float> onehot = zeros<float>(Shape{K, H, W});
  for (int64_t i = 0; i < H * W; ++i) onehot.data()[lab.data()[i] * H * W + i] = 1;
  RandomAffineOptions o;
  o.degrees = 30;
  o.translate = {0.1, 0.1};
  o.scale = {0.8, 1.2};
  o.label_fill = 255;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Generator g1(seed), g2(seed);
    const auto [wi, wl] = random_affine(onehot, lab, o, g1);
    const auto [wi2, wl2] = random_affine(onehot, lab, o, g2);
    REQUIRE(wi.to_vector() == wi2.to_vector());
    REQUIRE(wl.to_vector() == wl2.to_vector());
    int64_t filled = 0;
    for (int64_t i = 0; i < H * W; ++i) {
      const int64_t l = wl.data()[i];
      if (l == 255) {
        ++filled;
        continue;
      }
      REQUIRE(l >= 0);
      REQUIRE(l < K);
      CHECK(wi.data()[l * H * W + i] > 0.0f);
    }
    CHECK(filled < H * W / 2);
  }
  Generator a(1), b(2);
  CHECK(random_affine_params(H, W, o, a).angle != random_affine_params(H, W, o, b).angle);
  o.scale = {1.2, 0.8};
  CHECK_THROWS_AS(random_affine(onehot, o, a), ValueError);
}
