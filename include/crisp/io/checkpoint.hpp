// Training checkpoints: a model, its optimiser, an optional LR scheduler, the step, a Generator's
// state and the user's metadata in ONE safetensors file, written atomically, loaded all-or-nothing.
#pragma once

// File layout (a plain safetensors file, readable by any safetensors reader):
//   tensors      "model.<key>"   the model's state_dict (parameters and buffers)
//                "optim.<key>"   the optimiser's state tensors (momentum buffers, moments)
//   __metadata__ "format"        "crisp.checkpoint/1"
//                "step"          the caller's step counter
//                "rng"           the Generator's 256-bit state: four decimal u64, comma-separated
//                "optim.<key>"   the optimiser's small values (type, options per group, step counts)
//                "sched.<key>"   the scheduler's state, when one was saved
//                "user.<key>"    the caller's metadata
//                "checksum"      64-bit hash (hex) of every other metadata entry and every tensor's
//                                name, shape and bytes: corruption the format itself cannot see
//                                (a changed digit in a value, flipped data bits) is detected too
// Writing goes through save_safetensors: temporary file in the same directory, fsync, rename,
// so a crash at any moment leaves either the old file or the new one at `path`.
//
// Loading reads and checks the whole file (format, checksum), then checks that everything fits -
// every model key present with the model's shape and none unexpected, the optimiser's state (type,
// groups, options, buffer shapes), the scheduler's state when a scheduler is given, the RNG state
// when a generator is given - and throws ONE crisp::Error listing every problem before anything
// is written. Only then are model, optimiser, scheduler and generator updated. A scheduler or
// generator passed as nullptr is left out (its saved state, if any, is ignored).

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "crisp/io/safetensors.hpp"
#include "crisp/nn/module.hpp"
#include "crisp/optim/optimizer.hpp"
#include "crisp/optim/scheduler.hpp"
#include "crisp/tensor/generator.hpp"

