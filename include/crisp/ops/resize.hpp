// interpolate: PyTorch's F.interpolate for 4-d NCHW input, modes nearest and bilinear
// (align_corners true / false), with a target size or scale factors (recompute_scale_factor=None).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "crisp/backend/resize.hpp"
#include "crisp/ops/conv_args.hpp"
#include "crisp/ops/view.hpp"

namespace crisp {

enum class InterpolateMode { Nearest, Bilinear };

namespace detail {
// ATen's nearest_idx: identity and x2 are special-cased, otherwise floor(dst * scale) computed
// in float (even for double input) with scale = 1 / scale_factor, or in / out without one.
inline std::vector<int64_t> nearest_map(int64_t in, int64_t out, std::optional<double> sf) {
  std::vector<int64_t> src(static_cast<size_t>(out));
  const float scale = sf ? static_cast<float>(1.0 / *sf) : static_cast<float>(in) / static_cast<float>(out);
  for (int64_t j = 0; j < out; ++j) {
    int64_t s = j;
    if (out == 2 * in) s = j >> 1;
    else if (out != in) s = std::min(static_cast<int64_t>(std::floor(static_cast<float>(j) * scale)), in - 1);
    src[static_cast<size_t>(j)] = s;
  }
  return src;
}

// ATen's area_pixel_compute_scale + compute_source_index_and_lambda: the scale in T, the
// source coordinate in double, negative coordinates (align_corners=false) clamped to 0.
template <class T>
LinearTaps<T> linear_taps(int64_t in, int64_t out, bool align_corners, std::optional<double> sf) {
  LinearTaps<T> t;
  const auto n = static_cast<size_t>(out);
  t.i0.resize(n), t.i1.resize(n), t.l0.resize(n), t.l1.resize(n);
  T ratio;
  if (align_corners) ratio = out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
  else ratio = sf ? static_cast<T>(1.0 / *sf) : static_cast<T>(in) / static_cast<T>(out);
  for (int64_t j = 0; j < out; ++j) {
    const auto k = static_cast<size_t>(j);
    if (out == in) {
      t.i0[k] = t.i1[k] = j, t.l0[k] = T(1), t.l1[k] = T(0);
      continue;
    }
    double real = align_corners ? double(ratio) * double(j) : double(ratio) * (double(j) + 0.5) - 0.5;
    if (real < 0) real = 0;
    const int64_t i0 = std::min(static_cast<int64_t>(real), in - 1);
    t.i0[k] = i0;
    t.i1[k] = i0 + (i0 < in - 1 ? 1 : 0);
    t.l1[k] = static_cast<T>(real - double(i0));
    t.l0[k] = T(1) - t.l1[k];
  }
  return t;
}

inline int64_t scaled_size(int64_t in, double sf) { return static_cast<int64_t>(static_cast<double>(in) * sf); }
}  // namespace detail

// Resizes the last two dims of an NCHW tensor to `size`, or by `scale_factor` = {h, w} (then
// out = floor(in * scale) and, as PyTorch with recompute_scale_factor=None, the source
// coordinate uses 1 / scale, not in / out). Give exactly one of the two. align_corners only
// applies to Bilinear. A 3-d input is rejected: PyTorch reads it as 1-d (N, C, L) data.
template <class T>
Tensor<T> interpolate(const Tensor<T>& x, std::optional<Pair2> size,
                      std::optional<std::pair<double, double>> scale_factor = std::nullopt,
                      InterpolateMode mode = InterpolateMode::Nearest, bool align_corners = false) {
  const char* op = "interpolate";
  CRISP_CHECK(x.dim() == 4, ShapeError, op,
              "expected a 4-d (N, C, H, W) input for 2-d resizing, got shape ", x.shape());
  CRISP_CHECK(size.has_value() != scale_factor.has_value(), ValueError, op,
              "expected exactly one of size and scale_factor, got ", size ? "both" : "neither");
  CRISP_CHECK(mode == InterpolateMode::Bilinear || !align_corners, ValueError, op,
              "align_corners can only be set with mode bilinear, got it with mode nearest");
  const int64_t H = x.shape()[2], W = x.shape()[3];
  std::optional<double> sh, sw;
  int64_t OH, OW;
  if (size) {
    OH = size->h, OW = size->w;
  } else {
    sh = scale_factor->first, sw = scale_factor->second;
    CRISP_CHECK(std::isfinite(*sh) && std::isfinite(*sw) && *sh > 0 && *sw > 0, ValueError, op,
                "scale_factor must be positive and finite, got (", *sh, ", ", *sw, ") for input of shape ", x.shape());
    OH = detail::scaled_size(H, *sh), OW = detail::scaled_size(W, *sw);
  }
  CRISP_CHECK(H > 0 && W > 0 && OH > 0 && OW > 0, ShapeError, op,
              "input and output sizes must be greater than 0, got input (H: ", H, ", W: ", W, ") and output (H: ", OH,
              ", W: ", OW, ") for input of shape ", x.shape());
  const int64_t planes = x.shape()[0] * x.shape()[1];
  const Tensor<T> xc = contiguous(x.detach());
  Tensor<T> y = Tensor<T>::empty({x.shape()[0], x.shape()[1], OH, OW}, x.device());
  const bool grad = autograd::needs_grad(x);
  if (mode == InterpolateMode::Nearest) {
    auto rows = detail::nearest_map(H, OH, sh), cols = detail::nearest_map(W, OW, sw);
    backend::resize_nearest_forward(xc, y, planes, H, W, rows, cols);
    if (grad)
      autograd::record<T>("upsample_nearest2d", y, {x},
                          [in = x.shape(), planes, rows = std::move(rows), cols = std::move(cols)](const Tensor<T>& g) {
                            const Tensor<T> gc = contiguous(g);
                            Tensor<T> gx = Tensor<T>::empty(in, g.device());
                            backend::resize_nearest_backward(gc, gx, planes, in[2], in[3], rows, cols);
                            return std::vector{gx};
                          });
  } else {
    auto rt = detail::linear_taps<T>(H, OH, align_corners, sh), ct = detail::linear_taps<T>(W, OW, align_corners, sw);
    backend::resize_bilinear_forward(xc, y, planes, H, W, rt, ct);
    if (grad)
      autograd::record<T>("upsample_bilinear2d", y, {x},
                          [in = x.shape(), planes, rt = std::move(rt), ct = std::move(ct)](const Tensor<T>& g) {
                            const Tensor<T> gc = contiguous(g);
                            Tensor<T> gx = Tensor<T>::empty(in, g.device());
                            backend::resize_bilinear_backward(gc, gx, planes, in[2], in[3], rt, ct);
                            return std::vector{gx};
                          });
  }
  return y;
}

}  // namespace crisp
