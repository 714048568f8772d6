// Activations: relu, leaky_relu, sigmoid, tanh, and softmax / log_softmax over a dim.
#pragma once

#include <cmath>

#include "crisp/ops/reduction.hpp"
#include "crisp/ops/unary.hpp"

namespace crisp {

template <class T>
Tensor<T> relu(const Tensor<T>& x) {
  return detail::unary_op("relu", x, [](T v) { return v > T(0) ? v : (v != v ? v : T(0)); },
                          [](T g, T x, T) { return x > T(0) ? g : T(0); });
}

template <class T>
Tensor<T> leaky_relu(const Tensor<T>& x, scalar_t<T> negative_slope = T(0.01)) {
  return detail::unary_op("leaky_relu", x, [s = negative_slope](T v) { return v > T(0) ? v : v * s; },
                          [s = negative_slope](T g, T x, T) { return x > T(0) ? g : g * s; });
}

template <class T>
Tensor<T> sigmoid(const Tensor<T>& x) {
  return detail::unary_op(
      "sigmoid", x,
      [](T v) {  // stable for large |v|
        if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
        const T e = std::exp(v);
        return e / (T(1) + e);
      },
      [](T g, T, T y) { return g * y * (T(1) - y); });
}

template <class T>
Tensor<T> tanh(const Tensor<T>& x) {
  return detail::unary_op("tanh", x, [](T v) { return std::tanh(v); }, [](T g, T, T y) { return g * (T(1) - y * y); });
}

namespace detail {
// Row-wise softmax (log = false) or log-softmax (log = true) along `dim` of a contiguous copy.
template <class T>
Tensor<T> softmax_forward(const Tensor<T>& x_in, int64_t dim, bool log) {
  const Tensor<T> x = contiguous(x_in.detach());
  const int64_t d = wrap_dim(dim, x.dim(), log ? "log_softmax" : "softmax");
  if (x.dim() == 0) return cpu::map<T>(x.shape(), [log](T) { return log ? T(0) : T(1); }, x);
  const int64_t n = x.shape()[d], inner = x.strides()[d], outer = x.numel() / std::max<int64_t>(1, n * inner);
  Tensor<T> y = Tensor<T>::empty(x.shape());
  const T* px = x.data();
  T* py = y.data();
  cpu::parallel_for(0, outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t base = (r / inner) * n * inner + r % inner;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t i = 0; i < n; ++i) m = std::max(m, px[base + i * inner]);
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += std::exp(static_cast<double>(px[base + i * inner] - m));
      if (log) {
        const T lse = m + static_cast<T>(std::log(s));
        for (int64_t i = 0; i < n; ++i) py[base + i * inner] = px[base + i * inner] - lse;
      } else {
        for (int64_t i = 0; i < n; ++i)
          py[base + i * inner] = static_cast<T>(std::exp(static_cast<double>(px[base + i * inner] - m)) / s);
      }
    }
  });
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
