// Tests for crisp/io/tfjs_weights.hpp: hand-made TensorFlow.js manifests and shards (every dtype and
// quantization, multi-shard groups), the layout changes, the strict mapper, and one test per
// malformed-input defect.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "crisp/io/tfjs_weights.hpp"
#include "crisp/tensor/factory.hpp"

namespace fs = std::filesystem;
using namespace crisp;
using Catch::Contains;

namespace {

struct TempDir {
  fs::path dir;
  TempDir() {
    static std::atomic<int> n{0};
    dir = fs::temp_directory_path() / ("crisp_tfjs_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string operator/(const std::string& name) const { return (dir / name).string(); }
};

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
template <class V>
void append(std::vector<uint8_t>& out, V v) {
  uint8_t b[sizeof(V)];
  std::memcpy(b, &v, sizeof(V));
  out.insert(out.end(), b, b + sizeof(V));
}

// Group 0 (two shards, the split falling inside a weight): "f" float32 [2, 3], "q8" uint8-quantised
// [4], "h" float16 [2]. Group 1 (one shard): "i" int32 [3], "q16" uint16-quantised int32 [2],
// "b" bool [3].
const char* kManifest = R"([
 {"paths": ["g0-shard1of2.bin", "g0-shard2of2.bin"], "weights": [
   {"name": "f", "shape": [2, 3], "dtype": "float32"},
   {"name": "q8", "shape": [4], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.25}},
   {"name": "h", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}}]},
 {"paths": ["g1.bin"], "weights": [
   {"name": "i", "shape": [3], "dtype": "int32"},
   {"name": "q16", "shape": [2], "dtype": "int32", "quantization": {"dtype": "uint16", "scale": 0.3, "min": 10, "original_dtype": "int32"}},
   {"name": "b", "shape": [3], "dtype": "bool"}]}
])";

std::vector<uint8_t> group0() {
  std::vector<uint8_t> g;
  for (float v : {1.5f, -2.f, 3.25f, 0.f, 1e-3f, -7.f}) append(g, v);
  for (uint8_t q : {0, 1, 10, 255}) append(g, q);
  append(g, uint16_t{0x3C00});  // 1.0
  append(g, uint16_t{0xC100});  // -2.5
  return g;
}
std::vector<uint8_t> group1() {
  std::vector<uint8_t> g;
  for (int32_t v : {-3, 0, 2147483647}) append(g, v);
  append(g, uint16_t{1});  // round(10.3) = 10
  append(g, uint16_t{5});  // round(11.5) = 12
  for (uint8_t q : {0, 1, 7}) append(g, q);
  return g;
}

// Writes the manifest and shards into `d`, optionally with a modified group 0 buffer.
std::string write_model(const TempDir& d, const std::string& manifest, std::vector<uint8_t> g0 = group0()) {
  const size_t split = 10;  // inside "f"'s third float
  write_bytes(d / "g0-shard1of2.bin", std::vector<uint8_t>(g0.begin(), g0.begin() + std::min(split, g0.size())));
  write_bytes(d / "g0-shard2of2.bin", std::vector<uint8_t>(g0.begin() + std::min(split, g0.size()), g0.end()));
  write_bytes(d / "g1.bin", group1());
  write_text(d / "model-weights_manifest.json", manifest);
  return d / "model-weights_manifest.json";
}

std::string load_error(const std::string& manifest_path) {
  try {
    io::load_tfjs_weights(manifest_path);
  } catch (const IoError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected crisp::IoError, got another exception: " << e.what());
  }
  FAIL("expected load_tfjs_weights to throw");
  return {};
}

std::string with(const std::string& s, const std::string& from, const std::string& to) {
  std::string out = s;
  const auto p = out.find(from);
  REQUIRE(p != std::string::npos);
  out.replace(p, from.size(), to);
  return out;
}

}  // namespace

