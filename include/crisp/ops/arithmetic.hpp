// Broadcasting arithmetic: add, sub, mul, div, neg, maximum, minimum, and the operators
// + - * / over tensors and scalars. Gradients are summed back to each input's shape.
#pragma once

#include <algorithm>

#include "crisp/ops/view.hpp"

namespace crisp {

namespace detail {
// A 0-d CPU tensor meeting a device tensor is a scalar, as in PyTorch: it is moved to that device.
// Any other mix of devices is an error (backend::common_device names both).
template <class T>
Tensor<T> scalar_to(const Tensor<T>& t, const Tensor<T>& other) {
  return t.dim() == 0 && t.device().is_cpu() && !other.device().is_cpu() ? t.to(other.device()) : t;
}

// A fresh tensor of a (op) b over their broadcast shape, on their (common) device.
template <class T>
Tensor<T> broadcast_map(BinaryOp op, const Tensor<T>& a_in, const Tensor<T>& b_in) {
  const Tensor<T> a = scalar_to(a_in, b_in), b = scalar_to(b_in, a_in);
  const char* name = to_string(op);
  Tensor<T> y = Tensor<T>::empty(broadcast_shapes(a.shape(), b.shape(), name), backend::common_device(name, a, b));
  backend::binary(op, y, a, b);
  return y;
}
// A fresh tensor of f(x) on x's device; not recorded (the ops below record their own rules).
template <class T>
Tensor<T> map_unary(const UnaryFn& f, const Tensor<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  backend::unary(f, y, x);
  return y;
}
// Affine map a * x + b as a recorded op (the scalar arithmetic behind x * 2, 1 - x, ...).
template <class T>
Tensor<T> affine(const Tensor<T>& x, double a, double b);
}  // namespace detail

template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_map(BinaryOp::Add, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record<T>("add", y, {a, b}, [sa = a.shape(), sb = b.shape(), ga = a.requires_grad(),
                                           gb = b.requires_grad()](const Tensor<T>& g) {
      return std::vector{ga ? sum_to(g, sa) : Tensor<T>(), gb ? sum_to(g, sb) : Tensor<T>()};
    });
  return y;
}

template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_map(BinaryOp::Sub, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record<T>("sub", y, {a, b}, [sa = a.shape(), sb = b.shape(), ga = a.requires_grad(),
                                           gb = b.requires_grad()](const Tensor<T>& g) {
      return std::vector{ga ? sum_to(g, sa) : Tensor<T>(), gb ? sum_to(neg(g), sb) : Tensor<T>()};
    });
  return y;
}

template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_map(BinaryOp::Mul, a, b);
  if (autograd::needs_grad(a, b)) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    autograd::record<T>("mul", y, {a, b}, [a = a.detach(), b = b.detach(), ga, gb](const Tensor<T>& g) {
      return std::vector{ga ? sum_to(mul(g, b), a.shape()) : Tensor<T>(),
                         gb ? sum_to(mul(g, a), b.shape()) : Tensor<T>()};
    });
  }
  return y;
}

template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_map(BinaryOp::Div, a, b);
  if (autograd::needs_grad(a, b)) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    autograd::record<T>("div", y, {a, b}, [a = a.detach(), b = b.detach(), ga, gb](const Tensor<T>& g) {
      // -g * a / b^2, as ATen's div backward
      Tensor<T> gb_ = gb ? sum_to(div(mul(neg(g), a), mul(b, b)), b.shape()) : Tensor<T>();
      return std::vector{ga ? sum_to(div(g, b), a.shape()) : Tensor<T>(), gb_};
    });
  }
  return y;
}

template <class T>
Tensor<T> neg(const Tensor<T>& x) {
  Tensor<T> y = detail::map_unary(UnaryFn{UnaryOp::Neg}, x);
  if (autograd::needs_grad(x)) autograd::record<T>("neg", y, {x}, [](const Tensor<T>& g) { return std::vector{neg(g)}; });
  return y;
}

namespace detail {
// maximum/minimum: the gradient goes to the larger (smaller) input, split evenly on ties, as PyTorch.
template <class T>
Tensor<T> extremum(BinaryOp op, const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = broadcast_map(op, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record<T>(to_string(op), y, {a, b}, [a = a.detach(), b = b.detach(), op](const Tensor<T>& g) {
      // share = 1 where this input wins, 1/2 on ties, 0 where it loses (or either is NaN)
      const Tensor<T> tie = mul(broadcast_map(BinaryOp::Equal, a, b), scalar_tensor<T>(T(0.5), g.device()));
      const bool greatest = op == BinaryOp::Maximum;
      const Tensor<T> a_wins = greatest ? broadcast_map(BinaryOp::Greater, a, b) : broadcast_map(BinaryOp::Greater, b, a);
      const Tensor<T> b_wins = greatest ? broadcast_map(BinaryOp::Greater, b, a) : broadcast_map(BinaryOp::Greater, a, b);
      return std::vector{sum_to(mul(g, add(a_wins, tie)), a.shape()), sum_to(mul(g, add(b_wins, tie)), b.shape())};
    });
  return y;
}
}  // namespace detail

template <class T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::extremum(BinaryOp::Maximum, a, b);
}
template <class T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::extremum(BinaryOp::Minimum, a, b);
}

// ---- operators --------------------------------------------------------------------------
template <class T> Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) { return add(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) { return sub(a, b); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) { return mul(a, b); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) { return div(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& x) { return neg(x); }
// Tensor-scalar arithmetic runs on the tensor's device (the scalar never becomes a CPU tensor).
template <class T> Tensor<T> operator+(const Tensor<T>& a, scalar_t<T> s) { return add(a, scalar_tensor<T>(s, a.device())); }
template <class T> Tensor<T> operator+(scalar_t<T> s, const Tensor<T>& a) { return add(scalar_tensor<T>(s, a.device()), a); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, scalar_t<T> s) { return sub(a, scalar_tensor<T>(s, a.device())); }
template <class T> Tensor<T> operator-(scalar_t<T> s, const Tensor<T>& a) { return sub(scalar_tensor<T>(s, a.device()), a); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, scalar_t<T> s) { return mul(a, scalar_tensor<T>(s, a.device())); }
template <class T> Tensor<T> operator*(scalar_t<T> s, const Tensor<T>& a) { return mul(scalar_tensor<T>(s, a.device()), a); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, scalar_t<T> s) { return div(a, scalar_tensor<T>(s, a.device())); }
template <class T> Tensor<T> operator/(scalar_t<T> s, const Tensor<T>& a) { return div(scalar_tensor<T>(s, a.device()), a); }

namespace detail {
template <class T>
Tensor<T> affine(const Tensor<T>& x, double a, double b) {
  Tensor<T> y = map_unary(UnaryFn{UnaryOp::Affine, a, b}, x);
  if (autograd::needs_grad(x))
    autograd::record<T>("affine", y, {x}, [a](const Tensor<T>& g) { return std::vector{affine(g, a, 0.0)}; });
  return y;
}
}  // namespace detail

}  // namespace crisp
