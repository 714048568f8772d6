// Image transforms for data pipelines: resize, crops, flips and random affine warps of float
// [C, H, W] images and int64 [H, W] label maps, seedable with crisp::Generator.
#pragma once

// Conventions
//  - resize follows PyTorch's F.interpolate(size=..., align_corners=False, antialias=False) on
//    CPU: Nearest = floor(dst * in / out) (ATen's nearest_idx); Bilinear and Bicubic sample at
//    (dst + 0.5) * in / out - 0.5 (bilinear clamps negatives to 0; bicubic uses a = -0.75 with
//    edge-clamped taps and is not clamped to [0, 1]); Area = F.interpolate(mode="area"), i.e.
//    adaptive average pooling over [floor(i * in / out), ceil((i + 1) * in / out)) - the exact
//    pixel-area mean for integer shrink factors. Use Area to shrink, Bilinear/Bicubic to enlarge.
//    Label maps are resized with Nearest only.
//  - Crops are torchvision's: center_crop puts the top-left corner at round((H - h) / 2) with
//    Python's round-half-to-even; random_crop draws top then left uniformly.
//  - affine warps about the image centre ((W - 1) / 2, (H - 1) / 2) in pixel-centre coordinates:
//    out(p) = in(c + R(-angle) (p - c - t) / scale), positive angle = counter-clockwise on screen.
//    Images are sampled bilinearly, taps outside the image read `fill`; label maps take the
//    nearest pixel (round half up) or `label_fill` outside. random_affine_params draws
//    angle ~ U(-degrees, degrees), tx = round(U(-a W, a W)), ty = round(U(-b H, b H)),
//    scale ~ U(lo, hi) in that order (torchvision's RandomAffine without shear).
// Inputs may have any strides; results are fresh contiguous tensors. Images may be [C, H, W] or
// [H, W]; every channel gets the same geometry.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "crisp/backend/cpu/elementwise.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/generator.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::data {

enum class Interpolation { Nearest, Bilinear, Bicubic, Area };

namespace detail {

template <class T>
Tensor<T> contiguous_copy(const Tensor<T>& x) {
  return x.is_contiguous() ? x : cpu::map<T>(x.shape(), [](T v) { return v; }, x);
}

template <class T>
void check_image(const Tensor<T>& x, const char* op, bool label) {
  CRISP_CHECK(x.defined(), ValueError, op, "expected a tensor, got an undefined one");
  if (label)
    CRISP_CHECK(x.dim() == 2, ShapeError, op, "expected an [H, W] label map, got shape ", x.shape());
  else
    CRISP_CHECK(x.dim() == 2 || x.dim() == 3, ShapeError, op, "expected a [C, H, W] or [H, W] image, got shape ",
                x.shape());
  CRISP_CHECK(x.size(-1) > 0 && x.size(-2) > 0, ShapeError, op, "expected a non-empty image, got shape ", x.shape());
}

// One output coordinate of a separable resampler: source indices and their weights.
struct Taps {
  std::vector<int64_t> index;  // out * width entries
  std::vector<double> weight;
  int64_t width = 0;
};

inline double cubic1(double x, double a) { return ((a + 2) * x - (a + 3)) * x * x + 1; }
inline double cubic2(double x, double a) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; }

