// The imported face-api.js networks (crisp/models/face_recognition.hpp, tiny_face_detector.hpp,
// face_api_input.hpp): layouts and parameter counts, input preparation, box decoding and
// non-maximum suppression on hand-made cases, strict loading; and, when the package's weights are
// present (tools/fetch_face_api.sh), parity with the package's own outputs
// (tests/data/golden/models_face_api.safetensors, tools/face_api_goldens.sh) within 1e-4 on
// synthetic images and, with ../shared/data, on real faces. Without the weights those cases WARN
// "SKIPPED" and pass.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <crisp/crisp.hpp>
#include <crisp/models/face_recognition.hpp>
#include <crisp/models/tiny_face_detector.hpp>

#include "../data/data_test_util.hpp"
#include "../golden_util.hpp"

namespace fs = std::filesystem;
namespace models = crisp::models;
using crisp::Shape;
using crisp::Tensor;
using Catch::Contains;

namespace {

const crisp::test::GoldenFile& golden() {
  static const crisp::test::GoldenFile f("models_face_api.safetensors");
  return f;
}
const Tensor<float>& G(const std::string& key) { return golden().get(key); }

// Where tools/fetch_face_api.sh puts the weights, or $CRISP_FACE_API_DIR.
std::string model_dir() {
  if (const char* d = std::getenv("CRISP_FACE_API_DIR")) return d;
  return std::string(CRISP_TEST_DATA_DIR) + "/../../third_party/face-api/model";
}
bool have_weights() {
  const bool ok = fs::exists(model_dir() + "/face_recognition_model-weights_manifest.json") &&
                  fs::exists(model_dir() + "/tiny_face_detector_model-weights_manifest.json");
  if (!ok)
    WARN("SKIPPED: face-api.js weights absent in " << model_dir()
                                                   << " (run tools/fetch_face_api.sh, or set CRISP_FACE_API_DIR)");
  return ok;
}

models::FaceRecognitionNet& recognition_net() {
  static models::FaceRecognitionNet net = [] {
    models::FaceRecognitionNet n;
    n->load_tfjs(model_dir() + "/face_recognition_model-weights_manifest.json");
    return n;
  }();
  return net;
}
models::TinyFaceDetector& tiny_detector() {
  static models::TinyFaceDetector net = [] {
    models::TinyFaceDetector n;
    n->load_tfjs(model_dir() + "/tiny_face_detector_model-weights_manifest.json");
    return n;
  }();
  return net;
}

// tools/face_api_reference.js's synthetic(h, w, seed): [3, H, W] integer values 0..255.
Tensor<float> synthetic_image(int64_t h, int64_t w, int64_t seed) {
  Tensor<float> t = Tensor<float>::empty({3, h, w});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const int64_t smooth = (x * (3 + c) + y * (5 - c) + seed * 17) % 256;
        const int64_t blob = ((x - (w >> 1)) * (x - (w >> 1)) + (y - (h >> 1)) * (y - (h >> 1))) % 97;
        t.data()[(c * h + y) * w + x] = static_cast<float>((smooth + 2 * blob + c * 31) % 256);
      }
  return t;
}

double checksum(const Tensor<float>& img255) {
  double s = 0;
  for (int64_t k = 0; k < img255.numel(); ++k) s += static_cast<double>(img255.data()[k]) * static_cast<double>(k % 7 + 1);
  return s;
}

Tensor<float> scaled(const Tensor<float>& t, float f) {
  Tensor<float> o = Tensor<float>::empty(t.shape());
  for (int64_t k = 0; k < t.numel(); ++k) o.data()[k] = t.data()[k] * f;
  return o;
}

double max_abs_diff(const Tensor<float>& a, const Tensor<float>& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (int64_t k = 0; k < a.numel(); ++k) {
    const double d = std::abs(static_cast<double>(a.data()[k]) - static_cast<double>(b.data()[k]));
    if (!(d <= m)) m = d;
  }
  return m;
}

// Measured differences, printed once at exit for the record (docs/models.md).
struct Worst {
  double descriptor = 0, head = 0, detection_rel = 0, detection_px = 0, score = 0;
  int inputs = 0, detections = 0;
  ~Worst() {
    if (inputs)
      std::cout << "face-api parity over " << inputs << " inputs, " << detections
                << " detections: max |diff| descriptor " << descriptor << ", tiny head " << head << ", score " << score
                << ", relative box " << detection_rel << ", box px " << detection_px << "\n";
  }
};
Worst worst;

