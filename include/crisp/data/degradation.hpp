// Synthetic degradation of sharp images: blur by a true 2-D convolution with a kernel, additive
// Gaussian noise and optional JPEG re-encoding, deterministic for a Generator's seed.
#pragma once

// blur: out(y, x) = sum_{i, j} k(i, j) in(y + ch - i, x + cw - j), ch = kh / 2, cw = kw / 2
// (integer division): a true convolution (the kernel flipped, as scipy.ndimage.convolve and
// MATLAB conv2 / imfilter(..., 'conv') compute it), centred on the kernel's middle pixel for odd
// sizes. Pixels outside the image follow the border rule:
//   Replicate - the nearest edge pixel (scipy mode "nearest", the default: no dark frame);
//   Zero      - 0 (scipy mode "constant", cval 0);
//   Reflect   - mirrored about the edge pixel, which is not repeated (numpy / torch "reflect",
//               scipy "mirror"), repeated as often as the kernel needs.
// The kernel is used as given (normalise it to sum 1 to keep brightness). Any leading dims are
// planes ([C, H, W], [N, C, H, W], [H, W]); each plane is blurred on its own, serially (the data
// loader parallelises over samples). Accumulation is in float, rows vectorised.
//
// add_gaussian_noise: out = in + sigma n, n drawn by Generator::normal_pair in row-major order
// (the same numbers as crisp::randn(shape, gen)); degrade = blur, noise, clamp to [0, 1] (on by
// default, as the paper's images are stored as 8-bit files), then optional JPEG at `jpeg_quality`.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "crisp/data/image_io.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/generator.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::data {

enum class BorderMode { Replicate, Zero, Reflect };

namespace detail {

inline int64_t border_index(int64_t i, int64_t n, BorderMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case BorderMode::Replicate: return i < 0 ? 0 : n - 1;
    case BorderMode::Zero: return -1;
    case BorderMode::Reflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);
      int64_t m = i % period;
      if (m < 0) m += period;
      return m < n ? m : period - m;
    }
  }
  return -1;
}

template <class T>
Tensor<T> contiguous_of(const Tensor<T>& x) {
  return x.is_contiguous() ? x : cpu::map<T>(x.shape(), [](T v) { return v; }, x);
}

}  // namespace detail

inline Tensor<float> blur(const Tensor<float>& img, const Tensor<float>& kernel, BorderMode border = BorderMode::Replicate) {
  CRISP_CHECK(img.defined() && img.dim() >= 2, ShapeError, "blur", "expected an image with at least 2 dims [..., H, W], got ",
              img.defined() ? img.shape() : Shape{});
  CRISP_CHECK(kernel.defined() && kernel.dim() == 2 && kernel.numel() > 0, ShapeError, "blur",
              "expected a non-empty 2-d kernel [kh, kw], got ", kernel.defined() ? kernel.shape() : Shape{});
  const Tensor<float> x = detail::contiguous_of(img);
  const int64_t H = x.size(-2), W = x.size(-1), planes = H * W > 0 ? x.numel() / (H * W) : 0;
  const int64_t kh = kernel.size(0), kw = kernel.size(1), ch = kh / 2, cw = kw / 2;
  // Flipped kernel f(a, b) = k(kh-1-a, kw-1-b), so that out(y, x) = sum f(a, b) P(y + a, x + b)
  // over the padded plane P(r, s) = in(r - top, s - left).
  std::vector<float> f(static_cast<size_t>(kh * kw));
  for (int64_t a = 0; a < kh; ++a)
    for (int64_t b = 0; b < kw; ++b)
      f[static_cast<size_t>(a * kw + b)] = kernel.data()[(kh - 1 - a) * kernel.stride(0) + (kw - 1 - b) * kernel.stride(1)];
  const int64_t top = kh - 1 - ch, left = kw - 1 - cw, PH = H + kh - 1, PW = W + kw - 1;
  std::vector<int64_t> col(static_cast<size_t>(PW));
  for (int64_t s = 0; s < PW; ++s) col[static_cast<size_t>(s)] = detail::border_index(s - left, W, border);
  std::vector<float> padded(static_cast<size_t>(PH * PW));
  Tensor<float> out = Tensor<float>::empty(x.shape());
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = x.data() + p * H * W;
    for (int64_t r = 0; r < PH; ++r) {
      const int64_t yr = detail::border_index(r - top, H, border);
      float* dst = padded.data() + r * PW;
      for (int64_t s = 0; s < PW; ++s) {
        const int64_t xs = col[static_cast<size_t>(s)];
        dst[s] = (yr < 0 || xs < 0) ? 0.0f : in[yr * W + xs];
      }
    }
    float* o = out.data() + p * H * W;
    for (int64_t y = 0; y < H; ++y) {
      float* row = o + y * W;
      std::fill(row, row + W, 0.0f);
      for (int64_t a = 0; a < kh; ++a) {
        const float* src_row = padded.data() + (y + a) * PW;
        for (int64_t b = 0; b < kw; ++b) {
          const float w = f[static_cast<size_t>(a * kw + b)];
          if (w == 0.0f) continue;
          const float* src = src_row + b;
#pragma omp simd
          for (int64_t i = 0; i < W; ++i) row[i] += w * src[i];
        }
      }
    }
  }
  return out;
}

