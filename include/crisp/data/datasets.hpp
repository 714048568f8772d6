// Image-restoration datasets over folders: sharp images blurred on the fly from a kernel bank,
// blurred/sharp pairs matched by file stem, and unpaired folders A and B for CycleGAN.
#pragma once

// All three follow the contract in dataset.hpp. Images are decoded on every get() (unless
// BlurredFolderOptions::cache_images), as RGB by default, and returned as float [C, H, W] in [0, 1]; batches stack them into
// [N, C, H, W]. The random draws of one get(), in order, are listed on each dataset.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crisp/data/blur_kernels.hpp"
#include "crisp/data/dataset.hpp"
#include "crisp/data/degradation.hpp"
#include "crisp/data/image_io.hpp"
#include "crisp/data/transforms.hpp"

namespace crisp::data {

namespace detail {

// Resizes to `size` unless it is {0, 0} or already the image's size (Area to shrink, Bilinear to
// enlarge, as transforms.hpp recommends).
inline Tensor<float> resize_to(const Tensor<float>& img, std::array<int64_t, 2> size) {
  if (size[0] <= 0 || size[1] <= 0 || (img.size(-2) == size[0] && img.size(-1) == size[1])) return img;
  const bool shrink = size[0] <= img.size(-2) && size[1] <= img.size(-1);
  return resize(img, size, shrink ? Interpolation::Area : Interpolation::Bilinear);
}

inline void check_crop_option(std::array<int64_t, 2> crop, const char* op) {
  CRISP_CHECK((crop[0] == 0 && crop[1] == 0) || (crop[0] > 0 && crop[1] > 0), ValueError, op,
              "expected a crop size {h, w} > 0 or {0, 0} for none, got {", crop[0], ", ", crop[1], "}");
}

inline bool no_size(std::array<int64_t, 2> s) { return s[0] <= 0 || s[1] <= 0; }

}  // namespace detail

// ---- sharp folder, blurred on the fly ------------------------------------------------------

// Chooses the blur kernel of one sample from its generator and the training iteration (the
// hook KernelCurriculum::sampler() fills).
using KernelSampler = std::function<Tensor<float>(Generator& gen, int64_t iteration)>;

// Uniform over a whole bank.
inline KernelSampler uniform_kernel_sampler(KernelBank bank) {
  CRISP_CHECK(!bank.empty(), ValueError, "uniform_kernel_sampler", "expected a non-empty kernel bank");
  return [bank = std::move(bank)](Generator& gen, int64_t) {
    return bank[static_cast<size_t>(gen.uniform_int(bank.size()))];
  };
}

struct BlurredFolderOptions {
  std::array<int64_t, 2> load_size{0, 0};  // resize every image to this first ({0, 0}: keep its size)
  std::array<int64_t, 2> crop{128, 128};   // random crop ({0, 0}: the whole image)
  bool hflip = true;                       // mirror with probability 0.5
  std::optional<RandomAffineOptions> affine;  // random rotation / scale / shift of the sharp image
  DegradeOptions degrade;                  // border rule, noise sigma (0.01), clamp, JPEG
  // true: when the image has room, crop a window kernel - 1 pixels larger, blur it and keep its
  // centre, so the blurred crop sees real image content past its edges instead of the border rule.
  bool valid_blur = true;
  ImageMode mode = ImageMode::RGB;
  OnError on_error = OnError::Throw;
  // Keep each image in memory after its first decode (and load_size resize): decoding a 1024^2
  // JPEG costs more than everything else together, so small sets (or ones pre-resized with
  // load_size) load several times faster. Memory: 4 C H W bytes per image, never released.
  bool cache_images = false;
};

struct BlurSample {
  Tensor<float> blurred, sharp;  // [C, h, w]
  Tensor<float> kernel;          // [k, k], sums to 1
  int64_t kernel_size = 0;       // k
  int64_t index = 0;             // the dataset index actually loaded (differs after a skip)
};
struct BlurBatch {
  Tensor<float> blurred, sharp;       // [N, C, h, w]
  std::vector<Tensor<float>> kernels;  // N kernels (sizes may differ)
  Tensor<int64_t> kernel_size, index;  // [N]
};

// Sharp images of a folder, each blurred with a kernel from a sampler (uniform over a bank by
// default) plus Gaussian noise. Draws, in order: the kernel (sampler), crop top and left, flip
// (one U < 0.5), affine parameters, noise.
class BlurredFolderDataset {
 public:
  using Sample = BlurSample;
  using Batch = BlurBatch;
  using Options = BlurredFolderOptions;

