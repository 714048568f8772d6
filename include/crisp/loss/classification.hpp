// Classification losses: crisp::loss::bce, bce_with_logits, nll_loss and cross_entropy, as
// torch.nn.functional's binary_cross_entropy, binary_cross_entropy_with_logits, nll_loss and
// cross_entropy, with the same argument names, reductions and gradient formulas.
#pragma once

// weight and pos_weight are constants: no gradient flows to them (PyTorch does not
// differentiate them either). Gradients flow to input and, for bce / bce_with_logits, to target.
// Class targets are Tensor<int64_t>, as PyTorch's Long targets. label_smoothing and
// probability targets of cross_entropy are not supported.

#include <cmath>
#include <limits>
#include <optional>

#include "crisp/loss/regression.hpp"
#include "crisp/ops/activation.hpp"

namespace crisp::loss {

namespace detail {
// `w` broadcast to `like`'s shape, detached; an undefined w stays undefined.
template <class T>
Tensor<T> broadcast_weight(const char* op, const char* what, const Tensor<T>& w, const Tensor<T>& like) {
  if (!w.defined()) return w;
  bool ok = w.dim() <= like.dim();
  for (int64_t i = 1; ok && i <= w.dim(); ++i) ok = w.size(-i) == 1 || w.size(-i) == like.size(-i);
  CRISP_CHECK(ok, ShapeError, op, "expected ", what, " broadcastable to the input's shape ", like.shape(), ", got ",
              w.shape());
  return expand(w.detach(), like.shape());
}
}  // namespace detail

// Binary cross entropy on probabilities: -weight * (y log x + (1 - y) log(1 - x)), with each log
// clamped to >= -100 as PyTorch does, so x = 0 or 1 gives a finite loss. input must lie in
// [0, 1]. Gradients as PyTorch's: d/dx = weight (x - y) / max(x (1 - x), 1e-12), d/dy =
// -weight logit(x). weight (optional) broadcasts to the input's shape.
template <class T>
Tensor<T> bce(const Tensor<T>& input, const Tensor<T>& target, const Tensor<T>& weight = {},
              Reduction reduction = Reduction::Mean) {
  detail::check_same_shape("loss::bce", input, target);
  const Tensor<T> w = detail::broadcast_weight("loss::bce", "weight", weight, input);
  {
    const std::vector<T> xs = input.to(Device::cpu()).to_vector();  // a device input is checked on the host
    for (size_t i = 0; i < xs.size(); ++i)
      CRISP_CHECK(xs[i] >= T(0) && xs[i] <= T(1), ValueError, "loss::bce",
                  "expected every input element in [0, 1] (probabilities; use bce_with_logits for logits), got ",
                  xs[i], " at flat index ", i, " of input shape ", input.shape());
  }
  using crisp::loss::detail::unary_of;
  const Tensor<T> x = input.detach(), y = target.detach();
  // (y - 1) * max(log(1 - x), -100) - y * max(log(x), -100), PyTorch's clamped logs
  const Tensor<T> lx = unary_of(UnaryOp::Clamp, log(x), -100.0, INFINITY);
  const Tensor<T> l1x = unary_of(UnaryOp::Clamp, unary_of(UnaryOp::Log1p, neg(x)), -100.0, INFINITY);
  const Tensor<T> out = sub(mul(unary_of(UnaryOp::Affine, y, 1.0, -1.0), l1x), mul(y, lx));
  auto dx = [](const Tensor<T>& x, const Tensor<T>& y) {  // (x - y) / max((1 - x) x, 1e-12)
    return div(sub(x, y), unary_of(UnaryOp::Clamp, mul(unary_of(UnaryOp::Affine, x, -1.0, 1.0), x), 1e-12, INFINITY));
  };
  auto dy = [](const Tensor<T>& x, const Tensor<T>&) { return sub(unary_of(UnaryOp::Log1p, neg(x)), log(x)); };
  Tensor<T> l = detail::pointwise_loss("bce", out, input, target, dx, dy);
  return detail::reduce(w.defined() ? mul(l, w) : l, reduction);
}

// Binary cross entropy on logits, numerically stable for any |x|:
//   loss = weight * ((1 - y) x + L softplus(-x)),  L = 1 + (pos_weight - 1) y
// (L = 1 without pos_weight), as PyTorch. pos_weight weights the positive term and broadcasts
// to the input's shape (a [C] vector applies along the last dim, as in PyTorch).
template <class T>
Tensor<T> bce_with_logits(const Tensor<T>& input, const Tensor<T>& target, const Tensor<T>& weight = {},
                          Reduction reduction = Reduction::Mean, const Tensor<T>& pos_weight = {}) {
  detail::check_same_shape("loss::bce_with_logits", input, target);
  const Tensor<T> w = detail::broadcast_weight("loss::bce_with_logits", "weight", weight, input);
  const Tensor<T> pw = detail::broadcast_weight("loss::bce_with_logits", "pos_weight", pos_weight, input);
  using crisp::loss::detail::unary_of;
  const Tensor<T> x = input.detach(), y = target.detach();
  auto sp = [](const Tensor<T>& v) { return unary_of(UnaryOp::Softplus, neg(v)); };  // log(1 + e^-v)
  auto sig = [](const Tensor<T>& v) { return unary_of(UnaryOp::Sigmoid, v); };
  auto one_minus = [](const Tensor<T>& v) { return unary_of(UnaryOp::Affine, v, -1.0, 1.0); };
  Tensor<T> l;
  if (!pw.defined()) {
    // (1 - y) x + sp(x); d/dx = sigmoid(x) - y, d/dy = -x
    const Tensor<T> out = add(mul(one_minus(y), x), sp(x));
    l = detail::pointwise_loss(
        "bce_with_logits", out, input, target, [sig](const Tensor<T>& x, const Tensor<T>& y) { return sub(sig(x), y); },
        [](const Tensor<T>& x, const Tensor<T>&) { return neg(x); });
  } else {
    // (1 - y) x + (1 + (p - 1) y) sp(x); d/dx = (p y + 1 - y) sigmoid(x) - p y, d/dy = -x + (p - 1) sp(x)
    const Tensor<T> p = pw, pm1 = unary_of(UnaryOp::Affine, pw, 1.0, -1.0);
    const Tensor<T> out = add(mul(one_minus(y), x), mul(unary_of(UnaryOp::Affine, mul(pm1, y), 1.0, 1.0), sp(x)));
    l = detail::pointwise_loss(
        "bce_with_logits", out, input, target,
        [p, sig, one_minus](const Tensor<T>& x, const Tensor<T>& y) {
          return sub(mul(add(mul(p, y), one_minus(y)), sig(x)), mul(p, y));
        },
        [pm1, sp](const Tensor<T>& x, const Tensor<T>&) { return add(neg(x), mul(pm1, sp(x))); });
  }
  return detail::reduce(w.defined() ? mul(l, w) : l, reduction);
}

// Negative log likelihood of class targets: input holds log-probabilities [N, C] or
// [N, C, d1, ...], target class indices [N] or [N, d1, ...]. Per element
// loss = -weight[t] * input[n, t, ...] (0 where t == ignore_index). Mean divides the sum by the
// sum of weight[t] over the non-ignored targets (exactly PyTorch's; NaN when every target is
// ignored, as PyTorch). A target outside [0, C) that is not ignore_index throws.
namespace detail {
template <class T>
Tensor<T> nll_loss(const char* op, const Tensor<T>& input, const Tensor<int64_t>& target, const Tensor<T>& weight,
                   int64_t ignore_index, Reduction reduction) {
  CRISP_CHECK(input.defined() && target.defined(), ValueError, op, "expected defined input and target tensors");
  CRISP_CHECK(input.dim() >= 2, ShapeError, op, "expected input of shape [N, C] or [N, C, d1, ...], got ",
              input.shape());
  Shape tshape = input.shape();
  tshape.erase(1);
  CRISP_CHECK(target.shape() == tshape, ShapeError, op, "expected target of shape ", tshape, " for input of shape ",
              input.shape(), ", got ", target.shape());
  const int64_t n = input.size(0), c = input.size(1), s = n == 0 || c == 0 ? 0 : input.numel() / (n * c);
  CRISP_CHECK(!weight.defined() || weight.shape() == Shape{c}, ShapeError, op, "expected weight of shape [", c,
              "] (one per class) for input of shape ", input.shape(), ", got ", weight.shape());
  // Targets are validated and the per-element weights built on the host (one small copy for a
  // device target); the loss itself is a gather on the input's device.
  const Tensor<int64_t> t = contiguous(target.to(Device::cpu()));
  const int64_t* pt = t.data();
  const std::vector<T> wv = weight.defined() ? weight.to(Device::cpu()).to_vector() : std::vector<T>(size_t(c), T(1));
  for (int64_t i = 0; i < t.numel(); ++i)
    CRISP_CHECK(pt[i] == ignore_index || (pt[i] >= 0 && pt[i] < c), ValueError, op, "target ", pt[i],
                " at flat index ", i, " is out of bounds: expected a class in [0, ", c, ") or ignore_index ",
                ignore_index, " (input shape ", input.shape(), ", target shape ", target.shape(), ")");
  std::vector<int64_t> cls(static_cast<size_t>(t.numel()));
  std::vector<T> neg_w(static_cast<size_t>(t.numel()));
  double total_weight = 0;
  for (int64_t k = 0; k < t.numel(); ++k) {
    const bool skip = pt[k] == ignore_index;
    cls[size_t(k)] = skip ? 0 : pt[k];  // an ignored element reads class 0 with weight 0
    neg_w[size_t(k)] = skip ? T(0) : -wv[size_t(pt[k])];
    if (!skip) total_weight += wv[size_t(pt[k])];
  }
  const Device dev = input.device();
  const Tensor<int64_t> index = from_vector<int64_t>(cls, tshape).to(dev);
  const Tensor<T> coef = from_vector<T>(neg_w, tshape).to(dev);
  const Tensor<T> x = contiguous(input.detach());
  Tensor<T> picked = Tensor<T>::empty(tshape, dev);
  backend::gather_along(picked, x, n, c, s, index, int64_t(-1));
  Tensor<T> out = mul(coef, picked);
  if (autograd::needs_grad(input))
    autograd::record<T>("nll_loss", out, {input}, [index, coef, shape = input.shape(), n, c, s](const Tensor<T>& g) {
      Tensor<T> gx = Tensor<T>::empty(shape, g.device());
      backend::scatter_along(gx, n, c, s, index, contiguous(mul(coef, g)));
      return std::vector{gx};
    });
  if (reduction == Reduction::None) return out;
  if (reduction == Reduction::Sum) return sum(out);
  return div(sum(out), scalar_tensor<T>(static_cast<T>(total_weight), dev));
}
}  // namespace detail

template <class T>
Tensor<T> nll_loss(const Tensor<T>& input, const Tensor<int64_t>& target, const Tensor<T>& weight = {},
                   int64_t ignore_index = -100, Reduction reduction = Reduction::Mean) {
  return detail::nll_loss("loss::nll_loss", input, target, weight, ignore_index, reduction);
}

// Cross entropy of logits [N, C] or [N, C, d1, ...] (e.g. N x C x H x W segmentation logits)
// against class indices: nll_loss(log_softmax(input, 1), target, weight, ignore_index, reduction).
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& input, const Tensor<int64_t>& target, const Tensor<T>& weight = {},
                        int64_t ignore_index = -100, Reduction reduction = Reduction::Mean) {
  const char* op = "loss::cross_entropy";
  CRISP_CHECK(input.defined() && target.defined(), ValueError, op, "expected defined input and target tensors");
  CRISP_CHECK(input.dim() >= 2, ShapeError, op, "expected input of shape [N, C] or [N, C, d1, ...], got ",
              input.shape());
  return detail::nll_loss(op, log_softmax(input, 1), target, weight, ignore_index, reduction);
}

}  // namespace crisp::loss
