// Image IO: round trips through every format, channel modes, label maps, and clear IoErrors (with
// the path and the reason) for missing, empty, truncated, corrupt and non-image files.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "crisp/crisp.hpp"
#include "crisp/data/image_io.hpp"
#include "data_test_util.hpp"

using namespace crisp;
using namespace crisp::data;
using crisp::test::scratch;

namespace {

// A [C, H, W] image whose values are exact multiples of 1/255.
Tensor<float> pattern(int64_t C, int64_t H, int64_t W) {
  Tensor<float> t = Tensor<float>::empty(Shape{C, H, W});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) t.data()[(c * H + y) * W + x] = static_cast<float>((x * 7 + y * 13 + c * 50) % 256) / 255.0f;
  return t;
}
// A smooth image (JPEG-friendly).
Tensor<float> smooth(int64_t C, int64_t H, int64_t W) {
  Tensor<float> t = Tensor<float>::empty(Shape{C, H, W});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        t.data()[(c * H + y) * W + x] = 0.5f + 0.4f * std::sin(0.15f * x + 0.1f * y + c);
  return t;
}
double max_abs_diff(const Tensor<float>& a, const Tensor<float>& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(double(a.data()[i]) - b.data()[i]));
  return m;
}
template <class F>
std::string io_error_of(F f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  FAIL("expected crisp::IoError");
  return "";
}

}  // namespace

TEST_CASE("lossless formats round-trip 8-bit images exactly", "[data][image_io]") {
  for (const char* ext : {"png", "bmp", "tga"})
    for (int64_t C : {1, 3}) {
      INFO(ext << " C=" << C);
      const Tensor<float> img = pattern(C, 9, 14);
      const std::string path = scratch(std::string("rt_") + std::to_string(C) + "." + ext);
      save_image(img, path);
      // stb_image_write stores gray BMPs as 24-bit colour: read them back as gray.
      const Tensor<float> back = load_image(path, std::string(ext) == "bmp" && C == 1 ? ImageMode::Gray : ImageMode::Auto);
      CHECK(back.shape() == img.shape());
      CHECK(max_abs_diff(back, img) == 0.0);
    }
}

TEST_CASE("writing clamps, rounds and refuses NaN", "[data][image_io]") {
  Tensor<float> img = from_vector<float>({-0.5f, 0.0f, 0.5f, 1.0f, 2.0f, 0.1f}, Shape{1, 2, 3});
  save_image(img, scratch("clamp.png"));
  const Tensor<float> back = load_image(scratch("clamp.png"));
  const std::vector<float> want{0, 0, 128 / 255.0f, 1, 1, 26 / 255.0f};  // 127.5 and 25.5 round up
  for (int i = 0; i < 6; ++i) CHECK(back.data()[i] == Approx(want[static_cast<size_t>(i)]).margin(1e-7));
  img.data()[2] = std::nanf("");
  CHECK_THROWS_AS(save_image(img, scratch("nan.png")), ValueError);
  CHECK_THROWS_AS(save_image(img, scratch("bad.gif")), ValueError);
  CHECK_THROWS_AS(save_image(pattern(2, 4, 4), scratch("two.png")), ShapeError);
  CHECK_THROWS_AS(save_image(pattern(3, 4, 4), scratch("nodir/x.png")), IoError);
  CHECK_FALSE(std::filesystem::exists(scratch("nan.png")));
}

TEST_CASE("[H, W] tensors and non-contiguous views are written as expected", "[data][image_io]") {
  const Tensor<float> img = pattern(3, 6, 8);
  const Tensor<float> gray = pattern(1, 6, 8).reshape(Shape{6, 8});
  save_image(gray, scratch("gray2d.png"));
  CHECK(load_image(scratch("gray2d.png")).shape() == Shape{1, 6, 8});
  const Tensor<float> t = img.transpose(1, 2);  // [3, 8, 6], strided
  save_image(t, scratch("strided.png"));
  CHECK(max_abs_diff(load_image(scratch("strided.png")), t.contiguous()) == 0.0);
}

TEST_CASE("JPEG round trip is close and quality matters", "[data][image_io]") {
  const Tensor<float> img = smooth(3, 32, 48);
  save_image(img, scratch("q95.jpg"), 95);
  save_image(img, scratch("q20.jpeg"), 20);
  const Tensor<float> hi = load_image(scratch("q95.jpg")), lo = load_image(scratch("q20.jpeg"));
  CHECK(hi.shape() == img.shape());
  CHECK(max_abs_diff(hi, img) < 0.06);
  CHECK(std::filesystem::file_size(scratch("q20.jpeg")) < std::filesystem::file_size(scratch("q95.jpg")));
  CHECK_THROWS_AS(encode_jpeg(img, 0), ValueError);
  CHECK_THROWS_AS(encode_jpeg(img, 101), ValueError);
  const auto bytes = encode_jpeg(img, 90);
  CHECK(decode_image(bytes).shape() == img.shape());
}