  BlurredFolderDataset(const std::string& dir, KernelBank bank, Options opts = {})
      : BlurredFolderDataset(dir, uniform_kernel_sampler(std::move(bank)), std::move(opts)) {}
  BlurredFolderDataset(const std::string& dir, KernelSampler sampler, Options opts = {})
      : files_(list_images(dir, "BlurredFolderDataset")), sampler_(std::move(sampler)), opts_(std::move(opts)),
        cache_(std::make_shared<Cache>()) {
    cache_->images.resize(files_.size());
    CRISP_CHECK(static_cast<bool>(sampler_), ValueError, "BlurredFolderDataset", "expected a kernel sampler, got none");
    detail::check_crop_option(opts_.crop, "BlurredFolderDataset");
  }

  int64_t size() const { return static_cast<int64_t>(files_.size()); }
  const std::vector<std::string>& files() const { return files_; }
  const Options& options() const { return opts_; }
  void set_kernel_sampler(KernelSampler s) {
    CRISP_CHECK(static_cast<bool>(s), ValueError, "BlurredFolderDataset::set_kernel_sampler", "expected a sampler");
    sampler_ = std::move(s);
  }

  Sample get(int64_t index, Generator& gen) const { return get(index, gen, 0); }
  Sample get(int64_t index, Generator& gen, int64_t iteration) const {
    return detail::load_or_skip(index, size(), opts_.on_error, gen, "BlurredFolderDataset",
                                [&](int64_t i, Generator& g) { return make(i, g, iteration); });
  }

  static Batch collate(std::vector<Sample>&& s) {
    Batch b;
    std::vector<Tensor<float>> blurred, sharp;
    std::vector<int64_t> ks, idx;
    for (auto& x : s) {
      blurred.push_back(x.blurred), sharp.push_back(x.sharp), b.kernels.push_back(x.kernel);
      ks.push_back(x.kernel_size), idx.push_back(x.index);
    }
    b.blurred = data::stack(blurred, "BlurredFolderDataset::collate");
    b.sharp = data::stack(sharp, "BlurredFolderDataset::collate");
    b.kernel_size = int_tensor(ks), b.index = int_tensor(idx);
    return b;
  }

 private:
  // Decoded (and resized) image i, from the cache when enabled. Cached tensors are never handed
  // out or written: every path below copies (crop, flip, warp, blur).
  Tensor<float> image(int64_t i) const {
    const auto k = static_cast<size_t>(i);
    if (opts_.cache_images) {
      std::lock_guard<std::mutex> lock(cache_->m);
      if (cache_->images[k].defined()) return cache_->images[k];
    }
    Tensor<float> img = detail::resize_to(load_image(files_[k], opts_.mode), opts_.load_size);
    if (opts_.cache_images) {
      std::lock_guard<std::mutex> lock(cache_->m);
      cache_->images[k] = img;
    }
    return img;
  }

  Sample make(int64_t i, Generator& gen, int64_t iteration) const {
    const Tensor<float> img = image(i);
    Sample s;
    s.index = i;
    s.kernel = sampler_(gen, iteration);
    CRISP_CHECK(s.kernel.defined() && s.kernel.dim() == 2, ShapeError, "BlurredFolderDataset",
                "expected the kernel sampler to return a 2-d kernel, got ",
                s.kernel.defined() ? s.kernel.shape() : Shape{});
    s.kernel_size = std::max(s.kernel.size(0), s.kernel.size(1));
    const int64_t H = img.size(1), W = img.size(2);
    const std::array<int64_t, 2> out = detail::no_size(opts_.crop) ? std::array<int64_t, 2>{H, W} : opts_.crop;
    if (out[0] > H || out[1] > W)
      throw IoError(crisp::detail::str_cat("BlurredFolderDataset: '", files_[static_cast<size_t>(i)], "' is ", H, "x", W,
                                           ", smaller than the crop ", out[0], "x", out[1]));
    const int64_t mh = s.kernel.size(0) - 1, mw = s.kernel.size(1) - 1;
    const bool margin = opts_.valid_blur && out[0] + mh <= H && out[1] + mw <= W;
    const std::array<int64_t, 2> win = margin ? std::array<int64_t, 2>{out[0] + mh, out[1] + mw} : out;
    Tensor<float> sharp = (win[0] == H && win[1] == W) ? crop(img, 0, 0, H, W) : random_crop(img, win, gen);
    if (opts_.hflip && gen.uniform() < 0.5) sharp = hflip(sharp);
    if (opts_.affine) sharp = random_affine(sharp, *opts_.affine, gen);
    Tensor<float> blurred = degrade(sharp, s.kernel, gen, opts_.degrade);
    if (margin) {
      sharp = crop(sharp, mh / 2, mw / 2, out[0], out[1]);
      blurred = crop(blurred, mh / 2, mw / 2, out[0], out[1]);
    }
    s.sharp = sharp, s.blurred = blurred;
    return s;
  }