// Runs both networks on `img255` ([3, H, W], 0..255) and compares with the golden `key`.
void check_against_golden(const std::string& key, const Tensor<float>& img255, const std::vector<int64_t>& sizes) {
  INFO("golden input " << key);
  const Tensor<float>& shape = G(key + ".input_shape");
  REQUIRE(img255.dim() == 3);
  REQUIRE(shape.to_vector() == std::vector<float>{3.f, float(img255.size(1)), float(img255.size(2))});
  // The same pixels as the package saw (JPEG decoders differ; this one is crisp's).
  const double want_sum = G(key + ".input_checksum").data()[0];
  REQUIRE(std::abs(checksum(img255) - want_sum) <= 1e-6 * want_sum);
  const Tensor<float> img = scaled(img255, 1.f / 255.f);
  ++worst.inputs;

  const Tensor<float> desc = recognition_net()->descriptor(img);
  const double dd = max_abs_diff(desc, G(key + ".descriptor"));
  worst.descriptor = std::max(worst.descriptor, dd);
  INFO("descriptor max |diff| " << dd);
  CHECK(dd <= 1e-4);

  for (int64_t size : sizes) {
    const std::string k = key + ".tiny" + std::to_string(size);
    INFO("input_size " << size);
    auto& det = tiny_detector();
    det->options.input_size(size);
    crisp::NoGradGuard no_grad;
    const Tensor<float> head = det->forward(models::face_api_square_resize(img, size, false));
    const double hd = max_abs_diff(head, G(k + ".head"));
    worst.head = std::max(worst.head, hd);
    INFO("head max |diff| " << hd);
    CHECK(hd <= 1e-4);
    const auto dets = det->decode(head, img.size(1), img.size(2));
    const Tensor<float>& want = G(k + ".detections");
    REQUIRE(static_cast<int64_t>(dets.size()) == want.size(0));
    for (size_t r = 0; r < dets.size(); ++r) {
      const auto& d = dets[r];
      const float* w = want.data() + r * 9;
      const double px[4] = {d.x, d.y, d.width, d.height}, rel[4] = {d.rel_x, d.rel_y, d.rel_width, d.rel_height};
      worst.score = std::max(worst.score, std::abs(d.score - w[0]));
      CHECK(std::abs(d.score - w[0]) <= 1e-4);
      for (int i = 0; i < 4; ++i) {
        worst.detection_px = std::max(worst.detection_px, std::abs(px[i] - w[1 + i]));
        worst.detection_rel = std::max(worst.detection_rel, std::abs(rel[i] - w[5 + i]));
        // Relative coordinates within 1e-4; pixels within 1e-4 of the image size.
        CHECK(std::abs(rel[i] - w[5 + i]) <= 1e-4);
        CHECK(std::abs(px[i] - w[1 + i]) <= 1e-4 * static_cast<double>(std::max(img.size(1), img.size(2))));
      }
      ++worst.detections;
    }
    // detect() is the same path end to end.
    const auto again = det->detect(img);
    REQUIRE(again.size() == dets.size());
    for (size_t r = 0; r < dets.size(); ++r) CHECK(again[r].score == dets[r].score);
  }
  tiny_detector()->options.input_size(416);
}

}  // namespace