inline Taps make_taps(int64_t in, int64_t out, Interpolation mode) {
  Taps t;
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  auto clampi = [in](int64_t i) { return std::clamp<int64_t>(i, 0, in - 1); };
  auto push = [&](int64_t i, double w) {
    t.index.push_back(i);
    t.weight.push_back(w);
  };
  if (mode == Interpolation::Area) {
    for (int64_t j = 0; j < out; ++j) {
      const int64_t b = (j * in) / out, e = ((j + 1) * in + out - 1) / out;
      t.width = std::max(t.width, e - b);
    }
  } else {
    t.width = mode == Interpolation::Nearest ? 1 : mode == Interpolation::Bilinear ? 2 : 4;
  }
  for (int64_t j = 0; j < out; ++j) {
    const size_t before = t.index.size();
    if (mode == Interpolation::Nearest) {
      int64_t s = j;
      if (out == 2 * in) s = j >> 1;
      else if (out != in)
        s = std::min(static_cast<int64_t>(std::floor(static_cast<float>(j) * (static_cast<float>(in) / static_cast<float>(out)))),
                     in - 1);
      push(s, 1.0);
    } else if (mode == Interpolation::Bilinear) {
      const double src = std::max(0.0, scale * (j + 0.5) - 0.5);
      const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
      const double l1 = src - static_cast<double>(i0);
      push(i0, 1.0 - l1);
      push(i0 + (i0 < in - 1 ? 1 : 0), l1);
    } else if (mode == Interpolation::Bicubic) {
      const double src = scale * (j + 0.5) - 0.5;
      const int64_t i = static_cast<int64_t>(std::floor(src));
      const double f = src - static_cast<double>(i), a = -0.75;
      push(clampi(i - 1), cubic2(f + 1, a));
      push(clampi(i), cubic1(f, a));
      push(clampi(i + 1), cubic1(1 - f, a));
      push(clampi(i + 2), cubic2(2 - f, a));
    } else {
      const int64_t b = (j * in) / out, e = ((j + 1) * in + out - 1) / out;
      for (int64_t i = b; i < e; ++i) push(i, 1.0 / static_cast<double>(e - b));
    }
    while (t.index.size() < before + static_cast<size_t>(t.width)) push(t.index[before], 0.0);
  }
  return t;
}

// Separable resampling of contiguous planes [P, H, W] -> [P, oh, ow]: rows first, then columns.
template <class T>
void resample_planes(const T* in, T* out, int64_t planes, int64_t H, int64_t W, int64_t oh, int64_t ow, const Taps& tx,
                     const Taps& ty) {
  std::vector<double> tmp(static_cast<size_t>(H * ow));
  for (int64_t p = 0; p < planes; ++p) {
    const T* src = in + p * H * W;
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < ow; ++x) {
        double acc = 0;
        for (int64_t k = 0; k < tx.width; ++k) {
          const size_t q = static_cast<size_t>(x * tx.width + k);
          acc += tx.weight[q] * static_cast<double>(src[y * W + tx.index[q]]);
        }
        tmp[static_cast<size_t>(y * ow + x)] = acc;
      }
    T* dst = out + p * oh * ow;
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x) {
        double acc = 0;
        for (int64_t k = 0; k < ty.width; ++k) {
          const size_t q = static_cast<size_t>(y * ty.width + k);
          acc += ty.weight[q] * tmp[static_cast<size_t>(ty.index[q] * ow + x)];
        }
        dst[y * ow + x] = static_cast<T>(acc);
      }
  }
}

template <class T>
Shape with_hw(const Tensor<T>& x, int64_t h, int64_t w) {
  Shape s = x.shape();
  s[s.size() - 2] = h;
  s[s.size() - 1] = w;
  return s;
}

}  // namespace detail

// Resizes a [C, H, W] or [H, W] float image to {height, width} (see the conventions above).
inline Tensor<float> resize(const Tensor<float>& img, std::array<int64_t, 2> size,
                            Interpolation mode = Interpolation::Bilinear) {
  detail::check_image(img, "resize", false);
  CRISP_CHECK(size[0] > 0 && size[1] > 0, ValueError, "resize", "expected a positive output size, got {", size[0], ", ",
              size[1], "}");
  const Tensor<float> x = detail::contiguous_copy(img);
  const int64_t H = x.size(-2), W = x.size(-1), planes = x.numel() / (H * W);
  Tensor<float> out = Tensor<float>::empty(detail::with_hw(x, size[0], size[1]));
  detail::resample_planes(x.data(), out.data(), planes, H, W, size[0], size[1], detail::make_taps(W, size[1], mode),
                          detail::make_taps(H, size[0], mode));
  return out;
}

