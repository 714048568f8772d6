// Face-parsing data: images with per-pixel class labels in Helen's 11 classes (read directly, or
// mapped from CelebAMask-HQ's 19 ids), and the five component masks of the structural loss.
#pragma once

// Helen's classes (label-file order, the semantic deblurring paper's): 0 background, 1 face skin,
// 2 left eyebrow, 3 right eyebrow, 4 left eye, 5 right eye, 6 nose, 7 upper lip, 8 inner mouth,
// 9 lower lip, 10 hair. "Left" is the subject's left, as in CelebAMask-HQ (l_eye lies on the
// image's right side), so l_brow -> 2, r_brow -> 3, l_eye -> 4, r_eye -> 5.
//
// CelebAMask-HQ id -> Helen class (celebamask_to_helen_table):
//    0 background -> 0        1 skin -> 1          2 nose -> 6        3 eye_g (glasses) -> 1 *
//    4 l_eye -> 4             5 r_eye -> 5         6 l_brow -> 2      7 r_brow -> 3
//    8 l_ear -> 0 *           9 r_ear -> 0 *       10 mouth -> 8      11 u_lip -> 7
//   12 l_lip -> 9            13 hair -> 10        14 hat -> 0        15 ear_r (earring) -> 0
//   16 neck_l (necklace) -> 0  17 neck -> 0 *    18 cloth -> 0
// (* configurable.) Why: Helen's face skin is the face itself (no ears, no neck), and the
// structural losses only look at brows, eyes, nose, lips and mouth, so everything outside the
// face goes to background. Glasses cover skin and eyes; most of a frame lies on skin, hence skin
// by default; GlassesAs::Eyes labels glasses as the eye of their image half (image-right half ->
// left eye 4, image-left half -> right eye 5), for training a parser that sees through frames.
// Hats and accessories hide the face, not belong to it: background.
//
// Layouts accepted:
//   CelebAMask-HQ: images/<stem>.jpg|png... and labels/<stem>.png, one 8-bit gray PNG of ids 0..18
//     per image (any size: labels 512^2 with images 1024^2 as in the release);
//   Helen: images/<stem>.* and labels/<stem>.png, one 8-bit gray PNG of class ids 0..10 per image
//     (the per-class lblNN.png folders of the original Helen release must be merged first).
// An id out of range is a corrupt label file (IoError naming it, or a skip under OnError::Skip).
//
// Sizes: with Options::size = {0, 0} the image is resized to its label map's size (Area), else
// both are resized to `size` (image Area/Bilinear, labels nearest). Flips swap the left/right
// classes (2 <-> 3, 4 <-> 5) so a mirrored left eye is labelled a right eye.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crisp/data/dataset.hpp"
#include "crisp/data/datasets.hpp"
#include "crisp/data/image_io.hpp"
#include "crisp/data/transforms.hpp"

