// 2-d pooling with PyTorch's semantics: max_pool2d (with indices), avg_pool2d and
// adaptive_avg_pool2d over NCHW or unbatched CHW input.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "crisp/backend/pool.hpp"
#include "crisp/ops/conv_args.hpp"
#include "crisp/ops/view.hpp"

namespace crisp {

namespace detail {
// Input geometry of a 2-d image op: the planes (N*C) and the plane size of a 3-d or 4-d input.
struct ImagePlanes {
  int64_t planes, H, W;
};
inline ImagePlanes pool_input(const char* op, const Shape& s) {
  CRISP_CHECK(s.size() == 3 || s.size() == 4, ShapeError, op, "expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got shape ",
              s);
  const int64_t r = s.size();
  CRISP_CHECK(s[r - 1] > 0 && s[r - 2] > 0 && s[r - 3] > 0, ShapeError, op,
              "expected non-zero channel, height and width, got shape ", s);
  return {r == 4 ? s[0] * s[1] : s[0], s[r - 2], s[r - 1]};
}
inline Shape with_plane_size(Shape s, int64_t oh, int64_t ow) {
  s[s.size() - 2] = oh;
  s[s.size() - 1] = ow;
  return s;
}

// ATen's pooling_output_shape: floor (or ceil) division, where under ceil_mode the last window
// must start inside the input or its left padding.
inline int64_t pool_out_size(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dilation, bool ceil_mode) {
  const int64_t num = in + 2 * pad - dilation * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

inline PoolGeometry pool_geometry(const char* op, const Shape& s, const ImagePlanes& ip, Pair2 k,
                                       std::optional<Pair2> stride_opt, Pair2 pad, Pair2 dil, bool ceil_mode) {
  const Pair2 st = stride_opt ? *stride_opt : k;
  CRISP_CHECK(k.h > 0 && k.w > 0, ValueError, op, "kernel_size must be greater than zero, got ", k);
  CRISP_CHECK(st.h > 0 && st.w > 0, ValueError, op, "stride must be greater than zero, got ", st);
  CRISP_CHECK(dil.h > 0 && dil.w > 0, ValueError, op, "dilation must be greater than zero, got ", dil);
  CRISP_CHECK(pad.h >= 0 && pad.w >= 0, ValueError, op, "padding must be non-negative, got ", pad);
  CRISP_CHECK(pad.h <= k.h / 2 && pad.w <= k.w / 2, ValueError, op,
              "padding must be at most half of kernel_size, got padding ", pad, " and kernel_size ", k);
  const int64_t oh = pool_out_size(ip.H, k.h, pad.h, st.h, dil.h, ceil_mode);
  const int64_t ow = pool_out_size(ip.W, k.w, pad.w, st.w, dil.w, ceil_mode);
  CRISP_CHECK(oh >= 1 && ow >= 1, ShapeError, op, "input of shape ", s, " with kernel_size ", k, ", stride ", st,
              ", padding ", pad, ", dilation ", dil, " gives an output of ", oh, "x", ow,
              ": the kernel is larger than the padded input");
  return {ip.H, ip.W, oh, ow, k.h, k.w, st.h, st.w, pad.h, pad.w, dil.h, dil.w};
}
}  // namespace detail

namespace detail {
template <class T>
std::pair<Tensor<T>, Tensor<int64_t>> max_pool2d_impl(const Tensor<T>& x, Pair2 kernel_size, std::optional<Pair2> stride,
                                                      Pair2 padding, Pair2 dilation, bool ceil_mode, bool want_indices) {
  const char* op = "max_pool2d";
  const auto ip = pool_input(op, x.shape());
  const auto g = pool_geometry(op, x.shape(), ip, kernel_size, stride, padding, dilation, ceil_mode);
  const Shape out = with_plane_size(x.shape(), g.OH, g.OW);
  const bool grad = autograd::needs_grad(x);
  const Tensor<T> xc = contiguous(x.detach());
  Tensor<T> y = Tensor<T>::empty(out, x.device());
  Tensor<int64_t> idx = want_indices || grad ? Tensor<int64_t>::empty(out, x.device()) : Tensor<int64_t>();
  backend::max_pool2d_forward(xc, y, idx, ip.planes, g);
  if (grad)
    autograd::record<T>(op, y, {x}, [in = x.shape(), idx, planes = ip.planes, g](const Tensor<T>& gy) {
      const Tensor<T> gc = contiguous(gy);
      Tensor<T> gx = Tensor<T>::empty(in, gy.device());
      backend::max_pool2d_backward(gc, idx, gx, planes, g);
      return std::vector{gx};
    });
  return {y, idx};
}
}  // namespace detail

// Max pooling. stride = nullopt means stride = kernel_size. Ties go to the first maximum in
// row-major window order and a NaN in a window wins (it propagates), as in ATen; the
// gradient flows to that one element. Indices are flat (h * W + w) within each plane.
template <class T>
std::pair<Tensor<T>, Tensor<int64_t>> max_pool2d_with_indices(const Tensor<T>& x, Pair2 kernel_size,
                                                              std::optional<Pair2> stride = std::nullopt,
                                                              Pair2 padding = 0, Pair2 dilation = 1,
                                                              bool ceil_mode = false) {
  return detail::max_pool2d_impl(x, kernel_size, stride, padding, dilation, ceil_mode, true);
}

// As max_pool2d_with_indices; the indices are only computed when a gradient needs them.
template <class T>
Tensor<T> max_pool2d(const Tensor<T>& x, Pair2 kernel_size, std::optional<Pair2> stride = std::nullopt,
                     Pair2 padding = 0, Pair2 dilation = 1, bool ceil_mode = false) {
  return detail::max_pool2d_impl(x, kernel_size, stride, padding, dilation, ceil_mode, false).first;
}

// Average pooling. stride = nullopt means stride = kernel_size. A window's divisor is
// divisor_override when given, else its size clipped to the padded input
// (count_include_pad) or to the input itself; windows that lie wholly in the padding give 0.
template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& x, Pair2 kernel_size, std::optional<Pair2> stride = std::nullopt,
                     Pair2 padding = 0, bool ceil_mode = false, bool count_include_pad = true,
                     std::optional<int64_t> divisor_override = std::nullopt) {
  const char* op = "avg_pool2d";
  const auto ip = detail::pool_input(op, x.shape());
  const auto g = detail::pool_geometry(op, x.shape(), ip, kernel_size, stride, padding, 1, ceil_mode);
  CRISP_CHECK(!divisor_override || *divisor_override != 0, ValueError, op, "divisor_override must not be zero");
  const Tensor<T> xc = contiguous(x.detach());
  Tensor<T> y = Tensor<T>::empty(detail::with_plane_size(x.shape(), g.OH, g.OW), x.device());
  backend::avg_pool2d_forward(xc, y, ip.planes, g, count_include_pad, divisor_override);
  if (autograd::needs_grad(x))
    autograd::record<T>(op, y, {x},
                        [in = x.shape(), planes = ip.planes, g, count_include_pad, divisor_override](const Tensor<T>& gy) {
                          const Tensor<T> gc = contiguous(gy);
                          Tensor<T> gx = Tensor<T>::empty(in, gy.device());
                          backend::avg_pool2d_backward(gc, gx, planes, g, count_include_pad, divisor_override);
                          return std::vector{gx};
                        });
  return y;
}

// Adaptive average pooling to output_size: output i averages input
// [floor(i * H / out), ceil((i + 1) * H / out)). An output size of 0 gives an empty result.
template <class T>
Tensor<T> adaptive_avg_pool2d(const Tensor<T>& x, Pair2 output_size) {
  const char* op = "adaptive_avg_pool2d";
  const auto ip = detail::pool_input(op, x.shape());
  const int64_t OH = output_size.h, OW = output_size.w;
  CRISP_CHECK(OH >= 0 && OW >= 0, ValueError, op, "output_size must be >= 0, got ", output_size, " for input of shape ",
              x.shape());
  const Tensor<T> xc = contiguous(x.detach());
  Tensor<T> y = Tensor<T>::empty(detail::with_plane_size(x.shape(), OH, OW), x.device());
  backend::adaptive_avg_pool2d_forward(xc, y, ip.planes, ip.H, ip.W, OH, OW);
  if (autograd::needs_grad(x))
    autograd::record<T>(op, y, {x}, [in = x.shape(), ip, OH, OW](const Tensor<T>& gy) {
      const Tensor<T> gc = contiguous(gy);
      Tensor<T> gx = Tensor<T>::empty(in, gy.device());
      backend::adaptive_avg_pool2d_backward(gc, gx, ip.planes, ip.H, ip.W, OH, OW);
      return std::vector{gx};
    });
  return y;
}

}  // namespace crisp