// Resizes a label map with nearest-neighbour sampling (ids are never blended).
inline Tensor<int64_t> resize_label_map(const Tensor<int64_t>& labels, std::array<int64_t, 2> size) {
  detail::check_image(labels, "resize_label_map", true);
  CRISP_CHECK(size[0] > 0 && size[1] > 0, ValueError, "resize_label_map", "expected a positive output size, got {",
              size[0], ", ", size[1], "}");
  const int64_t H = labels.size(0), W = labels.size(1);
  const detail::Taps tx = detail::make_taps(W, size[1], Interpolation::Nearest);
  const detail::Taps ty = detail::make_taps(H, size[0], Interpolation::Nearest);
  Tensor<int64_t> out = Tensor<int64_t>::empty(Shape{size[0], size[1]});
  for (int64_t y = 0; y < size[0]; ++y)
    for (int64_t x = 0; x < size[1]; ++x)
      out.data()[y * size[1] + x] = labels.data()[ty.index[static_cast<size_t>(y)] * labels.stride(0) +
                                                  tx.index[static_cast<size_t>(x)] * labels.stride(1)];
  return out;
}

// The [top, top + height) x [left, left + width) window of an image or label map (a copy).
template <class T>
Tensor<T> crop(const Tensor<T>& img, int64_t top, int64_t left, int64_t height, int64_t width) {
  detail::check_image(img, "crop", false);
  const int64_t H = img.size(-2), W = img.size(-1);
  CRISP_CHECK(height > 0 && width > 0 && top >= 0 && left >= 0 && top + height <= H && left + width <= W, ValueError,
              "crop", "expected a window inside the ", H, "x", W, " image, got top ", top, ", left ", left, ", size ",
              height, "x", width);
  Tensor<T> out = Tensor<T>::empty(detail::with_hw(img, height, width));
  const int64_t C = img.dim() == 3 ? img.size(0) : 1, sc = img.dim() == 3 ? img.stride(0) : 0;
  const int64_t sh = img.stride(-2), sw = img.stride(-1);
  T* o = out.data();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x) *o++ = img.data()[c * sc + (top + y) * sh + (left + x) * sw];
  return out;
}

// torchvision's center_crop (the crop must fit in the image).
template <class T>
Tensor<T> center_crop(const Tensor<T>& img, std::array<int64_t, 2> size) {
  detail::check_image(img, "center_crop", false);
  const int64_t H = img.size(-2), W = img.size(-1);
  CRISP_CHECK(size[0] > 0 && size[1] > 0 && size[0] <= H && size[1] <= W, ValueError, "center_crop",
              "expected a crop size within the ", H, "x", W, " image, got ", size[0], "x", size[1]);
  // std::nearbyint rounds half to even in the default rounding mode, as Python's round.
  const auto top = static_cast<int64_t>(std::nearbyint(static_cast<double>(H - size[0]) / 2.0));
  const auto left = static_cast<int64_t>(std::nearbyint(static_cast<double>(W - size[1]) / 2.0));
  return crop(img, top, left, size[0], size[1]);
}

