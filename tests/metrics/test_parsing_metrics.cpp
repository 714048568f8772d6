// Per-class and per-group precision / recall / F-score and IoU from a confusion matrix.
#include <catch2/catch.hpp>

#include <cmath>

#include "crisp/crisp.hpp"
#include "crisp/metrics/parsing.hpp"

using namespace crisp;
using namespace crisp::metrics;

namespace {
Tensor<int64_t> ids(std::vector<int64_t> v, int64_t h, int64_t w) { return from_vector<int64_t>(v, Shape{h, w}); }
}  // namespace

TEST_CASE("confusion matrix, precision, recall, F-score, IoU by hand", "[metrics][parsing]") {
  // target: 0 0 1 1 / 2 2 1 0 ; pred: 0 1 1 1 / 2 0 1 0
  const auto target = ids({0, 0, 1, 1, 2, 2, 1, 0}, 2, 4);
  const auto pred = ids({0, 1, 1, 1, 2, 0, 1, 0}, 2, 4);
  ConfusionMatrix cm(4);
  cm.update(pred, target);
  CHECK(cm.total() == 8);
  CHECK(cm.count(0, 0) == 2);
  CHECK(cm.count(0, 1) == 1);
  CHECK(cm.count(2, 0) == 1);
  // class 0: tp 2, predicted 3, target 3
  CHECK(cm.precision(0) == Approx(2.0 / 3));
  CHECK(cm.recall(0) == Approx(2.0 / 3));
  CHECK(cm.f_score(0) == Approx(2.0 / 3));
  CHECK(cm.iou(0) == Approx(0.5));
  // class 1: tp 3, predicted 4, target 3
  CHECK(cm.precision(1) == Approx(0.75));
  CHECK(cm.recall(1) == Approx(1.0));
  CHECK(cm.f_score(1) == Approx(2 * 0.75 / 1.75));
  CHECK(cm.iou(1) == Approx(0.75));
  // class 2: tp 1, predicted 1, target 2
  CHECK(cm.f_score(2) == Approx(2 * 1 * 0.5 / 1.5));
  CHECK(cm.f_score(2, 2.0) == Approx(5 * 0.5 / (4 * 1 + 0.5)));
  // class 3 never occurs: NaN, and left out of the mean IoU
  CHECK(std::isnan(cm.precision(3)));
  CHECK(std::isnan(cm.iou(3)));
  CHECK(cm.mean_iou() == Approx((0.5 + 0.75 + 0.5) / 3));
  CHECK(cm.pixel_accuracy() == Approx(6.0 / 8));
  // group {1, 2} as one class: tp = counts with both in group = 3 + 1 = 4, predicted 5, target 5
  CHECK(cm.precision({1, 2}) == Approx(4.0 / 5));
  CHECK(cm.recall({1, 2}) == Approx(4.0 / 5));
  CHECK(cm.iou({1, 2}) == Approx(4.0 / 6));
  // Accumulates; reset clears.
  cm.update(pred, target);
  CHECK(cm.total() == 16);
  CHECK(cm.precision(1) == Approx(0.75));
  cm.reset();
  CHECK(cm.total() == 0);
  CHECK(std::isnan(cm.mean_iou()));
}

TEST_CASE("ignore index, strided maps and errors", "[metrics][parsing]") {
  ConfusionMatrix cm(3, 255);
  const auto target = ids({0, 255, 1, 2}, 2, 2);
  const auto pred = ids({0, 2, 1, 1}, 2, 2);
  cm.update(pred, target);
  CHECK(cm.total() == 3);
  ConfusionMatrix t(3, 255);
  t.update(pred.transpose(0, 1), target.transpose(0, 1));
  CHECK(t.count(2, 1) == 1);
  CHECK_THROWS_AS(cm.update(ids({0, 3, 1, 2}, 2, 2), ids({0, 1, 1, 2}, 2, 2)), ValueError);
  CHECK_THROWS_AS(cm.update(ids({0, 1, 1, 2}, 2, 2), ids({0, 7, 1, 2}, 2, 2)), ValueError);
  CHECK_THROWS_AS(cm.update(ids({0, 1}, 1, 2), ids({0, 1, 1, 2}, 2, 2)), ShapeError);
  CHECK_THROWS_AS(cm.precision(std::vector<int64_t>{}), ValueError);
  CHECK_THROWS_AS(cm.iou(5), ValueError);
  CHECK_THROWS_AS(ConfusionMatrix(0), ValueError);
  // A perfect prediction.
  ConfusionMatrix p(3);
  const auto perfect = ids({0, 1, 1, 2}, 2, 2);
  p.update(perfect, perfect);
  CHECK(p.mean_iou() == 1.0);
  CHECK(p.f_score({0, 1, 2}) == 1.0);
  CHECK_THROWS_AS(p.update(target, target), ValueError);  // 255 is an error without an ignore index
}
