// Factory functions: zeros, ones, full, arange, rand, randn, and tensors from std::vector data.
// Constant factories take a device; random and data-backed ones are made on the CPU (move them
// with .to(device)), so that a seed gives the same numbers whatever the device.
#pragma once

#include <cmath>
#include <vector>

#include "crisp/backend/elementwise.hpp"
#include "crisp/backend/transfer.hpp"
#include "crisp/tensor/generator.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp {

template <class T>
Tensor<T> empty(const Shape& shape, Device device = Device::cpu()) {
  return Tensor<T>::empty(shape, device);
}

template <class T>
Tensor<T> full(const Shape& shape, std::type_identity_t<T> value, Device device = Device::cpu()) {
  Tensor<T> t = Tensor<T>::empty(shape, device);
  backend::fill(t, value);
  return t;
}
template <class T>
Tensor<T> zeros(const Shape& shape, Device device = Device::cpu()) {
  return full<T>(shape, T(0), device);
}
template <class T>
Tensor<T> ones(const Shape& shape, Device device = Device::cpu()) {
  return full<T>(shape, T(1), device);
}
// The *_like factories keep t's device.
template <class T>
Tensor<T> zeros_like(const Tensor<T>& t) {
  return zeros<T>(t.shape(), t.device());
}
template <class T>
Tensor<T> ones_like(const Tensor<T>& t) {
  return ones<T>(t.shape(), t.device());
}
template <class T>
Tensor<T> full_like(const Tensor<T>& t, std::type_identity_t<T> value) {
  return full<T>(t.shape(), value, t.device());
}

// A tensor holding `data` in row-major order; `data.size()` must equal the shape's numel.
template <class T>
Tensor<T> from_vector(const std::vector<T>& data, const Shape& shape) {
  CRISP_CHECK(static_cast<int64_t>(data.size()) == shape.numel(), ShapeError, "from_vector", "shape ", shape,
              " needs ", shape.numel(), " elements, got ", data.size());
  Tensor<T> t = Tensor<T>::empty(shape);
  std::copy(data.begin(), data.end(), t.data());
  return t;
}
// A 1-d tensor holding `data`.
template <class T>
Tensor<T> from_vector(const std::vector<T>& data) {
  return from_vector<T>(data, Shape{static_cast<int64_t>(data.size())});
}
// A 0-d tensor holding one value.
template <class T>
Tensor<T> scalar_tensor(std::type_identity_t<T> value, Device device = Device::cpu()) {
  return full<T>(Shape{}, value, device);
}

// [start, end) in steps of `step`, as torch.arange.
template <class T>
Tensor<T> arange(T start, T end, T step = T(1)) {
  CRISP_CHECK(step != T(0), ValueError, "arange", "expected a non-zero step, got 0");
  CRISP_CHECK((end - start) / step >= 0, ValueError, "arange", "step ", step, " does not lead from ", start,
              " to ", end);
  const auto n = static_cast<int64_t>(std::ceil(static_cast<double>(end - start) / static_cast<double>(step)));
  Tensor<T> t = Tensor<T>::empty(Shape{n});
  for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<T>(start + static_cast<T>(i) * step);
  return t;
}
template <class T>
Tensor<T> arange(T end) {
  return arange<T>(T(0), end, T(1));
}

// Uniform in [low, high).
template <class T>
Tensor<T> rand(const Shape& shape, Generator& gen, T low = T(0), T high = T(1)) {
  static_assert(is_floating_v<T>, "rand: T must be float or double");
  Tensor<T> t = Tensor<T>::empty(shape);
  T* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(low + (high - low) * gen.uniform());
  return t;
}
template <class T>
Tensor<T> rand(const Shape& shape) {
  return rand<T>(shape, default_generator());
}

// Normal with the given mean and standard deviation.
template <class T>
Tensor<T> randn(const Shape& shape, Generator& gen, T mean = T(0), T std = T(1)) {
  static_assert(is_floating_v<T>, "randn: T must be float or double");
  Tensor<T> t = Tensor<T>::empty(shape);
  T* p = t.data();
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; i += 2) {
    const auto z = gen.normal_pair();
    p[i] = static_cast<T>(mean + std * z[0]);
    if (i + 1 < n) p[i + 1] = static_cast<T>(mean + std * z[1]);
  }
  return t;
}
template <class T>
Tensor<T> randn(const Shape& shape) {
  return randn<T>(shape, default_generator());
}

// Element-type conversion (a copy; not recorded by autograd).
// Element-type conversion on t's device (a copy; not recorded by autograd).
template <class U, class T>
Tensor<U> cast(const Tensor<T>& t) {
  Tensor<U> out = Tensor<U>::empty(t.shape(), t.device());
  backend::cast(out, t);
  return out;
}

template <class T>
std::vector<T> Tensor<T>::to_vector() const {
  if (!device().is_cpu()) {  // a contiguous copy on the device, then one transfer to the host
    Tensor<T> c = Tensor<T>::empty(shape(), device()), h = Tensor<T>::empty(shape());
    backend::copy(c, *this);
    backend::transfer(h, c);
    return std::vector<T>(h.data(), h.data() + numel());
  }
  if (is_contiguous()) return std::vector<T>(data(), data() + numel());
  Tensor<T> c = Tensor<T>::empty(shape(), device());
  backend::copy(c, *this);
  return std::vector<T>(c.data(), c.data() + numel());
}

}  // namespace crisp
