// TinyFaceDetector: face-api.js's tiny face detector (a Tiny-YOLOv2 with depthwise-separable
// convs, one class, 5 anchors), its box decoding and non-maximum suppression, with strict loading
// of the package's TensorFlow.js weights.
#pragma once

// Layout (face-api.js src/tinyYolov2 with TinyFaceDetector's config), sizes for input 416:
//   normalise: (RGB * 255 - mean RGB (117.001, 114.697, 97.404)) / 255; inputs here are [0, 1]
//   conv0  conv 3x3 valid 3->16 + bias, leaky ReLU 0.1                       -> 414
//   max-pool 2x2/2 "same"                                                    -> 207
//   conv1..conv5: zero pad 1, depthwise 3x3 (no bias), pointwise 1x1 + bias, leaky ReLU 0.1,
//   widths 32, 64, 128, 256, 512, each but conv5 followed by max-pool 2x2/2 "same"
//   (-> 104, 52, 26, 13), conv5 by max-pool 2x2/1 "same"                   -> 13
//   conv8  conv 1x1 512->25 + bias: per cell, anchor a's (x, y, w, h, score) in channels 5a..5a+4
// The batch norms are folded into the weights (the package ships none). TensorFlow's "same"
// pooling pads at the end only; padding by replicating the last row / column gives the same
// maxima for 2x2 windows. Parameter names: conv0.weight|bias, convK.depthwise.weight,
// convK.pointwise.weight|bias, conv8.weight|bias.
// detect(): face-api.js's TinyYolov2.detect: the image padded to a square at its right / bottom
// and resized to input_size; a box per cell and anchor whose sigmoid(score) > score_threshold,
// centre ((col | row) + sigmoid(tx | ty)) / cells, size exp(tw | th) * anchor / cells, corrected
// for the padding; then greedy non-maximum suppression (IoU > iou_threshold suppressed, highest
// score first). Boxes are returned in the image's pixels and relative to its size.

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "crisp/autograd/grad_mode.hpp"
#include "crisp/io/tfjs_weights.hpp"
#include "crisp/models/face_api_input.hpp"
#include "crisp/nn/conv.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/ops/activation.hpp"
#include "crisp/ops/padding.hpp"
#include "crisp/ops/pooling.hpp"

namespace crisp::models {

struct TinyFaceDetectorOptions {
  // Side of the square the image is resized to; a multiple of 32 (face-api.js: 416 default; 128 to
  // 608 are typical: smaller is faster and finds only larger faces).
  CRISP_ARG(int64_t, input_size) = 416;
  // A box is kept when its sigmoid score is above this (face-api.js default 0.5).
  CRISP_ARG(double, score_threshold) = 0.5;
  // Non-maximum suppression drops boxes overlapping a better one by more than this IoU (0.4).
  CRISP_ARG(double, iou_threshold) = 0.4;
};

// One detected face: score in (0, 1); box in the image's pixels (x, y = top-left corner) and the
// same box relative to the image's width and height.
struct FaceDetection {
  double score = 0;
  double x = 0, y = 0, width = 0, height = 0;
  double rel_x = 0, rel_y = 0, rel_width = 0, rel_height = 0;
};

// Intersection over union of two boxes given as (x, y, width, height).
inline double box_iou(double ax, double ay, double aw, double ah, double bx, double by, double bw, double bh) {
  const double iw = std::max(0.0, std::min(ax + aw, bx + bw) - std::max(ax, bx));
  const double ih = std::max(0.0, std::min(ay + ah, by + bh) - std::max(ay, by));
  const double inter = iw * ih;
  return inter / (aw * ah + bw * bh - inter);
}

// Greedy non-maximum suppression (face-api.js ops/nonMaxSuppression): repeatedly keep the best
// remaining box (the later one on equal scores) and drop those whose IoU with it exceeds
// `iou_threshold`. boxes: (x, y, width, height) each. Returns kept indices, best first.
inline std::vector<size_t> non_max_suppression(const std::vector<std::array<double, 4>>& boxes,
                                               const std::vector<double>& scores, double iou_threshold) {
  CRISP_CHECK(boxes.size() == scores.size(), ValueError, "non_max_suppression", "expected as many scores as boxes, got ",
              scores.size(), " and ", boxes.size());
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  std::vector<size_t> pick;
  while (!order.empty()) {
    const size_t cur = order.back();
    order.pop_back();
    pick.push_back(cur);
    const auto& c = boxes[cur];
    std::erase_if(order, [&](size_t i) {
      const auto& b = boxes[i];
      return !(box_iou(c[0], c[1], c[2], c[3], b[0], b[1], b[2], b[3]) <= iou_threshold);
    });
  }
  return pick;
}

template <class T>
class TinyFaceDetectorImplT : public nn::ModuleT<T> {
 public:
  static constexpr int64_t kAnchors = 5;
  static constexpr std::array<double, 3> kMeanRgb{117.001, 114.697, 97.404};
  static constexpr std::array<std::array<double, 2>, 5> kAnchorSizes{
      {{1.603231, 2.094468}, {6.041143, 7.080126}, {2.882459, 3.518061}, {4.266906, 5.178857}, {9.041765, 10.66308}}};