  struct Cache {
    std::mutex m;
    std::vector<Tensor<float>> images;
  };
  std::vector<std::string> files_;
  KernelSampler sampler_;
  Options opts_;
  std::shared_ptr<Cache> cache_;  // shared by copies of the dataset
};

// ---- paired folders ------------------------------------------------------------------------

struct PairedFolderOptions {
  std::array<int64_t, 2> load_size{0, 0};  // resize both images first ({0, 0}: keep)
  std::array<int64_t, 2> crop{0, 0};       // the same random crop of both ({0, 0}: none)
  bool hflip = false;                      // the same mirror of both, probability 0.5
  ImageMode mode = ImageMode::RGB;
  bool skip_unmatched = false;  // false: names without a partner throw; true: warn and drop them
  OnError on_error = OnError::Throw;
};

struct PairSample {
  Tensor<float> blurred, sharp;  // [C, h, w]
  int64_t index = 0;
};
struct PairBatch {
  Tensor<float> blurred, sharp;  // [N, C, h, w]
  Tensor<int64_t> index;         // [N]
};

// blurred/<stem>.* paired with sharp/<stem>.* (the extension may differ: a.png with a.jpg), in
// sorted stem order. The two images of a pair must have the same size. Draws: crop top and left,
// flip.
class PairedFolderDataset {
 public:
  using Sample = PairSample;
  using Batch = PairBatch;
  using Options = PairedFolderOptions;

  PairedFolderDataset(const std::string& blurred_dir, const std::string& sharp_dir, Options opts = {})
      : opts_(std::move(opts)) {
    const char* op = "PairedFolderDataset";
    detail::check_crop_option(opts_.crop, op);
    const auto a = images_by_stem(list_images(blurred_dir, op), op);
    const auto b = images_by_stem(list_images(sharp_dir, op), op);
    std::vector<std::string> unmatched;
    for (const auto& [stem, path] : a) {
      auto it = b.find(stem);
      if (it == b.end())
        unmatched.push_back("'" + path + "' (no sharp partner)");
      else
        pairs_.emplace_back(path, it->second);
    }
    for (const auto& [stem, path] : b)
      if (!a.count(stem)) unmatched.push_back("'" + path + "' (no blurred partner)");
    if (!unmatched.empty()) {
      std::string list;
      for (size_t i = 0; i < unmatched.size() && i < 20; ++i) list += (i ? ", " : "") + unmatched[i];
      if (unmatched.size() > 20) list += crisp::detail::str_cat(", ... (", unmatched.size() - 20, " more)");
      if (!opts_.skip_unmatched)
        throw IoError(crisp::detail::str_cat(op, ": expected every file name in '", blurred_dir, "' and '", sharp_dir,
                                             "' to have a partner (matched by stem), got ", unmatched.size(),
                                             " without: ", list, "; set skip_unmatched to ignore them"));
      detail::warn_once(crisp::detail::str_cat(op, blurred_dir, "|", sharp_dir),
                        crisp::detail::str_cat(op, ": ignoring ", unmatched.size(), " unmatched files: ", list));
    }
    if (pairs_.empty())
      throw IoError(crisp::detail::str_cat(op, ": no file name of '", blurred_dir, "' matches one of '", sharp_dir, "'"));
  }

  int64_t size() const { return static_cast<int64_t>(pairs_.size()); }
  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

  Sample get(int64_t index, Generator& gen) const {
    return detail::load_or_skip(index, size(), opts_.on_error, gen, "PairedFolderDataset",
                                [&](int64_t i, Generator& g) { return make(i, g); });
  }

  static Batch collate(std::vector<Sample>&& s) {
    std::vector<Tensor<float>> a, b;
    std::vector<int64_t> idx;
    for (auto& x : s) a.push_back(x.blurred), b.push_back(x.sharp), idx.push_back(x.index);
    return {data::stack(a, "PairedFolderDataset::collate"), data::stack(b, "PairedFolderDataset::collate"), int_tensor(idx)};
  }

 private:
  Sample make(int64_t i, Generator& gen) const {
    const auto& [pa, pb] = pairs_[static_cast<size_t>(i)];
    Tensor<float> a = detail::resize_to(load_image(pa, opts_.mode), opts_.load_size);
    Tensor<float> b = detail::resize_to(load_image(pb, opts_.mode), opts_.load_size);
    if (a.shape() != b.shape())
      throw IoError(crisp::detail::str_cat("PairedFolderDataset: expected '", pa, "' and '", pb,
                                           "' to have the same size, got ", a.shape(), " and ", b.shape()));
    if (!detail::no_size(opts_.crop)) {
      if (opts_.crop[0] > a.size(1) || opts_.crop[1] > a.size(2))
        throw IoError(crisp::detail::str_cat("PairedFolderDataset: '", pa, "' is ", a.size(1), "x", a.size(2),
                                             ", smaller than the crop ", opts_.crop[0], "x", opts_.crop[1]));
      const CropParams p = random_crop_params(a.size(1), a.size(2), opts_.crop, gen);
      a = crop(a, p.top, p.left, p.height, p.width);
      b = crop(b, p.top, p.left, p.height, p.width);
    }
    if (opts_.hflip && gen.uniform() < 0.5) a = hflip(a), b = hflip(b);
    return {a, b, i};
  }

