// The test sets `evaluate` scores: sharp faces blurred with a kernel set (the first paper's
// synthetic test set), a paired folder of blurred/ and sharp/ images (--pairs, the second paper's
// Table 1), and - when --data holds one folder per identity - a probe / gallery split for top-k
// recognition (the first paper's Table 5). Also the "true location" of each face, against which a
// detection counts (face_box).
#pragma once

#include <crisp/crisp.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "face_detectors.hpp"

namespace crisp::examples::evaluation {

namespace fs = std::filesystem;
using detect::Box;

// Where the face of an aligned face crop lies, as fractions of its width and height: the mean
// bounding box of the face classes (skin, brows, eyes, glasses, nose, lips, mouth; no hair, ears,
// neck) of the 12 CelebA-HQ label maps in ../shared/data/parsing (measured with
// `evaluate --labels`, which prints this mean; docs/evaluation.md). Aligned faces of other
// datasets with the same alignment (eyes and mouth at fixed places) share it.
struct RelativeBox {
  double x0, y0, x1, y1;
};
inline constexpr RelativeBox kAlignedFaceBox{0.227, 0.179, 0.755, 0.916};

inline Box to_pixels(const RelativeBox& r, int64_t H, int64_t W) {
  return {r.x0 * static_cast<double>(W), r.y0 * static_cast<double>(H), (r.x1 - r.x0) * static_cast<double>(W),
          (r.y1 - r.y0) * static_cast<double>(H), 0};
}

// The face box of a label map (CelebAMask-HQ ids: 19 classes), as fractions of its size; throws
// when the map has no face pixel.
inline RelativeBox face_box_from_labels(const std::string& path) {
  const Tensor<int64_t> l = data::load_label_map(path).contiguous();
  const int64_t H = l.size(0), W = l.size(1);
  static constexpr bool kFace[19] = {false, true, true, true,  true,  true,  true,  true,  false, false,
                                     true,  true, true, false, false, false, false, false, false};
  int64_t x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const int64_t v = l.data()[y * W + x];
      if (v >= 0 && v < 19 && kFace[v])
        x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
    }
  CRISP_CHECK(x1 >= 0, IoError, "evaluate --labels", "'", path, "' has no face pixels (CelebAMask-HQ ids 1-7, 10-12)");
  return {static_cast<double>(x0) / W, static_cast<double>(y0) / H, static_cast<double>(x1 + 1) / W,
          static_cast<double>(y1 + 1) / H};
}

// One sharp face and where it came from.
struct Face {
  std::string name;       // file name
  std::string identity;   // its folder, in the one-folder-per-identity layout ("" otherwise)
  Tensor<float> sharp;    // [3, H, W]
  Tensor<float> blurred;  // --pairs: its blurred partner; otherwise undefined (the kernels blur it)
  RelativeBox truth = kAlignedFaceBox;
  bool probe = true;  // identity layout: the first image of each identity; the rest is gallery
};

// Shorter side to `size` (area to shrink, bilinear to enlarge) and the centre square; 0 keeps it.
inline Tensor<float> square(const Tensor<float>& img, int64_t size) {
  if (size <= 0) return img.contiguous();
  const int64_t H = img.size(1), W = img.size(2);
  const double s = static_cast<double>(size) / static_cast<double>(std::min(H, W));
  const int64_t h = std::max<int64_t>(size, std::llround(H * s)), w = std::max<int64_t>(size, std::llround(W * s));
  const Tensor<float> r =
      (h == H && w == W) ? img
                         : data::resize(img, {h, w}, s < 1 ? data::Interpolation::Area : data::Interpolation::Bilinear);
  return data::center_crop(r, {size, size}).contiguous();
}

