// Reading TensorFlow.js weight manifests (`*-weights_manifest.json` + `.bin` shards) into crisp
// tensors by name, with the layout changes from TensorFlow's kernels to crisp's, and a strict
// name/shape mapper for importing a whole network (as load_state_dict(strict = true) is strict).
#pragma once

// Format (tfjs-core io/types.ts): the manifest is a JSON array of weight groups
//   [{"paths": ["model.bin", ...], "weights": [{"name": "conv/filters", "shape": [3, 3, 3, 16],
//     "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.01, "min": -1.2}}, ...]}]
// A group's shards, concatenated in the order of "paths", hold its weights back to back in the
// order listed. dtype float32 | int32 | bool (little-endian 4 / 4 / 1 bytes); quantization dtype
// uint8 | uint16 (value = q * scale + min, computed in double and rounded once, as tfjs does;
// Math.round'ed for int32) or float16 (float32 weights only). string and complex64 weights are
// refused as unsupported.
//
// Policy where tfjs is lax (it checks none of this):
//  - a group's shards must hold exactly its weights: short shards and trailing bytes are refused;
//  - duplicate weight names (also across groups) and duplicate JSON keys are refused;
//  - shard paths must be relative and free of ".." (they are resolved against the manifest's
//    folder; a manifest cannot make the loader read elsewhere); unknown JSON fields are ignored;
//  - shapes with more than 8 dims, negative or non-integer extents, element counts that overflow,
//    JSON nested deeper than 16 levels and manifests over 64 MiB are refused.
// Sizes are checked against the shard sizes before anything is allocated. Every defect throws
// crisp::IoError naming the function, the manifest (or shard) and the defect.
//
// Layouts: TensorFlow conv kernels are HWIO [kh, kw, in, out], depthwise kernels [kh, kw, C, M]
// (channel multiplier M), dense kernels [in, out]; crisp (as PyTorch) wants conv OIHW
// [out, in, kh, kw], depthwise as a grouped conv [C * M, 1, kh, kw] (output channel c * M + m, as
// TensorFlow orders them) and Linear [out, in]. tfjs_to_crisp_layout converts.

#include <sys/stat.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crisp/io/safetensors_format.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::io {

enum class TfjsDtype { Float32, Int32, Bool };
enum class TfjsQuantization { None, Uint8, Uint16, Float16 };

// One weight as the manifest describes it, with where its bytes lie in its group's buffer.
struct TfjsWeightSpec {
  std::string name;
  Shape shape;
  TfjsDtype dtype = TfjsDtype::Float32;
  TfjsQuantization quantization = TfjsQuantization::None;
  double scale = 1.0, min = 0.0;  // uint8 / uint16 quantization only
  size_t group = 0;
  uint64_t offset = 0;     // within the group's concatenated shards
  uint64_t byte_size = 0;  // numel * stored element size
};

struct TfjsManifest {
  std::vector<std::vector<std::string>> group_paths;  // shard paths of each group, in order
  std::vector<uint64_t> group_bytes;                  // bytes each group's weights need
  std::vector<TfjsWeightSpec> weights;                // in manifest order
};

