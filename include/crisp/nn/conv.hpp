// Conv2d and ConvTranspose2d modules with libtorch's options, PyTorch's parameter names,
// weight layouts, padding modes and default initialisation, over crisp::conv2d / conv_transpose2d.
#pragma once

// Conv2d: weight [out, in/groups, kh, kw], bias [out]. ConvTranspose2d: weight
// [in, out/groups, kh, kw], bias [out]. Both initialise as PyTorch's reset_parameters:
// weight kaiming_uniform_(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and bias
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in from the weight's dims 1.. (so for the transposed
// conv it is out/groups * kh * kw, as PyTorch computes it).

#include <cmath>
#include <optional>
#include <ostream>
#include <vector>

#include "crisp/nn/init.hpp"
#include "crisp/nn/module_holder.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/ops/conv.hpp"
#include "crisp/ops/conv_args.hpp"
#include "crisp/ops/padding.hpp"

namespace crisp::nn {

// How Conv2d pads its input. Zeros is the convolution's own padding; the others pad with
// crisp::pad first and then convolve with padding 0, as PyTorch does.
enum class PaddingMode { Zeros, Reflect, Replicate, Circular };

inline const char* padding_mode_name(PaddingMode m) {
  switch (m) {
    case PaddingMode::Reflect: return "reflect";
    case PaddingMode::Replicate: return "replicate";
    case PaddingMode::Circular: return "circular";
    default: return "zeros";
  }
}

struct Conv2dOptions {
  Conv2dOptions(int64_t in_channels, int64_t out_channels, Pair2 kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  CRISP_ARG(int64_t, in_channels);
  CRISP_ARG(int64_t, out_channels);
  CRISP_ARG(Pair2, kernel_size);
  CRISP_ARG(Pair2, stride) = 1;
  CRISP_ARG(ConvPadding, padding) = int64_t{0};  // an int, a pair, "same" or "valid"
  CRISP_ARG(Pair2, dilation) = 1;
  CRISP_ARG(int64_t, groups) = 1;
  CRISP_ARG(bool, bias) = true;
  CRISP_ARG(PaddingMode, padding_mode) = PaddingMode::Zeros;
};

struct ConvTranspose2dOptions {
  ConvTranspose2dOptions(int64_t in_channels, int64_t out_channels, Pair2 kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  CRISP_ARG(int64_t, in_channels);
  CRISP_ARG(int64_t, out_channels);
  CRISP_ARG(Pair2, kernel_size);
  CRISP_ARG(Pair2, stride) = 1;
  CRISP_ARG(Pair2, padding) = 0;
  CRISP_ARG(Pair2, output_padding) = 0;
  CRISP_ARG(int64_t, groups) = 1;
  CRISP_ARG(bool, bias) = true;
  CRISP_ARG(Pair2, dilation) = 1;
  CRISP_ARG(PaddingMode, padding_mode) = PaddingMode::Zeros;  // only Zeros, as PyTorch
};

namespace detail {
// Checks shared by both modules, at construction, so that a bad layer fails where it is built.
inline void check_conv_common(const char* op, int64_t in, int64_t out, Pair2 k, Pair2 stride, Pair2 dilation,
                              int64_t groups) {
  CRISP_CHECK(in > 0 && out > 0, ValueError, op, "expected positive in_channels and out_channels, got ", in, " and ",
              out);
  CRISP_CHECK(groups > 0, ValueError, op, "groups must be a positive integer, got ", groups);
  CRISP_CHECK(in % groups == 0, ValueError, op, "in_channels must be divisible by groups, got in_channels ", in,
              " and groups ", groups);
  CRISP_CHECK(out % groups == 0, ValueError, op, "out_channels must be divisible by groups, got out_channels ", out,
              " and groups ", groups);
  CRISP_CHECK(k.h > 0 && k.w > 0, ValueError, op, "expected a positive kernel_size, got ", k);
  CRISP_CHECK(stride.h > 0 && stride.w > 0, ValueError, op, "expected a positive stride, got ", stride);
  CRISP_CHECK(dilation.h > 0 && dilation.w > 0, ValueError, op, "expected a positive dilation, got ", dilation);
}

// PyTorch's reset_parameters of _ConvNd.
template <class T>
void reset_conv_parameters(const Tensor<T>& weight, const Tensor<T>& bias, Generator& gen) {
  init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, init::Nonlinearity::LeakyReLU, gen);
  if (bias.defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(bias, -bound, bound, gen);
  }
}

inline std::ostream& print_padding(std::ostream& os, const ConvPadding& p) {
  if (p.mode == ConvPadding::Mode::Same) return os << "same";
  if (p.mode == ConvPadding::Mode::Valid) return os << "valid";
  return os << p.size;
}
}  // namespace detail

template <class T>
class Conv2dImplT : public ModuleT<T> {
 public:
  Conv2dImplT(int64_t in_channels, int64_t out_channels, Pair2 kernel_size, Generator& gen = default_generator())
      : Conv2dImplT(Conv2dOptions(in_channels, out_channels, kernel_size), gen) {}
  explicit Conv2dImplT(const Conv2dOptions& options, Generator& gen = default_generator())
      : ModuleT<T>("Conv2d"), options(options) {
    const auto& o = options;
    detail::check_conv_common("Conv2d", o.in_channels(), o.out_channels(), o.kernel_size(), o.stride(), o.dilation(),
                              o.groups());
    const ConvPadding& p = o.padding();
    CRISP_CHECK(p.mode != ConvPadding::Mode::Same || o.stride() == Pair2(1), ValueError, "Conv2d",
                "padding='same' is not supported for strided convolutions, got stride ", o.stride());
    CRISP_CHECK(p.mode != ConvPadding::Mode::Explicit || (p.size.h >= 0 && p.size.w >= 0), ValueError, "Conv2d",
                "expected a non-negative padding, got ", p.size);
    weight = this->register_parameter(
        "weight", Tensor<T>::empty({o.out_channels(), o.in_channels() / o.groups(), o.kernel_size().h, o.kernel_size().w}));
    if (o.bias()) bias = this->register_parameter("bias", Tensor<T>::empty({o.out_channels()}));
    reset_parameters(gen);
  }