TEST_CASE("FaceRecognitionNet: face-api.js's layout, names and parameter count", "[models][face_api]") {
  models::FaceRecognitionNet net;
  const auto sd = net->state_dict();
  // 29 conv + scale layers (1 + 14 blocks x 2) x 4 tensors, and fc.
  CHECK(sd.size() == 29 * 4 + 1);
  CHECK(sd.at("conv32_down.conv.weight").shape() == Shape{32, 3, 7, 7});
  CHECK(sd.at("conv64_down.conv1.conv.weight").shape() == Shape{64, 32, 3, 3});
  CHECK(sd.at("conv256_down_out.conv2.scale.bias").shape() == Shape{256});
  CHECK(sd.at("fc.weight").shape() == Shape{128, 256});
  // As many values as the package's manifest holds (117 weights).
  CHECK(crisp::test::count_parameters(*net) == 5'614'592);

  crisp::NoGradGuard no_grad;
  Tensor<float> x = crisp::rand<float>({2, 3, 150, 150});
  const auto f = net->forward_features(x, {"conv32_down", "pool", "conv64_down", "conv256_down_out", "average", "descriptor"});
  CHECK(f.at("conv32_down").shape() == Shape{2, 32, 72, 72});
  CHECK(f.at("pool").shape() == Shape{2, 32, 35, 35});
  CHECK(f.at("conv64_down").shape() == Shape{2, 64, 17, 17});
  CHECK(f.at("conv256_down_out").shape() == Shape{2, 256, 2, 2});
  CHECK(f.at("average").shape() == Shape{2, 256});
  CHECK(f.at("descriptor").shape() == Shape{2, 128});
  // Other sizes down to 103 x 103 (a 128 x 128 face for a perceptual loss).
  CHECK(net->forward(crisp::rand<float>({1, 3, 128, 128})).shape() == Shape{1, 128});
  CHECK(net->forward(crisp::rand<float>({1, 3, 103, 103})).shape() == Shape{1, 128});
  CHECK_THROWS_WITH(net->forward(crisp::rand<float>({1, 3, 102, 150})),
                    Contains("FaceRecognitionNet") && Contains("at least 103"));
  CHECK_THROWS_WITH(net->forward(crisp::rand<float>({1, 1, 150, 150})), Contains("[N, 3, H, W]"));
  CHECK_THROWS_WITH(net->forward_features(x, {"conv99"}), Contains("unknown layer \"conv99\"") && Contains("conv128_1"));
}

TEST_CASE("FaceRecognitionNet: gradients reach the input (for a perceptual loss)", "[models][face_api]") {
  models::FaceRecognitionNet net;
  Tensor<float> x = crisp::rand<float>({1, 3, 112, 112});
  x.requires_grad_(true);
  const auto f = net->forward_features(x, {"conv64_3"});
  crisp::sum(crisp::mul(f.at("conv64_3"), f.at("conv64_3"))).backward();
  REQUIRE(x.grad().defined());
  double s = 0;
  for (float g : x.grad().to_vector()) s += std::abs(g);
  CHECK(s > 0);
}

TEST_CASE("TinyFaceDetector: face-api.js's layout, names, sizes and options", "[models][face_api]") {
  models::TinyFaceDetector det;
  const auto sd = det->state_dict();
  CHECK(sd.size() == 2 + 5 * 3 + 2);
  CHECK(sd.at("conv0.weight").shape() == Shape{16, 3, 3, 3});
  CHECK(sd.at("conv1.depthwise.weight").shape() == Shape{16, 1, 3, 3});
  CHECK(sd.at("conv5.pointwise.weight").shape() == Shape{512, 256, 1, 1});
  CHECK(sd.at("conv5.pointwise.bias").shape() == Shape{512});
  CHECK(sd.at("conv8.weight").shape() == Shape{25, 512, 1, 1});
  CHECK(crisp::test::count_parameters(*det) == 193'321);  // the manifest's 19 weights
  crisp::NoGradGuard no_grad;
  CHECK(det->forward(crisp::rand<float>({1, 3, 416, 416})).shape() == Shape{1, 25, 13, 13});
  CHECK(det->forward(crisp::rand<float>({2, 3, 128, 128})).shape() == Shape{2, 25, 4, 4});
  CHECK_THROWS_WITH(det->forward(crisp::rand<float>({1, 3, 100, 100})), Contains("multiple of 32"));
  CHECK_THROWS_WITH(models::TinyFaceDetector(models::TinyFaceDetectorOptions().input_size(100)),
                    Contains("input_size") && Contains("100"));
  CHECK_THROWS_WITH(models::TinyFaceDetector(models::TinyFaceDetectorOptions().score_threshold(1.5)),
                    Contains("score_threshold"));
}

TEST_CASE("face_api_square_resize pads like face-api.js and resizes like tf.image.resizeBilinear", "[models][face_api]") {
  // 2 x 4 image: the square is 4 x 4; centred: 1 zero row before, 1 after; not centred: 2 after.
  Tensor<float> img = Tensor<float>::empty({3, 2, 4});
  for (int64_t k = 0; k < img.numel(); ++k) img.data()[k] = static_cast<float>(k + 1);
  const Tensor<float> c = models::face_api_square_resize(img, 4, true);
  const Tensor<float> e = models::face_api_square_resize(img, 4, false);
  REQUIRE(c.shape() == Shape{1, 3, 4, 4});
  for (int64_t x = 0; x < 4; ++x) {
    CHECK(c.at({0, 0, 0, x}) == 0.f);
    CHECK(c.at({0, 0, 1, x}) == img.at({0, 0, x}));
    CHECK(c.at({0, 2, 2, x}) == img.at({2, 1, x}));
    CHECK(c.at({0, 0, 3, x}) == 0.f);
    CHECK(e.at({0, 1, 0, x}) == img.at({1, 0, x}));
    CHECK(e.at({0, 1, 2, x}) == 0.f);
  }
  // Odd difference: Math.round(1.5) = 2 columns after, 1 before.
  const auto p = models::face_api_padding(5, 2, true);
  CHECK(p.square == 5);
  CHECK(p.left == 1);
  CHECK(p.top == 0);
  // Legacy bilinear 4 -> 3: source rows/cols 0, 4/3, 8/3 (no half-pixel shift, clamped ceil).
  Tensor<float> sq = Tensor<float>::empty({3, 4, 4});
  for (int64_t k = 0; k < sq.numel(); ++k) sq.data()[k] = static_cast<float>(k % 16);
  const Tensor<float> r = models::face_api_square_resize(sq, 3, false);
  auto ref = [&](int64_t y, int64_t x) {
    auto v = [&](int64_t yy, int64_t xx) { return static_cast<double>(yy * 4 + xx); };
    const double sy = y * 4.0 / 3, sx = x * 4.0 / 3;
    const int64_t y0 = static_cast<int64_t>(std::floor(sy)), x0 = static_cast<int64_t>(std::floor(sx));
    const int64_t y1 = std::min<int64_t>(3, static_cast<int64_t>(std::ceil(sy))), x1 = std::min<int64_t>(3, static_cast<int64_t>(std::ceil(sx)));
    const double top = v(y0, x0) + (v(y0, x1) - v(y0, x0)) * (sx - x0);
    const double bot = v(y1, x0) + (v(y1, x1) - v(y1, x0)) * (sx - x0);
    return top + (bot - top) * (sy - y0);
  };
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 3; ++x) CHECK(r.at({0, 1, y, x}) == Approx(ref(y, x)).margin(1e-6));
  CHECK_THROWS_WITH(models::face_api_square_resize(Tensor<float>::empty({1, 4, 4}), 3, true),
                    Contains("face_api_square_resize") && Contains("[1, 4, 4]"));
}

