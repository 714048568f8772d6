// What `evaluate` counts beyond PSNR / SSIM: face detection success (a face counts as detected
// when one of the detector's boxes overlaps its true location with IoU >= a threshold), the
// identity distance between descriptors of the sharp face and of its blurred / restored versions,
// and top-k recognition against a gallery.
#pragma once

#include <crisp/crisp.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "face_detectors.hpp"
#include "test_set.hpp"

namespace crisp::examples::evaluation {

// Hits / trials, printed as a rate.
struct Rate {
  int64_t hits = 0, n = 0;
  void add(bool hit) { hits += hit ? 1 : 0, ++n; }
  double value() const { return n > 0 ? static_cast<double>(hits) / static_cast<double>(n) : 0.0; }
};

// Runs one detector (its boxes) on a [3, H, W] image in [0, 1].
using DetectFn = std::function<std::vector<Box>(const Tensor<float>&)>;

inline DetectFn wrap(detect::FaceDetector& d) {
  return [&d](const Tensor<float>& img) {
    return d.detect(to_rgb8(img), static_cast<int>(img.size(1)), static_cast<int>(img.size(2)));
  };
}

// Whether one of `boxes` overlaps `truth` with IoU >= min_iou; `best` gets the largest IoU.
inline bool detected(const std::vector<Box>& boxes, const Box& truth, double min_iou, double* best = nullptr) {
  double b = 0;
  for (const auto& x : boxes) b = std::max(b, detect::iou(x, truth));
  if (best) *best = b;
  return b >= min_iou;
}

// A face descriptor (e.g. the 128-D output of a face recognition net) of a [3, H, W] face image in
// [0, 1] whose face lies in `box` (relative).
using DescribeFn = std::function<std::vector<float>(const Tensor<float>&, const RelativeBox&)>;

inline double l2(const std::vector<float>& a, const std::vector<float>& b) {
  CRISP_CHECK(a.size() == b.size(), ShapeError, "evaluate --identity", "descriptors of ", a.size(), " and ", b.size(),
              " values");
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return std::sqrt(s);
}

// The square crop around `box` (its larger side times `margin`, centred, clamped to the image) at
// size x size - what a recognition net of fixed input takes.
inline Tensor<float> face_crop(const Tensor<float>& img, const RelativeBox& box, int64_t size, double margin = 1.2) {
  const int64_t H = img.size(1), W = img.size(2);
  const double cx = 0.5 * (box.x0 + box.x1) * W, cy = 0.5 * (box.y0 + box.y1) * H;
  const double side = std::min<double>(std::min(H, W), margin * std::max((box.x1 - box.x0) * W, (box.y1 - box.y0) * H));
  const auto s = std::max<int64_t>(1, std::llround(side));
  const int64_t x = std::clamp<int64_t>(std::llround(cx - side / 2), 0, W - s);
  const int64_t y = std::clamp<int64_t>(std::llround(cy - side / 2), 0, H - s);
  const Tensor<float> c = data::crop(img, y, x, s, s).contiguous();
  return s == size
             ? c
             : data::resize(c, {size, size}, s > size ? data::Interpolation::Area : data::Interpolation::Bilinear);
}

// Top-k recognition: for each probe descriptor, the gallery images sorted by distance; a hit at k
// when one of the k nearest has the probe's identity (the first paper's Table 5).
struct TopK {
  Rate top1, top3, top5;
  void add(const std::vector<float>& probe, const std::string& identity,
           const std::vector<std::pair<std::string, std::vector<float>>>& gallery) {
    std::vector<std::pair<double, const std::string*>> d;
    for (const auto& [id, desc] : gallery) d.emplace_back(l2(probe, desc), &id);
    std::sort(d.begin(), d.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    auto hit = [&](size_t k) {
      for (size_t i = 0; i < std::min(k, d.size()); ++i)
        if (*d[i].second == identity) return true;
      return false;
    };
    top1.add(hit(1)), top3.add(hit(3)), top5.add(hit(5));
  }
};

}  // namespace crisp::examples::evaluation
