// face-api.js's input preparation (NetInput.toBatchTensor), shared by the imported face networks:
// pad an RGB image to a square with zeros, then resize it with TensorFlow's legacy bilinear
// resize, so that crisp sees the same pixels the package's networks see.
#pragma once

// toBatchTensor(size, centre): padToSquare pads the shorter side with zeros — all of it after the
// image (right / bottom) when !centre, else round(diff / 2) after and the rest before — then
// tf.image.resizeBilinear(alignCorners = false, halfPixelCenters = false): source coordinate
// dst * in / out, neighbours floor and min(ceil, in - 1), interpolated in double and rounded to
// float once, as the tfjs CPU kernel does. Not differentiable: it prepares inputs (the networks'
// forward is); any value range works (resizing and zero padding are linear).

#include <cmath>
#include <cstdint>
#include <vector>

#include "crisp/tensor/tensor.hpp"

namespace crisp::models {

// Where the image lies inside the padded square, in pixels of the square before resizing.
struct FaceApiPadding {
  int64_t square = 0;            // side of the padded square
  int64_t left = 0, top = 0;     // zero columns / rows before the image
};

inline FaceApiPadding face_api_padding(int64_t height, int64_t width, bool centre) {
  FaceApiPadding p;
  p.square = std::max(height, width);
  const int64_t diff = std::abs(height - width);
  // JavaScript's Math.round(diff * 0.5) goes after the image; the rest before it.
  const int64_t before = centre ? diff - static_cast<int64_t>(std::floor(diff * 0.5 + 0.5)) : 0;
  if (height > width) p.left = before;
  else p.top = before;
  return p;
}

// image: [3, H, W] or [1, 3, H, W] RGB on the CPU (any range). Returns [1, 3, size, size].
template <class T>
Tensor<T> face_api_square_resize(const Tensor<T>& image, int64_t size, bool centre) {
  const bool batched = image.defined() && image.dim() == 4;
  CRISP_CHECK(image.defined() && (image.dim() == 3 || (batched && image.size(0) == 1)) &&
                  image.size(batched ? 1 : 0) == 3 && image.size(-1) > 0 && image.size(-2) > 0,
              ShapeError, "face_api_square_resize", "expected one RGB image [3, H, W] or [1, 3, H, W], got ",
              image.defined() ? image.shape() : Shape{});
  CRISP_CHECK(size > 0, ValueError, "face_api_square_resize", "expected a positive size, got ", size);
  const int64_t h = image.size(-2), w = image.size(-1);
  const FaceApiPadding pad = face_api_padding(h, w, centre);
  const int64_t n = pad.square;
  const int64_t sc = image.stride(-3), sy = image.stride(-2), sx = image.stride(-1);
  const T* src = image.data();
  // The padded square's pixel (c, y, x): the image's, or 0 outside it.
  auto at = [&](int64_t c, int64_t y, int64_t x) -> double {
    y -= pad.top;
    x -= pad.left;
    if (y < 0 || y >= h || x < 0 || x >= w) return 0.0;
    return static_cast<double>(src[c * sc + y * sy + x * sx]);
  };
  Tensor<T> out = Tensor<T>::empty({1, 3, size, size});
  T* dst = out.data();
  if (n == size) {  // face-api skips the resize when the square already has the size
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < size; ++y)
        for (int64_t x = 0; x < size; ++x) dst[(c * size + y) * size + x] = static_cast<T>(at(c, y, x));
    return out;
  }
  const double ratio = static_cast<double>(n) / static_cast<double>(size);
  struct Tap {
    int64_t lo, hi;
    double frac;
  };
  std::vector<Tap> taps(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) {
    const double s = ratio * static_cast<double>(i);
    const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(s)));
    taps[static_cast<size_t>(i)] = {lo, std::min<int64_t>(n - 1, static_cast<int64_t>(std::ceil(s))),
                                    s - static_cast<double>(lo)};
  }
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < size; ++y) {
      const Tap& ty = taps[static_cast<size_t>(y)];
      for (int64_t x = 0; x < size; ++x) {
        const Tap& tx = taps[static_cast<size_t>(x)];
        // tfjs rounds the padded image to float32 before resizing; so do we.
        const double tl = static_cast<float>(at(c, ty.lo, tx.lo)), tr = static_cast<float>(at(c, ty.lo, tx.hi));
        const double bl = static_cast<float>(at(c, ty.hi, tx.lo)), br = static_cast<float>(at(c, ty.hi, tx.hi));
        const double top = tl + (tr - tl) * tx.frac;
        const double bottom = bl + (br - bl) * tx.frac;
        dst[(c * size + y) * size + x] = static_cast<T>(static_cast<float>(top + (bottom - top) * ty.frac));
      }
    }
  return out;
}

}  // namespace crisp::models