  explicit TinyFaceDetectorImplT(const TinyFaceDetectorOptions& options = {}, Generator& gen = default_generator())
      : nn::ModuleT<T>("TinyFaceDetector"), options(options) {
    check_options(options);
    conv0 = this->register_module("conv0", nn::Conv2dT<T>(nn::Conv2dOptions(3, 16, 3), gen));
    int64_t in = 16;
    for (int k = 1; k <= 5; ++k) {
      const int64_t out = in * 2;
      auto dw = nn::Conv2dT<T>(nn::Conv2dOptions(in, in, 3).padding(1).groups(in).bias(false), gen);
      auto pw = nn::Conv2dT<T>(nn::Conv2dOptions(in, out, 1), gen);
      auto block = std::make_shared<nn::ModuleT<T>>("SeparableConv");
      block->register_module("depthwise", dw);
      block->register_module("pointwise", pw);
      this->register_module("conv" + std::to_string(k), block);
      depthwise_.push_back(dw);
      pointwise_.push_back(pw);
      in = out;
    }
    conv8 = this->register_module("conv8", nn::Conv2dT<T>(nn::Conv2dOptions(512, 5 * kAnchors, 1), gen));
  }

  // x: N x 3 x S x S RGB in [0, 1], S a multiple of 32 (>= 32). Returns the raw head,
  // N x 25 x S/32 x S/32 (anchor a's x, y, w, h, score logits in channels 5a .. 5a + 4).
  Tensor<T> forward(const Tensor<T>& x) {
    CRISP_CHECK(x.defined() && x.dim() == 4 && x.size(1) == 3 && x.size(2) == x.size(3) && x.size(2) >= 32 &&
                    x.size(2) % 32 == 0,
                ShapeError, "TinyFaceDetector", "expected RGB input [N, 3, S, S] with S a multiple of 32, got ",
                x.defined() ? x.shape() : Shape{});
    Tensor<T> mean = Tensor<T>::empty({1, 3, 1, 1});
    for (int c = 0; c < 3; ++c) mean.data()[c] = static_cast<T>(kMeanRgb[static_cast<size_t>(c)] / 255.0);
    Tensor<T> y = leaky(conv0(sub(x, mean)));
    y = max_pool_same(y, 2);
    for (size_t k = 0; k < depthwise_.size(); ++k) {
      y = leaky(pointwise_[k](depthwise_[k](y)));
      y = max_pool_same(y, k + 1 < depthwise_.size() ? 2 : 1);
    }
    return conv8(y);
  }

  // face-api.js's detect / locateFaces on one image [3, H, W] (or [1, 3, H, W]) RGB in [0, 1].
  std::vector<FaceDetection> detect(const Tensor<T>& image) {
    NoGradGuard no_grad;
    const int64_t s = options.input_size();
    const Tensor<T> out = forward(face_api_square_resize(image, s, /*centre=*/false));
    return decode(out, image.size(-2), image.size(-1));
  }

  // The boxes of one head output [1, 25, C, C] (forward of an image H x W tall and wide prepared
  // as detect does), after thresholding and non-maximum suppression, best first.
  std::vector<FaceDetection> decode(const Tensor<T>& head, int64_t image_height, int64_t image_width) const {
    CRISP_CHECK(head.defined() && head.dim() == 4 && head.size(0) == 1 && head.size(1) == 5 * kAnchors &&
                    head.size(2) == head.size(3),
                ShapeError, "TinyFaceDetector::decode", "expected a head output [1, 25, C, C], got ",
                head.defined() ? head.shape() : Shape{});
    CRISP_CHECK(image_height > 0 && image_width > 0, ValueError, "TinyFaceDetector::decode",
                "expected a positive image size, got ", image_height, " x ", image_width);
    const int64_t cells = head.size(2);
    const double size = static_cast<double>(options.input_size());
    // The image's share of the padded square, as face-api.js rounds it.
    const double scale = size / static_cast<double>(std::max(image_height, image_width));
    const double corr_x = size / std::round(static_cast<double>(image_width) * scale);
    const double corr_y = size / std::round(static_cast<double>(image_height) * scale);
    auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
    auto at = [&](int64_t a, int64_t k, int64_t row, int64_t col) {
      return static_cast<double>(head.at({0, a * 5 + k, row, col}));
    };
    std::vector<std::array<double, 4>> rel;
    std::vector<double> scores;
    for (int64_t row = 0; row < cells; ++row)
      for (int64_t col = 0; col < cells; ++col)
        for (int64_t a = 0; a < kAnchors; ++a) {
          const double score = sigmoid(at(a, 4, row, col));
          if (!(score > options.score_threshold())) continue;
          const auto& anchor = kAnchorSizes[static_cast<size_t>(a)];
          const double cx = (static_cast<double>(col) + sigmoid(at(a, 0, row, col))) / static_cast<double>(cells) * corr_x;
          const double cy = (static_cast<double>(row) + sigmoid(at(a, 1, row, col))) / static_cast<double>(cells) * corr_y;
          const double w = std::exp(at(a, 2, row, col)) * anchor[0] / static_cast<double>(cells) * corr_x;
          const double h = std::exp(at(a, 3, row, col)) * anchor[1] / static_cast<double>(cells) * corr_y;
          rel.push_back({cx - w / 2, cy - h / 2, w, h});
          scores.push_back(score);
        }
    // face-api.js suppresses on boxes scaled by the input size (the IoU is the same).
    std::vector<std::array<double, 4>> scaled = rel;
    for (auto& b : scaled)
      for (double& v : b) v *= size;
    std::vector<FaceDetection> out;
    for (size_t i : non_max_suppression(scaled, scores, options.iou_threshold())) {
      FaceDetection d;
      d.score = scores[i];
      d.rel_x = rel[i][0], d.rel_y = rel[i][1], d.rel_width = rel[i][2], d.rel_height = rel[i][3];
      d.x = d.rel_x * static_cast<double>(image_width), d.width = d.rel_width * static_cast<double>(image_width);
      d.y = d.rel_y * static_cast<double>(image_height), d.height = d.rel_height * static_cast<double>(image_height);
      out.push_back(d);
    }
    return out;
  }