  void reset_parameters(Generator& gen = default_generator()) { detail::reset_conv_parameters(weight, bias, gen); }

  Tensor<T> forward(const Tensor<T>& input) {
    const auto& o = options;
    if (o.padding_mode() == PaddingMode::Zeros)
      return conv2d(input, weight, bias, o.stride(), o.padding(), o.dilation(), o.groups());
    return conv2d(pad(input, explicit_pads(), pad_mode()), weight, bias, o.stride(), ConvPadding(int64_t{0}), o.dilation(),
                  o.groups());
  }

  // {left, right, top, bottom} that a non-zeros padding_mode pads by (PyTorch's
  // _reversed_padding_repeated_twice; for "same" the odd extra goes right / bottom).
  std::vector<int64_t> explicit_pads() const {
    const auto& o = options;
    const ConvPadding& p = o.padding();
    if (p.mode == ConvPadding::Mode::Valid) return {0, 0, 0, 0};
    if (p.mode == ConvPadding::Mode::Same) {
      const int64_t th = o.dilation().h * (o.kernel_size().h - 1), tw = o.dilation().w * (o.kernel_size().w - 1);
      return {tw / 2, tw - tw / 2, th / 2, th - th / 2};
    }
    return {p.size.w, p.size.w, p.size.h, p.size.h};
  }

  void pretty_print(std::ostream& os) const override {
    const auto& o = options;
    os << "Conv2d(" << o.in_channels() << ", " << o.out_channels() << ", kernel_size=" << o.kernel_size()
       << ", stride=" << o.stride();
    const ConvPadding& p = o.padding();
    if (p.mode != ConvPadding::Mode::Explicit || p.size != Pair2(0)) detail::print_padding(os << ", padding=", p);
    if (o.dilation() != Pair2(1)) os << ", dilation=" << o.dilation();
    if (o.groups() != 1) os << ", groups=" << o.groups();
    if (!o.bias()) os << ", bias=False";
    if (o.padding_mode() != PaddingMode::Zeros) os << ", padding_mode=" << padding_mode_name(o.padding_mode());
    os << ")";
  }

  Conv2dOptions options;
  Tensor<T> weight, bias;

