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
    const std::vector<T> xs = input.to_vector();
    for (size_t i = 0; i < xs.size(); ++i)
      CRISP_CHECK(xs[i] >= T(0) && xs[i] <= T(1), ValueError, "loss::bce",
                  "expected every input element in [0, 1] (probabilities; use bce_with_logits for logits), got ",
                  xs[i], " at flat index ", i, " of input shape ", input.shape());
  }
  auto f = [](T x, T y) {
    const T lx = std::max(std::log(x), T(-100)), l1x = std::max(std::log1p(-x), T(-100));
    return (y - T(1)) * l1x - y * lx;
  };
  auto dx = [](T x, T y) { return (x - y) / std::max((T(1) - x) * x, T(1e-12)); };
  auto dy = [](T x, T) { return std::log1p(-x) - std::log(x); };
  Tensor<T> l = detail::pointwise_loss("bce", input, target, f, dx, dy);
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
  // softplus(-x) = log(1 + e^-x) = max(-x, 0) + log1p(e^-|x|)
  auto sp = [](T x) { return std::max(-x, T(0)) + std::log1p(std::exp(-std::abs(x))); };
  auto sig = [](T x) { return x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x)); };
  Tensor<T> l;
  if (!pw.defined()) {
    l = detail::pointwise_loss(
        "bce_with_logits", input, target, [sp](T x, T y) { return (T(1) - y) * x + sp(x); },
        [sig](T x, T y) { return sig(x) - y; }, [](T x, T) { return -x; });
  } else {
    // Three operands: the elementwise loss and its derivatives are computed per element of
    // (x, y, p) with their own maps, then recorded as one node.
    Tensor<T> out = cpu::map<T>(input.shape(), [sp](T x, T y, T p) { return (T(1) - y) * x + (T(1) + (p - T(1)) * y) * sp(x); },
                                input, target, pw);
    if (autograd::needs_grad(input, target))
      autograd::record<T>("bce_with_logits", out, {input, target},
                          [x = input.detach(), y = target.detach(), pw, gx = input.requires_grad(),
                           gy = target.requires_grad(), sp, sig](const Tensor<T>& g) {
                            Tensor<T> ax, ay;
                            if (gx)
                              ax = mul(g, cpu::map<T>(x.shape(), [sig](T xv, T yv, T p) {
                                         return (p * yv + T(1) - yv) * sig(xv) - p * yv;
                                       }, x, y, pw));
                            if (gy)
                              ay = mul(g, cpu::map<T>(x.shape(), [sp](T xv, T, T p) { return -xv + (p - T(1)) * sp(xv); },
                                                      x, y, pw));
                            return std::vector{ax, ay};
                          });
    l = out;
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
  const Tensor<int64_t> t = target.contiguous();
  const int64_t* pt = t.data();
  const std::vector<T> wv = weight.defined() ? weight.to_vector() : std::vector<T>(size_t(c), T(1));
  for (int64_t i = 0; i < t.numel(); ++i)
    CRISP_CHECK(pt[i] == ignore_index || (pt[i] >= 0 && pt[i] < c), ValueError, op, "target ", pt[i],
                " at flat index ", i, " is out of bounds: expected a class in [0, ", c, ") or ignore_index ",
                ignore_index, " (input shape ", input.shape(), ", target shape ", target.shape(), ")");
  const Tensor<T> x = input.detach().contiguous();
  Tensor<T> out = Tensor<T>::empty(tshape);
  double total_weight = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t j = 0; j < s; ++j) {
      const int64_t k = b * s + j, cls = pt[k];
      if (cls == ignore_index) {
        out.data()[k] = T(0);
        continue;
      }
      const T wc = wv[size_t(cls)];
      out.data()[k] = -wc * x.data()[(b * c + cls) * s + j];
      total_weight += wc;
    }
  if (autograd::needs_grad(input))
    autograd::record<T>("nll_loss", out, {input}, [t, wv, ignore_index, shape = input.shape(), n, c, s](const Tensor<T>& g) {
      Tensor<T> gx = zeros<T>(shape);
      const Tensor<T> gc = g.contiguous();
      const int64_t* pt = t.data();
      for (int64_t b = 0; b < n; ++b)
        for (int64_t j = 0; j < s; ++j) {
          const int64_t k = b * s + j, cls = pt[k];
          if (cls != ignore_index) gx.data()[(b * c + cls) * s + j] = -wv[size_t(cls)] * gc.data()[k];
        }
      return std::vector{gx};
    });
  if (reduction == Reduction::None) return out;
  if (reduction == Reduction::Sum) return sum(out);
  return div(sum(out), scalar_tensor<T>(static_cast<T>(total_weight)));
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
