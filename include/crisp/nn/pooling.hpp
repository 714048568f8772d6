// Pooling modules: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, with libtorch's options (stride
// defaults to the kernel size) over the functional ops of ops/pooling.hpp.
#pragma once

#include <optional>
#include <ostream>

#include "crisp/nn/module_holder.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/ops/pooling.hpp"

namespace crisp::nn {

struct MaxPool2dOptions {
  MaxPool2dOptions(Pair2 kernel_size) : kernel_size_(kernel_size), stride_(kernel_size) {}  // NOLINT: as libtorch
  CRISP_ARG(Pair2, kernel_size);
  CRISP_ARG(Pair2, stride);
  CRISP_ARG(Pair2, padding) = 0;
  CRISP_ARG(Pair2, dilation) = 1;
  CRISP_ARG(bool, ceil_mode) = false;
};

struct AvgPool2dOptions {
  AvgPool2dOptions(Pair2 kernel_size) : kernel_size_(kernel_size), stride_(kernel_size) {}  // NOLINT: as libtorch
  CRISP_ARG(Pair2, kernel_size);
  CRISP_ARG(Pair2, stride);
  CRISP_ARG(Pair2, padding) = 0;
  CRISP_ARG(bool, ceil_mode) = false;
  CRISP_ARG(bool, count_include_pad) = true;
  CRISP_ARG(std::optional<int64_t>, divisor_override) = std::nullopt;
};

struct AdaptiveAvgPool2dOptions {
  AdaptiveAvgPool2dOptions(Pair2 output_size) : output_size_(output_size) {}  // NOLINT: as libtorch
  CRISP_ARG(Pair2, output_size);
};

template <class T>
class MaxPool2dImplT : public ModuleT<T> {
 public:
  explicit MaxPool2dImplT(Pair2 size) : MaxPool2dImplT(MaxPool2dOptions(size)) {}
  explicit MaxPool2dImplT(const MaxPool2dOptions& options) : ModuleT<T>("MaxPool2d"), options(options) {}
  Tensor<T> forward(const Tensor<T>& x) {
    const auto& o = options;
    return max_pool2d(x, o.kernel_size(), o.stride(), o.padding(), o.dilation(), o.ceil_mode());
  }
  // The output and the flat (h * W + w) index of each maximum, as forward_with_indices in libtorch.
  std::pair<Tensor<T>, Tensor<int64_t>> forward_with_indices(const Tensor<T>& x) {
    const auto& o = options;
    return max_pool2d_with_indices(x, o.kernel_size(), o.stride(), o.padding(), o.dilation(), o.ceil_mode());
  }
  void pretty_print(std::ostream& os) const override {
    const auto& o = options;
    os << "MaxPool2d(kernel_size=" << o.kernel_size() << ", stride=" << o.stride() << ", padding=" << o.padding()
       << ", dilation=" << o.dilation() << ", ceil_mode=" << (o.ceil_mode() ? "True" : "False") << ")";
  }
  MaxPool2dOptions options;
};

template <class T>
class AvgPool2dImplT : public ModuleT<T> {
 public:
  explicit AvgPool2dImplT(Pair2 size) : AvgPool2dImplT(AvgPool2dOptions(size)) {}
  explicit AvgPool2dImplT(const AvgPool2dOptions& options) : ModuleT<T>("AvgPool2d"), options(options) {}
  Tensor<T> forward(const Tensor<T>& x) {
    const auto& o = options;
    return avg_pool2d(x, o.kernel_size(), o.stride(), o.padding(), o.ceil_mode(), o.count_include_pad(),
                      o.divisor_override());
  }
  void pretty_print(std::ostream& os) const override {
    const auto& o = options;
    os << "AvgPool2d(kernel_size=" << o.kernel_size() << ", stride=" << o.stride() << ", padding=" << o.padding() << ")";
  }
  AvgPool2dOptions options;
};

template <class T>
class AdaptiveAvgPool2dImplT : public ModuleT<T> {
 public:
  explicit AdaptiveAvgPool2dImplT(Pair2 size) : AdaptiveAvgPool2dImplT(AdaptiveAvgPool2dOptions(size)) {}
  explicit AdaptiveAvgPool2dImplT(const AdaptiveAvgPool2dOptions& options)
      : ModuleT<T>("AdaptiveAvgPool2d"), options(options) {}
  Tensor<T> forward(const Tensor<T>& x) { return adaptive_avg_pool2d(x, options.output_size()); }
  void pretty_print(std::ostream& os) const override {
    os << "AdaptiveAvgPool2d(output_size=" << options.output_size() << ")";
  }
  AdaptiveAvgPool2dOptions options;
};

template <class T> using MaxPool2dT = ModuleHolder<MaxPool2dImplT<T>>;
template <class T> using AvgPool2dT = ModuleHolder<AvgPool2dImplT<T>>;
template <class T> using AdaptiveAvgPool2dT = ModuleHolder<AdaptiveAvgPool2dImplT<T>>;
using MaxPool2dImpl = MaxPool2dImplT<float>;
using AvgPool2dImpl = AvgPool2dImplT<float>;
using AdaptiveAvgPool2dImpl = AdaptiveAvgPool2dImplT<float>;
using MaxPool2d = MaxPool2dT<float>;
using AvgPool2d = AvgPool2dT<float>;
using AdaptiveAvgPool2d = AdaptiveAvgPool2dT<float>;

}  // namespace crisp::nn