namespace crisp::data {

inline constexpr int64_t kHelenClasses = 11;
inline constexpr int64_t kCelebAMaskClasses = 19;

inline const std::array<const char*, 11>& helen_class_names() {
  static const std::array<const char*, 11> n{"background", "skin",  "left_eyebrow", "right_eyebrow",
                                             "left_eye",   "right_eye", "nose",      "upper_lip",
                                             "inner_mouth", "lower_lip", "hair"};
  return n;
}

enum class GlassesAs { Skin, Eyes };
enum class LabelFormat { CelebAMaskHQ, Helen };

struct CelebAMaskMapping {
  GlassesAs glasses = GlassesAs::Skin;
  bool ears_as_skin = false;
  bool neck_as_skin = false;
};

// Helen class of each CelebAMask-HQ id (see the table above). Glasses map to 4 here; map_celebamask
// resolves them to 4 or 5 by image half when GlassesAs::Eyes.
inline std::array<int64_t, 19> celebamask_to_helen_table(const CelebAMaskMapping& m = {}) {
  std::array<int64_t, 19> t{0, 1, 6, 1, 4, 5, 2, 3, 0, 0, 8, 7, 9, 10, 0, 0, 0, 0, 0};
  if (m.glasses == GlassesAs::Eyes) t[3] = 4;
  if (m.ears_as_skin) t[8] = t[9] = 1;
  if (m.neck_as_skin) t[17] = 1;
  return t;
}

// Maps a CelebAMask-HQ label map [H, W] to Helen classes; `name` names the source in errors.
inline Tensor<int64_t> map_celebamask(const Tensor<int64_t>& labels, const CelebAMaskMapping& m = {},
                                      const std::string& name = "<labels>") {
  CRISP_CHECK(labels.defined() && labels.dim() == 2, ShapeError, "map_celebamask",
              "expected an [H, W] label map, got ", labels.defined() ? labels.shape() : Shape{});
  const auto table = celebamask_to_helen_table(m);
  const Tensor<int64_t> x = detail::contiguous_copy(labels);
  const int64_t H = x.size(0), W = x.size(1);
  Tensor<int64_t> out = Tensor<int64_t>::empty(x.shape());
  for (int64_t y = 0; y < H; ++y)
    for (int64_t c = 0; c < W; ++c) {
      const int64_t v = x.data()[y * W + c];
      if (v < 0 || v >= kCelebAMaskClasses)
        throw IoError(crisp::detail::str_cat("map_celebamask: '", name, "' expected CelebAMask-HQ ids in [0, 18], got ",
                                             v, " at row ", y, ", column ", c));
      int64_t h = table[static_cast<size_t>(v)];
      if (v == 3 && m.glasses == GlassesAs::Eyes) h = 2 * c >= W ? 4 : 5;
      out.data()[y * W + c] = h;
    }
  return out;
}

// Structural-loss components (paper section 3.3), in this order.
inline const std::array<std::vector<int64_t>, 5>& component_classes() {
  static const std::array<std::vector<int64_t>, 5> c{{{2, 3}, {4, 5}, {6}, {7, 9}, {8}}};
  return c;
}
inline const std::array<const char*, 5>& component_names() {
  static const std::array<const char*, 5> n{"eyebrows", "eyes", "nose", "lips", "inner_mouth"};
  return n;
}

// Float 0/1 masks [5, H, W] (or [N, 5, H, W] for [N, H, W] labels) of the five components.
inline Tensor<float> component_masks(const Tensor<int64_t>& labels) {
  CRISP_CHECK(labels.defined() && (labels.dim() == 2 || labels.dim() == 3), ShapeError, "component_masks",
              "expected [H, W] or [N, H, W] Helen labels, got ", labels.defined() ? labels.shape() : Shape{});
  const Tensor<int64_t> x = detail::contiguous_copy(labels);
  const int64_t N = x.dim() == 3 ? x.size(0) : 1, HW = x.size(-1) * x.size(-2);
  std::array<int64_t, kHelenClasses> comp;
  comp.fill(-1);
  for (size_t k = 0; k < component_classes().size(); ++k)
    for (int64_t c : component_classes()[k]) comp[static_cast<size_t>(c)] = static_cast<int64_t>(k);
  Tensor<float> out = Tensor<float>::empty(x.dim() == 3 ? Shape{N, 5, x.size(1), x.size(2)} : Shape{5, x.size(0), x.size(1)});
  std::fill(out.data(), out.data() + out.numel(), 0.0f);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < HW; ++i) {
      const int64_t v = x.data()[n * HW + i];
      if (v >= 0 && v < kHelenClasses && comp[static_cast<size_t>(v)] >= 0)
        out.data()[(n * 5 + comp[static_cast<size_t>(v)]) * HW + i] = 1.0f;
    }
  return out;
}

// Mirrors a Helen label map and swaps the left/right classes.
inline Tensor<int64_t> hflip_helen_labels(const Tensor<int64_t>& labels) {
  Tensor<int64_t> out = hflip(labels);
  static const int64_t swap[kHelenClasses] = {0, 1, 3, 2, 5, 4, 6, 7, 8, 9, 10};
  for (int64_t i = 0; i < out.numel(); ++i) {
    const int64_t v = out.data()[i];
    if (v >= 0 && v < kHelenClasses) out.data()[i] = swap[v];
  }
  return out;
}

struct FaceParsingOptions {
  LabelFormat format = LabelFormat::CelebAMaskHQ;
  CelebAMaskMapping mapping;              // used for CelebAMaskHQ labels
  std::array<int64_t, 2> size{0, 0};     // {0, 0}: the label map's size
  bool hflip = false;                     // mirror (swapping left/right classes), probability 0.5
  std::optional<RandomAffineOptions> affine;  // the same warp of image and labels (label_fill = 0)
  ImageMode mode = ImageMode::RGB;
  OnError on_error = OnError::Throw;
};

struct ParsingSample {
  Tensor<float> image;     // [C, H, W]
  Tensor<int64_t> labels;  // [H, W], Helen classes 0..10
  Tensor<float> masks;     // [5, H, W] structural components
  int64_t index = 0;
};
struct ParsingBatch {
  Tensor<float> image;     // [N, C, H, W]
  Tensor<int64_t> labels;  // [N, H, W]
  Tensor<float> masks;     // [N, 5, H, W]
  Tensor<int64_t> index;   // [N]
};

// Images and label maps matched by stem (every image needs a label map and vice versa, else an
// IoError listing the strays). Draws, in order: flip, affine parameters.
class FaceParsingDataset {
 public:
  using Sample = ParsingSample;
  using Batch = ParsingBatch;
  using Options = FaceParsingOptions;