struct CropParams {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// A uniformly random window of `size` inside an H x W image (top drawn first, then left).
inline CropParams random_crop_params(int64_t H, int64_t W, std::array<int64_t, 2> size, Generator& gen) {
  CRISP_CHECK(size[0] > 0 && size[1] > 0 && size[0] <= H && size[1] <= W, ValueError, "random_crop",
              "expected a crop size within the ", H, "x", W, " image, got ", size[0], "x", size[1]);
  CropParams p;
  p.height = size[0];
  p.width = size[1];
  p.top = static_cast<int64_t>(gen.uniform_int(static_cast<uint64_t>(H - size[0] + 1)));
  p.left = static_cast<int64_t>(gen.uniform_int(static_cast<uint64_t>(W - size[1] + 1)));
  return p;
}

template <class T>
Tensor<T> random_crop(const Tensor<T>& img, std::array<int64_t, 2> size, Generator& gen) {
  detail::check_image(img, "random_crop", false);
  const CropParams p = random_crop_params(img.size(-2), img.size(-1), size, gen);
  return crop(img, p.top, p.left, p.height, p.width);
}

// The same random window of an image and its label map (which must have the image's H x W).
inline std::pair<Tensor<float>, Tensor<int64_t>> random_crop(const Tensor<float>& img, const Tensor<int64_t>& labels,
                                                             std::array<int64_t, 2> size, Generator& gen) {
  detail::check_image(img, "random_crop", false);
  detail::check_image(labels, "random_crop", true);
  CRISP_CHECK(labels.size(0) == img.size(-2) && labels.size(1) == img.size(-1), ShapeError, "random_crop",
              "expected a label map of the image's size ", img.size(-2), "x", img.size(-1), ", got ", labels.shape());
  const CropParams p = random_crop_params(img.size(-2), img.size(-1), size, gen);
  return {crop(img, p.top, p.left, p.height, p.width), crop(labels, p.top, p.left, p.height, p.width)};
}

// Mirrors left-right (hflip) or top-bottom (vflip).
template <class T>
Tensor<T> hflip(const Tensor<T>& img) {
  detail::check_image(img, "hflip", false);
  Tensor<T> out = Tensor<T>::empty(img.shape());
  const int64_t C = img.dim() == 3 ? img.size(0) : 1, H = img.size(-2), W = img.size(-1);
  const int64_t sc = img.dim() == 3 ? img.stride(0) : 0, sh = img.stride(-2), sw = img.stride(-1);
  T* o = out.data();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) *o++ = img.data()[c * sc + y * sh + (W - 1 - x) * sw];
  return out;
}
template <class T>
Tensor<T> vflip(const Tensor<T>& img) {
  detail::check_image(img, "vflip", false);
  Tensor<T> out = Tensor<T>::empty(img.shape());
  const int64_t C = img.dim() == 3 ? img.size(0) : 1, H = img.size(-2), W = img.size(-1);
  const int64_t sc = img.dim() == 3 ? img.stride(0) : 0, sh = img.stride(-2), sw = img.stride(-1);
  T* o = out.data();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) *o++ = img.data()[c * sc + (H - 1 - y) * sh + x * sw];
  return out;
}

// ---- affine --------------------------------------------------------------------------------

struct AffineParams {
  double angle = 0;                 // degrees, counter-clockwise on screen
  std::array<double, 2> translate{0, 0};  // {tx, ty} in pixels
  double scale = 1;
};

struct RandomAffineOptions {
  double degrees = 0;                     // angle ~ U(-degrees, degrees)
  std::array<double, 2> translate{0, 0};  // max |tx| / W and max |ty| / H
  std::array<double, 2> scale{1, 1};      // scale ~ U(scale[0], scale[1])
  float fill = 0;                         // image value outside the source
  int64_t label_fill = 0;                 // label id outside the source (e.g. background or an ignore id)
};

inline AffineParams random_affine_params(int64_t H, int64_t W, const RandomAffineOptions& o, Generator& gen) {
  CRISP_CHECK(o.degrees >= 0, ValueError, "random_affine", "expected degrees >= 0, got ", o.degrees);
  CRISP_CHECK(o.translate[0] >= 0 && o.translate[0] <= 1 && o.translate[1] >= 0 && o.translate[1] <= 1, ValueError,
              "random_affine", "expected translate fractions in [0, 1], got {", o.translate[0], ", ", o.translate[1], "}");
  CRISP_CHECK(o.scale[0] > 0 && o.scale[0] <= o.scale[1], ValueError, "random_affine",
              "expected 0 < scale[0] <= scale[1], got {", o.scale[0], ", ", o.scale[1], "}");
  AffineParams p;
  p.angle = -o.degrees + 2 * o.degrees * gen.uniform();
  const double mx = o.translate[0] * static_cast<double>(W), my = o.translate[1] * static_cast<double>(H);
  p.translate[0] = std::nearbyint(-mx + 2 * mx * gen.uniform());
  p.translate[1] = std::nearbyint(-my + 2 * my * gen.uniform());
  p.scale = o.scale[0] + (o.scale[1] - o.scale[0]) * gen.uniform();
  return p;
}

