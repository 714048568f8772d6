// Tiling images into one picture for contact sheets and training snapshots: images, gray maps
// and blur kernels laid out row by row (as torchvision.utils.make_grid) into one RGB tensor.
#pragma once

// make_grid follows torchvision's layout: `nrow` images per row, `padding` pixels between cells
// and around the border, filled with pad_value. Unlike torchvision, the images may differ in size:
// every cell is as large as the largest image and smaller ones are centred in it. Gray inputs
// ([1, H, W] or [H, W]) are replicated to RGB; values are copied as given (save_image clamps).
// kernel_image turns a blur kernel (tiny values summing to 1) into something visible.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "crisp/data/transforms.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::train {

struct GridOptions {
  int64_t nrow = 8;       // images per row (torchvision's name); the last row may be shorter
  int64_t padding = 2;    // pixels between cells and around the border
  float pad_value = 0.f;  // background / padding value in every channel
};

namespace detail {
// [C, H, W] or [H, W] with C in {1, 3} viewed as (channels, H, W); `i` names the image in errors.
inline void check_grid_image(const Tensor<float>& img, size_t i, const char* op) {
  CRISP_CHECK(img.defined(), ValueError, op, "expected defined images, image ", i, " is undefined");
  CRISP_CHECK((img.dim() == 3 && (img.size(0) == 1 || img.size(0) == 3)) || img.dim() == 2, ShapeError, op,
              "expected [1, H, W], [3, H, W] or [H, W] images, image ", i, " has shape ", img.shape());
  CRISP_CHECK(img.size(-1) > 0 && img.size(-2) > 0, ShapeError, op, "expected non-empty images, image ", i,
              " has shape ", img.shape());
}
}  // namespace detail

// Gray [H, W] or [1, H, W] replicated to [3, H, W]; [3, H, W] copied. Always contiguous.
inline Tensor<float> to_rgb(const Tensor<float>& img) {
  detail::check_grid_image(img, 0, "to_rgb");
  const int64_t H = img.size(-2), W = img.size(-1);
  const bool gray = img.dim() == 2 || img.size(0) == 1;
  const int64_t sc = img.dim() == 3 ? img.stride(0) : 0, sh = img.stride(-2), sw = img.stride(-1);
  Tensor<float> out = Tensor<float>::empty(Shape{3, H, W});
  float* o = out.data();
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) *o++ = img.data()[(gray ? 0 : c * sc) + y * sh + x * sw];
  return out;
}

// A 2-d kernel as a gray [3, scale H, scale W] image: divided by its maximum (so the brightest
// tap is white whatever the kernel's size) and enlarged `scale` times with nearest sampling so
// single taps stay visible as squares. An all-zero kernel stays black.
inline Tensor<float> kernel_image(const Tensor<float>& kernel, int64_t scale = 1) {
  CRISP_CHECK(kernel.defined() && kernel.dim() == 2 && kernel.numel() > 0, ShapeError, "kernel_image",
              "expected a non-empty 2-d kernel, got shape ", kernel.defined() ? kernel.shape() : Shape{});
  CRISP_CHECK(scale >= 1, ValueError, "kernel_image", "expected scale >= 1, got ", scale);
  const int64_t H = kernel.size(0), W = kernel.size(1);
  Tensor<float> k = Tensor<float>::empty(Shape{H, W});
  float mx = 0;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const float v = kernel.data()[y * kernel.stride(0) + x * kernel.stride(1)];
      k.data()[y * W + x] = v;
      mx = std::max(mx, v);
    }
  if (mx > 0)
    for (int64_t i = 0; i < H * W; ++i) k.data()[i] = std::max(0.f, k.data()[i] / mx);
  if (scale > 1) k = data::resize(k, {H * scale, W * scale}, data::Interpolation::Nearest);
  return to_rgb(k);
}

// The images tiled into one [3, H', W'] tensor (see the layout rules above).
inline Tensor<float> make_grid(const std::vector<Tensor<float>>& images, const GridOptions& o = {}) {
  const char* op = "make_grid";
  CRISP_CHECK(!images.empty(), ValueError, op, "expected at least one image, got none");
  CRISP_CHECK(o.nrow >= 1, ValueError, op, "expected nrow >= 1, got ", o.nrow);
  CRISP_CHECK(o.padding >= 0, ValueError, op, "expected padding >= 0, got ", o.padding);
  int64_t ch = 0, cw = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    detail::check_grid_image(images[i], i, op);
    ch = std::max(ch, images[i].size(-2));
    cw = std::max(cw, images[i].size(-1));
  }
  const auto n = static_cast<int64_t>(images.size());
  const int64_t cols = std::min(o.nrow, n), rows = (n + o.nrow - 1) / o.nrow, p = o.padding;
  const int64_t H = rows * (ch + p) + p, W = cols * (cw + p) + p;
  Tensor<float> out = Tensor<float>::empty(Shape{3, H, W});
  std::fill(out.data(), out.data() + out.numel(), o.pad_value);
  for (int64_t i = 0; i < n; ++i) {
    const Tensor<float> img = to_rgb(images[static_cast<size_t>(i)]);
    const int64_t h = img.size(1), w = img.size(2);
    const int64_t top = p + (i / o.nrow) * (ch + p) + (ch - h) / 2;
    const int64_t left = p + (i % o.nrow) * (cw + p) + (cw - w) / 2;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < h; ++y)
        std::copy_n(img.data() + (c * h + y) * w, w, out.data() + (c * H + top + y) * W + left);
  }
  return out;
}

// Images stacked top to bottom, each row keeping its own height (make_grid would give every row
// the tallest one's), centred horizontally, `padding` pixels of pad_value between and around.
inline Tensor<float> stack_rows(const std::vector<Tensor<float>>& rows, int64_t padding = 0, float pad_value = 0.f) {
  const char* op = "stack_rows";
  CRISP_CHECK(!rows.empty(), ValueError, op, "expected at least one image, got none");
  CRISP_CHECK(padding >= 0, ValueError, op, "expected padding >= 0, got ", padding);
  int64_t H = padding, W = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    detail::check_grid_image(rows[i], i, op);
    H += rows[i].size(-2) + padding;
    W = std::max(W, rows[i].size(-1));
  }
  W += 2 * padding;
  Tensor<float> out = Tensor<float>::empty(Shape{3, H, W});
  std::fill(out.data(), out.data() + out.numel(), pad_value);
  int64_t top = padding;
  for (const auto& r : rows) {
    const Tensor<float> img = to_rgb(r);
    const int64_t h = img.size(1), w = img.size(2), left = (W - w) / 2;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < h; ++y)
        std::copy_n(img.data() + (c * h + y) * w, w, out.data() + (c * H + top + y) * W + left);
    top += h + padding;
  }
  return out;
}

}  // namespace crisp::train