  FaceParsingDataset(const std::string& images_dir, const std::string& labels_dir, Options opts = {})
      : opts_(std::move(opts)) {
    const char* op = "FaceParsingDataset";
    CRISP_CHECK((opts_.size[0] == 0 && opts_.size[1] == 0) || (opts_.size[0] > 0 && opts_.size[1] > 0), ValueError, op,
                "expected size {h, w} > 0 or {0, 0}, got {", opts_.size[0], ", ", opts_.size[1], "}");
    const auto imgs = images_by_stem(list_images(images_dir, op), op);
    const auto labs = images_by_stem(list_images(labels_dir, op), op);
    std::string strays;
    size_t n_strays = 0;
    auto stray = [&](const std::string& p, const char* why) {
      if (n_strays++ < 20) strays += (strays.empty() ? "'" : ", '") + p + "' (" + why + ")";
    };
    for (const auto& [stem, path] : imgs) {
      auto it = labs.find(stem);
      if (it == labs.end())
        stray(path, "no label map");
      else
        items_.emplace_back(path, it->second);
    }
    for (const auto& [stem, path] : labs)
      if (!imgs.count(stem)) stray(path, "no image");
    if (n_strays)
      throw IoError(crisp::detail::str_cat(op, ": expected every image in '", images_dir, "' to have a label map of the same stem in '",
                                           labels_dir, "' and vice versa, got ", n_strays, " without: ", strays));
  }

  // <root>/images + <root>/labels with CelebAMask-HQ ids (e.g. ../shared/data/parsing).
  static FaceParsingDataset celebamask(const std::string& root, Options opts = {}) {
    opts.format = LabelFormat::CelebAMaskHQ;
    return FaceParsingDataset(root + "/images", root + "/labels", std::move(opts));
  }
  // <root>/images + <root>/labels with Helen class ids 0..10.
  static FaceParsingDataset helen(const std::string& root, Options opts = {}) {
    opts.format = LabelFormat::Helen;
    return FaceParsingDataset(root + "/images", root + "/labels", std::move(opts));
  }

  int64_t size() const { return static_cast<int64_t>(items_.size()); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

  Sample get(int64_t index, Generator& gen) const {
    return detail::load_or_skip(index, size(), opts_.on_error, gen, "FaceParsingDataset",
                                [&](int64_t i, Generator& g) { return make(i, g); });
  }

  // The Helen label map of item `index`, at its file's size (no resize, no augmentation).
  Tensor<int64_t> load_labels(int64_t index) const {
    CRISP_CHECK(index >= 0 && index < size(), ValueError, "FaceParsingDataset::load_labels", "expected an index in [0, ",
                size(), "), got ", index);
    const std::string& path = items_[static_cast<size_t>(index)].second;
    const Tensor<int64_t> raw = load_label_map(path);
    if (opts_.format == LabelFormat::CelebAMaskHQ) return map_celebamask(raw, opts_.mapping, path);
    for (int64_t i = 0; i < raw.numel(); ++i)
      if (raw.data()[i] < 0 || raw.data()[i] >= kHelenClasses)
        throw IoError(crisp::detail::str_cat("FaceParsingDataset: '", path, "' expected Helen class ids in [0, 10], got ",
                                             raw.data()[i], " at pixel ", i % raw.size(1), ", ", i / raw.size(1)));
    return raw;
  }

  static Batch collate(std::vector<Sample>&& s) {
    std::vector<Tensor<float>> img, masks;
    std::vector<Tensor<int64_t>> lab;
    std::vector<int64_t> idx;
    for (auto& x : s) img.push_back(x.image), lab.push_back(x.labels), masks.push_back(x.masks), idx.push_back(x.index);
    return {data::stack(img, "FaceParsingDataset::collate"), data::stack(lab, "FaceParsingDataset::collate"),
            data::stack(masks, "FaceParsingDataset::collate"), int_tensor(idx)};
  }

 private:
  Sample make(int64_t i, Generator& gen) const {
    Tensor<int64_t> labels = load_labels(i);
    Tensor<float> img = load_image(items_[static_cast<size_t>(i)].first, opts_.mode);
    const std::array<int64_t, 2> target =
        detail::no_size(opts_.size) ? std::array<int64_t, 2>{labels.size(0), labels.size(1)} : opts_.size;
    img = detail::resize_to(img, target);
    if (labels.size(0) != target[0] || labels.size(1) != target[1]) labels = resize_label_map(labels, target);
    if (opts_.hflip && gen.uniform() < 0.5) img = hflip(img), labels = hflip_helen_labels(labels);
    if (opts_.affine) {
      RandomAffineOptions a = *opts_.affine;
      a.label_fill = 0;
      std::tie(img, labels) = random_affine(img, labels, a, gen);
    }
    return {img, labels, component_masks(labels), i};
  }

  std::vector<std::pair<std::string, std::string>> items_;
  Options opts_;
};

}  // namespace crisp::data