TEST_CASE("non_max_suppression keeps the best box of each overlapping group", "[models][face_api]") {
  const std::vector<std::array<double, 4>> boxes{{0, 0, 10, 10}, {1, 1, 10, 10}, {20, 20, 5, 5}, {0, 0, 10, 10}};
  const std::vector<double> scores{0.9, 0.8, 0.7, 0.9};
  // Equal scores: the later box wins (JavaScript's stable sort, then pop()).
  CHECK(models::non_max_suppression(boxes, scores, 0.4) == std::vector<size_t>{3, 2});
  // IoU of boxes 0 and 1 is 81 / 119 = 0.68: kept at a higher threshold.
  CHECK(models::non_max_suppression(boxes, scores, 0.7) == std::vector<size_t>{3, 1, 2});
  CHECK(models::non_max_suppression({}, {}, 0.4).empty());
  CHECK_THROWS_WITH(models::non_max_suppression(boxes, {0.1}, 0.4), Contains("non_max_suppression"));
}

TEST_CASE("TinyFaceDetector::decode: anchors, sigmoid, padding correction", "[models][face_api]") {
  models::TinyFaceDetector det(models::TinyFaceDetectorOptions().input_size(64));
  Tensor<float> head = crisp::full<float>({1, 25, 2, 2}, -10.f);  // all scores ~0
  // Cell (row 1, col 0), anchor 2: score logit 2, tx = ty = 0 (centre of the cell), tw = th = 0.
  for (int k = 0; k < 4; ++k) head.at({0, 2 * 5 + k, 1, 0}) = 0.f;
  head.at({0, 2 * 5 + 4, 1, 0}) = 2.f;
  // A 100 x 50 (H x W) image: padded to 100 x 100 at the right, so x is corrected by 2.
  const auto d = det->decode(head, 100, 50);
  REQUIRE(d.size() == 1);
  const double s = 1 / (1 + std::exp(-2.0));
  CHECK(d[0].score == Approx(s));
  const double w = 2.882459 / 2 * 2, h = 3.518061 / 2;  // anchor / cells, x corrected by 64 / 32
  const double cx = (0 + 0.5) / 2 * 2, cy = (1 + 0.5) / 2;
  CHECK(d[0].rel_width == Approx(w));
  CHECK(d[0].rel_height == Approx(h));
  CHECK(d[0].rel_x == Approx(cx - w / 2));
  CHECK(d[0].rel_y == Approx(cy - h / 2));
  CHECK(d[0].x == Approx(d[0].rel_x * 50));
  CHECK(d[0].height == Approx(d[0].rel_height * 100));
  CHECK_THROWS_WITH(det->decode(crisp::zeros<float>({1, 24, 2, 2}), 10, 10), Contains("[1, 25, C, C]"));
}

