// Upsample module: resizes NCHW images to a size or by a scale factor, nearest or bilinear, with
// libtorch's UpsampleOptions, over crisp::interpolate.
#pragma once

#include <optional>
#include <ostream>
#include <utility>
#include <vector>

#include "crisp/nn/module_holder.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/ops/resize.hpp"

namespace crisp::nn {

// Give size or scale_factor. align_corners unset means false (PyTorch's None); it may only be
// set with Bilinear.
struct UpsampleOptions {
  CRISP_ARG(std::optional<Pair2>, size) = std::nullopt;
  CRISP_ARG(InterpolateMode, mode) = InterpolateMode::Nearest;
  CRISP_ARG(std::optional<bool>, align_corners) = std::nullopt;

 public:
  UpsampleOptions& scale_factor(double s) { return scale_factor(s, s); }
  UpsampleOptions& scale_factor(double h, double w) {
    scale_factor_ = std::pair{h, w};
    return *this;
  }
  // libtorch's form: one factor per spatial dim ({2.0, 2.0}) or one for both.
  UpsampleOptions& scale_factor(const std::vector<double>& s) {
    CRISP_CHECK(s.size() == 1 || s.size() == 2, ValueError, "UpsampleOptions",
                "expected 1 or 2 scale factors, got ", s.size());
    return scale_factor(s.front(), s.back());
  }
  const std::optional<std::pair<double, double>>& scale_factor() const { return scale_factor_; }

 private:
  std::optional<std::pair<double, double>> scale_factor_;
};

template <class T>
class UpsampleImplT : public ModuleT<T> {
 public:
  explicit UpsampleImplT(const UpsampleOptions& options = {}) : ModuleT<T>("Upsample"), options(options) {
    CRISP_CHECK(options.size().has_value() != options.scale_factor().has_value(), ValueError, "Upsample",
                "expected exactly one of size and scale_factor, got ", options.size() ? "both" : "neither");
  }
  Tensor<T> forward(const Tensor<T>& x) {
    return interpolate(x, options.size(), options.scale_factor(), options.mode(), options.align_corners().value_or(false));
  }
  void pretty_print(std::ostream& os) const override {
    os << "Upsample(";
    if (options.size()) os << "size=" << *options.size();
    else os << "scale_factor=(" << options.scale_factor()->first << ", " << options.scale_factor()->second << ")";
    os << ", mode='" << (options.mode() == InterpolateMode::Nearest ? "nearest" : "bilinear") << "')";
  }
  UpsampleOptions options;
};

template <class T> using UpsampleT = ModuleHolder<UpsampleImplT<T>>;
using UpsampleImpl = UpsampleImplT<float>;
using Upsample = UpsampleT<float>;

}  // namespace crisp::nn
