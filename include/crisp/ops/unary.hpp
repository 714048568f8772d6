// Unary math: exp, log, sqrt, abs, pow, clamp. Each is one forward map and one backward rule.
#pragma once

#include <cmath>
#include <limits>
#include <optional>

#include "crisp/ops/arithmetic.hpp"

namespace crisp {

namespace detail {
// y = f(x) with dy/dx computed from (g, x, y) by df.
template <class T, class F, class DF>
Tensor<T> unary_op(const char* name, const Tensor<T>& x, F f, DF df) {
#if defined(CRISP_WITH_CUDA)
  if (x.is_cuda()) {
    Tensor<T> y = cuda_unary(name, x);
    if (autograd::needs_grad(x))
      autograd::record<T>(name, y, {x}, [name, x = x.detach()](const Tensor<T>& g) {
        return std::vector{cuda_unary_backward(name, g, x)};
      });
    return y;
  }
#endif
  Tensor<T> y = cpu::map<T>(x.shape(), f, x);
  if (autograd::needs_grad(x))
    autograd::record<T>(name, y, {x}, [x = x.detach(), y = y.detach(), df](const Tensor<T>& g) {
      return std::vector{cpu::map<T>(g.shape(), df, g, x, y)};
    });
  return y;
}
}  // namespace detail

template <class T>
Tensor<T> exp(const Tensor<T>& x) {
  return detail::unary_op("exp", x, [](T v) { return std::exp(v); }, [](T g, T, T y) { return g * y; });
}
template <class T>
Tensor<T> log(const Tensor<T>& x) {
  return detail::unary_op("log", x, [](T v) { return std::log(v); }, [](T g, T x, T) { return g / x; });
}
template <class T>
Tensor<T> sqrt(const Tensor<T>& x) {
  return detail::unary_op("sqrt", x, [](T v) { return std::sqrt(v); }, [](T g, T, T y) { return g / (T(2) * y); });
}
template <class T>
Tensor<T> abs(const Tensor<T>& x) {
  return detail::unary_op("abs", x, [](T v) { return std::abs(v); },
                          [](T g, T x, T) { return x > T(0) ? g : (x < T(0) ? -g : T(0)); });
}

// x ** p for a scalar exponent; the gradient is 0 where p == 0, as PyTorch.
template <class T>
Tensor<T> pow(const Tensor<T>& x, scalar_t<T> p) {
  return detail::unary_op("pow", x, [p](T v) { return p == T(2) ? v * v : std::pow(v, p); },
                          [p](T g, T x, T) { return p == T(0) ? T(0) : g * p * std::pow(x, p - T(1)); });
}

// x ** e elementwise with broadcasting; d/de uses log(x) and is 0 where x == 0 and e >= 0.
template <class T>
Tensor<T> pow(const Tensor<T>& x, const Tensor<T>& e) {
  Tensor<T> y = detail::broadcast_map("pow", x, e, [](T a, T b) { return std::pow(a, b); });
  if (autograd::needs_grad(x, e))
    autograd::record<T>("pow", y, {x, e}, [x = x.detach(), e = e.detach(), y = y.detach()](const Tensor<T>& g) {
      Tensor<T> gx = cpu::map<T>(g.shape(), [](T gv, T a, T b) { return b == T(0) ? T(0) : gv * b * std::pow(a, b - T(1)); },
                                 g, x, e);
      Tensor<T> ge = cpu::map<T>(g.shape(), [](T gv, T a, T yv) { return a == T(0) ? T(0) : gv * yv * std::log(a); }, g,
                                 x, y);
      return std::vector{sum_to(gx, x.shape()), sum_to(ge, e.shape())};
    });
  return y;
}

// Limits x to [min, max] (either may be absent); the gradient passes where min <= x <= max.
template <class T>
Tensor<T> clamp(const Tensor<T>& x, std::optional<T> min, std::optional<T> max = std::nullopt) {
  CRISP_CHECK(min || max, ValueError, "clamp", "expected at least one of min and max, got neither");
  const T lo = min ? *min : -std::numeric_limits<T>::infinity();
  const T hi = max ? *max : std::numeric_limits<T>::infinity();
  return detail::unary_op("clamp", x, [lo, hi](T v) { return v != v ? v : std::min(std::max(v, lo), hi); },
                          [lo, hi](T g, T x, T) { return x >= lo && x <= hi ? g : T(0); });
}

template <class T>
Tensor<T> square(const Tensor<T>& x) {
  return pow(x, T(2));
}

}  // namespace crisp
