// conv2d and conv_transpose2d with PyTorch's arguments, output sizes and errors, each one forward
// on the convolution primitives of crisp/backend/conv.hpp and one backward rule. The transposed
// convolution is the adjoint of a convolution: its forward is that convolution's backward-data.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "crisp/autograd/node.hpp"
#include "crisp/backend/conv.hpp"
#include "crisp/ops/conv_args.hpp"
#include "crisp/ops/fwd.hpp"
#include "crisp/ops/view.hpp"

namespace crisp {

namespace detail {

// The NCHW buffers a kernel reads: contiguous, not part of any graph.
template <class T>
Tensor<T> conv_operand(const Tensor<T>& t) {
  return t.defined() ? contiguous(t.detach()) : Tensor<T>();
}

inline void check_conv_common(const char* op, const Shape& x, const Shape& w, Pair2 stride, Pair2 dilation,
                              int64_t groups) {
  CRISP_CHECK(x.size() == 4, ShapeError, op, "expected input [N, C, H, W] or [C, H, W], got shape ", x);
  CRISP_CHECK(w.size() == 4, ShapeError, op, "expected a weight of rank 4, got shape ", w);
  CRISP_CHECK(stride.h > 0 && stride.w > 0, ValueError, op, "expected a positive stride, got ", stride);
  CRISP_CHECK(dilation.h > 0 && dilation.w > 0, ValueError, op, "expected a positive dilation, got ", dilation);
  CRISP_CHECK(groups > 0, ValueError, op, "expected groups > 0, got ", groups);
  CRISP_CHECK(x[2] > 0 && x[3] > 0 && w[2] > 0 && w[3] > 0 && w[0] > 0 && w[1] > 0, ShapeError, op,
              "expected non-empty spatial dims and weight, got input ", x, " and weight ", w);
}

// All operands on the input's device; on CUDA, float only.
template <class T>
void check_conv_devices(const char* op, const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias) {
  CRISP_CHECK(weight.device() == input.device() && (!bias.defined() || bias.device() == input.device()), Error, op,
              "expected input, weight and bias on one device, got input on ", input.device(), ", weight on ",
              weight.device(), bias.defined() ? ", bias on " : "", bias.defined() ? bias.device() : input.device());
  CRISP_CHECK((!input.device().is_cuda() || std::is_same_v<T, float>), Error, op,
              "expected float tensors on ", input.device(), " (the CUDA convolution is FP32 / TF32 / BF16), got double");
}

inline void check_conv_bias(const char* op, const Shape& bias, int64_t channels) {
  CRISP_CHECK(bias.size() == 1 && bias[0] == channels, ShapeError, op, "expected a bias of shape [", channels,
              "], got shape ", bias);
}

// Applies f to a 4-d input; a 3-d (unbatched) input gets a batch dim of 1 around the call.
template <class T, class F>
Tensor<T> with_batch_dim(const char* op, const Tensor<T>& input, F f) {
  CRISP_CHECK(input.defined() && (input.dim() == 3 || input.dim() == 4), ShapeError, op,
              "expected input [N, C, H, W] or [C, H, W], got shape ", input.defined() ? input.shape() : Shape{});
  if (input.dim() == 3) return squeeze(f(unsqueeze(input, 0)), 0);
  return f(input);
}

template <class T>
Tensor<T> conv2d_nchw(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias, Pair2 stride,
                      const ConvPadding& padding, Pair2 dilation, int64_t groups) {
  constexpr const char* op = "conv2d";
  const Shape& xs = input.shape();
  CRISP_CHECK(weight.defined(), ShapeError, op, "expected a weight, got an undefined tensor");
  const Shape& ws = weight.shape();
  check_conv_common(op, xs, ws, stride, dilation, groups);
  CRISP_CHECK(xs[1] == ws[1] * groups, ShapeError, op, "expected input with ", ws[1] * groups,
              " channels (weight ", ws, " x groups ", groups, "), got input ", xs);
  CRISP_CHECK(ws[0] % groups == 0, ShapeError, op, "expected groups (", groups, ") to divide the ", ws[0],
              " output channels of weight ", ws);
  if (bias.defined()) check_conv_bias(op, bias.shape(), ws[0]);
  Conv2dGeometry g;
  g.N = xs[0], g.C = xs[1], g.H = xs[2], g.W = xs[3], g.O = ws[0], g.kh = ws[2], g.kw = ws[3], g.groups = groups;
  g.stride_h = stride.h, g.stride_w = stride.w, g.dil_h = dilation.h, g.dil_w = dilation.w;
  const int64_t span_h = dilation.h * (g.kh - 1), span_w = dilation.w * (g.kw - 1);
  if (padding.mode == ConvPadding::Mode::Same) {
    CRISP_CHECK(stride.h == 1 && stride.w == 1, ValueError, op, "padding=\"same\" needs stride 1, got stride ",
                stride);
    g.pad_h = span_h / 2, g.pad_w = span_w / 2;  // the odd one goes to the bottom / right
    g.P = g.H, g.Q = g.W;
  } else {
    const Pair2 p = padding.mode == ConvPadding::Mode::Valid ? Pair2(0) : padding.size;
    CRISP_CHECK(p.h >= 0 && p.w >= 0, ValueError, op, "expected non-negative padding, got ", p);
    g.pad_h = p.h, g.pad_w = p.w;
    g.P = (g.H + 2 * p.h - span_h - 1) / stride.h + 1;
    g.Q = (g.W + 2 * p.w - span_w - 1) / stride.w + 1;
    CRISP_CHECK(g.H + 2 * p.h > span_h && g.W + 2 * p.w > span_w, ShapeError, op, "kernel ", ws[2], "x", ws[3],
                " (dilation ", dilation, ") is larger than the padded input ", g.H + 2 * p.h, "x", g.W + 2 * p.w,
                " (input ", xs, ", padding ", p, ")");
  }
  check_conv_devices(op, input, weight, bias);
  const Tensor<T> x = conv_operand(input), w = conv_operand(weight), b = conv_operand(bias);
  Tensor<T> y = Tensor<T>::empty(Shape{g.N, g.O, g.P, g.Q}, input.device());
  backend::conv2d_forward(g, x, w, b, y);
  if (autograd::needs_grad(input, weight, bias)) {
    const bool gx = input.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
    autograd::record<T>(op, y, {input, weight, bias}, [x, w, g, gx, gw, gb](const Tensor<T>& grad) {
      const Tensor<T> dy = conv_operand(grad);
      Tensor<T> dx, dw, db;
      if (gx) {
        dx = Tensor<T>::empty(x.shape(), x.device());
        backend::conv2d_backward_data(g, dy, w, dx);
      }
      if (gw || gb) {
        if (gw) dw = Tensor<T>::empty(w.shape(), x.device());
        if (gb) db = Tensor<T>::empty(Shape{g.O}, x.device());
        backend::conv2d_backward_weight(g, x, dy, dw, db);
      }
      return std::vector{dx, dw, db};
    });
  }
  return y;
}

template <class T>
Tensor<T> conv_transpose2d_nchw(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias, Pair2 stride,
                                Pair2 padding, Pair2 output_padding, int64_t groups, Pair2 dilation) {
  constexpr const char* op = "conv_transpose2d";
  const Shape& xs = input.shape();
  CRISP_CHECK(weight.defined(), ShapeError, op, "expected a weight, got an undefined tensor");
  const Shape& ws = weight.shape();
  check_conv_common(op, xs, ws, stride, dilation, groups);
  CRISP_CHECK(xs[1] == ws[0], ShapeError, op, "expected input with ", ws[0], " channels (weight ", ws,
              " is [in, out / groups, kh, kw]), got input ", xs);
  CRISP_CHECK(ws[0] % groups == 0, ShapeError, op, "expected groups (", groups, ") to divide the ", ws[0],
              " input channels, got weight ", ws);
  CRISP_CHECK(padding.h >= 0 && padding.w >= 0, ValueError, op, "expected non-negative padding, got ", padding);
  CRISP_CHECK(output_padding.h >= 0 && output_padding.w >= 0 &&
                  (output_padding.h < stride.h || output_padding.h < dilation.h) &&
                  (output_padding.w < stride.w || output_padding.w < dilation.w),
              ValueError, op, "expected output_padding smaller than stride or dilation, got output_padding ",
              output_padding, " with stride ", stride, " and dilation ", dilation);
  const int64_t O = ws[1] * groups;
  if (bias.defined()) check_conv_bias(op, bias.shape(), O);
  // The convolution this one is the adjoint of: its input is our output and vice versa.
  Conv2dGeometry g;
  g.N = xs[0], g.O = xs[1], g.P = xs[2], g.Q = xs[3], g.C = O, g.kh = ws[2], g.kw = ws[3], g.groups = groups;
  g.stride_h = stride.h, g.stride_w = stride.w, g.pad_h = padding.h, g.pad_w = padding.w;
  g.dil_h = dilation.h, g.dil_w = dilation.w;
  g.H = (g.P - 1) * stride.h - 2 * padding.h + dilation.h * (g.kh - 1) + output_padding.h + 1;
  g.W = (g.Q - 1) * stride.w - 2 * padding.w + dilation.w * (g.kw - 1) + output_padding.w + 1;
  CRISP_CHECK(g.H > 0 && g.W > 0, ShapeError, op, "padding ", padding, " leaves an empty output ", g.H, "x", g.W,
              " (input ", xs, ", weight ", ws, ")");
  check_conv_devices(op, input, weight, bias);
  const Tensor<T> x = conv_operand(input), w = conv_operand(weight), b = conv_operand(bias);
  Tensor<T> y = Tensor<T>::empty(Shape{g.N, g.C, g.H, g.W}, input.device());
  backend::conv2d_backward_data(g, x, w, y);
  if (b.defined()) backend::add_channel_bias(g.N, g.C, g.H * g.W, b, y);
  if (autograd::needs_grad(input, weight, bias)) {
    const bool gx = input.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
    autograd::record<T>(op, y, {input, weight, bias}, [x, w, g, gx, gw, gb](const Tensor<T>& grad) {
      const Tensor<T> dy = conv_operand(grad);
      Tensor<T> dx, dw, db;
      if (gx) {
        dx = Tensor<T>::empty(x.shape(), x.device());
        backend::conv2d_forward(g, dy, w, Tensor<T>(), dx);
      }
      if (gw) {
        dw = Tensor<T>::empty(w.shape(), x.device());
        backend::conv2d_backward_weight(g, dy, x, dw, Tensor<T>());
      }
      if (gb) {
        db = Tensor<T>::empty(Shape{g.C}, x.device());
        backend::channel_sum(g.N, g.C, g.H * g.W, dy, db);
      }
      return std::vector{dx, dw, db};
    });
  }
  return y;
}

}  // namespace detail

// torch.nn.functional.conv2d: input [N, C, H, W] (or [C, H, W]), weight [O, C / groups, kh, kw],
// bias [O] or undefined. padding is an int, a pair, "same" (stride 1; an odd total pads one more
// at the bottom / right) or "valid". Output [N, O, P, Q], P = (H + 2 pad - dil (kh - 1) - 1) / stride + 1.
template <class T>
Tensor<T> conv2d(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = {}, Pair2 stride = 1,
                 ConvPadding padding = ConvPadding(), Pair2 dilation = 1, int64_t groups = 1) {
  return detail::with_batch_dim("conv2d", input, [&](const Tensor<T>& x) {
    return detail::conv2d_nchw(x, weight, bias, stride, padding, dilation, groups);
  });
}

// torch.nn.functional.conv_transpose2d: input [N, C_in, H, W] (or unbatched), weight
// [C_in, O / groups, kh, kw], bias [O]. Output size (H - 1) stride - 2 pad + dil (kh - 1) +
// output_padding + 1; output_padding must be smaller than stride or dilation.
template <class T>
Tensor<T> conv_transpose2d(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = {},
                           Pair2 stride = 1, Pair2 padding = 0, Pair2 output_padding = 0, int64_t groups = 1,
                           Pair2 dilation = 1) {
  return detail::with_batch_dim("conv_transpose2d", input, [&](const Tensor<T>& x) {
    return detail::conv_transpose2d_nchw(x, weight, bias, stride, padding, output_padding, groups, dilation);
  });
}

}  // namespace crisp