  std::vector<std::pair<std::string, std::string>> pairs_;
  Options opts_;
};

// ---- unpaired folders ----------------------------------------------------------------------

struct UnpairedFolderOptions {
  std::array<int64_t, 2> load_size{0, 0};  // CycleGAN: {286, 286}
  std::array<int64_t, 2> crop{0, 0};       // CycleGAN: {256, 256}
  bool hflip = true;
  ImageMode mode = ImageMode::RGB;
  OnError on_error = OnError::Throw;
};

struct UnpairedSample {
  Tensor<float> a, b;  // [C, h, w]
  int64_t index_a = 0, index_b = 0;
};
struct UnpairedBatch {
  Tensor<float> a, b;                 // [N, C, h, w]
  Tensor<int64_t> index_a, index_b;  // [N]
};

// CycleGAN's unaligned dataset: size = max(|A|, |B|); sample i takes A[i mod |A|] and a random B
// (the generator's first draw), each cropped and flipped independently. Draws, in order: B's
// index, A's crop and flip, B's crop and flip. A bad B file under OnError::Skip is replaced by
// the next B; a bad A file by the next sample.
class UnpairedFolderDataset {
 public:
  using Sample = UnpairedSample;
  using Batch = UnpairedBatch;
  using Options = UnpairedFolderOptions;

  UnpairedFolderDataset(const std::string& dir_a, const std::string& dir_b, Options opts = {})
      : a_(list_images(dir_a, "UnpairedFolderDataset")), b_(list_images(dir_b, "UnpairedFolderDataset")),
        opts_(std::move(opts)) {
    detail::check_crop_option(opts_.crop, "UnpairedFolderDataset");
  }

  int64_t size() const { return static_cast<int64_t>(std::max(a_.size(), b_.size())); }
  const std::vector<std::string>& files_a() const { return a_; }
  const std::vector<std::string>& files_b() const { return b_; }

  Sample get(int64_t index, Generator& gen) const {
    return detail::load_or_skip(index, size(), opts_.on_error, gen, "UnpairedFolderDataset",
                                [&](int64_t i, Generator& g) { return make(i, g); });
  }

  static Batch collate(std::vector<Sample>&& s) {
    std::vector<Tensor<float>> a, b;
    std::vector<int64_t> ia, ib;
    for (auto& x : s) a.push_back(x.a), b.push_back(x.b), ia.push_back(x.index_a), ib.push_back(x.index_b);
    return {data::stack(a, "UnpairedFolderDataset::collate"), data::stack(b, "UnpairedFolderDataset::collate"), int_tensor(ia),
            int_tensor(ib)};
  }

 private:
  Tensor<float> prepare(const std::string& path, Generator& gen) const {
    Tensor<float> img = detail::resize_to(load_image(path, opts_.mode), opts_.load_size);
    if (!detail::no_size(opts_.crop)) {
      if (opts_.crop[0] > img.size(1) || opts_.crop[1] > img.size(2))
        throw IoError(crisp::detail::str_cat("UnpairedFolderDataset: '", path, "' is ", img.size(1), "x", img.size(2),
                                             ", smaller than the crop ", opts_.crop[0], "x", opts_.crop[1]));
      img = random_crop(img, opts_.crop, gen);
    }
    if (opts_.hflip && gen.uniform() < 0.5) img = hflip(img);
    return img;
  }

  Sample make(int64_t i, Generator& gen) const {
    Sample s;
    s.index_a = i % static_cast<int64_t>(a_.size());
    s.index_b = static_cast<int64_t>(gen.uniform_int(b_.size()));
    s.a = prepare(a_[static_cast<size_t>(s.index_a)], gen);
    const Generator after_a = gen;
    const auto nb = static_cast<int64_t>(b_.size());
    for (int64_t k = 0;; ++k) {
      const int64_t j = (s.index_b + k) % nb;
      gen = after_a;
      try {
        s.b = prepare(b_[static_cast<size_t>(j)], gen);
        s.index_b = j;
        return s;
      } catch (const IoError& e) {
        if (opts_.on_error == OnError::Throw || k + 1 >= nb) throw;
        detail::warn_once(e.what(), crisp::detail::str_cat("UnpairedFolderDataset: skipping B image ", j, " (",
                                                           e.what(), ")"));
      }
    }
  }

  std::vector<std::string> a_, b_;
  Options opts_;
};

}  // namespace crisp::data
