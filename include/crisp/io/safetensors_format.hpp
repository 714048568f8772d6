// Byte-level side of the safetensors format: dtypes, half/bfloat16 conversion, and the parser that
// validates an untrusted header against the size of its file. Used by crisp/io/safetensors.hpp.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crisp/tensor/error.hpp"
#include "crisp/tensor/shape.hpp"

static_assert(std::endian::native == std::endian::little,
              "crisp/io/safetensors: only little-endian hosts are supported");

namespace crisp::io::detail {

enum class StDtype { BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64 };

struct StDtypeInfo {
  const char* name;
  StDtype dtype;
  int64_t size;
};
inline constexpr StDtypeInfo kStDtypes[] = {
    {"BOOL", StDtype::BOOL, 1}, {"U8", StDtype::U8, 1},   {"I8", StDtype::I8, 1},       {"I16", StDtype::I16, 2},
    {"U16", StDtype::U16, 2},   {"I32", StDtype::I32, 4}, {"U32", StDtype::U32, 4},     {"I64", StDtype::I64, 8},
    {"U64", StDtype::U64, 8},   {"F16", StDtype::F16, 2}, {"BF16", StDtype::BF16, 2},   {"F32", StDtype::F32, 4},
    {"F64", StDtype::F64, 8},
};
inline const StDtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kStDtypes)
    if (name == d.name) return &d;
  return nullptr;
}
template <class T>
constexpr const char* dtype_name_of() {
  if constexpr (std::is_same_v<T, float>) return "F32";
  else if constexpr (std::is_same_v<T, double>) return "F64";
  else return "I64";
}

// IEEE 754 binary16 -> binary32, exact (normals, subnormals, signed zeros, inf, nan payloads).
inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: mant * 2^-24, exactly representable as a float
      const float v = std::ldexp(static_cast<float>(mant), -24);
      bits = sign | std::bit_cast<uint32_t>(v);
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}
// bfloat16 is the top half of a binary32.
inline float bf16_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

// One validated header entry.
struct StEntry {
  std::string name;
  StDtype dtype = StDtype::F32;
  const char* dtype_name = "F32";
  int64_t elem_size = 4;
  Shape shape;
  uint64_t begin = 0, end = 0;  // relative to the start of the byte buffer
};
struct StHeader {
  std::vector<StEntry> entries;  // sorted by name
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // absolute offset of the byte buffer in the file
};

// Where the parser reports from: the public function (`op`) and the file or buffer name.
struct StContext {
  const char* op;
  std::string name;
  template <class... A>
  [[noreturn]] void fail(A&&... parts) const {
    throw IoError(crisp::detail::str_cat(op, ": '", name, "': ", std::forward<A>(parts)...));
  }
};

// The reference implementation refuses headers above 100 MB; so do we.
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;
inline constexpr int kMaxJsonDepth = 16;

inline uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Checks the 8-byte prefix against the total size; returns the header length N.
inline uint64_t check_prefix(const StContext& ctx, const uint8_t* prefix, size_t have, uint64_t file_size) {
  if (file_size < 8 || have < 8)
    ctx.fail("file is ", file_size, " bytes, shorter than the 8-byte header length prefix");
  const uint64_t n = read_u64_le(prefix);
  if (n > kMaxHeaderBytes) ctx.fail("header length ", n, " is absurd (limit ", kMaxHeaderBytes, " bytes)");
  if (n > file_size - 8) ctx.fail("header length ", n, " exceeds file size ", file_size);
  if (n < 2) ctx.fail("header length ", n, " is too short for a JSON object");
  return n;
}

inline std::string clip(const std::string& s) { return s.size() <= 64 ? s : s.substr(0, 61) + "..."; }

