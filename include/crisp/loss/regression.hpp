// Regression losses: crisp::loss::l1, mse and smooth_l1 (torch.nn.functional's, with the
// reductions Mean (default), Sum and None), CycleGAN's cycle consistency and total variation.
#pragma once

// input and target must have the same shape: PyTorch broadcasts them with only a warning
// ("will likely lead to incorrect results"), crisp refuses. Gradients flow to both.

#include <cmath>
#include <cstdlib>

#include "crisp/ops/reduction.hpp"
#include "crisp/ops/unary.hpp"

namespace crisp::loss {

enum class Reduction { None, Mean, Sum };

namespace detail {
template <class T>
void check_same_shape(const char* op, const Tensor<T>& input, const Tensor<T>& target) {
  CRISP_CHECK(input.defined() && target.defined(), ValueError, op, "expected defined input and target tensors");
  CRISP_CHECK(input.shape() == target.shape(), ShapeError, op, "expected target of the input's shape ", input.shape(),
              ", got ", target.shape());
}
inline const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::None: return "none";
    case Reduction::Sum: return "sum";
    default: return "mean";
  }
}
template <class T>
Tensor<T> reduce(const Tensor<T>& elementwise, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return elementwise;
    case Reduction::Sum: return sum(elementwise);
    default: return mean(elementwise);
  }
}

// Records an elementwise loss out = f(x, y) of two same-shape tensors with its own backward rule,
// so that the gradients follow PyTorch's formulas exactly where composing ops would differ (kinks,
// clamps). dfx / dfy map (x, y) to the partial derivatives, as tensors computed with ops.
template <class T, class DX, class DY>
Tensor<T> pointwise_loss(const char* name, Tensor<T> out, const Tensor<T>& x, const Tensor<T>& y, DX dfx, DY dfy) {
  if (autograd::needs_grad(x, y))
    autograd::record<T>(name, out, {x, y}, [x = x.detach(), y = y.detach(), gx = x.requires_grad(),
                                            gy = y.requires_grad(), dfx, dfy](const Tensor<T>& g) {
      return std::vector{gx ? mul(g, dfx(x, y)) : Tensor<T>(), gy ? mul(g, dfy(x, y)) : Tensor<T>()};
    });
  return out;
}
template <class T>
Tensor<T> unary_of(UnaryOp op, const Tensor<T>& x, double a = 0, double b = 0) {
  return crisp::detail::map_unary(UnaryFn{op, a, b}, x);
}
}  // namespace detail

// |input - target|, reduced. The gradient at input == target is 0, as PyTorch's sign().
template <class T>
Tensor<T> l1(const Tensor<T>& input, const Tensor<T>& target, Reduction reduction = Reduction::Mean) {
  detail::check_same_shape("loss::l1", input, target);
  return detail::reduce(abs(sub(input, target)), reduction);
}

// (input - target)^2, reduced.
template <class T>
Tensor<T> mse(const Tensor<T>& input, const Tensor<T>& target, Reduction reduction = Reduction::Mean) {
  detail::check_same_shape("loss::mse", input, target);
  return detail::reduce(square(sub(input, target)), reduction);
}

