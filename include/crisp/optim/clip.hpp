// Gradient clipping: clip_grad_norm_ (rescale all gradients so that their global norm is at most
// max_norm) and clip_grad_value_, as torch.nn.utils / torch::nn::utils.
#pragma once

// clip_grad_norm_ follows torch.nn.utils.clip_grad_norm_: parameters without a gradient are
// skipped; total = norm over the per-tensor norms (max of |g| for norm_type = inf);
// coef = max_norm / (total + 1e-6), clamped to 1; every gradient is multiplied by coef (a no-op
// when coef is 1). Per-tensor norms are accumulated in double and rounded to T, as PyTorch's
// float results are, and the total is returned as a double (libtorch's return type). With
// error_if_nonfinite a NaN or infinite total throws ValueError before any gradient changes.

#include <cmath>
#include <limits>
#include <vector>

#include "crisp/autograd/grad_mode.hpp"
#include "crisp/backend/elementwise.hpp"
#include "crisp/backend/reduce.hpp"
#include "crisp/ops/inplace.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::nn::utils {

namespace detail {
// sum |x|^p (or max |x| for p = inf) over a tensor of any strides, on the CPU.
template <class T>
double grad_norm_cpu(const Tensor<T>& g, double p) {
  const Tensor<T> c = g.is_contiguous() ? g : g.contiguous();
  const T* x = c.data();
  const int64_t n = c.numel();
  double acc = 0;
  if (std::isinf(p)) {
    for (int64_t i = 0; i < n; ++i) acc = std::max(acc, static_cast<double>(std::abs(x[i])));
    return acc;
  }
  if (p == 2) {
    for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    return std::sqrt(acc);
  }
  if (p == 1) {
    for (int64_t i = 0; i < n; ++i) acc += std::abs(static_cast<double>(x[i]));
    return acc;
  }
  for (int64_t i = 0; i < n; ++i) acc += std::pow(std::abs(static_cast<double>(x[i])), p);
  return std::pow(acc, 1.0 / p);
}

// The same on the gradient's own device through the dispatch layer's primitives: |x| (or x^2)
// in double, a double sum (or max), one scalar back to the host per tensor.
template <class T>
double grad_norm(const Tensor<T>& g, double p) {
  if (g.device().is_cpu()) return grad_norm_cpu(g, p);
  const int64_t n = g.numel();
  if (n == 0) return 0.0;
  Tensor<double> d = Tensor<double>::empty(g.shape(), g.device());
  backend::cast(d, g);
  if (p == 2) {
    backend::unary(UnaryFn{UnaryOp::Square}, d, d);
  } else {
    backend::unary(UnaryFn{UnaryOp::Abs}, d, d);
    if (!std::isinf(p) && p != 1) backend::unary(UnaryFn{UnaryOp::PowScalar, p}, d, d);
  }
  Tensor<double> r = Tensor<double>::empty(Shape{}, g.device());
  if (std::isinf(p)) {
    Tensor<int64_t> at = Tensor<int64_t>::empty(Shape{}, g.device());
    backend::arg_extremum(d.reshape(Shape{n}), 0, true, r, at);
    return r.to(Device::cpu()).item();
  }
  backend::sum_into(d, std::vector<bool>(static_cast<size_t>(d.dim()), true), r);
  const double acc = r.to(Device::cpu()).item();
  return p == 2 ? std::sqrt(acc) : p == 1 ? acc : std::pow(acc, 1.0 / p);
}
}  // namespace detail

template <class T>
double clip_grad_norm_(const std::vector<Tensor<T>>& parameters, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false) {
  CRISP_CHECK(norm_type > 0, ValueError, "clip_grad_norm_", "expected a positive norm_type, got ", norm_type);
  std::vector<Tensor<T>> grads;
  for (const auto& p : parameters)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return 0.0;
  // Each tensor's norm rounded to T, then the norm of those norms rounded to T: PyTorch's
  // norm(stack([norm(g) for g in grads])) in the gradients' dtype.
  std::vector<T> norms;
  for (const auto& g : grads) norms.push_back(static_cast<T>(detail::grad_norm(g, norm_type)));
  double total = 0;
  if (std::isinf(norm_type)) {
    for (T v : norms) total = std::max(total, static_cast<double>(v));
    for (T v : norms)
      if (std::isnan(v)) total = v;
  } else {
    for (T v : norms) total += std::pow(static_cast<double>(v), norm_type);
    total = std::pow(total, 1.0 / norm_type);
  }
  const T total_t = static_cast<T>(total);
  CRISP_CHECK(!error_if_nonfinite || std::isfinite(total_t), ValueError, "clip_grad_norm_",
              "the total norm of order ", norm_type,
              " for gradients from `parameters` is non-finite, so it cannot be clipped; got ", total_t);
  const T coef = std::min(static_cast<T>(max_norm) / (total_t + static_cast<T>(1e-6)), T(1));
  if (coef < T(1) || std::isnan(coef)) {
    NoGradGuard no_grad;
    for (auto& g : grads) g.mul_(coef);
  }
  return static_cast<double>(total_t);
}

template <class T>
double clip_grad_norm_(const Tensor<T>& parameter, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false) {
  return clip_grad_norm_(std::vector<Tensor<T>>{parameter}, max_norm, norm_type, error_if_nonfinite);
}

// Clamps every gradient element into [-clip_value, clip_value].
template <class T>
void clip_grad_value_(const std::vector<Tensor<T>>& parameters, double clip_value) {
  CRISP_CHECK(clip_value >= 0, ValueError, "clip_grad_value_", "expected clip_value >= 0, got ", clip_value);
  for (const auto& p : parameters) {
    if (!p.defined() || !p.grad().defined()) continue;
    // In place, on the gradient's device, whatever its strides (NaN stays NaN, as std::clamp).
    NoGradGuard no_grad;
    backend::unary(UnaryFn{UnaryOp::Clamp, -clip_value, clip_value}, p.grad(), p.grad());
  }
}

}  // namespace crisp::nn::utils

namespace crisp::optim {
using nn::utils::clip_grad_norm_;
using nn::utils::clip_grad_value_;
}  // namespace crisp::optim