namespace detail {

inline constexpr uint64_t kTfjsMaxManifestBytes = 64ull << 20;

struct TfjsContext {
  const char* op;
  std::string name;
  template <class... A>
  [[noreturn]] void fail(A&&... parts) const {
    throw IoError(crisp::detail::str_cat(op, ": '", name, "': ", std::forward<A>(parts)...));
  }
};

inline const char* tfjs_dtype_name(TfjsDtype d) {
  switch (d) {
    case TfjsDtype::Int32: return "int32";
    case TfjsDtype::Bool: return "bool";
    default: return "float32";
  }
}

inline uint64_t tfjs_stored_size(const TfjsWeightSpec& w) {
  switch (w.quantization) {
    case TfjsQuantization::Uint8: return 1;
    case TfjsQuantization::Uint16:
    case TfjsQuantization::Float16: return 2;
    default: return w.dtype == TfjsDtype::Bool ? 1 : 4;
  }
}

inline double tfjs_number(const TfjsContext& ctx, const nlohmann::json& q, const char* key, const std::string& wn) {
  auto it = q.find(key);
  if (it == q.end()) ctx.fail(wn, ": quantization ", q.value("dtype", std::string("?")), " lacks '", key, "'");
  if (!it->is_number()) ctx.fail(wn, ": quantization ", key, " is not a number but a JSON ", it->type_name());
  const double v = it->get<double>();
  if (!std::isfinite(v)) ctx.fail(wn, ": quantization ", key, " is not finite");
  return v;
}

inline TfjsManifest parse_tfjs_manifest(const TfjsContext& ctx, const char* text, size_t n) {
  using nlohmann::json;
  if (n > kTfjsMaxManifestBytes) ctx.fail("manifest is ", n, " bytes, more than the limit of ", kTfjsMaxManifestBytes);
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  bool too_deep = false;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json& parsed) {
    if (depth > kMaxJsonDepth) too_deep = true;
    if (ev == json::parse_event_t::object_start) open_objects.emplace_back();
    else if (ev == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
    else if (ev == json::parse_event_t::key && !open_objects.empty() && parsed.is_string()) {
      if (!open_objects.back().insert(parsed.get_ref<const std::string&>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json m;
  try {
    m = json::parse(text, text + n, cb, /*allow_exceptions=*/true);
  } catch (const json::exception& e) {
    ctx.fail("manifest is not valid JSON (", e.what(), ")");
  }
  if (too_deep) ctx.fail("manifest JSON is nested deeper than ", kMaxJsonDepth, " levels");
  if (!duplicate.empty()) ctx.fail("manifest has duplicate key '", clip(duplicate), "'");
  if (!m.is_array()) ctx.fail("manifest is not a JSON array of weight groups but a JSON ", m.type_name());
  if (m.empty()) ctx.fail("manifest has no weight groups");

  TfjsManifest out;
  std::set<std::string> names;
  constexpr uint64_t kLimit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (size_t g = 0; g < m.size(); ++g) {
    const json& group = m[g];
    const std::string gn = crisp::detail::str_cat("weight group ", g);
    if (!group.is_object()) ctx.fail(gn, " is not an object but a JSON ", group.type_name());
    auto paths = group.find("paths");
    if (paths == group.end() || !paths->is_array()) ctx.fail(gn, " lacks a \"paths\" array");
    std::vector<std::string> gp;
    for (const json& p : *paths) {
      if (!p.is_string()) ctx.fail(gn, ": a path is not a string but a JSON ", p.type_name());
      gp.push_back(p.get<std::string>());
    }
    auto weights = group.find("weights");
    if (weights == group.end() || !weights->is_array()) ctx.fail(gn, " lacks a \"weights\" array");
    uint64_t offset = 0;
    for (const json& w : *weights) {
      if (!w.is_object()) ctx.fail(gn, ": a weight entry is not an object but a JSON ", w.type_name());
      auto nm = w.find("name");
      if (nm == w.end() || !nm->is_string()) ctx.fail(gn, ": a weight entry lacks a string \"name\"");
      TfjsWeightSpec s;
      s.name = nm->get<std::string>();
      s.group = g;
      const std::string wn = "weight '" + clip(s.name) + "'";
      if (!names.insert(s.name).second) ctx.fail(wn, " appears twice");
      auto dt = w.find("dtype");
      if (dt == w.end() || !dt->is_string()) ctx.fail(wn, " lacks a string \"dtype\"");
      const std::string dts = dt->get<std::string>();
      if (dts == "float32") s.dtype = TfjsDtype::Float32;
      else if (dts == "int32") s.dtype = TfjsDtype::Int32;
      else if (dts == "bool") s.dtype = TfjsDtype::Bool;
      else ctx.fail(wn, ": unsupported dtype '", clip(dts), "' (expected float32, int32 or bool)");
      auto sh = w.find("shape");
      if (sh == w.end() || !sh->is_array()) ctx.fail(wn, " lacks a \"shape\" array");
      if (sh->size() > static_cast<size_t>(Shape::kMaxDims))
        ctx.fail(wn, ": shape has ", sh->size(), " dims, more than the ", Shape::kMaxDims, " crisp supports");
      uint64_t numel = 1, span = 1;
      for (const json& x : *sh) {
        if (!x.is_number_integer()) ctx.fail(wn, ": shape has a non-integer extent ", clip(x.dump()));
        if (!x.is_number_unsigned() && x.get<int64_t>() < 0)
          ctx.fail(wn, ": shape has a negative extent ", x.get<int64_t>());
        const uint64_t ext = x.get<uint64_t>();
        if (ext > kLimit) ctx.fail(wn, ": shape extent ", ext, " is too large");
        const uint64_t mx = std::max<uint64_t>(ext, 1);
        if (span > kLimit / mx) ctx.fail(wn, ": shape ", clip(sh->dump()), " overflows the element count");
        span *= mx;
        numel *= ext;
        s.shape.push_back(static_cast<int64_t>(ext));
      }
      if (auto q = w.find("quantization"); q != w.end() && !q->is_null()) {
        if (!q->is_object()) ctx.fail(wn, ": quantization is not an object but a JSON ", q->type_name());
        auto qd = q->find("dtype");
        if (qd == q->end() || !qd->is_string()) ctx.fail(wn, ": quantization lacks a string \"dtype\"");
        const std::string qs = qd->get<std::string>();
        if (qs == "uint8" || qs == "uint16") {
          s.quantization = qs == "uint8" ? TfjsQuantization::Uint8 : TfjsQuantization::Uint16;
          if (s.dtype == TfjsDtype::Bool) ctx.fail(wn, ": ", qs, " quantization of a bool weight is not supported");
          s.scale = tfjs_number(ctx, *q, "scale", wn);
          s.min = tfjs_number(ctx, *q, "min", wn);
        } else if (qs == "float16") {
          if (s.dtype != TfjsDtype::Float32)
            ctx.fail(wn, ": float16 quantization needs a float32 weight, got ", tfjs_dtype_name(s.dtype));
          s.quantization = TfjsQuantization::Float16;
        } else {
          ctx.fail(wn, ": unsupported quantization dtype '", clip(qs), "' (expected uint8, uint16 or float16)");
        }
      }
      const uint64_t es = tfjs_stored_size(s);
      if (numel > kLimit / es) ctx.fail(wn, ": shape ", clip(sh->dump()), " is too large");
      s.byte_size = numel * es;
      if (offset > kLimit - s.byte_size) ctx.fail(gn, ": weights total more than ", kLimit, " bytes");
      s.offset = offset;
      offset += s.byte_size;
      out.weights.push_back(std::move(s));
    }
    if (gp.empty() && offset > 0) ctx.fail(gn, " has ", offset, " bytes of weights but no shard paths");
    out.group_paths.push_back(std::move(gp));
    out.group_bytes.push_back(offset);
  }
  return out;
}

// Decodes `count` elements stored as the spec says at `bytes` into `out`.
template <class T>
void tfjs_decode(const TfjsWeightSpec& s, const uint8_t* bytes, int64_t count, T* out) {
  auto load = [&](auto tag, int64_t i) {
    decltype(tag) v;
    std::memcpy(&v, bytes + i * static_cast<int64_t>(sizeof(v)), sizeof(v));
    return v;
  };
  auto dequant = [&](double q) -> T {
    const double v = q * s.scale + s.min;
    if (s.dtype == TfjsDtype::Int32) return static_cast<T>(std::floor(v + 0.5));  // Math.round
    return static_cast<T>(static_cast<float>(v));  // tfjs stores into a Float32Array
  };
  for (int64_t i = 0; i < count; ++i) {
    switch (s.quantization) {
      case TfjsQuantization::Uint8: out[i] = dequant(load(uint8_t{}, i)); break;
      case TfjsQuantization::Uint16: out[i] = dequant(load(uint16_t{}, i)); break;
      case TfjsQuantization::Float16: out[i] = static_cast<T>(half_to_float(load(uint16_t{}, i))); break;
      case TfjsQuantization::None:
        if (s.dtype == TfjsDtype::Float32) out[i] = static_cast<T>(load(float{}, i));
        else if (s.dtype == TfjsDtype::Int32) out[i] = static_cast<T>(load(int32_t{}, i));
        else out[i] = static_cast<T>(load(uint8_t{}, i) != 0);
        break;
    }
  }
}

// Checks a shard path: relative, no "..", not empty.
inline void check_shard_path(const TfjsContext& ctx, const std::string& p) {
  if (p.empty()) ctx.fail("a shard path is empty");
  if (p.find('\0') != std::string::npos) ctx.fail("shard path '", clip(p), "' contains a NUL byte");
  const std::filesystem::path fp(p);
  if (fp.is_absolute() || p[0] == '/') ctx.fail("shard path '", clip(p), "' is absolute (expected one relative to the manifest)");
  for (const auto& part : fp)
    if (part == "..") ctx.fail("shard path '", clip(p), "' leaves the manifest's folder (\"..\")");
}

}  // namespace detail

// Parses and validates a manifest's JSON text (`name` appears in error messages).
inline TfjsManifest parse_tfjs_manifest(const char* text, size_t size, const std::string& name = "<memory>") {
  return detail::parse_tfjs_manifest({"parse_tfjs_manifest", name}, text, size);
}

// Decodes every weight of a parsed manifest. `shards` maps each shard path to its bytes; a group's
// shards are concatenated in "paths" order and must hold exactly the group's weights.
template <class T = float>
std::map<std::string, Tensor<T>> decode_tfjs_weights(const TfjsManifest& manifest,
                                                     const std::map<std::string, std::vector<uint8_t>>& shards,
                                                     const std::string& name = "<memory>") {
  const detail::TfjsContext ctx{"decode_tfjs_weights", name};
  std::vector<std::vector<uint8_t>> buffers(manifest.group_paths.size());
  for (size_t g = 0; g < manifest.group_paths.size(); ++g) {
    uint64_t total = 0;
    for (const auto& p : manifest.group_paths[g]) {
      auto it = shards.find(p);
      if (it == shards.end()) ctx.fail("weight group ", g, ": shard '", detail::clip(p), "' is missing");
      total += it->second.size();
    }
    if (total != manifest.group_bytes[g])
      ctx.fail("weight group ", g, ": its shards hold ", total, " bytes, its weights need ", manifest.group_bytes[g],
               total < manifest.group_bytes[g] ? " (truncated shard?)" : " (trailing bytes)");
    buffers[g].reserve(total);
    for (const auto& p : manifest.group_paths[g]) {
      const auto& b = shards.at(p);
      buffers[g].insert(buffers[g].end(), b.begin(), b.end());
    }
  }
  std::map<std::string, Tensor<T>> out;
  for (const TfjsWeightSpec& s : manifest.weights) {
    Tensor<T> t = Tensor<T>::empty(s.shape);
    detail::tfjs_decode(s, buffers[s.group].data() + s.offset, t.numel(), t.data());
    out.emplace(s.name, std::move(t));
  }
  return out;
}

// Reads `manifest_path` and its shards (paths relative to the manifest's folder) and returns every
// weight by its tfjs name, e.g. "conv32_down/conv/filters", in TensorFlow's layout.
template <class T = float>
std::map<std::string, Tensor<T>> load_tfjs_weights(const std::string& manifest_path) {
  namespace fs = std::filesystem;
  const detail::TfjsContext ctx{"load_tfjs_weights", manifest_path};
  auto read_all = [&](const fs::path& p, uint64_t limit, const char* what) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) ctx.fail(what, " '", p.string(), "' is not a readable file");
    const uint64_t size = fs::file_size(p, ec);
    if (ec) ctx.fail("cannot stat ", what, " '", p.string(), "': ", ec.message());
    if (size > limit) ctx.fail(what, " '", p.string(), "' is ", size, " bytes, more than the ", limit, " expected");
    std::vector<uint8_t> bytes(size);
    std::ifstream in(p, std::ios::binary);
    if (!in || (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))))
      ctx.fail("cannot read ", what, " '", p.string(), "'");
    return bytes;
  };
  const std::vector<uint8_t> text = read_all(manifest_path, detail::kTfjsMaxManifestBytes, "manifest");
  const TfjsManifest m = detail::parse_tfjs_manifest(ctx, reinterpret_cast<const char*>(text.data()), text.size());
  const fs::path dir = fs::path(manifest_path).parent_path();
  std::map<std::string, std::vector<uint8_t>> shards;
  for (size_t g = 0; g < m.group_paths.size(); ++g) {
    // Size check before reading: the group's shards together must hold exactly its weights.
    uint64_t total = 0;
    std::vector<std::pair<std::string, uint64_t>> sizes;
    for (const auto& p : m.group_paths[g]) {
      detail::check_shard_path(ctx, p);
      std::error_code ec;
      const fs::path fp = dir / p;
      if (!fs::is_regular_file(fp, ec)) ctx.fail("weight group ", g, ": shard '", fp.string(), "' is missing");
      const uint64_t sz = fs::file_size(fp, ec);
      if (ec) ctx.fail("cannot stat shard '", fp.string(), "': ", ec.message());
      total += sz;
    }
    if (total != m.group_bytes[g])
      ctx.fail("weight group ", g, ": its shards hold ", total, " bytes, its weights need ", m.group_bytes[g],
               total < m.group_bytes[g] ? " (truncated shard?)" : " (trailing bytes)");
    for (const auto& p : m.group_paths[g])
      if (!shards.count(p)) shards.emplace(p, read_all(dir / p, m.group_bytes[g], "shard"));
  }
  try {
    return decode_tfjs_weights<T>(m, shards, manifest_path);
  } catch (const IoError& e) {  // a shard changed between the size check and the read
    throw IoError(crisp::detail::str_cat("load_tfjs_weights: ", e.what()));
  }
}

