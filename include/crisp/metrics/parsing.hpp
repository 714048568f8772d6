// Segmentation metrics for face parsing: a confusion matrix accumulated over label maps, with
// per-class (or per class group) precision, recall, F-score and IoU, and mean IoU.
#pragma once

// counts(t, p) = number of pixels whose target is t and prediction is p. For a class c (or a group
// G of classes, e.g. the paper's "eyes" = {left eye, right eye}, treated as one class):
//   tp = pixels with target in G and prediction in G; precision = tp / (pixels predicted in G);
//   recall = tp / (pixels with target in G); F_beta = (1 + b^2) P R / (b^2 P + R);
//   IoU = tp / (predicted in G + target in G - tp).
// A ratio whose denominator is 0 is NaN (the class never occurs); mean_iou averages the IoU of the
// classes that occur in the target or the prediction. Pixels whose target equals ignore_index are
// skipped; any other id outside [0, num_classes) throws ValueError.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "crisp/tensor/error.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::metrics {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t num_classes, int64_t ignore_index = -1)
      : n_(num_classes), ignore_(ignore_index), counts_(static_cast<size_t>(num_classes > 0 ? num_classes * num_classes : 0), 0) {
    CRISP_CHECK(num_classes > 0, ValueError, "ConfusionMatrix", "expected num_classes > 0, got ", num_classes);
  }

  int64_t num_classes() const { return n_; }

  // Adds a prediction and its target (int64 label maps of one shape, any strides).
  void update(const Tensor<int64_t>& pred, const Tensor<int64_t>& target) {
    CRISP_CHECK(pred.defined() && target.defined(), ValueError, "ConfusionMatrix::update", "expected defined label maps");
    CRISP_CHECK(pred.shape() == target.shape(), ShapeError, "ConfusionMatrix::update",
                "expected prediction and target of the same shape, got ", pred.shape(), " and ", target.shape());
    const int64_t nd = pred.dim();
    std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
    for (int64_t i = 0; i < pred.numel(); ++i) {
      int64_t op = 0, ot = 0;
      for (int64_t d = 0; d < nd; ++d) op += idx[static_cast<size_t>(d)] * pred.stride(d), ot += idx[static_cast<size_t>(d)] * target.stride(d);
      const int64_t t = target.data()[ot], p = pred.data()[op];
      if (t != ignore_) {
        CRISP_CHECK(t >= 0 && t < n_, ValueError, "ConfusionMatrix::update", "expected target ids in [0, ", n_,
                    ") or the ignore index ", ignore_, ", got ", t);
        CRISP_CHECK(p >= 0 && p < n_, ValueError, "ConfusionMatrix::update", "expected predicted ids in [0, ", n_,
                    "), got ", p);
        ++counts_[static_cast<size_t>(t * n_ + p)];
      }
      for (int64_t d = nd - 1; d >= 0; --d) {
        if (++idx[static_cast<size_t>(d)] < pred.size(d)) break;
        idx[static_cast<size_t>(d)] = 0;
      }
    }
  }

  void reset() { std::fill(counts_.begin(), counts_.end(), 0); }

  // Pixels with target `t` predicted as `p`.
  int64_t count(int64_t t, int64_t p) const {
    CRISP_CHECK(t >= 0 && t < n_ && p >= 0 && p < n_, ValueError, "ConfusionMatrix::count", "expected ids in [0, ", n_,
                "), got (", t, ", ", p, ")");
    return counts_[static_cast<size_t>(t * n_ + p)];
  }
  int64_t total() const {
    int64_t s = 0;
    for (int64_t c : counts_) s += c;
    return s;
  }

  double precision(const std::vector<int64_t>& group) const {
    const auto s = stats(group, "precision");
    return ratio(s.tp, s.predicted);
  }
  double recall(const std::vector<int64_t>& group) const {
    const auto s = stats(group, "recall");
    return ratio(s.tp, s.target);
  }
  double f_score(const std::vector<int64_t>& group, double beta = 1.0) const {
    const double p = precision(group), r = recall(group), b2 = beta * beta;
    if (std::isnan(p) || std::isnan(r)) return std::numeric_limits<double>::quiet_NaN();
    return p + r == 0 ? 0.0 : (1 + b2) * p * r / (b2 * p + r);
  }
  double iou(const std::vector<int64_t>& group) const {
    const auto s = stats(group, "iou");
    return ratio(s.tp, s.predicted + s.target - s.tp);
  }
  double precision(int64_t c) const { return precision(std::vector<int64_t>{c}); }
  double recall(int64_t c) const { return recall(std::vector<int64_t>{c}); }
  double f_score(int64_t c, double beta = 1.0) const { return f_score(std::vector<int64_t>{c}, beta); }
  double iou(int64_t c) const { return iou(std::vector<int64_t>{c}); }

  // Mean IoU over the classes present in target or prediction (NaN when nothing was counted).
  double mean_iou() const {
    double sum = 0;
    int64_t k = 0;
    for (int64_t c = 0; c < n_; ++c) {
      const double v = iou(c);
      if (!std::isnan(v)) sum += v, ++k;
    }
    return k ? sum / static_cast<double>(k) : std::numeric_limits<double>::quiet_NaN();
  }
  // Fraction of counted pixels predicted correctly.
  double pixel_accuracy() const {
    int64_t tp = 0;
    for (int64_t c = 0; c < n_; ++c) tp += counts_[static_cast<size_t>(c * n_ + c)];
    return ratio(tp, total());
  }

 private:
  struct Stats {
    int64_t tp = 0, predicted = 0, target = 0;
  };
  Stats stats(const std::vector<int64_t>& group, const char* what) const {
    CRISP_CHECK(!group.empty(), ValueError, "ConfusionMatrix::", what, ": expected at least one class");
    std::vector<char> in(static_cast<size_t>(n_), 0);
    for (int64_t c : group) {
      CRISP_CHECK(c >= 0 && c < n_, ValueError, "ConfusionMatrix::", what, ": expected class ids in [0, ", n_, "), got ", c);
      in[static_cast<size_t>(c)] = 1;
    }
    Stats s;
    for (int64_t t = 0; t < n_; ++t)
      for (int64_t p = 0; p < n_; ++p) {
        const int64_t v = counts_[static_cast<size_t>(t * n_ + p)];
        const bool it = in[static_cast<size_t>(t)], ip = in[static_cast<size_t>(p)];
        if (it && ip) s.tp += v;
        if (ip) s.predicted += v;
        if (it) s.target += v;
      }
    return s;
  }
  static double ratio(int64_t a, int64_t b) {
    return b == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(a) / static_cast<double>(b);
  }

  int64_t n_, ignore_;
  std::vector<int64_t> counts_;
};

}  // namespace crisp::metrics