TEST_CASE("channel modes: gray to RGB, RGB to gray, RGBA drops alpha", "[data][image_io]") {
  const Tensor<float> g = pattern(1, 5, 7);
  save_image(g, scratch("g.png"));
  const Tensor<float> rgb = load_image(scratch("g.png"), ImageMode::RGB);
  REQUIRE(rgb.shape() == Shape{3, 5, 7});
  for (int64_t i = 0; i < 35; ++i) {
    CHECK(rgb.data()[i] == g.data()[i]);
    CHECK(rgb.data()[35 + i] == g.data()[i]);
    CHECK(rgb.data()[70 + i] == g.data()[i]);
  }
  Tensor<float> rgba = pattern(4, 5, 7);
  save_image(rgba, scratch("rgba.png"));
  const Tensor<float> auto3 = load_image(scratch("rgba.png"));
  REQUIRE(auto3.shape() == Shape{3, 5, 7});
  for (int64_t i = 0; i < 3 * 35; ++i) CHECK(auto3.data()[i] == rgba.data()[i]);
  const Tensor<float> gray = load_image(scratch("rgba.png"), ImageMode::Gray);
  REQUIRE(gray.shape() == Shape{1, 5, 7});
  // stb's luma: (77 R + 150 G + 29 B) >> 8 on 8-bit values.
  for (int64_t i = 0; i < 35; ++i) {
    const int r = int(std::lround(rgba.data()[i] * 255)), gg = int(std::lround(rgba.data()[35 + i] * 255)),
              b = int(std::lround(rgba.data()[70 + i] * 255));
    CHECK(gray.data()[i] == float((77 * r + 150 * gg + 29 * b) >> 8) / 255.0f);
  }
}

TEST_CASE("binary PGM / PPM, including 16-bit samples", "[data][image_io]") {
  std::vector<uint8_t> p5 = {'P', '5', '\n', '#', ' ', 'c', '\n', '3', ' ', '2', '\n', '2', '5', '5', '\n'};
  for (uint8_t v : {0, 51, 102, 153, 204, 255}) p5.push_back(v);
  crisp::test::write_bytes(scratch("a.pgm"), p5);
  const Tensor<float> a = load_image(scratch("a.pgm"));
  REQUIRE(a.shape() == Shape{1, 2, 3});
  CHECK(a.data()[1] == Approx(0.2f));
  std::vector<uint8_t> p16 = {'P', '5', ' ', '2', ' ', '1', ' ', '6', '5', '5', '3', '5', '\n', 0x12, 0x34, 0xFF, 0xFF};
  crisp::test::write_bytes(scratch("b.pgm"), p16);
  const Tensor<float> b = load_image(scratch("b.pgm"));
  REQUIRE(b.shape() == Shape{1, 1, 2});
  CHECK(b.data()[0] == Approx(0x1234 / 65535.0).epsilon(1e-7));  // big-endian, full 16-bit precision
  CHECK(b.data()[1] == 1.0f);
  std::vector<uint8_t> p6 = {'P', '6', ' ', '1', ' ', '1', ' ', '1', '5', '\n', 15, 5, 0};  // maxval 15
  crisp::test::write_bytes(scratch("c.ppm"), p6);
  const Tensor<float> c = load_image(scratch("c.ppm"));
  REQUIRE(c.shape() == Shape{3, 1, 1});
  CHECK(c.data()[0] == 1.0f);
  CHECK(c.data()[1] == Approx(1 / 3.0));
  CHECK(load_image(scratch("c.ppm"), ImageMode::Gray).shape() == Shape{1, 1, 1});
}

TEST_CASE("label maps: gray PNG ids round trip, colour refused", "[data][image_io]") {
  Tensor<int64_t> lab = Tensor<int64_t>::empty(Shape{6, 5});
  for (int64_t i = 0; i < 30; ++i) lab.data()[i] = (i * 7) % 19;
  save_label_map(lab, scratch("lab.png"));
  const Tensor<int64_t> back = load_label_map(scratch("lab.png"));
  REQUIRE(back.shape() == Shape{6, 5});
  for (int64_t i = 0; i < 30; ++i) CHECK(back.data()[i] == lab.data()[i]);
  lab.data()[3] = 256;
  CHECK_THROWS_AS(save_label_map(lab, scratch("lab2.png")), ValueError);
  save_image(pattern(3, 4, 4), scratch("colour.png"));
  const std::string msg = io_error_of([] { load_label_map(scratch("colour.png")); });
  CHECK_THAT(msg, Catch::Contains("colour.png") && Catch::Contains("single-channel"));
  // A gray image saved with 3 equal channels is accepted.
  const Tensor<float> g = pattern(1, 4, 4);
  Tensor<float> g3 = Tensor<float>::empty(Shape{3, 4, 4});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 16; ++i) g3.data()[c * 16 + i] = g.data()[i];
  save_image(g3, scratch("gray3.png"));
  CHECK(load_label_map(scratch("gray3.png")).data()[5] == std::lround(g.data()[5] * 255));
}

