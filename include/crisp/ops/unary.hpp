// Unary math: exp, log, sqrt, abs, pow, clamp. Each is one forward map and one backward rule.
#pragma once

#include <cmath>
#include <limits>
#include <optional>

#include "crisp/ops/arithmetic.hpp"

namespace crisp {

namespace detail {
// y = f(x), recorded with a backward rule df(g, x, y) written with ops (so it runs on any device).
template <class T, class DF>
Tensor<T> unary_op(const UnaryFn& f, const Tensor<T>& x, DF df) {
  Tensor<T> y = map_unary(f, x);
  if (autograd::needs_grad(x))
    autograd::record<T>(to_string(f.op), y, {x}, [x = x.detach(), y = y.detach(), df](const Tensor<T>& g) {
      return std::vector{df(g, x, y)};
    });
  return y;
}
template <class T>
Tensor<T> unary_map(UnaryOp op, const Tensor<T>& x, double a = 0, double b = 0) {
  return map_unary(UnaryFn{op, a, b}, x);
}
}  // namespace detail

template <class T>
Tensor<T> exp(const Tensor<T>& x) {
  return detail::unary_op(UnaryFn{UnaryOp::Exp}, x, [](const Tensor<T>& g, const Tensor<T>&, const Tensor<T>& y) {
    return mul(g, y);
  });
}
template <class T>
Tensor<T> log(const Tensor<T>& x) {
  return detail::unary_op(UnaryFn{UnaryOp::Log}, x, [](const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>&) {
    return div(g, x);
  });
}
template <class T>
Tensor<T> sqrt(const Tensor<T>& x) {
  return detail::unary_op(UnaryFn{UnaryOp::Sqrt}, x, [](const Tensor<T>& g, const Tensor<T>&, const Tensor<T>& y) {
    return div(g, detail::unary_map(UnaryOp::Affine, y, 2.0, 0.0));
  });
}
template <class T>
Tensor<T> abs(const Tensor<T>& x) {
  return detail::unary_op(UnaryFn{UnaryOp::Abs}, x, [](const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>&) {
    return mul(g, detail::unary_map(UnaryOp::Sign, x));
  });
}

// x ** p for a scalar exponent; the gradient is 0 where p == 0, as PyTorch.
template <class T>
Tensor<T> pow(const Tensor<T>& x, scalar_t<T> p) {
  const double pd = static_cast<double>(p);
  return detail::unary_op(UnaryFn{UnaryOp::PowScalar, pd}, x, [pd](const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>&) {
    if (pd == 0) return zeros_like(g);
    return mul(detail::unary_map(UnaryOp::Affine, g, pd, 0.0), detail::unary_map(UnaryOp::PowScalar, x, pd - 1));
  });
}

// x ** e elementwise with broadcasting; d/de uses log(x) and is 0 where x == 0.
template <class T>
Tensor<T> pow(const Tensor<T>& x, const Tensor<T>& e) {
  Tensor<T> y = detail::broadcast_map(BinaryOp::Pow, x, e);
  if (autograd::needs_grad(x, e))
    autograd::record<T>("pow", y, {x, e}, [x = x.detach(), e = e.detach()](const Tensor<T>& g) {
      return std::vector{sum_to(mul(g, detail::broadcast_map(BinaryOp::PowBaseGrad, x, e)), x.shape()),
                         sum_to(mul(g, detail::broadcast_map(BinaryOp::PowExpGrad, x, e)), e.shape())};
    });
  return y;
}

// Limits x to [min, max] (either may be absent); the gradient passes where min <= x <= max.
template <class T>
Tensor<T> clamp(const Tensor<T>& x, std::optional<T> min, std::optional<T> max = std::nullopt) {
  CRISP_CHECK(min || max, ValueError, "clamp", "expected at least one of min and max, got neither");
  const T lo = min ? *min : -std::numeric_limits<T>::infinity();
  const T hi = max ? *max : std::numeric_limits<T>::infinity();
  const double l = lo, h = hi;
  return detail::unary_op(UnaryFn{UnaryOp::Clamp, l, h}, x, [l, h](const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>&) {
    return mul(g, detail::unary_map(UnaryOp::InRange, x, l, h));
  });
}

template <class T>
Tensor<T> square(const Tensor<T>& x) {
  return pow(x, T(2));
}

}  // namespace crisp