// Parses the JSON header text (n bytes at `text`), validating every entry against a byte buffer
// of `buffer_size` bytes. Policy (documented in safetensors.hpp): duplicate keys, overlapping
// ranges, gaps and trailing bytes in the buffer are rejected; unknown entry fields are ignored.
inline StHeader parse_header(const StContext& ctx, const char* text, uint64_t n, uint64_t buffer_size) {
  using nlohmann::json;
  // Detect duplicate keys (nlohmann keeps the last one silently) and absurd nesting.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  bool too_deep = false;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json& parsed) {
    if (depth > kMaxJsonDepth) too_deep = true;
    if (ev == json::parse_event_t::object_start) open_objects.emplace_back();
    else if (ev == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
    else if (ev == json::parse_event_t::key && !open_objects.empty() && parsed.is_string()) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  json h;
  try {
    h = json::parse(text, text + n, cb, /*allow_exceptions=*/true);
  } catch (const json::exception& e) {
    ctx.fail("header is not valid JSON (", e.what(), ")");
  }
  if (too_deep) ctx.fail("header JSON is nested deeper than ", kMaxJsonDepth, " levels");
  if (!duplicate.empty()) ctx.fail("header has duplicate key '", clip(duplicate), "'");
  if (!h.is_object()) ctx.fail("header is not a JSON object but a JSON ", h.type_name());

  StHeader out;
  for (auto it = h.begin(); it != h.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "__metadata__") {
      if (v.is_null()) continue;
      if (!v.is_object()) ctx.fail("__metadata__ is not an object of strings but a JSON ", v.type_name());
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          ctx.fail("__metadata__ value of '", clip(m.key()), "' is not a string but a JSON ", m.value().type_name());
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string tn = "tensor '" + clip(key) + "'";
    if (!v.is_object()) ctx.fail(tn, " is not an object but a JSON ", v.type_name());
    StEntry e;
    e.name = key;
    // dtype
    auto d = v.find("dtype");
    if (d == v.end()) ctx.fail(tn, " lacks dtype");
    if (!d->is_string()) ctx.fail(tn, ": dtype is not a string but a JSON ", d->type_name());
    const StDtypeInfo* info = find_dtype(d->get_ref<const std::string&>());
    if (!info) ctx.fail(tn, ": unknown or unsupported dtype '", clip(d->get<std::string>()), "'");
    e.dtype = info->dtype;
    e.dtype_name = info->name;
    e.elem_size = info->size;
    // shape
    auto s = v.find("shape");
    if (s == v.end()) ctx.fail(tn, " lacks shape");
    if (!s->is_array()) ctx.fail(tn, ": shape is not an array but a JSON ", s->type_name());
    if (s->size() > static_cast<size_t>(Shape::kMaxDims))
      ctx.fail(tn, ": shape has ", s->size(), " dims, more than the ", Shape::kMaxDims, " crisp supports");
    // numel and the product of max(extent, 1) (what contiguous strides need) must not overflow.
    uint64_t numel = 1, stride_span = 1;
    constexpr uint64_t kLimit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    for (const json& x : *s) {
      if (x.is_number_integer() && !x.is_number_unsigned() && x.get<int64_t>() < 0)
        ctx.fail(tn, ": shape has a negative extent ", x.get<int64_t>());
      if (!x.is_number_integer()) ctx.fail(tn, ": shape has a non-integer extent ", clip(x.dump()));
      const uint64_t ext = x.get<uint64_t>();
      if (ext > kLimit) ctx.fail(tn, ": shape extent ", ext, " is too large");
      const uint64_t m = std::max<uint64_t>(ext, 1);
      if (stride_span > kLimit / m) ctx.fail(tn, ": shape ", clip(s->dump()), " overflows the element count");
      stride_span *= m;
      numel *= ext;  // numel <= stride_span, cannot overflow
      e.shape.push_back(static_cast<int64_t>(ext));
    }
    // data_offsets
    auto o = v.find("data_offsets");
    if (o == v.end()) ctx.fail(tn, " lacks data_offsets");
    if (!o->is_array() || o->size() != 2 || !(*o)[0].is_number_unsigned() || !(*o)[1].is_number_unsigned())
      ctx.fail(tn, ": data_offsets is not an array of two non-negative integers but ", clip(o->dump()));
    e.begin = (*o)[0].get<uint64_t>();
    e.end = (*o)[1].get<uint64_t>();
    if (e.begin > e.end) ctx.fail(tn, ": data_offsets begin ", e.begin, " > end ", e.end);
    if (e.end > buffer_size)
      ctx.fail(tn, ": data_offsets end ", e.end, " is beyond the byte buffer of ", buffer_size, " bytes");
    const uint64_t es = static_cast<uint64_t>(e.elem_size);
    if (numel > buffer_size / es || numel * es != e.end - e.begin)
      ctx.fail(tn, ": byte size ", e.end - e.begin, " (data_offsets [", e.begin, ", ", e.end, "]) != ", numel,
               " elements x ", es, " bytes of ", e.dtype_name);
    out.entries.push_back(std::move(e));
  }
  // Ranges must tile the buffer: no overlap, no gap, nothing left over (as the reference does).
  std::vector<const StEntry*> by_offset;
  for (const auto& e : out.entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const StEntry* a, const StEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t pos = 0;
  const StEntry* prev = nullptr;
  for (const StEntry* e : by_offset) {
    if (e->begin < pos)
      ctx.fail("data ranges of tensors '", clip(prev->name), "' [", prev->begin, ", ", prev->end, ") and '",
               clip(e->name), "' [", e->begin, ", ", e->end, ") overlap");
    if (e->begin > pos)
      ctx.fail("gap in the byte buffer: bytes [", pos, ", ", e->begin, ") before tensor '", clip(e->name),
               "' belong to no tensor");
    pos = e->end;
    prev = e;
  }
  if (pos != buffer_size)
    ctx.fail("byte buffer has ", buffer_size - pos, " trailing bytes after the last tensor (buffer is ",
             buffer_size, " bytes, tensors cover ", pos, ")");
  return out;
}

// Converts `count` elements of dtype `src` stored little-endian at `bytes` into `out`.
template <class T>
void convert_elements(const StContext& ctx, const StEntry& e, const uint8_t* bytes, int64_t count, T* out) {
  auto load = [&](auto tag, int64_t i) {
    using S = decltype(tag);
    S v;
    std::memcpy(&v, bytes + i * static_cast<int64_t>(sizeof(S)), sizeof(S));
    return v;
  };
  auto put_float = [&](double v, int64_t i) {
    if constexpr (std::is_same_v<T, int64_t>) {
      // -2^63 <= v < 2^63, else the cast is undefined behaviour.
      if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0))
        ctx.fail("tensor '", clip(e.name), "': ", e.dtype_name, " value ", v, " at element ", i,
                 " does not fit an int64 tensor");
      out[i] = static_cast<int64_t>(v);
    } else if constexpr (std::is_same_v<T, float>) {
      constexpr double kMax = std::numeric_limits<float>::max();
      out[i] = v > kMax   ? std::numeric_limits<float>::infinity()
               : v < -kMax ? -std::numeric_limits<float>::infinity()
                           : static_cast<float>(v);
    } else {
      out[i] = static_cast<T>(v);
    }
  };
  auto put_int = [&](auto v, int64_t i) {
    if constexpr (std::is_same_v<T, int64_t>) {
      if constexpr (std::is_same_v<decltype(v), uint64_t>)
        if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          ctx.fail("tensor '", clip(e.name), "': U64 value ", v, " at element ", i, " does not fit an int64 tensor");
      out[i] = static_cast<int64_t>(v);
    } else {
      out[i] = static_cast<T>(v);
    }
  };
  for (int64_t i = 0; i < count; ++i) {
    switch (e.dtype) {
      case StDtype::BOOL: put_int(int64_t(load(uint8_t{}, i) != 0), i); break;
      case StDtype::U8: put_int(int64_t(load(uint8_t{}, i)), i); break;
      case StDtype::I8: put_int(int64_t(load(int8_t{}, i)), i); break;
      case StDtype::I16: put_int(int64_t(load(int16_t{}, i)), i); break;
      case StDtype::U16: put_int(int64_t(load(uint16_t{}, i)), i); break;
      case StDtype::I32: put_int(int64_t(load(int32_t{}, i)), i); break;
      case StDtype::U32: put_int(int64_t(load(uint32_t{}, i)), i); break;
      case StDtype::I64: put_int(load(int64_t{}, i), i); break;
      case StDtype::U64: put_int(load(uint64_t{}, i), i); break;
      case StDtype::F16: put_float(half_to_float(load(uint16_t{}, i)), i); break;
      case StDtype::BF16: put_float(bf16_to_float(load(uint16_t{}, i)), i); break;
      case StDtype::F32: put_float(load(float{}, i), i); break;
      case StDtype::F64: put_float(load(double{}, i), i); break;
    }
  }
}

}  // namespace crisp::io::detail