TEST_CASE("load_tfjs_weights decodes float32, uint8/uint16/float16-quantised, int32 and bool weights",
          "[io][tfjs]") {
  TempDir d;
  const auto w = io::load_tfjs_weights(write_model(d, kManifest));
  REQUIRE(w.size() == 6);
  CHECK(w.at("f").shape() == Shape{2, 3});
  CHECK(w.at("f").to_vector() == std::vector<float>{1.5f, -2.f, 3.25f, 0.f, 1e-3f, -7.f});
  // q * scale + min in double, then rounded to float (tfjs writes a Float32Array).
  CHECK(w.at("q8").to_vector() == std::vector<float>{-1.25f, -0.75f, 3.75f, 126.25f});
  CHECK(w.at("h").to_vector() == std::vector<float>{1.f, -2.5f});
  CHECK(w.at("i").to_vector() == std::vector<float>{-3.f, 0.f, 2147483647.f});
  CHECK(w.at("q16").to_vector() == std::vector<float>{10.f, 12.f});
  CHECK(w.at("b").to_vector() == std::vector<float>{0.f, 1.f, 1.f});

  const auto wd = io::load_tfjs_weights<double>(d / "model-weights_manifest.json");
  CHECK(wd.at("f").data()[4] == static_cast<double>(1e-3f));
  // uint8 dequantisation rounds to float like tfjs even into a double tensor.
  const double q = static_cast<double>(static_cast<float>(1 * 0.5 + -1.25));
  CHECK(wd.at("q8").data()[1] == q);
}

TEST_CASE("tfjs uint8 dequantisation matches JavaScript's double arithmetic", "[io][tfjs]") {
  // A manifest from face-api.js (first entry of face_recognition_model): scale and min are not
  // representable in float, so computing in float would differ in the last bit.
  const std::string m =
      R"([{"paths": ["a.bin"], "weights": [{"name": "w", "shape": [3], "dtype": "float32", "quantization":
          {"dtype": "uint8", "scale": 0.0005260649557207145, "min": -0.07101876902229645}}]}])";
  const auto manifest = io::parse_tfjs_manifest(m.data(), m.size());
  const auto w = io::decode_tfjs_weights(manifest, {{"a.bin", {0, 135, 255}}});
  for (int i = 0; i < 3; ++i) {
    const double q = i == 0 ? 0 : i == 1 ? 135 : 255;
    CHECK(w.at("w").data()[i] == static_cast<float>(q * 0.0005260649557207145 + -0.07101876902229645));
  }
}

TEST_CASE("tfjs_to_crisp_layout maps HWIO, depthwise and dense kernels to crisp's layouts", "[io][tfjs]") {
  auto iota = [](const Shape& s) {
    Tensor<float> t = Tensor<float>::empty(s);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(i);
    return t;
  };
  const Tensor<float> hwio = iota({2, 3, 4, 5});  // kh, kw, in, out
  const Tensor<float> oihw = io::tfjs_to_crisp_layout(hwio, io::TfjsLayout::ConvHWIO);
  REQUIRE(oihw.shape() == Shape{5, 4, 2, 3});
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 3; ++x)
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t o = 0; o < 5; ++o) CHECK(oihw.at({o, i, y, x}) == hwio.at({y, x, i, o}));

  const Tensor<float> dw = iota({3, 3, 4, 2});  // kh, kw, C, multiplier
  const Tensor<float> g = io::tfjs_to_crisp_layout(dw, io::TfjsLayout::Depthwise);
  REQUIRE(g.shape() == Shape{8, 1, 3, 3});
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 3; ++x)
      for (int64_t c = 0; c < 4; ++c)
        for (int64_t m = 0; m < 2; ++m) CHECK(g.at({c * 2 + m, 0, y, x}) == dw.at({y, x, c, m}));

  const Tensor<float> dense = iota({3, 2});
  const Tensor<float> lin = io::tfjs_to_crisp_layout(dense, io::TfjsLayout::Dense);
  REQUIRE(lin.shape() == Shape{2, 3});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t o = 0; o < 2; ++o) CHECK(lin.at({o, i}) == dense.at({i, o}));

  const Tensor<float> as_is = io::tfjs_to_crisp_layout(dense, io::TfjsLayout::AsIs);
  CHECK(as_is.to_vector() == dense.to_vector());
  CHECK_FALSE(as_is.shares_storage_with(dense));

  CHECK_THROWS_WITH(io::tfjs_to_crisp_layout(dense, io::TfjsLayout::ConvHWIO),
                    Contains("tfjs_to_crisp_layout") && Contains("[kh, kw, in, out]") && Contains("[3, 2]"));
  CHECK_THROWS_AS(io::tfjs_to_crisp_layout(hwio, io::TfjsLayout::Dense), ShapeError);
}