TEST_CASE("load_tfjs is strict: wrong manifests leave the network unchanged", "[models][face_api]") {
  const fs::path dir = fs::temp_directory_path() / ("crisp_face_api_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // A detector manifest with one weight of the wrong shape and nothing else.
  {
    std::ofstream(dir / "m.json") << R"([{"paths": ["m.bin"], "weights": [
      {"name": "conv0/filters", "shape": [3, 3, 3, 8], "dtype": "float32"},
      {"name": "conv9/bias", "shape": [1], "dtype": "float32"}]}])";
    std::ofstream bin(dir / "m.bin", std::ios::binary);
    const std::vector<float> zeros(3 * 3 * 3 * 8 + 1, 0.f);
    bin.write(reinterpret_cast<const char*>(zeros.data()), static_cast<std::streamsize>(zeros.size() * 4));
  }
  models::TinyFaceDetector det;
  const std::vector<float> before = det->conv0->weight.to_vector();
  try {
    det->load_tfjs((dir / "m.json").string());
    FAIL("expected load_tfjs to throw");
  } catch (const crisp::Error& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Contains("TinyFaceDetector::load_tfjs") && Contains("m.json"));
    CHECK_THAT(msg, Contains("conv0/filters: expected shape [3, 3, 3, 16], got [3, 3, 3, 8]"));
    CHECK_THAT(msg, Contains("missing weights (18)") && Contains("conv5/pointwise_filter"));
    CHECK_THAT(msg, Contains("unexpected weights (1)") && Contains("conv9/bias"));
  }
  CHECK(det->conv0->weight.to_vector() == before);
  models::FaceRecognitionNet rec;
  CHECK_THROWS_WITH(rec->load_tfjs((dir / "m.json").string()),
                    Contains("FaceRecognitionNet::load_tfjs") && Contains("missing weights (117)"));
  fs::remove_all(dir);
}

TEST_CASE("face-api.js parity on synthetic images (needs the package's weights)", "[models][face_api][weights]") {
  if (!have_weights()) return;
  check_against_golden("synthetic_97x131", synthetic_image(97, 131, 1), {128});
  check_against_golden("synthetic_150x150", synthetic_image(150, 150, 2), {160});
}

TEST_CASE("face-api.js parity on real faces (needs the weights and ../shared/data)", "[models][face_api][weights]") {
  if (!have_weights() || !crisp::test::have_shared("faces")) return;
  const std::vector<std::string> faces{"28083", "28090", "28093", "28123"};
  for (const auto& f : faces) {
    const Tensor<float> img = crisp::data::load_image(crisp::test::shared_data("faces/" + f + ".jpg"), crisp::data::ImageMode::RGB);
    Tensor<float> img255 = Tensor<float>::empty(img.shape());
    for (int64_t k = 0; k < img.numel(); ++k) img255.data()[k] = std::round(img.data()[k] * 255.f);
    check_against_golden("face_" + f, img255, {416, 224});
    if (f == faces.front()) {  // rows 160.. : a non-square real image
      const int64_t h = img255.size(1) - 160, w = img255.size(2);
      Tensor<float> crop = Tensor<float>::empty({3, h, w});
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x) crop.at({c, y, x}) = img255.at({c, y + 160, x});
      check_against_golden("face_" + f + "_rows160", crop, {416, 224});
    }
  }
  // The package finds every face at 224 (recorded for the detection-rate tables).
  for (const auto& f : faces) CHECK(G("face_" + f + ".tiny224.detections").size(0) == 1);
  const Tensor<float> a = G("face_28083.descriptor"), b = G("face_28090.descriptor");
  double d2 = 0;
  for (int k = 0; k < 128; ++k) d2 += std::pow(double(a.data()[k]) - double(b.data()[k]), 2);
  WARN("descriptor distance between faces 28083 and 28090: " << std::sqrt(d2));
}
