// Activations: relu, leaky_relu, sigmoid, tanh, and softmax / log_softmax over a dim.
#pragma once

#include <cmath>

#include "crisp/backend/softmax.hpp"
#include "crisp/ops/reduction.hpp"
#include "crisp/ops/unary.hpp"

namespace crisp {

template <class T>
Tensor<T> relu(const Tensor<T>& x) {
  return detail::unary_op(UnaryFn{UnaryOp::Relu}, x, [](const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>&) {
    return mul(g, detail::unary_map(UnaryOp::GreaterThan, x, 0.0));
  });
}

template <class T>
Tensor<T> leaky_relu(const Tensor<T>& x, scalar_t<T> negative_slope = T(0.01)) {
  const double s = negative_slope;
  return detail::unary_op(UnaryFn{UnaryOp::LeakyRelu, s}, x, [s](const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>&) {
    return mul(g, detail::unary_map(UnaryOp::LeakyStep, x, s));
  });
}

template <class T>
Tensor<T> sigmoid(const Tensor<T>& x) {
  return detail::unary_op(UnaryFn{UnaryOp::Sigmoid}, x, [](const Tensor<T>& g, const Tensor<T>&, const Tensor<T>& y) {
    return mul(mul(g, y), detail::unary_map(UnaryOp::Affine, y, -1.0, 1.0));  // g * y * (1 - y)
  });
}

template <class T>
Tensor<T> tanh(const Tensor<T>& x) {
  return detail::unary_op(UnaryFn{UnaryOp::Tanh}, x, [](const Tensor<T>& g, const Tensor<T>&, const Tensor<T>& y) {
    return mul(g, detail::unary_map(UnaryOp::Affine, mul(y, y), -1.0, 1.0));  // g * (1 - y^2)
  });
}

namespace detail {
// Softmax (log = false) or log-softmax (log = true) along `dim`, on x's device.
template <class T>
Tensor<T> softmax_forward(const Tensor<T>& x_in, int64_t dim, bool log) {
  const Tensor<T> x = contiguous(x_in.detach());
  const int64_t d = wrap_dim(dim, x.dim(), log ? "log_softmax" : "softmax");
  if (x.dim() == 0) return full_like(x, log ? T(0) : T(1));
  const int64_t n = x.shape()[d], inner = x.strides()[d], outer = x.numel() / std::max<int64_t>(1, n * inner);
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  backend::softmax(y, x, outer, n, inner, log);
  return y;
}
}  // namespace detail

template <class T>
Tensor<T> softmax(const Tensor<T>& x, int64_t dim) {
  Tensor<T> y = detail::softmax_forward(x, dim, false);
  if (autograd::needs_grad(x))
    autograd::record<T>("softmax", y, {x}, [y = y.detach(), dim](const Tensor<T>& g) {
      Tensor<T> gy = mul(g, y);
      return std::vector{sub(gy, mul(y, sum(gy, {dim}, true)))};
    });
  return y;
}

template <class T>
Tensor<T> log_softmax(const Tensor<T>& x, int64_t dim) {
  Tensor<T> y = detail::softmax_forward(x, dim, true);
  if (autograd::needs_grad(x))
    autograd::record<T>("log_softmax", y, {x}, [y = y.detach(), dim](const Tensor<T>& g) {
      return std::vector{sub(g, mul(exp(y), sum(g, {dim}, true)))};
    });
  return y;
}

}  // namespace crisp
