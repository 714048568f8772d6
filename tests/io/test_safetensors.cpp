// Tests for crisp/io/safetensors.hpp: round trips, atomic writes, fixtures written by
// tools/make_safetensors_fixtures.py, and one test per malformed-input defect.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "crisp/io/safetensors.hpp"
#include "crisp/tensor/factory.hpp"

namespace fs = std::filesystem;
using namespace crisp;
using Catch::Contains;

namespace {

// A fresh directory under the system temp dir, removed with its contents at scope exit.
struct TempDir {
  fs::path dir;
  TempDir() {
    static std::atomic<int> n{0};
    dir = fs::temp_directory_path() /
          ("crisp_safetensors_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string operator/(const std::string& name) const { return (dir / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

std::string fixture(const std::string& name) { return std::string(CRISP_TEST_DATA_DIR) + "/safetensors/" + name; }

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
// prefix(N) + header + buffer, with the given header length (default: the true one).
std::vector<uint8_t> make_file(const std::string& header, size_t buffer_bytes, uint64_t n = UINT64_MAX) {
  if (n == UINT64_MAX) n = header.size();
  std::vector<uint8_t> out(8 + header.size() + buffer_bytes);
  std::memcpy(out.data(), &n, 8);
  if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < buffer_bytes; ++i) out[8 + header.size() + i] = static_cast<uint8_t>(i);
  return out;
}

template <class T>
void require_same(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  REQUIRE(a.to_vector() == b.to_vector());
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

}  // namespace

TEMPLATE_TEST_CASE("safetensors round trip of shapes", "[io][safetensors]", float, double) {
  using T = TestType;
  TempDir tmp;
  const std::string path = tmp / "rt.safetensors";
  io::TensorMap<T> in;
  in["scalar"] = from_vector<T>({T(-1.5)}, Shape{});
  in["empty"] = zeros<T>(Shape{3, 0, 2});
  in["vec"] = from_vector<T>({1, 2, 3, T(0.1)}, Shape{4});
  std::vector<T> v(2 * 3 * 4 * 5);
  for (size_t i = 0; i < v.size(); ++i) v[i] = T(i) / T(7) - T(3);
  in["w4d"] = from_vector<T>(v, Shape{2, 3, 4, 5});
  // Non-contiguous view: element (i, j) = storage[1 + i + 4 j].
  auto storage = std::make_shared<Storage<T>>(12);
  for (int i = 0; i < 12; ++i) storage->data()[i] = T(i);
  in["strided"] = Tensor<T>::view_of(storage, Shape{3, 2}, Strides{1, 4}, 1);
  REQUIRE_FALSE(in["strided"].is_contiguous());

  io::save_safetensors(path, in);
  auto out = io::load_safetensors<T>(path);
  REQUIRE(out.size() == in.size());
  for (const auto& [name, t] : in) require_same(out.at(name), t);
  REQUIRE(out.at("strided").to_vector() == std::vector<T>{1, 5, 2, 6, 3, 7});
  REQUIRE(out.at("scalar").shape().size() == 0);
  REQUIRE(io::load_safetensors_metadata(path).empty());
  REQUIRE(tmp.entries() == std::vector<std::string>{"rt.safetensors"});  // no temporary left
}

TEST_CASE("safetensors round trip of int64 tensors and cross-type loads", "[io][safetensors]") {
  TempDir tmp;
  io::TensorMap<int64_t> in{{"idx", from_vector<int64_t>({-5, 0, 1LL << 40}, Shape{3})}};
  io::save_safetensors(tmp / "i.safetensors", in);
  REQUIRE(io::load_safetensors<int64_t>(tmp / "i.safetensors").at("idx").to_vector() ==
          std::vector<int64_t>{-5, 0, 1LL << 40});
  REQUIRE(io::load_safetensors<double>(tmp / "i.safetensors").at("idx").to_vector() ==
          std::vector<double>{-5, 0, double(1LL << 40)});
  io::save_safetensors<double>(tmp / "d.safetensors", {{"x", from_vector<double>({1e300, -2.75}, Shape{2})}});
  auto f = io::load_safetensors<float>(tmp / "d.safetensors").at("x").to_vector();
  REQUIRE(std::isinf(f[0]));
  REQUIRE(f[1] == -2.75f);
}

TEST_CASE("safetensors metadata round trip", "[io][safetensors]") {
  TempDir tmp;
  const std::string path = tmp / "m.safetensors";
  std::map<std::string, std::string> meta{{"format", "pt"}, {"quote\"and\\slash", "line\nbreak"}, {"utf8", "é✓"},
                                          {"empty", ""}};
  io::save_safetensors<float>(path, {{"a", from_vector<float>({1, 2}, Shape{2})}}, meta);
  REQUIRE(io::load_safetensors_metadata(path) == meta);
  auto both = io::read_safetensors<float>(path);
  REQUIRE(both.metadata == meta);
  REQUIRE(both.tensors.at("a").to_vector() == std::vector<float>{1, 2});
  auto bytes = read_bytes(path);
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  REQUIRE(n % 8 == 0);
  REQUIRE(bytes.size() == 8 + n + 8);
}

TEST_CASE("safetensors writer matches the reference layout byte for byte", "[io][safetensors]") {
  TempDir tmp;
  io::TensorMap<float> in{{"a", from_vector<float>({-1, -0.5f, 0, 0.5f, 1, 1.5f}, Shape{2, 3})},
                          {"empty", zeros<float>(Shape{0, 4})},
                          {"scalar", from_vector<float>({3.25f}, Shape{})}};
  io::save_safetensors(tmp / "w.safetensors", in, {{"format", "pt"}, {"note", "crisp fixture"}});
  REQUIRE(read_bytes(tmp / "w.safetensors") == read_bytes(fixture("f32.safetensors")));
}

TEST_CASE("safetensors writes atomically", "[io][safetensors]") {
  TempDir tmp;
  io::TensorMap<float> a{{"a", from_vector<float>({1}, Shape{1})}};
  io::TensorMap<float> b{{"b", from_vector<float>({2, 3}, Shape{2})}};

  SECTION("into a missing directory: throws, creates nothing") {
    REQUIRE_THROWS_AS(io::save_safetensors(tmp / "missing/x.safetensors", a), IoError);
    REQUIRE_THROWS_WITH(io::save_safetensors(tmp / "missing/x.safetensors", a), Contains("missing/x.safetensors"));
    REQUIRE(tmp.entries().empty());
  }
  SECTION("an existing file is replaced on success") {
    io::save_safetensors(tmp / "x.safetensors", a);
    io::save_safetensors(tmp / "x.safetensors", b);
    auto out = io::load_safetensors(tmp / "x.safetensors");
    REQUIRE(out.size() == 1);
    REQUIRE(out.at("b").to_vector() == std::vector<float>{2, 3});
    REQUIRE(tmp.entries() == std::vector<std::string>{"x.safetensors"});
  }
  SECTION("an existing file survives a failed save") {
    io::save_safetensors(tmp / "x.safetensors", a);
    const auto before = read_bytes(tmp / "x.safetensors");
    io::TensorMap<float> bad{{"__metadata__", from_vector<float>({1}, Shape{1})}};
    REQUIRE_THROWS_AS(io::save_safetensors(tmp / "x.safetensors", bad), ValueError);
    REQUIRE(read_bytes(tmp / "x.safetensors") == before);
    REQUIRE(tmp.entries() == std::vector<std::string>{"x.safetensors"});
  }
  SECTION("a failed rename leaves no temporary file") {
    fs::create_directories(tmp.dir / "d.safetensors" / "child");  // a non-empty directory in the way
    REQUIRE_THROWS_WITH(io::save_safetensors(tmp / "d.safetensors", a), Contains("cannot rename"));
    REQUIRE(tmp.entries() == std::vector<std::string>{"d.safetensors"});
  }
}

TEST_CASE("safetensors reads the Python fixtures", "[io][safetensors]") {
  SECTION("F32 with metadata, 0-d and empty tensors") {
    auto c = io::read_safetensors<float>(fixture("f32.safetensors"));
    REQUIRE(c.metadata == std::map<std::string, std::string>{{"format", "pt"}, {"note", "crisp fixture"}});
    REQUIRE(c.tensors.at("a").shape() == Shape{2, 3});
    REQUIRE(c.tensors.at("a").to_vector() == std::vector<float>{-1, -0.5f, 0, 0.5f, 1, 1.5f});
    REQUIRE(c.tensors.at("empty").shape() == Shape{0, 4});
    REQUIRE(c.tensors.at("scalar").shape() == Shape{});
    REQUIRE(c.tensors.at("scalar").item() == 3.25f);
  }
  SECTION("F64") {
    auto x = io::load_safetensors<double>(fixture("f64.safetensors")).at("x").to_vector();
    REQUIRE(x[0] == 1.0 / 3.0);
    REQUIRE(x[1] == -2.5);
    REQUIRE(x[2] == 1e300);
    REQUIRE((x[3] == 0.0 && std::signbit(x[3])));
  }
  SECTION("F16, including subnormals, infinities and nan") {
    auto h = io::load_safetensors<float>(fixture("f16.safetensors")).at("h").to_vector();
    REQUIRE(h.size() == 10);
    REQUIRE(h[0] == 1.0f);
    REQUIRE(h[1] == -2.0f);
    REQUIRE(h[2] == 65504.0f);
    REQUIRE(h[3] == std::ldexp(1.0f, -24));  // smallest subnormal
    REQUIRE(h[4] == std::ldexp(1.0f, -15));  // subnormal
    REQUIRE(h[5] == 0.333251953125f);
    REQUIRE(h[6] == std::numeric_limits<float>::infinity());
    REQUIRE(h[7] == -std::numeric_limits<float>::infinity());
    REQUIRE(std::isnan(h[8]));
    REQUIRE((h[9] == 0.0f && std::signbit(h[9])));
  }
  SECTION("BF16") {
    auto b = io::load_safetensors<float>(fixture("bf16.safetensors")).at("b");
    REQUIRE(b.shape() == Shape{2, 4});
    auto v = b.to_vector();
    REQUIRE(v[0] == 1.0f);
    REQUIRE(v[1] == -3.140625f);
    REQUIRE(v[2] == 0.333984375f);
    REQUIRE(same_bits(v[3], std::ldexp(1.0f, -133)));
    REQUIRE(v[4] == 3.00405527047391e+38f);
    REQUIRE(v[5] == std::numeric_limits<float>::infinity());
    REQUIRE(std::isnan(v[6]));
    REQUIRE((v[7] == 0.0f && std::signbit(v[7])));
  }
  SECTION("I64 into int64, double and float") {
    const std::vector<int64_t> want{std::numeric_limits<int64_t>::min(), 0, 42, (1LL << 53) + 1};
    REQUIRE(io::load_safetensors<int64_t>(fixture("i64.safetensors")).at("i").to_vector() == want);
    auto d = io::load_safetensors<double>(fixture("i64.safetensors")).at("i");
    REQUIRE(d.shape() == Shape{2, 2});
    REQUIRE(d.to_vector() == std::vector<double>{-9223372036854775808.0, 0, 42, 9007199254740992.0});
  }
  SECTION("I32, U8, BOOL") {
    auto c = io::read_safetensors<int64_t>(fixture("mixed.safetensors"));
    REQUIRE(c.metadata.at("source") == "make_safetensors_fixtures.py");
    REQUIRE(c.tensors.at("i32").to_vector() == std::vector<int64_t>{-1, 0, 2147483647});
    REQUIRE(c.tensors.at("u8").to_vector() == std::vector<int64_t>{0, 1, 128, 255});
    REQUIRE(c.tensors.at("flags").to_vector() == std::vector<int64_t>{1, 0, 1});
    REQUIRE(io::load_safetensors<float>(fixture("mixed.safetensors")).at("u8").to_vector() ==
            std::vector<float>{0, 1, 128, 255});
  }
  SECTION("the same bytes parse from memory") {
    auto bytes = read_bytes(fixture("mixed.safetensors"));
    auto c = io::parse_safetensors<double>(bytes.data(), bytes.size(), "mem");
    REQUIRE(c.tensors.at("i32").to_vector() == std::vector<double>{-1, 0, 2147483647});
  }
}

namespace {
// Writes `bytes` to a file named `name` and checks load_safetensors throws an IoError whose
// message names the file and contains `defect`.
void require_rejected(const std::vector<uint8_t>& bytes, const std::string& defect) {
  TempDir tmp;
  const std::string path = tmp / "bad_input.safetensors";
  write_bytes(path, bytes);
  REQUIRE_THROWS_AS(io::load_safetensors<float>(path), IoError);
  REQUIRE_THROWS_WITH(io::load_safetensors<float>(path), Contains("load_safetensors: '" + path + "'"));
  REQUIRE_THROWS_WITH(io::load_safetensors<float>(path), Contains(defect));
  REQUIRE_THROWS_WITH(io::load_safetensors_metadata(path), Contains(defect));
  REQUIRE_THROWS_WITH(io::parse_safetensors<float>(bytes.data(), bytes.size(), "memfile"), Contains(defect));
}
std::string entry(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return "{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
}
}  // namespace

TEST_CASE("safetensors rejects unreadable files", "[io][safetensors]") {
  TempDir tmp;
  REQUIRE_THROWS_AS(io::load_safetensors(tmp / "nope.safetensors"), IoError);
  REQUIRE_THROWS_WITH(io::load_safetensors(tmp / "nope.safetensors"),
                      Contains("nope.safetensors") && Contains("cannot open file"));
  REQUIRE_THROWS_WITH(io::load_safetensors_metadata(tmp / "nope.safetensors"), Contains("cannot open file"));
  REQUIRE_THROWS_WITH(io::load_safetensors(tmp.dir.string()), Contains("not a regular file"));
}

TEST_CASE("safetensors rejects malformed input, one defect at a time", "[io][safetensors]") {
  const std::string ok = entry("\"F32\"", "[2]", "[0,8]");
  SECTION("shorter than 8 bytes") { require_rejected({1, 0, 0}, "shorter than the 8-byte header length prefix"); }
  SECTION("empty file") { require_rejected({}, "is 0 bytes, shorter than"); }
  SECTION("header length beyond the file") { require_rejected(make_file("{}", 0, 1000), "header length 1000 exceeds file size 10"); }
  SECTION("absurd header length") { require_rejected(make_file("{}", 0, 1'000'000'000'000ULL), "header length 1000000000000 is absurd"); }
  SECTION("header too short") { require_rejected(make_file("", 0), "header length 0 is too short"); }
  SECTION("header not JSON") { require_rejected(make_file("{\"a\":", 0), "header is not valid JSON"); }
  SECTION("header not UTF-8") { require_rejected(make_file("{\"\xff\":1}", 0), "header is not valid JSON"); }
  SECTION("header not an object") { require_rejected(make_file("[1,2]", 0), "header is not a JSON object but a JSON array"); }
  SECTION("entry not an object") { require_rejected(make_file("{\"a\":[0,8]}", 8), "tensor 'a' is not an object"); }
  SECTION("missing dtype") { require_rejected(make_file("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "tensor 'a' lacks dtype"); }
  SECTION("missing shape") { require_rejected(make_file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8), "lacks shape"); }
  SECTION("missing data_offsets") { require_rejected(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "lacks data_offsets"); }
  SECTION("dtype not a string") { require_rejected(make_file("{\"a\":" + entry("7", "[2]", "[0,8]") + "}", 8), "dtype is not a string"); }
  SECTION("shape not an array") { require_rejected(make_file("{\"a\":" + entry("\"F32\"", "2", "[0,8]") + "}", 8), "shape is not an array"); }
  SECTION("data_offsets malformed") {
    for (const char* o : {"[0]", "[0,8,8]", "\"0,8\"", "[0,8.0]", "[-1,8]", "[0,1e30]"})
      require_rejected(make_file("{\"a\":" + entry("\"F32\"", "[2]", o) + "}", 8),
                       "data_offsets is not an array of two non-negative integers");
  }
  SECTION("negative extent") { require_rejected(make_file("{\"a\":" + entry("\"F32\"", "[-2]", "[0,8]") + "}", 8), "negative extent -2"); }
  SECTION("non-integer extent") {
    for (const char* s : {"[2.0]", "[\"2\"]", "[null]", "[[2]]"})
      require_rejected(make_file("{\"a\":" + entry("\"F32\"", s, "[0,8]") + "}", 8), "non-integer extent");
  }
  SECTION("too many dims") {
    require_rejected(make_file("{\"a\":" + entry("\"F32\"", "[1,1,1,1,1,1,1,1,2]", "[0,8]") + "}", 8), "more than the 8");
  }
  SECTION("element count overflow") {
    require_rejected(make_file("{\"a\":" + entry("\"F32\"", "[4294967296,4294967296,0]", "[0,0]") + "}", 0),
                     "overflows the element count");
    require_rejected(make_file("{\"a\":" + entry("\"F32\"", "[18446744073709551615]", "[0,8]") + "}", 8), "is too large");
  }
  SECTION("unknown dtype") { require_rejected(make_file("{\"a\":" + entry("\"F128\"", "[2]", "[0,8]") + "}", 8), "unknown or unsupported dtype 'F128'"); }
  SECTION("begin > end") { require_rejected(make_file("{\"a\":" + entry("\"F32\"", "[2]", "[8,0]") + "}", 8), "data_offsets begin 8 > end 0"); }
  SECTION("end beyond the buffer") { require_rejected(make_file("{\"a\":" + entry("\"F32\"", "[2]", "[0,8]") + "}", 4), "data_offsets end 8 is beyond the byte buffer of 4 bytes"); }
  SECTION("byte size != numel x dtype size") {
    require_rejected(make_file("{\"a\":" + entry("\"F32\"", "[3]", "[0,8]") + "}", 8), "byte size 8");
    require_rejected(make_file("{\"a\":" + entry("\"F64\"", "[1000000000000000000]", "[0,8]") + "}", 8), "byte size 8");
  }
  SECTION("overlapping ranges") {
    require_rejected(make_file("{\"a\":" + ok + ",\"b\":" + entry("\"F32\"", "[1]", "[4,8]") + "}", 8),
                     "data ranges of tensors 'a' [0, 8) and 'b' [4, 8) overlap");
  }
  SECTION("gap in the buffer") {
    require_rejected(make_file("{\"a\":" + entry("\"F32\"", "[1]", "[4,8]") + "}", 8), "gap in the byte buffer");
  }
  SECTION("trailing bytes") { require_rejected(make_file("{\"a\":" + ok + "}", 12), "4 trailing bytes"); }
  SECTION("metadata not an object") {
    require_rejected(make_file("{\"__metadata__\":[\"x\"]}", 0), "__metadata__ is not an object of strings");
  }
  SECTION("metadata value not a string") {
    require_rejected(make_file("{\"__metadata__\":{\"k\":1}}", 0), "__metadata__ value of 'k' is not a string");
  }
  SECTION("duplicate keys") {
    require_rejected(make_file("{\"a\":" + ok + ",\"a\":" + ok + "}", 8), "duplicate key 'a'");
    require_rejected(make_file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
                     "duplicate key 'dtype'");
  }
  SECTION("deep nesting") {
    require_rejected(make_file("{\"__metadata__\":" + std::string(100, '[') + std::string(100, ']') + "}", 0),
                     "nested deeper than");
  }
}

TEST_CASE("safetensors accepts what the format allows", "[io][safetensors]") {
  TempDir tmp;
  // Unknown entry fields are ignored, null metadata means none, leading/trailing spaces are fine.
  auto bytes = make_file(" {\"__metadata__\":null,\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}  ", 4);
  write_bytes(tmp / "ok.safetensors", bytes);
  auto c = io::read_safetensors<float>(tmp / "ok.safetensors");
  REQUIRE(c.metadata.empty());
  REQUIRE(c.tensors.at("a").numel() == 1);
  // No tensors at all.
  auto empty = make_file("{}", 0);
  REQUIRE(io::parse_safetensors<float>(empty.data(), empty.size(), "e").tensors.empty());
}

TEST_CASE("safetensors refuses values that do not fit the target type", "[io][safetensors]") {
  REQUIRE_THROWS_WITH(io::load_safetensors<int64_t>(fixture("f16.safetensors")),
                      Contains("f16.safetensors") && Contains("does not fit an int64 tensor"));
  std::vector<uint8_t> bytes = make_file("{\"u\":" + entry("\"U64\"", "[1]", "[0,8]") + "}", 0);
  const uint64_t big = UINT64_MAX;
  bytes.insert(bytes.end(), reinterpret_cast<const uint8_t*>(&big), reinterpret_cast<const uint8_t*>(&big) + 8);
  REQUIRE_THROWS_WITH(io::parse_safetensors<int64_t>(bytes.data(), bytes.size(), "u64"), Contains("does not fit"));
  REQUIRE(io::parse_safetensors<double>(bytes.data(), bytes.size(), "u64").tensors.at("u").item() == 18446744073709551616.0);
}

TEST_CASE("safetensors: every truncation of a valid file throws IoError", "[io][safetensors]") {
  TempDir tmp;
  for (const char* name : {"f32.safetensors", "mixed.safetensors", "bf16.safetensors"}) {
    const auto bytes = read_bytes(fixture(name));
    REQUIRE(bytes.size() > 8);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      INFO(name << " cut at " << cut);
      const std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
      REQUIRE_THROWS_AS(io::parse_safetensors<float>(part.data(), part.size(), "cut"), IoError);
      if (cut % 16 == 0 || cut + 8 > bytes.size()) {  // through the file path too
        write_bytes(tmp / "cut.safetensors", part);
        REQUIRE_THROWS_AS(io::load_safetensors<float>(tmp / "cut.safetensors"), IoError);
      }
    }
    REQUIRE_NOTHROW(io::parse_safetensors<float>(bytes.data(), bytes.size(), "whole"));
  }
}