namespace crisp::io {

struct CheckpointInfo {
  int64_t step = 0;
  std::map<std::string, std::string> metadata;  // the user's metadata, as saved
};

namespace detail {

inline constexpr const char* kCheckpointFormat = "crisp.checkpoint/1";

// A fast 64-bit non-cryptographic hash (word-wise multiply-rotate, then a final avalanche).
class Hash64 {
 public:
  void update(const void* data, size_t len) {
    const auto* p = static_cast<const uint8_t*>(data);
    mix(len);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      mix(w);
    }
    if (i < len) {
      uint64_t w = 0;
      std::memcpy(&w, p + i, len - i);
      mix(w);
    }
  }
  void update(const std::string& s) { update(s.data(), s.size()); }
  uint64_t digest() const {
    uint64_t z = h_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  void mix(uint64_t w) {
    h_ ^= w * 0x87C37B91114253D5ull;
    h_ = ((h_ << 31) | (h_ >> 33)) * 0x4CF5AD432745937Full;
  }
  uint64_t h_ = 0x9E3779B97F4A7C15ull;
};

template <class T>
std::string checkpoint_checksum(const std::map<std::string, Tensor<T>>& tensors,
                                const std::map<std::string, std::string>& metadata) {
  Hash64 h;
  for (const auto& [k, v] : metadata) {
    if (k == "checksum") continue;
    h.update(k);
    h.update(v);
  }
  for (const auto& [k, t] : tensors) {
    h.update(k);
    const Shape& s = t.shape();
    for (int64_t d = 0; d < t.dim(); ++d) {
      const int64_t n = s[d];
      h.update(&n, sizeof(n));
    }
    const Tensor<T> host = t.device().is_cpu() ? t : t.to(Device::cpu());
    const Tensor<T> c = host.is_contiguous() ? host : host.contiguous();
    h.update(c.data(), static_cast<size_t>(c.numel()) * sizeof(T));
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h.digest()));
  return buf;
}

// The nn::ModuleT behind a module, a ModuleHolder or a shared_ptr to a module.
template <class M>
auto& module_ref(M& m) {
  using D = std::remove_cv_t<M>;
  if constexpr (nn::HasContainedType<D>) {
    return static_cast<nn::ModuleT<typename D::scalar_type>&>(*m);
  } else if constexpr (requires { typename D::element_type; }) {
    return static_cast<nn::ModuleT<typename D::element_type::scalar_type>&>(*m);
  } else {
    if constexpr (std::is_const_v<M>) return static_cast<const nn::ModuleT<typename D::scalar_type>&>(m);
    else return static_cast<nn::ModuleT<typename D::scalar_type>&>(m);
  }
}

// Entries "<prefix><rest>" of `m`, keyed by <rest>.
template <class V>
std::map<std::string, V> with_prefix(const std::map<std::string, V>& m, const std::string& prefix) {
  std::map<std::string, V> out;
  for (auto it = m.lower_bound(prefix); it != m.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out.emplace(it->first.substr(prefix.size()), it->second);
  return out;
}

// The JSON header of a safetensors file must end in '}' followed only by the spaces that pad it
// to a multiple of 8 bytes (what save_safetensors writes). The reader tolerates other trailing
// bytes; a checkpoint is stricter, so that no byte of its header can change unnoticed.
inline void check_header_padding(const std::string& path) {
  const StContext ctx{"load_checkpoint", path};
  with_file(ctx, path, [&](const StSource& src) {
    uint64_t n = 0;
    src.read(ctx, 0, 8, &n);  // read_safetensors has validated the length already
    std::string header(n, '\0');
    src.read(ctx, 8, n, header.data());
    const size_t close = header.find_last_of('}');
    if (close == std::string::npos || header.find_first_not_of(' ', close + 1) != std::string::npos)
      ctx.fail("expected the JSON header to be padded with spaces only (file corrupted)");
    return 0;
  });
}

}  // namespace detail

// Saves model, optimiser, scheduler (nullable), step, generator state (nullable) and `metadata`
// to `path` atomically. Throws crisp::IoError when the file cannot be written; `path` then
// still holds what it held before.
template <class Model, class T>
void save_checkpoint(const std::string& path, const Model& model, const optim::OptimizerT<T>& optimizer,
                     const optim::LRScheduler* scheduler, int64_t step, const Generator* generator,
                     const std::map<std::string, std::string>& metadata = {}) {
  const auto& module = detail::module_ref(model);
  static_assert(std::is_same_v<typename std::remove_cvref_t<decltype(module)>::scalar_type, T>,
                "save_checkpoint: the model's and the optimizer's scalar types must match");
  std::map<std::string, Tensor<T>> tensors;
  std::map<std::string, std::string> meta;
  for (const auto& [k, t] : module.state_dict()) tensors.emplace("model." + k, t);
  const auto osd = optimizer.state_dict();
  for (const auto& [k, t] : osd.tensors) tensors.emplace("optim." + k, t);
  for (const auto& [k, v] : osd.values) meta.emplace("optim." + k, v);
  if (scheduler)
    for (const auto& [k, v] : scheduler->state_dict()) meta.emplace("sched." + k, v);
  for (const auto& [k, v] : metadata) meta.emplace("user." + k, v);
  meta["format"] = detail::kCheckpointFormat;
  meta["step"] = std::to_string(step);
  if (generator) {
    const Generator::State s = generator->state();
    meta["rng"] = std::to_string(s[0]) + "," + std::to_string(s[1]) + "," + std::to_string(s[2]) + "," +
                  std::to_string(s[3]);
  }
  meta["checksum"] = detail::checkpoint_checksum(tensors, meta);
  save_safetensors(path, tensors, meta);
}

// Loads a checkpoint written by save_checkpoint into model, optimiser, scheduler (nullable) and
// generator (nullable); returns the step and the user's metadata. Throws crisp::IoError for an
// unreadable, truncated or corrupted file and crisp::Error listing every mismatch when it does not
// fit; in both cases nothing is changed.
template <class Model, class T>
CheckpointInfo load_checkpoint(const std::string& path, Model& model, optim::OptimizerT<T>& optimizer,
                               optim::LRScheduler* scheduler, Generator* generator) {
  auto& module = detail::module_ref(model);
  static_assert(std::is_same_v<typename std::remove_cvref_t<decltype(module)>::scalar_type, T>,
                "load_checkpoint: the model's and the optimizer's scalar types must match");
  const std::string op = "load_checkpoint";
  SafetensorsContents<T> file = read_safetensors<T>(path);
  detail::check_header_padding(path);
  const auto& meta = file.metadata;
  auto fmt = meta.find("format");
  CRISP_CHECK(fmt != meta.end() && fmt->second == detail::kCheckpointFormat, IoError, op, "'", path,
              "': expected a crisp checkpoint (metadata format = \"", detail::kCheckpointFormat, "\"), got ",
              fmt == meta.end() ? std::string("no format entry") : "\"" + fmt->second + "\"");
  auto sum = meta.find("checksum");
  CRISP_CHECK(sum != meta.end() && sum->second == detail::checkpoint_checksum(file.tensors, meta), IoError, op, "'",
              path, "': checksum mismatch, the file is corrupted (expected ",
              detail::checkpoint_checksum(file.tensors, meta), ", got ",
              sum == meta.end() ? std::string("none") : sum->second, ")");

  // 1. Check everything.
  std::vector<std::string> problems;
  const auto model_state = detail::with_prefix(file.tensors, "model.");
  const auto own = module.state_dict();
  for (const auto& [k, t] : own) {
    auto it = model_state.find(k);
    if (it == model_state.end()) problems.push_back("model: missing key \"" + k + "\"");
    else if (it->second.shape() != t.shape())
      problems.push_back(::crisp::detail::str_cat("model: \"", k, "\": expected shape ", t.shape(), ", got ",
                                                  it->second.shape()));
  }
  for (const auto& [k, t] : model_state)
    if (!own.count(k)) problems.push_back("model: unexpected key \"" + k + "\"");
  optim::OptimizerStateDictT<T> osd{detail::with_prefix(file.tensors, "optim."), detail::with_prefix(meta, "optim.")};
  for (const auto& p : optimizer.check_state_dict(osd)) problems.push_back("optimizer: " + p);
  for (const auto& [k, t] : file.tensors)
    if (k.rfind("model.", 0) != 0 && k.rfind("optim.", 0) != 0) problems.push_back("unexpected tensor \"" + k + "\"");
  const auto sched_state = detail::with_prefix(meta, "sched.");
  if (scheduler) {
    if (sched_state.empty()) problems.push_back("scheduler: the checkpoint holds no scheduler state");
    else
      for (const auto& p : scheduler->check_state_dict(sched_state)) problems.push_back("scheduler: " + p);
  }
  Generator::State rng{};
  if (generator) {
    auto it = meta.find("rng");
    std::vector<uint64_t> words;
    if (it == meta.end()) problems.push_back("generator: the checkpoint holds no RNG state");
    else if (!optim::detail::parse_list(it->second, words, optim::detail::parse_u64) || words.size() != 4)
      problems.push_back("generator: expected four comma-separated u64 in \"rng\", got \"" + it->second + "\"");
    else
      for (size_t i = 0; i < 4; ++i) rng[i] = words[i];
  }
  CheckpointInfo info;
  auto st = meta.find("step");
  if (st == meta.end() || !optim::detail::parse_int(st->second, info.step))
    problems.push_back("expected an integer \"step\", got " +
                       (st == meta.end() ? std::string("none") : "\"" + st->second + "\""));
  for (const auto& [k, v] : meta) {
    const bool known = k == "format" || k == "checksum" || k == "step" || k == "rng" || k.rfind("optim.", 0) == 0 ||
                       k.rfind("sched.", 0) == 0 || k.rfind("user.", 0) == 0;
    if (!known) problems.push_back("unexpected metadata \"" + k + "\"");
  }
  if (!problems.empty()) {
    std::string msg = ::crisp::detail::str_cat(op, ": '", path, "' does not fit the ", module.name(),
                                               " model and its optimizer (nothing was changed):");
    for (const auto& p : problems) msg += "\n  " + p;
    throw Error(msg);
  }

  // 2. Apply (every check has passed, so none of these throws).
  module.load_state_dict(model_state, true);
  optimizer.load_state_dict(osd);
  if (scheduler) scheduler->load_state_dict(sched_state);
  if (generator) generator->set_state(rng);
  info.metadata = detail::with_prefix(meta, "user.");
  return info;
}

}  // namespace crisp::io
