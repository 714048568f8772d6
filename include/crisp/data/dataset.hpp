// Pieces shared by crisp's datasets: listing the images of a folder, matching files by stem,
// stacking samples into batches, one-time warnings, and the skip-or-throw policy for bad files.
#pragma once

// The dataset contract (what DataLoader relies on): a dataset type D has
//   using Sample = ...;  using Batch = ...;
//   int64_t size() const;
//   Sample get(int64_t index, Generator& gen) const;       // deterministic in (index, gen state)
//   static Batch collate(std::vector<Sample>&& samples);   // stacks along a new dim 0
// and may add  Sample get(int64_t index, Generator& gen, int64_t iteration) const  for samples
// that depend on the training step (the kernel curriculum). get() must be safe to call from
// several threads at once: datasets keep no mutable state except the warn-once registry.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "crisp/data/transforms.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/generator.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::data {

// What a dataset does with a file it cannot read: throw crisp::IoError naming the path, or warn
// once on std::cerr and use the next readable sample in its place.
enum class OnError { Throw, Skip };

// Lower-case extensions (no dot) that list_images accepts.
inline const std::vector<std::string>& image_extensions() {
  static const std::vector<std::string> exts{"png", "jpg", "jpeg", "bmp", "tga", "pgm", "ppm"};
  return exts;
}

namespace detail {

inline std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

inline bool has_image_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  if (ext.size() < 2) return false;
  ext = lower(ext.substr(1));
  const auto& ok = image_extensions();
  return std::find(ok.begin(), ok.end(), ext) != ok.end();
}

// Prints `message` to std::cerr the first time `key` is seen in this process (thread-safe), so a
// bad file met every epoch by several workers is reported once.
inline void warn_once(const std::string& key, const std::string& message) {
  static std::mutex m;
  static std::unordered_set<std::string> seen;
  std::lock_guard<std::mutex> lock(m);
  if (seen.insert(key).second) std::cerr << "crisp warning: " << message << std::endl;
}

// The splitmix64 finaliser: a bijection on 64 bits that spreads every input bit.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace detail

// A seed for the (seed, epoch, index) triple: chained splitmix64, so neighbouring triples give
// unrelated streams. The loader derives every sample's Generator from it, which is what makes the
// batches independent of the number of worker threads.
inline uint64_t sample_seed(uint64_t seed, uint64_t epoch, uint64_t index) {
  return detail::splitmix64(detail::splitmix64(detail::splitmix64(seed) ^ epoch) ^ index);
}

// The image files directly inside `dir` (extensions in image_extensions(), any case), sorted by
// file name. A missing folder, a file in its place or a folder without images throws
// crisp::IoError naming it; `op` names the caller in the message.
inline std::vector<std::string> list_images(const std::string& dir, const std::string& op = "list_images") {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw IoError(crisp::detail::str_cat(op, ": folder '", dir, "' does not exist"));
  if (!fs::is_directory(dir, ec))
    throw IoError(crisp::detail::str_cat(op, ": expected a folder of images, got the file '", dir, "'"));
  std::vector<std::string> out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) && !it->is_symlink(ec)) continue;
    if (detail::has_image_extension(it->path())) out.push_back(it->path().string());
  }
  if (ec) throw IoError(crisp::detail::str_cat(op, ": cannot list folder '", dir, "': ", ec.message()));
  if (out.empty())
    throw IoError(crisp::detail::str_cat(op, ": folder '", dir,
                                         "' holds no images (expected .png .jpg .jpeg .bmp .tga .pgm or .ppm files)"));
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return fs::path(a).filename().string() < fs::path(b).filename().string();
  });
  return out;
}

inline std::string file_stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }
inline std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// stem -> path of the listed images; two files with one stem (a.png and a.jpg) throw, since a
// partner could not be chosen between them.
inline std::map<std::string, std::string> images_by_stem(const std::vector<std::string>& paths, const std::string& op) {
  std::map<std::string, std::string> out;
  for (const auto& p : paths) {
    auto [it, fresh] = out.emplace(file_stem(p), p);
    if (!fresh)
      throw IoError(crisp::detail::str_cat(op, ": expected one image per file stem, got both '", it->second, "' and '",
                                           p, "'"));
  }
  return out;
}

// Stacks equally-shaped tensors along a new dim 0 into one contiguous tensor.
template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& xs, const std::string& what = "stack") {
  CRISP_CHECK(!xs.empty(), ValueError, what, "expected at least one tensor to stack, got none");
  const Shape& s0 = xs[0].shape();
  std::vector<int64_t> dims{static_cast<int64_t>(xs.size())};
  for (int64_t d = 0; d < static_cast<int64_t>(s0.size()); ++d) dims.push_back(s0[d]);
  Tensor<T> out = Tensor<T>::empty(Shape(dims));
  const int64_t n = xs[0].numel();
  for (size_t i = 0; i < xs.size(); ++i) {
    CRISP_CHECK(xs[i].shape() == s0, ShapeError, what, "expected every sample to have shape ", s0, ", sample ", i,
                " has shape ", xs[i].shape());
    const Tensor<T> c = detail::contiguous_copy(xs[i]);
    if (n > 0) std::memcpy(out.data() + static_cast<int64_t>(i) * n, c.data(), static_cast<size_t>(n) * sizeof(T));
  }
  return out;
}

// A 1-d int64 tensor holding `values` (per-sample scalars of a batch: indices, kernel sizes).
inline Tensor<int64_t> int_tensor(const std::vector<int64_t>& values) {
  Tensor<int64_t> t = Tensor<int64_t>::empty(Shape{static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

namespace detail {

// Runs load(i) for `index`; under OnError::Skip an IoError warns once (naming the file through
// the exception's message) and the next indices are tried in turn, each with a fresh copy of the
// generator state `gen` had on entry, so the result does not depend on which thread met the bad
// file first. Throws crisp::IoError when every index fails.
template <class Load>
auto load_or_skip(int64_t index, int64_t size, OnError policy, Generator& gen, const std::string& op, Load&& load)
    -> decltype(load(index, gen)) {
  CRISP_CHECK(index >= 0 && index < size, ValueError, op, "expected an index in [0, ", size, "), got ", index);
  if (policy == OnError::Throw) return load(index, gen);
  const Generator start = gen;
  for (int64_t k = 0; k < size; ++k) {
    const int64_t i = (index + k) % size;
    gen = start;
    try {
      return load(i, gen);
    } catch (const IoError& e) {
      warn_once(e.what(), crisp::detail::str_cat(op, ": skipping sample ", i, " (", e.what(), ")"));
    }
  }
  throw IoError(crisp::detail::str_cat(op, ": every one of the ", size, " samples failed to load"));
}

}  // namespace detail

}  // namespace crisp::data
