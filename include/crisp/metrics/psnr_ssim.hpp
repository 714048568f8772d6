// Image-quality metrics: PSNR and SSIM computed exactly as scikit-image does, so that numbers
// reported by crisp compare with the papers' Python evaluations.
#pragma once

// psnr(a, b, L) = 10 log10(L^2 / mean((a - b)^2)) over all elements, in double
//   (skimage.metrics.peak_signal_noise_ratio(a, b, data_range=L)); +inf for identical inputs.
// ssim(a, b) = skimage.metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
//   use_sample_covariance=False, data_range=1, channel_axis=0) for [C, H, W] (channels averaged)
//   or the same without channel_axis for [H, W]: Wang et al. 2004 with
//   - local statistics from scipy.ndimage.gaussian_filter(sigma, truncate 3.5): 1-d weights
//     exp(-x^2 / (2 sigma^2)) for |x| <= r = int(3.5 sigma + 0.5) (= 5: an 11 x 11 window),
//     normalised, applied along H then W, borders in scipy's "reflect" mode (d c b a | a b c d);
//   - population covariances, C1 = (K1 L)^2, C2 = (K2 L)^2, K1 = 0.01, K2 = 0.03;
//   - the SSIM map averaged over all pixels at least r from every border.
// Everything is computed in double; skimage given float64 inputs agrees to ~1e-12 (given float32
// inputs it filters in float32 and differs by ~1e-6). The image must be at least 2 r + 1 pixels
// on each side. batch_psnr / batch_ssim give one value per image of [N, C, H, W] tensors.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "crisp/tensor/error.hpp"
#include "crisp/ops/to_device.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::metrics {

struct SsimOptions {
  double sigma = 1.5;
  double truncate = 3.5;
  double k1 = 0.01;
  double k2 = 0.03;
  double data_range = 1.0;
};

namespace detail {

// Element i (row-major over the shape) of a strided tensor, as double.
template <class T>
struct StridedReader {
  Tensor<T> host;  // a device tensor is scored from a host copy
  const T* base;
  Shape shape;
  Strides strides;
  explicit StridedReader(const Tensor<T>& t)
      : host(t.device().is_cpu() ? t : t.to(Device::cpu())), base(host.data()), shape(host.shape()),
        strides(host.strides()) {}
  // Copies the whole tensor, row-major, into doubles.
  std::vector<double> to_double() const {
    std::vector<double> out(static_cast<size_t>(shape.numel()));
    const int64_t nd = shape.size();
    std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
    for (size_t i = 0; i < out.size(); ++i) {
      int64_t off = 0;
      for (int64_t d = 0; d < nd; ++d) off += idx[static_cast<size_t>(d)] * strides[d];
      out[i] = static_cast<double>(base[off]);
      for (int64_t d = nd - 1; d >= 0; --d) {
        if (++idx[static_cast<size_t>(d)] < shape[d]) break;
        idx[static_cast<size_t>(d)] = 0;
      }
    }
    return out;
  }
};

template <class T>
void check_pair(const Tensor<T>& a, const Tensor<T>& b, const char* op) {
  CRISP_CHECK(a.defined() && b.defined(), ValueError, op, "expected two defined tensors");
  CRISP_CHECK(a.shape() == b.shape(), ShapeError, op, "expected tensors of the same shape, got ", a.shape(), " and ",
              b.shape());
  CRISP_CHECK(a.numel() > 0, ShapeError, op, "expected non-empty tensors, got shape ", a.shape());
}

inline int64_t reflect_index(int64_t i, int64_t n) {
  const int64_t period = 2 * n;
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

// scipy.ndimage.gaussian_filter1d's weights.
inline std::vector<double> gaussian_weights(double sigma, int64_t r) {
  std::vector<double> w(static_cast<size_t>(2 * r + 1));
  double sum = 0;
  for (int64_t x = -r; x <= r; ++x) sum += (w[static_cast<size_t>(x + r)] = std::exp(-0.5 / (sigma * sigma) * double(x * x)));
  for (double& v : w) v /= sum;
  return w;
}

// Separable filter of one H x W plane: along H (axis 0) first, then W, reflect borders.
inline std::vector<double> gaussian_filter(const std::vector<double>& in, int64_t H, int64_t W,
                                           const std::vector<double>& w) {
  const auto r = static_cast<int64_t>(w.size() / 2);
  std::vector<double> tmp(in.size()), out(in.size());
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      double acc = 0;
      for (int64_t k = -r; k <= r; ++k) acc += w[static_cast<size_t>(k + r)] * in[static_cast<size_t>(reflect_index(y + k, H) * W + x)];
      tmp[static_cast<size_t>(y * W + x)] = acc;
    }
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      double acc = 0;
      for (int64_t k = -r; k <= r; ++k) acc += w[static_cast<size_t>(k + r)] * tmp[static_cast<size_t>(y * W + reflect_index(x + k, W))];
      out[static_cast<size_t>(y * W + x)] = acc;
    }
  return out;
}