// Sub-folders of `dir` that hold images (sorted); empty when `dir` holds images itself.
inline std::vector<std::string> identity_folders(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  bool has_images = false;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory()) {
      for (const auto& f : fs::directory_iterator(e.path()))
        if (f.is_regular_file() && data::detail::has_image_extension(f.path())) {
          out.push_back(e.path().string());
          break;
        }
    } else if (e.is_regular_file() && data::detail::has_image_extension(e.path())) {
      has_images = true;
    }
  }
  if (has_images) return {};
  std::sort(out.begin(), out.end());
  return out;
}

// --data: a folder of sharp faces, or one folder per identity (first image of each = probe).
inline std::vector<Face> load_sharp(const std::string& dir, int64_t size, const std::string& who) {
  std::vector<Face> faces;
  const auto ids = identity_folders(dir);
  if (ids.empty()) {
    for (const auto& f : data::list_images(dir, who + " --data"))
      faces.push_back({data::file_name(f), "", square(data::load_image(f, data::ImageMode::RGB), size), {}});
    return faces;
  }
  for (const auto& id : ids) {
    const auto files = data::list_images(id, who + " --data");
    for (size_t i = 0; i < files.size(); ++i) {
      Face f{data::file_name(files[i]),
             fs::path(id).filename().string(),
             square(data::load_image(files[i], data::ImageMode::RGB), size),
             {}};
      f.probe = i == 0;
      faces.push_back(std::move(f));
    }
  }
  return faces;
}

// --pairs DIR: DIR/blurred/<name> and DIR/sharp/<name> with the same stem (PairedFolderDataset's
// layout, which make_pairs and synth_blur write). Every blurred image needs its sharp partner.
inline std::vector<Face> load_pairs(const std::string& dir, int64_t size, const std::string& who) {
  const auto blurred =
      data::images_by_stem(data::list_images((fs::path(dir) / "blurred").string(), who + " --pairs"), who + " --pairs");
  const auto sharp =
      data::images_by_stem(data::list_images((fs::path(dir) / "sharp").string(), who + " --pairs"), who + " --pairs");
  std::vector<Face> faces;
  for (const auto& [stem, bpath] : blurred) {
    auto it = sharp.find(stem);
    CRISP_CHECK(it != sharp.end(), IoError, who, " --pairs: '", bpath, "' has no sharp partner '",
                (fs::path(dir) / "sharp" / stem).string(), ".*'");
    Face f{data::file_name(bpath), "", square(data::load_image(it->second, data::ImageMode::RGB), size),
           square(data::load_image(bpath, data::ImageMode::RGB), size)};
    CRISP_CHECK(f.sharp.shape() == f.blurred.shape(), ShapeError, who, " --pairs: '", bpath, "' is ", f.blurred.shape(),
                " but its sharp partner is ", f.sharp.shape(), " (pass --size to resize both)");
    faces.push_back(std::move(f));
  }
  return faces;
}

// --labels DIR: each face's true box from DIR/<stem>.png (CelebAMask-HQ ids); faces without a
// label keep the aligned default. Returns how many were found.
inline size_t apply_labels(std::vector<Face>& faces, const std::string& dir) {
  size_t n = 0;
  for (auto& f : faces) {
    const fs::path p = fs::path(dir) / (fs::path(f.name).stem().string() + ".png");
    if (!fs::is_regular_file(p)) continue;
    f.truth = face_box_from_labels(p.string());
    ++n;
  }
  return n;
}

// [3, H, W] float in [0, 1] -> interleaved 8-bit RGB, what the detectors take.
inline std::vector<std::uint8_t> to_rgb8(const Tensor<float>& img) {
  const Tensor<float> x = img.contiguous();
  const int64_t H = x.size(1), W = x.size(2);
  std::vector<std::uint8_t> out(static_cast<size_t>(H * W * 3));
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < H * W; ++i)
      out[static_cast<size_t>(i * 3 + c)] =
          static_cast<std::uint8_t>(std::lround(std::clamp(x.data()[c * H * W + i], 0.f, 1.f) * 255.f));
  return out;
}

}  // namespace crisp::examples::evaluation
