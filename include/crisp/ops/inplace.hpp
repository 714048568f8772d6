// In-place updates (fill_, zero_, copy_, add_, mul_) for data that no recorded graph reads:
// optimiser steps and initialisers run them under NoGradGuard. On a tensor that requires grad
// while grad mode is on they throw, because a saved input changed in place would corrupt backward.
#pragma once

#include "crisp/ops/view.hpp"

namespace crisp {

namespace detail {
template <class T>
void check_inplace(const Tensor<T>& t, const char* op) {
  CRISP_CHECK(!(is_grad_enabled() && t.requires_grad()), AutogradError, op,
              "expected a tensor that does not require grad (or grad mode off: use crisp::NoGradGuard), "
              "got one that requires grad, shape ", t.shape());
}
}  // namespace detail

template <class T>
Tensor<T>& Tensor<T>::fill_(T value) {
  detail::check_inplace(*this, "fill_");
  backend::fill(*this, value);
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::copy_(const Tensor& src) {
  detail::check_inplace(*this, "copy_");
  CRISP_CHECK(broadcast_shapes(src.shape(), shape(), "copy_") == shape(), ShapeError, "copy_", "source of shape ",
              src.shape(), " does not broadcast to destination shape ", shape());
  // A source that overlaps the destination is copied out first. Across devices, copy_ is the
  // explicit transfer (as torch's copy_): the source is moved to this tensor's device.
  Tensor s = src.device() != device() ? src.detach().to(device()) : src;
  if (s.shares_storage_with(*this)) s = crisp::clone(s.detach());
  detail::copy_into(*this, s);
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::add_(const Tensor& other, T alpha) {
  detail::check_inplace(*this, "add_");
  CRISP_CHECK(broadcast_shapes(other.shape(), shape(), "add_") == shape(), ShapeError, "add_", "operand of shape ",
              other.shape(), " does not broadcast to shape ", shape());
  if (alpha == T(1)) {
    backend::binary(BinaryOp::Add, *this, *this, other);
  } else {
    Tensor scaled = Tensor::empty(other.shape(), other.device());
    backend::unary(UnaryFn{UnaryOp::Affine, static_cast<double>(alpha), 0.0}, scaled, other);
    backend::binary(BinaryOp::Add, *this, *this, scaled);
  }
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::mul_(T value) {
  detail::check_inplace(*this, "mul_");
  backend::unary(UnaryFn{UnaryOp::Affine, static_cast<double>(value), 0.0}, *this, *this);
  return *this;
}

}  // namespace crisp