 private:
  PadMode pad_mode() const {
    switch (options.padding_mode()) {
      case PaddingMode::Reflect: return PadMode::Reflect;
      case PaddingMode::Replicate: return PadMode::Replicate;
      case PaddingMode::Circular: return PadMode::Circular;
      default: return PadMode::Constant;
    }
  }
};

template <class T>
class ConvTranspose2dImplT : public ModuleT<T> {
 public:
  ConvTranspose2dImplT(int64_t in_channels, int64_t out_channels, Pair2 kernel_size,
                       Generator& gen = default_generator())
      : ConvTranspose2dImplT(ConvTranspose2dOptions(in_channels, out_channels, kernel_size), gen) {}
  explicit ConvTranspose2dImplT(const ConvTranspose2dOptions& options, Generator& gen = default_generator())
      : ModuleT<T>("ConvTranspose2d"), options(options) {
    const auto& o = options;
    detail::check_conv_common("ConvTranspose2d", o.in_channels(), o.out_channels(), o.kernel_size(), o.stride(),
                              o.dilation(), o.groups());
    CRISP_CHECK(o.padding_mode() == PaddingMode::Zeros, ValueError, "ConvTranspose2d",
                "only the zeros padding_mode is supported, got ", padding_mode_name(o.padding_mode()));
    CRISP_CHECK(o.padding().h >= 0 && o.padding().w >= 0, ValueError, "ConvTranspose2d",
                "expected a non-negative padding, got ", o.padding());
    weight = this->register_parameter(
        "weight", Tensor<T>::empty({o.in_channels(), o.out_channels() / o.groups(), o.kernel_size().h, o.kernel_size().w}));
    if (o.bias()) bias = this->register_parameter("bias", Tensor<T>::empty({o.out_channels()}));
    reset_parameters(gen);
  }

  void reset_parameters(Generator& gen = default_generator()) { detail::reset_conv_parameters(weight, bias, gen); }

  // output_size {H, W} picks the output_padding that gives that size, as PyTorch's
  // forward(input, output_size); it must lie in [min, min + stride - 1].
  Tensor<T> forward(const Tensor<T>& input, std::optional<Pair2> output_size = std::nullopt) {
    const auto& o = options;
    const Pair2 op = output_size ? output_padding_for(input, *output_size) : o.output_padding();
    return conv_transpose2d(input, weight, bias, o.stride(), o.padding(), op, o.groups(), o.dilation());
  }

  void pretty_print(std::ostream& os) const override {
    const auto& o = options;
    os << "ConvTranspose2d(" << o.in_channels() << ", " << o.out_channels() << ", kernel_size=" << o.kernel_size()
       << ", stride=" << o.stride();
    if (o.padding() != Pair2(0)) os << ", padding=" << o.padding();
    if (o.dilation() != Pair2(1)) os << ", dilation=" << o.dilation();
    if (o.output_padding() != Pair2(0)) os << ", output_padding=" << o.output_padding();
    if (o.groups() != 1) os << ", groups=" << o.groups();
    if (!o.bias()) os << ", bias=False";
    os << ")";
  }

  ConvTranspose2dOptions options;
  Tensor<T> weight, bias;

 private:
  Pair2 output_padding_for(const Tensor<T>& input, Pair2 size) const {
    const auto& o = options;
    CRISP_CHECK(input.dim() == 3 || input.dim() == 4, ShapeError, "ConvTranspose2d",
                "expected a 3-d or 4-d input, got shape ", input.shape());
    const int64_t in_h = input.size(-2), in_w = input.size(-1);
    const int64_t min_h = (in_h - 1) * o.stride().h - 2 * o.padding().h + o.dilation().h * (o.kernel_size().h - 1) + 1;
    const int64_t min_w = (in_w - 1) * o.stride().w - 2 * o.padding().w + o.dilation().w * (o.kernel_size().w - 1) + 1;
    CRISP_CHECK(size.h >= min_h && size.h < min_h + o.stride().h && size.w >= min_w && size.w < min_w + o.stride().w,
                ValueError, "ConvTranspose2d", "requested an output size of ", size, ", but valid sizes range from (",
                min_h, ", ", min_w, ") to (", min_h + o.stride().h - 1, ", ", min_w + o.stride().w - 1,
                ") for input of shape ", input.shape());
    return {size.h - min_h, size.w - min_w};
  }
};

template <class T> using Conv2dT = ModuleHolder<Conv2dImplT<T>>;
template <class T> using ConvTranspose2dT = ModuleHolder<ConvTranspose2dImplT<T>>;
using Conv2dImpl = Conv2dImplT<float>;
using ConvTranspose2dImpl = ConvTranspose2dImplT<float>;
using Conv2d = Conv2dT<float>;
using ConvTranspose2d = ConvTranspose2dT<float>;

}  // namespace crisp::nn