TEST_CASE("TfjsWeightMapper is strict: it lists every missing, unexpected and misshapen weight", "[io][tfjs]") {
  auto t = [](const Shape& s) {
    Tensor<float> x = Tensor<float>::empty(s);
    for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = static_cast<float>(i);
    return x;
  };
  {
    io::TfjsWeightMapper<float> m({{"conv/filters", t({3, 3, 2, 4})}, {"conv/bias", t({4})}}, "Net::load_tfjs");
    m.map("conv/filters", {3, 3, 2, 4}, "conv.weight", io::TfjsLayout::ConvHWIO);
    m.map("conv/bias", {4}, "conv.bias", io::TfjsLayout::AsIs);
    const auto state = m.finish();
    REQUIRE(state.size() == 2);
    CHECK(state.at("conv.weight").shape() == Shape{4, 2, 3, 3});
    CHECK(state.at("conv.bias").shape() == Shape{4});
  }
  io::TfjsWeightMapper<float> m({{"conv/filters", t({3, 3, 2, 5})}, {"extra", t({1})}}, "Net::load_tfjs(\"x.json\")");
  m.map("conv/filters", {3, 3, 2, 4}, "conv.weight", io::TfjsLayout::ConvHWIO);
  m.map("conv/bias", {4}, "conv.bias", io::TfjsLayout::AsIs);
  try {
    m.finish();
    FAIL("expected finish() to throw");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Contains("Net::load_tfjs(\"x.json\")"));
    CHECK_THAT(msg, Contains("missing weights (1)") && Contains("conv/bias (expected shape [4])"));
    CHECK_THAT(msg, Contains("unexpected weights (1)") && Contains("extra"));
    CHECK_THAT(msg, Contains("conv/filters: expected shape [3, 3, 2, 4], got [3, 3, 2, 5]"));
  }
}

TEST_CASE("load_tfjs_weights rejects bad shards with a clear error", "[io][tfjs]") {
  TempDir d;
  SECTION("truncated shard") {
    auto g = group0();
    g.pop_back();
    CHECK_THAT(load_error(write_model(d, kManifest, g)),
               Contains("load_tfjs_weights") && Contains("weight group 0") && Contains("hold 31 bytes") &&
                   Contains("need 32") && Contains("truncated"));
  }
  SECTION("trailing bytes") {
    auto g = group0();
    g.push_back(0);
    CHECK_THAT(load_error(write_model(d, kManifest, g)), Contains("hold 33 bytes") && Contains("trailing bytes"));
  }
  SECTION("missing shard") {
    const std::string p = write_model(d, kManifest);
    fs::remove(d / "g1.bin");
    CHECK_THAT(load_error(p), Contains("weight group 1") && Contains("g1.bin") && Contains("missing"));
  }
  SECTION("shard paths may not leave the manifest's folder") {
    CHECK_THAT(load_error(write_model(d, with(kManifest, "\"g1.bin\"", "\"../g1.bin\""))), Contains("\"..\""));
    CHECK_THAT(load_error(write_model(d, with(kManifest, "\"g1.bin\"", "\"/etc/passwd\""))), Contains("absolute"));
  }
  SECTION("missing manifest") {
    CHECK_THAT(load_error(d / "nope.json"), Contains("nope.json") && Contains("not a readable file"));
  }
}