// How a tfjs weight maps onto a crisp parameter.
enum class TfjsLayout {
  AsIs,       // same shape and order (biases, scales)
  ConvHWIO,   // [kh, kw, in, out] -> [out, in, kh, kw]
  Depthwise,  // [kh, kw, C, M] -> [C * M, 1, kh, kw]
  Dense,      // [in, out] -> [out, in]
};

// The layout change, as a new contiguous tensor; throws ShapeError on a tensor of the wrong rank.
template <class T>
Tensor<T> tfjs_to_crisp_layout(const Tensor<T>& w, TfjsLayout layout) {
  CRISP_CHECK(w.defined(), ValueError, "tfjs_to_crisp_layout", "expected a defined tensor");
  // A contiguous host copy, whatever the strides (written here: io sits below the ops layer).
  Tensor<T> c = Tensor<T>::empty(w.shape());
  {
    std::vector<int64_t> idx(static_cast<size_t>(w.dim()), 0);
    const T* base = w.data();
    for (int64_t n = 0; n < c.numel(); ++n) {
      int64_t off = 0;
      for (int64_t d = 0; d < w.dim(); ++d) off += idx[static_cast<size_t>(d)] * w.stride(d);
      c.data()[n] = base[off];
      for (int64_t d = w.dim() - 1; d >= 0; --d) {
        if (++idx[static_cast<size_t>(d)] < w.size(d)) break;
        idx[static_cast<size_t>(d)] = 0;
      }
    }
  }
  const T* src = c.data();
  if (layout == TfjsLayout::AsIs) return c;
  if (layout == TfjsLayout::Dense) {
    CRISP_CHECK(c.dim() == 2, ShapeError, "tfjs_to_crisp_layout", "expected a dense kernel [in, out], got ", c.shape());
    const int64_t in = c.size(0), o = c.size(1);
    Tensor<T> out = Tensor<T>::empty({o, in});
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < o; ++j) out.data()[j * in + i] = src[i * o + j];
    return out;
  }
  CRISP_CHECK(c.dim() == 4, ShapeError, "tfjs_to_crisp_layout", "expected a ",
              layout == TfjsLayout::ConvHWIO ? "conv kernel [kh, kw, in, out]" : "depthwise kernel [kh, kw, C, M]",
              ", got ", c.shape());
  const int64_t kh = c.size(0), kw = c.size(1), a = c.size(2), b = c.size(3);
  // HWIO element (y, x, i, o) goes to [o][i][y][x]; depthwise (y, x, ch, m) to [ch * M + m][0][y][x].
  Tensor<T> out = layout == TfjsLayout::ConvHWIO ? Tensor<T>::empty({b, a, kh, kw}) : Tensor<T>::empty({a * b, 1, kh, kw});
  for (int64_t y = 0; y < kh; ++y)
    for (int64_t x = 0; x < kw; ++x)
      for (int64_t i = 0; i < a; ++i)
        for (int64_t o = 0; o < b; ++o) {
          const int64_t dst = layout == TfjsLayout::ConvHWIO ? ((o * a + i) * kh + y) * kw + x : ((i * b + o) * kh + y) * kw + x;
          out.data()[dst] = src[((y * kw + x) * a + i) * b + o];
        }
  return out;
}