// in + sigma * N(0, 1) (not clamped).
inline Tensor<float> add_gaussian_noise(const Tensor<float>& img, double sigma, Generator& gen) {
  CRISP_CHECK(img.defined(), ValueError, "add_gaussian_noise", "expected an image tensor, got an undefined tensor");
  CRISP_CHECK(sigma >= 0 && std::isfinite(sigma), ValueError, "add_gaussian_noise", "expected sigma >= 0, got ", sigma);
  Tensor<float> out = detail::contiguous_of(img);
  if (out.same(img)) out = cpu::map<float>(img.shape(), [](float v) { return v; }, img);
  float* p = out.data();
  const int64_t n = out.numel();
  for (int64_t i = 0; i < n; i += 2) {
    const auto z = gen.normal_pair();
    p[i] = static_cast<float>(p[i] + sigma * z[0]);
    if (i + 1 < n) p[i + 1] = static_cast<float>(p[i + 1] + sigma * z[1]);
  }
  return out;
}

// Encodes as JPEG at `quality` and decodes again (1- or 3-channel [C, H, W] or [H, W] in [0, 1]).
inline Tensor<float> jpeg_reencode(const Tensor<float>& img, int quality) {
  const std::vector<uint8_t> bytes = encode_jpeg(img, quality);
  Tensor<float> out = decode_image(bytes, img.dim() == 3 && img.size(0) == 3 ? ImageMode::RGB : ImageMode::Gray,
                                   "jpeg_reencode");
  return img.dim() == 2 ? Tensor<float>::view_of(out.storage(), img.shape(), contiguous_strides(img.shape()), 0) : out;
}

struct DegradeOptions {
  BorderMode border = BorderMode::Replicate;
  double noise_sigma = 0.01;  // the semantic deblurring paper's sigma on [0, 1] images
  bool clamp = true;          // clamp to [0, 1] after the noise
  int jpeg_quality = 0;       // 0: no JPEG; otherwise re-encode at this quality (1..100)
};

// blur(img, kernel) + noise, clamped, optionally JPEG re-encoded; the noise comes from `gen`.
inline Tensor<float> degrade(const Tensor<float>& img, const Tensor<float>& kernel, Generator& gen,
                             const DegradeOptions& o = {}) {
  CRISP_CHECK(o.jpeg_quality == 0 || (o.jpeg_quality >= 1 && o.jpeg_quality <= 100), ValueError, "degrade",
              "expected jpeg_quality 0 (off) or in [1, 100], got ", o.jpeg_quality);
  CRISP_CHECK(o.jpeg_quality == 0 || o.clamp, ValueError, "degrade", "JPEG re-encoding needs clamp = true");
  Tensor<float> out = blur(img, kernel, o.border);
  if (o.noise_sigma > 0) out = add_gaussian_noise(out, o.noise_sigma, gen);
  if (o.clamp) {
    float* p = out.data();
    for (int64_t i = 0; i < out.numel(); ++i) p[i] = std::clamp(p[i], 0.0f, 1.0f);
  }
  if (o.jpeg_quality > 0) out = jpeg_reencode(out, o.jpeg_quality);
  return out;
}

}  // namespace crisp::data