TEST_CASE("missing, empty, non-image and directory paths throw IoError naming the path", "[data][image_io]") {
  std::string m = io_error_of([] { load_image(scratch("does_not_exist.png")); });
  CHECK_THAT(m, Catch::Contains("does_not_exist.png") && Catch::Contains("No such file"));
  crisp::test::write_bytes(scratch("empty.png"), {});
  m = io_error_of([] { load_image(scratch("empty.png")); });
  CHECK_THAT(m, Catch::Contains("empty.png") && Catch::Contains("empty"));
  crisp::test::write_bytes(scratch("text.jpg"), {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'});
  m = io_error_of([] { load_image(scratch("text.jpg")); });
  CHECK_THAT(m, Catch::Contains("text.jpg") && Catch::Contains("cannot decode"));
  m = io_error_of([] { load_image(crisp::test::scratch_dir().string()); });
  CHECK_THAT(m, Catch::Contains("directory"));
  CHECK_THROWS_AS(load_label_map(scratch("does_not_exist.png")), IoError);
}

TEST_CASE("truncated files of every format throw IoError", "[data][image_io]") {
  const Tensor<float> img = smooth(3, 24, 40);
  for (const char* ext : {"png", "jpg", "bmp", "tga"}) {
    const std::string full = scratch(std::string("full.") + ext);
    save_image(img, full);
    const auto bytes = crisp::test::read_bytes(full);
    for (double frac : {0.3, 0.6, 0.9, 0.99}) {
      const std::string cut = scratch(std::string("cut.") + ext);
      crisp::test::write_bytes(cut, std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() * frac)));
      INFO(ext << " cut at " << frac);
      const std::string m = io_error_of([&] { load_image(cut); });
      CHECK_THAT(m, Catch::Contains("cut."));
    }
  }
  std::vector<uint8_t> p6 = {'P', '6', ' ', '4', ' ', '4', ' ', '2', '5', '5', '\n'};
  p6.resize(p6.size() + 40, 7);  // 48 sample bytes promised
  crisp::test::write_bytes(scratch("cut.ppm"), p6);
  CHECK_THAT(io_error_of([] { load_image(scratch("cut.ppm")); }), Catch::Contains("truncated"));
}

TEST_CASE("a JPEG Huffman table with more than 256 codes is refused (stb 2.27 overflow)", "[data][image_io]") {
  auto bytes = encode_jpeg(smooth(3, 16, 16), 80);
  size_t dht = 0;
  for (size_t i = 2; i + 1 < bytes.size() && !dht; ++i)
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xC4) dht = i;
  REQUIRE(dht > 0);
  for (size_t k = 0; k < 16; ++k) bytes[dht + 5 + k] = 200;  // 16 x 200 codes in the first table
  try {
    decode_image(bytes, ImageMode::Auto, "evil.jpg");
    FAIL("expected IoError");
  } catch (const IoError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("evil.jpg") && Catch::Contains("Huffman"));
  }
}

TEST_CASE("corrupted bytes never crash: decode or IoError", "[data][image_io]") {
  const Tensor<float> img = smooth(3, 16, 16);
  Generator gen(7);
  for (const auto& bytes : {encode_png(img), encode_jpeg(img, 80)}) {
    const char* env = std::getenv("CRISP_FUZZ_TRIALS");  // more under sanitizers
    const int trials = env ? std::atoi(env) : 150;
    for (int trial = 0; trial < trials; ++trial) {
      auto b = bytes;
      const int flips = 1 + static_cast<int>(gen.uniform_int(8));
      for (int f = 0; f < flips; ++f) b[gen.uniform_int(b.size())] = static_cast<uint8_t>(gen.uniform_int(256));
      try {
        const Tensor<float> t = decode_image(b, ImageMode::Auto, "mutated");
        CHECK(t.dim() == 3);
      } catch (const IoError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("mutated"));
      }
    }
  }
}

TEST_CASE("real faces and parsing labels load (skipped without ../shared/data)", "[data][image_io][real]") {
  if (!crisp::test::have_shared("faces/28083.jpg") || !crisp::test::have_shared("parsing/labels")) return;
  const Tensor<float> face = load_image(crisp::test::shared_data("faces/28083.jpg"));
  REQUIRE(face.shape() == Shape{3, 1024, 1024});
  double mean = 0;
  float lo = 1, hi = 0;
  for (int64_t i = 0; i < face.numel(); ++i) {
    lo = std::min(lo, face.data()[i]), hi = std::max(hi, face.data()[i]);
    mean += face.data()[i];
  }
  mean /= double(face.numel());
  CHECK(lo >= 0.0f);
  CHECK(hi <= 1.0f);
  CHECK(mean > 0.1);
  CHECK(mean < 0.9);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(crisp::test::shared_data("parsing/labels"))) {
    const Tensor<int64_t> lab = load_label_map(e.path().string());
    CHECK(lab.shape() == Shape{512, 512});
    int64_t mx = 0;
    for (int64_t i = 0; i < lab.numel(); ++i) mx = std::max(mx, lab.data()[i]);
    CHECK(mx <= 18);
    CHECK(mx >= 1);
    ++files;
  }
  CHECK(files == 12);
}