// Strict importer: maps named tfjs weights onto crisp state-dict keys, checking each tfjs shape,
// and reports every missing, unexpected and misshapen weight at once (like load_state_dict).
//   TfjsWeightMapper<float> m(load_tfjs_weights(path), "FaceRecognitionNet::load_tfjs(\"...\")");
//   m.map("fc", {256, 128}, "fc.weight", TfjsLayout::Dense);
//   module->load_state_dict(m.finish());
template <class T>
class TfjsWeightMapper {
 public:
  TfjsWeightMapper(std::map<std::string, Tensor<T>> weights, std::string op)
      : weights_(std::move(weights)), op_(std::move(op)) {}

  void map(const std::string& tfjs_name, const Shape& tfjs_shape, const std::string& crisp_key, TfjsLayout layout) {
    auto it = weights_.find(tfjs_name);
    if (it == weights_.end()) {
      missing_.push_back(crisp::detail::str_cat(tfjs_name, " (expected shape ", tfjs_shape, ")"));
      return;
    }
    used_.insert(tfjs_name);
    if (it->second.shape() != tfjs_shape) {
      mismatches_.push_back(crisp::detail::str_cat(tfjs_name, ": expected shape ", tfjs_shape, ", got ", it->second.shape()));
      return;
    }
    state_[crisp_key] = tfjs_to_crisp_layout(it->second, layout);
  }

  // The crisp state dict; throws crisp::Error listing every problem when any weight was missing,
  // misshapen or left unmapped.
  std::map<std::string, Tensor<T>> finish() {
    std::vector<std::string> unexpected;
    for (const auto& [k, v] : weights_)
      if (!used_.count(k)) unexpected.push_back(k);
    if (missing_.empty() && unexpected.empty() && mismatches_.empty()) return std::move(state_);
    std::ostringstream os;
    os << op_ << ": the TensorFlow.js weights do not match the network (nothing was loaded):";
    auto list = [&os](const char* what, const std::vector<std::string>& v) {
      if (v.empty()) return;
      os << "\n  " << what << " (" << v.size() << "):";
      for (const auto& s : v) os << "\n    " << s;
    };
    list("missing weights", missing_);
    list("unexpected weights", unexpected);
    list("shape mismatches", mismatches_);
    throw Error(os.str());
  }

 private:
  std::map<std::string, Tensor<T>> weights_;
  std::string op_;
  std::set<std::string> used_;
  std::vector<std::string> missing_, mismatches_;
  std::map<std::string, Tensor<T>> state_;
};

}  // namespace crisp::io