TEST_CASE("parse_tfjs_manifest rejects malformed manifests with a clear error", "[io][tfjs]") {
  auto err = [](const std::string& text) -> std::string {
    try {
      io::parse_tfjs_manifest(text.data(), text.size(), "m.json");
    } catch (const IoError& e) {
      return e.what();
    }
    FAIL("expected parse_tfjs_manifest to throw on: " << text);
    return {};
  };
  const std::string m = kManifest;
  CHECK_THAT(err("[{\"paths\": [\"a\"]"), Contains("parse_tfjs_manifest: 'm.json'") && Contains("not valid JSON"));
  CHECK_THAT(err("{}"), Contains("not a JSON array of weight groups but a JSON object"));
  CHECK_THAT(err("[]"), Contains("no weight groups"));
  CHECK_THAT(err("[3]"), Contains("weight group 0 is not an object"));
  CHECK_THAT(err(with(m, "\"paths\": [\"g1.bin\"]", "\"path\": [\"g1.bin\"]")), Contains("weight group 1 lacks a \"paths\""));
  CHECK_THAT(err(with(m, "\"g1.bin\"", "7")), Contains("a path is not a string"));
  CHECK_THAT(err(with(m, "\"name\": \"i\"", "\"name\": \"f\"")), Contains("weight 'f' appears twice"));
  CHECK_THAT(err(with(m, "\"dtype\": \"int32\"}", "\"dtype\": \"string\"}")), Contains("unsupported dtype 'string'"));
  CHECK_THAT(err(with(m, "\"dtype\": \"int32\"}", "\"dtype\": \"complex64\"}")), Contains("unsupported dtype 'complex64'"));
  CHECK_THAT(err(with(m, "\"dtype\": \"float16\"", "\"dtype\": \"int4\"")),
             Contains("weight 'h'") && Contains("unsupported quantization dtype 'int4'"));
  CHECK_THAT(err(with(m, "\"scale\": 0.5, ", "")), Contains("weight 'q8'") && Contains("lacks 'scale'"));
  CHECK_THAT(err(with(m, "\"min\": -1.25", "\"min\": \"x\"")), Contains("min is not a number"));
  CHECK_THAT(err(with(m, "[2, 3]", "[2, -3]")), Contains("weight 'f'") && Contains("negative extent -3"));
  CHECK_THAT(err(with(m, "[2, 3]", "[2, 1.5]")), Contains("non-integer extent 1.5"));
  CHECK_THAT(err(with(m, "[2, 3]", "[1,1,1,1,1,1,1,1,1]")), Contains("9 dims"));
  CHECK_THAT(err(with(m, "[2, 3]", "[4294967296, 4294967296]")), Contains("overflows the element count"));
  CHECK_THAT(err(with(m, "\"shape\": [2, 3], ", "")), Contains("weight 'f' lacks a \"shape\""));
  CHECK_THAT(err(with(m, "\"dtype\": \"bool\"", "\"dtype\": \"bool\", \"dtype\": \"bool\"")), Contains("duplicate key 'dtype'"));
  CHECK_THAT(err(std::string(40, '[') + std::string(40, ']')), Contains("nested deeper than 16"));
  CHECK_THAT(err("[{\"paths\": [], \"weights\": [{\"name\": \"w\", \"shape\": [1], \"dtype\": \"float32\"}]}]"),
             Contains("no shard paths"));
  // Quantised float16 of an int32 weight is not something tfjs can decode either.
  CHECK_THAT(err(with(m, "\"dtype\": \"int32\"}", "\"dtype\": \"int32\", \"quantization\": {\"dtype\": \"float16\"}}")),
             Contains("float16 quantization needs a float32 weight"));
}

TEST_CASE("decode_tfjs_weights checks the in-memory shards too", "[io][tfjs]") {
  const std::string m = kManifest;
  const auto manifest = io::parse_tfjs_manifest(m.data(), m.size());
  const auto g0 = group0();
  std::map<std::string, std::vector<uint8_t>> shards{{"g0-shard1of2.bin", std::vector<uint8_t>(g0.begin(), g0.begin() + 3)},
                                                     {"g0-shard2of2.bin", std::vector<uint8_t>(g0.begin() + 3, g0.end())},
                                                     {"g1.bin", group1()}};
  CHECK(io::decode_tfjs_weights(manifest, shards).at("h").to_vector() == std::vector<float>{1.f, -2.5f});
  shards.erase("g1.bin");
  CHECK_THROWS_WITH(io::decode_tfjs_weights(manifest, shards, "mem"),
                    Contains("decode_tfjs_weights: 'mem'") && Contains("shard 'g1.bin' is missing"));
}
