// crisp::nn::init: in-place parameter initialisers with torch.nn.init's formulas (gains, fans,
// bounds), each drawing from a crisp::Generator so that initialisation is reproducible.
#pragma once

// Each function fills `tensor` in place without recording a graph (as PyTorch's run under
// no_grad) and returns it. The random numbers are crisp's (see Generator), not PyTorch's: the
// distributions match, the draws do not.

#include <cmath>
#include <optional>
#include <utility>

#include "crisp/autograd/grad_mode.hpp"
#include "crisp/ops/inplace.hpp"
#include "crisp/tensor/factory.hpp"
#include "crisp/tensor/generator.hpp"

namespace crisp::nn::init {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity {
  Linear, Conv1D, Conv2D, Conv3D, ConvTranspose1D, ConvTranspose2D, ConvTranspose3D,
  Sigmoid, Tanh, ReLU, LeakyReLU, SELU
};

// torch.nn.init.calculate_gain; `param` is LeakyReLU's negative slope (default 0.01).
inline double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = std::nullopt) {
  switch (nonlinearity) {
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: {
      const double s = param.value_or(0.01);
      return std::sqrt(2.0 / (1.0 + s * s));
    }
    case Nonlinearity::SELU: return 3.0 / 4.0;
    default: return 1.0;  // linear, conv*, sigmoid
  }
}

// (fan_in, fan_out) as torch.nn.init._calculate_fan_in_and_fan_out: dims 1 and 0 times the
// receptive field (the product of the dims from 2 on). For a ConvTranspose2d weight
// [in, out/groups, kh, kw] this makes fan_in = out/groups * kh * kw, as in PyTorch.
template <class T>
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor<T>& tensor) {
  CRISP_CHECK(tensor.dim() >= 2, ValueError, "calculate_fan_in_and_fan_out",
              "fan in and fan out need a tensor with at least 2 dims, got shape ", tensor.shape());
  int64_t receptive = 1;
  for (int64_t d = 2; d < tensor.dim(); ++d) receptive *= tensor.size(d);
  return {tensor.size(1) * receptive, tensor.size(0) * receptive};
}

namespace detail {
// Writes f() into every element of `t` in row-major order.
template <class T, class F>
Tensor<T> fill_with(Tensor<T> t, F f) {
  NoGradGuard no_grad;
  Tensor<T> dst = t.is_contiguous() ? t : Tensor<T>::empty(t.shape());
  T* p = dst.data();
  for (int64_t i = 0; i < dst.numel(); ++i) p[i] = static_cast<T>(f());
  if (!dst.same(t)) t.copy_(dst);
  return t;
}
template <class T>
Tensor<T> fill_normal(Tensor<T> t, double mean, double std, Generator& gen) {
  // Box-Muller pairs, in the same order as crisp::randn.
  NoGradGuard no_grad;
  Tensor<T> src = randn<T>(t.shape(), gen, static_cast<T>(mean), static_cast<T>(std));
  t.copy_(src);
  return t;
}
inline double fan(const std::pair<int64_t, int64_t>& fans, FanMode mode) {
  return static_cast<double>(mode == FanMode::FanIn ? fans.first : fans.second);
}
}  // namespace detail

template <class T>
Tensor<T> uniform_(Tensor<T> tensor, double low = 0.0, double high = 1.0, Generator& gen = default_generator()) {
  CRISP_CHECK(low <= high, ValueError, "init::uniform_", "expected low <= high, got low ", low, ", high ", high);
  return detail::fill_with(tensor, [&] { return low + (high - low) * gen.uniform(); });
}
template <class T>
Tensor<T> normal_(Tensor<T> tensor, double mean = 0.0, double std = 1.0, Generator& gen = default_generator()) {
  CRISP_CHECK(std >= 0, ValueError, "init::normal_", "expected std >= 0, got ", std);
  return detail::fill_normal(tensor, mean, std, gen);
}
template <class T>
Tensor<T> constant_(Tensor<T> tensor, double value) {
  return detail::fill_with(tensor, [value] { return value; });
}
template <class T>
Tensor<T> zeros_(Tensor<T> tensor) {
  return constant_(tensor, 0.0);
}
template <class T>
Tensor<T> ones_(Tensor<T> tensor) {
  return constant_(tensor, 1.0);
}

// U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).
template <class T>
Tensor<T> xavier_uniform_(Tensor<T> tensor, double gain = 1.0, Generator& gen = default_generator()) {
  const auto [fi, fo] = calculate_fan_in_and_fan_out(tensor);
  const double a = gain * std::sqrt(6.0 / static_cast<double>(fi + fo));
  return uniform_(tensor, -a, a, gen);
}
// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
template <class T>
Tensor<T> xavier_normal_(Tensor<T> tensor, double gain = 1.0, Generator& gen = default_generator()) {
  const auto [fi, fo] = calculate_fan_in_and_fan_out(tensor);
  return normal_(tensor, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fi + fo)), gen);
}

// U(-b, b) with b = gain(nonlinearity, a) * sqrt(3 / fan). With a = sqrt(5) (the default init
// of Conv2d / Linear) b = 1 / sqrt(fan_in).
template <class T>
Tensor<T> kaiming_uniform_(Tensor<T> tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                           Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator& gen = default_generator()) {
  const double f = detail::fan(calculate_fan_in_and_fan_out(tensor), mode);
  if (tensor.numel() == 0) return tensor;  // PyTorch warns and does nothing
  const double bound = std::sqrt(3.0) * calculate_gain(nonlinearity, a) / std::sqrt(f);
  return uniform_(tensor, -bound, bound, gen);
}
// N(0, std^2) with std = gain(nonlinearity, a) / sqrt(fan).
template <class T>
Tensor<T> kaiming_normal_(Tensor<T> tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                          Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator& gen = default_generator()) {
  const double f = detail::fan(calculate_fan_in_and_fan_out(tensor), mode);
  if (tensor.numel() == 0) return tensor;
  return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(f), gen);
}

}  // namespace crisp::nn::init