namespace detail {
// Maps an output pixel centre to its source position (the inverse of the forward warp).
struct InverseAffine {
  double a, b, c, d, cx, cy, tx, ty;
  InverseAffine(const AffineParams& p, int64_t H, int64_t W) {
    CRISP_CHECK(p.scale > 0 && std::isfinite(p.scale), ValueError, "affine", "expected a positive scale, got ", p.scale);
    const double th = p.angle * 3.14159265358979323846 / 180.0;
    // Forward on screen (y down), counter-clockwise: [cos, sin; -sin, cos]; the inverse is its
    // transpose divided by the scale.
    a = std::cos(th) / p.scale, b = -std::sin(th) / p.scale, c = std::sin(th) / p.scale, d = std::cos(th) / p.scale;
    cx = (static_cast<double>(W) - 1) / 2, cy = (static_cast<double>(H) - 1) / 2;
    tx = p.translate[0], ty = p.translate[1];
  }
  std::array<double, 2> operator()(int64_t x, int64_t y) const {
    const double u = static_cast<double>(x) - cx - tx, v = static_cast<double>(y) - cy - ty;
    return {cx + a * u + b * v, cy + c * u + d * v};
  }
};
}  // namespace detail

// Warps an image (bilinear, `fill` outside).
inline Tensor<float> affine(const Tensor<float>& img, const AffineParams& p, float fill = 0) {
  detail::check_image(img, "affine", false);
  const int64_t C = img.dim() == 3 ? img.size(0) : 1, H = img.size(-2), W = img.size(-1);
  const int64_t sc = img.dim() == 3 ? img.stride(0) : 0, sh = img.stride(-2), sw = img.stride(-1);
  const detail::InverseAffine inv(p, H, W);
  Tensor<float> out = Tensor<float>::empty(img.shape());
  float* o = out.data();
  const float* in = img.data();
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const auto [sx, sy] = inv(x, y);
      const double fx = std::floor(sx), fy = std::floor(sy);
      const double wx = sx - fx, wy = sy - fy;
      const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
      const bool inside = sx > -1 && sy > -1 && sx < static_cast<double>(W) && sy < static_cast<double>(H);
      for (int64_t c = 0; c < C; ++c) {
        double acc = fill;
        if (inside) {
          auto at = [&](int64_t yy, int64_t xx) -> double {
            return (yy < 0 || yy >= H || xx < 0 || xx >= W) ? static_cast<double>(fill) : in[c * sc + yy * sh + xx * sw];
          };
          acc = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1)) + wy * ((1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1));
        }
        o[(c * H + y) * W + x] = static_cast<float>(acc);
      }
    }
  return out;
}

// Warps a label map (nearest source pixel, `label_fill` outside).
inline Tensor<int64_t> affine_label_map(const Tensor<int64_t>& labels, const AffineParams& p, int64_t label_fill = 0) {
  detail::check_image(labels, "affine_label_map", true);
  const int64_t H = labels.size(0), W = labels.size(1);
  const detail::InverseAffine inv(p, H, W);
  Tensor<int64_t> out = Tensor<int64_t>::empty(labels.shape());
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const auto [sx, sy] = inv(x, y);
      const auto ix = static_cast<int64_t>(std::floor(sx + 0.5)), iy = static_cast<int64_t>(std::floor(sy + 0.5));
      out.data()[y * W + x] = (ix < 0 || ix >= W || iy < 0 || iy >= H)
                                  ? label_fill
                                  : labels.data()[iy * labels.stride(0) + ix * labels.stride(1)];
    }
  return out;
}

// One random affine warp applied identically to an image and its label map.
inline std::pair<Tensor<float>, Tensor<int64_t>> random_affine(const Tensor<float>& img, const Tensor<int64_t>& labels,
                                                               const RandomAffineOptions& o, Generator& gen) {
  detail::check_image(img, "random_affine", false);
  detail::check_image(labels, "random_affine", true);
  CRISP_CHECK(labels.size(0) == img.size(-2) && labels.size(1) == img.size(-1), ShapeError, "random_affine",
              "expected a label map of the image's size ", img.size(-2), "x", img.size(-1), ", got ", labels.shape());
  const AffineParams p = random_affine_params(img.size(-2), img.size(-1), o, gen);
  return {affine(img, p, o.fill), affine_label_map(labels, p, o.label_fill)};
}
inline Tensor<float> random_affine(const Tensor<float>& img, const RandomAffineOptions& o, Generator& gen) {
  detail::check_image(img, "random_affine", false);
  return affine(img, random_affine_params(img.size(-2), img.size(-1), o, gen), o.fill);
}

}  // namespace crisp::data