  // Loads face-api.js's tiny_face_detector_model-weights_manifest.json (+ shard), strictly (see
  // FaceRecognitionNet::load_tfjs).
  void load_tfjs(const std::string& manifest_path) {
    io::TfjsWeightMapper<T> m(io::load_tfjs_weights<T>(manifest_path),
                              ::crisp::detail::str_cat("TinyFaceDetector::load_tfjs(\"", manifest_path, "\")"));
    m.map("conv0/filters", {3, 3, 3, 16}, "conv0.weight", io::TfjsLayout::ConvHWIO);
    m.map("conv0/bias", {16}, "conv0.bias", io::TfjsLayout::AsIs);
    int64_t in = 16;
    for (int k = 1; k <= 5; ++k, in *= 2) {
      const std::string tf = "conv" + std::to_string(k), key = tf;
      m.map(tf + "/depthwise_filter", {3, 3, in, 1}, key + ".depthwise.weight", io::TfjsLayout::Depthwise);
      m.map(tf + "/pointwise_filter", {1, 1, in, 2 * in}, key + ".pointwise.weight", io::TfjsLayout::ConvHWIO);
      m.map(tf + "/bias", {2 * in}, key + ".pointwise.bias", io::TfjsLayout::AsIs);
    }
    m.map("conv8/filters", {1, 1, 512, 5 * kAnchors}, "conv8.weight", io::TfjsLayout::ConvHWIO);
    m.map("conv8/bias", {5 * kAnchors}, "conv8.bias", io::TfjsLayout::AsIs);
    this->load_state_dict(m.finish(), true);
  }

  void pretty_print(std::ostream& os) const override {
    os << "TinyFaceDetector(input_size=" << options.input_size() << ", score_threshold=" << options.score_threshold()
       << ", iou_threshold=" << options.iou_threshold() << ")";
  }

  TinyFaceDetectorOptions options;
  nn::Conv2dT<T> conv0{nullptr}, conv8{nullptr};

 private:
  static void check_options(const TinyFaceDetectorOptions& o) {
    CRISP_CHECK(o.input_size() >= 32 && o.input_size() % 32 == 0, ValueError, "TinyFaceDetector",
                "expected input_size a positive multiple of 32 (416 by default), got ", o.input_size());
    CRISP_CHECK(o.score_threshold() > 0 && o.score_threshold() < 1, ValueError, "TinyFaceDetector",
                "expected score_threshold in (0, 1), got ", o.score_threshold());
    CRISP_CHECK(o.iou_threshold() >= 0 && o.iou_threshold() <= 1, ValueError, "TinyFaceDetector",
                "expected iou_threshold in [0, 1], got ", o.iou_threshold());
  }
  // face-api.js's leaky: slope float32(0.1).
  static Tensor<T> leaky(const Tensor<T>& x) { return leaky_relu(x, static_cast<T>(0.1f)); }
  // TensorFlow's 2x2 max-pool with "same" padding: out = ceil(in / stride), padded at the end.
  static Tensor<T> max_pool_same(const Tensor<T>& x, int64_t stride) {
    auto pad_for = [&](int64_t n) {
      const int64_t out = (n + stride - 1) / stride;
      return std::max<int64_t>(0, (out - 1) * stride + 2 - n);
    };
    const int64_t ph = pad_for(x.size(2)), pw = pad_for(x.size(3));
    const Tensor<T> p = (ph || pw) ? pad(x, {0, pw, 0, ph}, PadMode::Replicate) : x;
    return max_pool2d(p, 2, stride);
  }

  std::vector<nn::Conv2dT<T>> depthwise_, pointwise_;
};

template <class T> using TinyFaceDetectorT = nn::ModuleHolder<TinyFaceDetectorImplT<T>>;
using TinyFaceDetectorImpl = TinyFaceDetectorImplT<float>;
CRISP_MODULE(TinyFaceDetector);

}  // namespace crisp::models