// Mean SSIM of one plane.
inline double ssim_plane(const double* a, const double* b, int64_t H, int64_t W, const SsimOptions& o) {
  const auto r = static_cast<int64_t>(o.truncate * o.sigma + 0.5);
  const std::vector<double> w = gaussian_weights(o.sigma, r);
  const size_t n = static_cast<size_t>(H * W);
  std::vector<double> x(a, a + n), y(b, b + n), xx(n), yy(n), xy(n);
  for (size_t i = 0; i < n; ++i) xx[i] = x[i] * x[i], yy[i] = y[i] * y[i], xy[i] = x[i] * y[i];
  const auto ux = gaussian_filter(x, H, W, w), uy = gaussian_filter(y, H, W, w);
  const auto uxx = gaussian_filter(xx, H, W, w), uyy = gaussian_filter(yy, H, W, w), uxy = gaussian_filter(xy, H, W, w);
  const double c1 = (o.k1 * o.data_range) * (o.k1 * o.data_range), c2 = (o.k2 * o.data_range) * (o.k2 * o.data_range);
  double sum = 0;
  for (int64_t i = r; i < H - r; ++i)
    for (int64_t j = r; j < W - r; ++j) {
      const size_t k = static_cast<size_t>(i * W + j);
      const double vx = uxx[k] - ux[k] * ux[k], vy = uyy[k] - uy[k] * uy[k], vxy = uxy[k] - ux[k] * uy[k];
      const double a1 = 2 * ux[k] * uy[k] + c1, a2 = 2 * vxy + c2;
      const double b1 = ux[k] * ux[k] + uy[k] * uy[k] + c1, b2 = vx + vy + c2;
      sum += (a1 * a2) / (b1 * b2);
    }
  return sum / static_cast<double>((H - 2 * r) * (W - 2 * r));
}

}  // namespace detail

template <class T>
double mse(const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_pair(a, b, "mse");
  const auto x = detail::StridedReader<T>(a).to_double(), y = detail::StridedReader<T>(b).to_double();
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += (x[i] - y[i]) * (x[i] - y[i]);
  return s / static_cast<double>(x.size());
}

template <class T>
double psnr(const Tensor<T>& a, const Tensor<T>& b, double data_range = 1.0) {
  CRISP_CHECK(data_range > 0, ValueError, "psnr", "expected data_range > 0, got ", data_range);
  const double m = mse(a, b);
  if (m == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(data_range * data_range / m);
}

template <class T>
double ssim(const Tensor<T>& a, const Tensor<T>& b, const SsimOptions& o = {}) {
  detail::check_pair(a, b, "ssim");
  CRISP_CHECK(a.dim() == 2 || a.dim() == 3, ShapeError, "ssim", "expected [C, H, W] or [H, W] images, got shape ",
              a.shape());
  CRISP_CHECK(o.sigma > 0 && o.truncate > 0 && o.k1 >= 0 && o.k2 >= 0 && o.data_range > 0, ValueError, "ssim",
              "expected sigma, truncate, data_range > 0 and K1, K2 >= 0, got sigma ", o.sigma, ", truncate ", o.truncate,
              ", K1 ", o.k1, ", K2 ", o.k2, ", data_range ", o.data_range);
  const int64_t C = a.dim() == 3 ? a.size(0) : 1, H = a.size(-2), W = a.size(-1);
  const auto win = 2 * static_cast<int64_t>(o.truncate * o.sigma + 0.5) + 1;
  CRISP_CHECK(H >= win && W >= win, ShapeError, "ssim", "expected images at least ", win, "x", win,
              " (the Gaussian window), got shape ", a.shape());
  const auto x = detail::StridedReader<T>(a).to_double(), y = detail::StridedReader<T>(b).to_double();
  double sum = 0;
  for (int64_t c = 0; c < C; ++c) sum += detail::ssim_plane(x.data() + c * H * W, y.data() + c * H * W, H, W, o);
  return sum / static_cast<double>(C);
}

// Per-image values for [N, C, H, W] batches.
template <class T>
std::vector<double> batch_psnr(const Tensor<T>& a, const Tensor<T>& b, double data_range = 1.0) {
  detail::check_pair(a, b, "batch_psnr");
  CRISP_CHECK(a.dim() == 4, ShapeError, "batch_psnr", "expected [N, C, H, W] batches, got shape ", a.shape());
  std::vector<double> out;
  for (int64_t n = 0; n < a.size(0); ++n) {
    const Shape s{a.size(1), a.size(2), a.size(3)};
    const Strides st{a.stride(1), a.stride(2), a.stride(3)}, st_b{b.stride(1), b.stride(2), b.stride(3)};
    out.push_back(psnr(Tensor<T>::view_of(a.storage(), s, st, a.storage_offset() + n * a.stride(0)),
                       Tensor<T>::view_of(b.storage(), s, st_b, b.storage_offset() + n * b.stride(0)), data_range));
  }
  return out;
}
template <class T>
std::vector<double> batch_ssim(const Tensor<T>& a, const Tensor<T>& b, const SsimOptions& o = {}) {
  detail::check_pair(a, b, "batch_ssim");
  CRISP_CHECK(a.dim() == 4, ShapeError, "batch_ssim", "expected [N, C, H, W] batches, got shape ", a.shape());
  std::vector<double> out;
  for (int64_t n = 0; n < a.size(0); ++n) {
    const Shape s{a.size(1), a.size(2), a.size(3)};
    const Strides st{a.stride(1), a.stride(2), a.stride(3)}, st_b{b.stride(1), b.stride(2), b.stride(3)};
    out.push_back(ssim(Tensor<T>::view_of(a.storage(), s, st, a.storage_offset() + n * a.stride(0)),
                       Tensor<T>::view_of(b.storage(), s, st_b, b.storage_offset() + n * b.stride(0)), o));
  }
  return out;
}

}  // namespace crisp::metrics