// Huber-like: 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = input - target),
// as F.smooth_l1_loss. The gradient is PyTorch's kernel's: -1 where d <= -beta, 1 where
// d >= beta, d / beta between. beta = 0 gives l1's values; its gradient at d == 0 is then -1, as
// in torch 1.13 (PyTorch 2 routes beta = 0 to l1_loss, whose gradient there is 0).
template <class T>
Tensor<T> smooth_l1(const Tensor<T>& input, const Tensor<T>& target, Reduction reduction = Reduction::Mean,
                    double beta = 1.0) {
  detail::check_same_shape("loss::smooth_l1", input, target);
  CRISP_CHECK(beta >= 0.0, ValueError, "loss::smooth_l1", "expected a non-negative beta, got ", beta);
  // x and y are detached: the rule below is the whole gradient.
  const Tensor<T> x = input.detach(), y = target.detach();
  const Tensor<T> ad = abs(sub(x, y));
  Tensor<T> out;
  if (beta == 0.0) {
    out = ad;
  } else {  // m = min(|d|, beta): 0.5 m^2 / beta + (|d| - m)
    const Tensor<T> m = detail::unary_of(UnaryOp::Clamp, ad, -INFINITY, beta);
    out = add(detail::unary_of(UnaryOp::Affine, mul(m, m), 0.5 / beta, 0.0), sub(ad, m));
  }
  // d(loss)/d(first) at d = first - second: -1 where d <= -beta, 1 where d >= beta, d / beta between.
  auto slope = [beta](const Tensor<T>& first, const Tensor<T>& second) {
    const Tensor<T> d = sub(first, second);
    if (beta == 0.0) return detail::unary_of(UnaryOp::Affine, detail::unary_of(UnaryOp::GreaterThan, d, 0.0), 2.0, -1.0);
    return detail::unary_of(UnaryOp::Clamp, detail::unary_of(UnaryOp::Affine, d, 1.0 / beta, 0.0), -1.0, 1.0);
  };
  // PyTorch differentiates target by the same kernel with the arguments swapped; this equals
  // -dx except at d == 0 with beta = 0, where both gradients are -1.
  auto dx = [slope](const Tensor<T>& a, const Tensor<T>& b) { return slope(a, b); };
  auto dy = [slope](const Tensor<T>& a, const Tensor<T>& b) { return slope(b, a); };
  return detail::reduce(detail::pointwise_loss("smooth_l1", out, input, target, dx, dy), reduction);
}

// CycleGAN's cycle-consistency loss lambda * L1(reconstructed, real), the official code's
// criterionCycle (nn.L1Loss, mean) times lambda_A or lambda_B (10 by default there).
template <class T>
Tensor<T> cycle_consistency(const Tensor<T>& reconstructed, const Tensor<T>& real, double lambda = 10.0,
                            Reduction reduction = Reduction::Mean) {
  detail::check_same_shape("loss::cycle_consistency", reconstructed, real);
  return mul(l1(reconstructed, real, reduction), scalar_tensor<T>(static_cast<T>(lambda), real.device()));
}

// Anisotropic total variation over the last two dims (H, W) of an image batch:
//   Sum (default):  sum |x[.., i+1, j] - x[.., i, j]| + sum |x[.., i, j+1] - x[.., i, j]|
//   Mean:           mean of the vertical differences + mean of the horizontal ones
// i.e. in PyTorch (x[..., 1:, :] - x[..., :-1, :]).abs().sum() + (x[..., :, 1:] - x[..., :, :-1]).abs().sum()
// (.mean() for Mean). Both terms run over every leading dim (batch and channels); None is refused
// because the two difference maps have different shapes. A 1-pixel-high (or wide) image has an
// empty vertical (horizontal) term, which counts 0 in both reductions.
template <class T>
Tensor<T> total_variation(const Tensor<T>& input, Reduction reduction = Reduction::Sum) {
  CRISP_CHECK(input.defined() && input.dim() >= 2, ShapeError, "loss::total_variation",
              "expected an input of at least 2 dims (..., H, W), got ",
              input.defined() ? input.shape() : Shape{});
  CRISP_CHECK(reduction != Reduction::None, ValueError, "loss::total_variation",
              "expected reduction Sum or Mean, got None");
  const int64_t h = input.size(-2), w = input.size(-1);
  auto term = [&](int64_t dim, int64_t n) {
    if (n < 2) return zeros<T>(Shape{}, input.device());
    Tensor<T> d = abs(sub(slice(input, dim, 1, n), slice(input, dim, 0, n - 1)));
    return reduction == Reduction::Sum ? sum(d) : mean(d);
  };
  return add(term(-2, h), term(-1, w));
}

}  // namespace crisp::loss
