// Padding modules: ReflectionPad2d, ReplicationPad2d, ZeroPad2d, ConstantPad2d, with libtorch's
// options (one int for all sides, or {left, right, top, bottom}) over crisp::pad.
#pragma once

#include <ostream>
#include <vector>

#include "crisp/nn/module_holder.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/ops/padding.hpp"

namespace crisp::nn {

// Padding of the four sides of an image, in F.pad's order.
struct Pad4 {
  int64_t left = 0, right = 0, top = 0, bottom = 0;
  Pad4(int64_t all) : left(all), right(all), top(all), bottom(all) {}  // NOLINT: implicit, as ExpandingArray
  Pad4(int64_t l, int64_t r, int64_t t, int64_t b) : left(l), right(r), top(t), bottom(b) {}
  std::vector<int64_t> to_vector() const { return {left, right, top, bottom}; }
  friend std::ostream& operator<<(std::ostream& os, const Pad4& p) {
    return os << '(' << p.left << ", " << p.right << ", " << p.top << ", " << p.bottom << ')';
  }
};

struct ReflectionPad2dOptions {
  ReflectionPad2dOptions(Pad4 padding) : padding_(padding) {}  // NOLINT: implicit, as libtorch
  CRISP_ARG(Pad4, padding);
};
struct ReplicationPad2dOptions {
  ReplicationPad2dOptions(Pad4 padding) : padding_(padding) {}  // NOLINT
  CRISP_ARG(Pad4, padding);
};
struct ZeroPad2dOptions {
  ZeroPad2dOptions(Pad4 padding) : padding_(padding) {}  // NOLINT
  CRISP_ARG(Pad4, padding);
};
struct ConstantPad2dOptions {
  ConstantPad2dOptions(Pad4 padding, double value) : padding_(padding), value_(value) {}
  CRISP_ARG(Pad4, padding);
  CRISP_ARG(double, value);
};

namespace detail {
// One module per mode; Options carries padding() (and value() for Constant).
template <class T, class Options, PadMode Mode>
class PadImplBase : public ModuleT<T> {
 public:
  PadImplBase(const char* name, const Options& options) : ModuleT<T>(name), options(options) {}
  Tensor<T> forward(const Tensor<T>& x) {
    if constexpr (requires { options.value(); })
      return pad(x, options.padding().to_vector(), Mode, static_cast<T>(options.value()));
    else
      return pad(x, options.padding().to_vector(), Mode);
  }
  void pretty_print(std::ostream& os) const override {
    os << this->name() << "(" << options.padding();
    if constexpr (requires { options.value(); }) os << ", value=" << options.value();
    os << ")";
  }
  Options options;
};
}  // namespace detail

template <class T>
struct ReflectionPad2dImplT : detail::PadImplBase<T, ReflectionPad2dOptions, PadMode::Reflect> {
  explicit ReflectionPad2dImplT(const ReflectionPad2dOptions& o)
      : detail::PadImplBase<T, ReflectionPad2dOptions, PadMode::Reflect>("ReflectionPad2d", o) {}
  explicit ReflectionPad2dImplT(Pad4 padding) : ReflectionPad2dImplT(ReflectionPad2dOptions(padding)) {}
};
template <class T>
struct ReplicationPad2dImplT : detail::PadImplBase<T, ReplicationPad2dOptions, PadMode::Replicate> {
  explicit ReplicationPad2dImplT(const ReplicationPad2dOptions& o)
      : detail::PadImplBase<T, ReplicationPad2dOptions, PadMode::Replicate>("ReplicationPad2d", o) {}
  explicit ReplicationPad2dImplT(Pad4 padding) : ReplicationPad2dImplT(ReplicationPad2dOptions(padding)) {}
};
template <class T>
struct ZeroPad2dImplT : detail::PadImplBase<T, ZeroPad2dOptions, PadMode::Constant> {
  explicit ZeroPad2dImplT(const ZeroPad2dOptions& o)
      : detail::PadImplBase<T, ZeroPad2dOptions, PadMode::Constant>("ZeroPad2d", o) {}
  explicit ZeroPad2dImplT(Pad4 padding) : ZeroPad2dImplT(ZeroPad2dOptions(padding)) {}
};
template <class T>
struct ConstantPad2dImplT : detail::PadImplBase<T, ConstantPad2dOptions, PadMode::Constant> {
  explicit ConstantPad2dImplT(const ConstantPad2dOptions& o)
      : detail::PadImplBase<T, ConstantPad2dOptions, PadMode::Constant>("ConstantPad2d", o) {}
  ConstantPad2dImplT(Pad4 padding, double value) : ConstantPad2dImplT(ConstantPad2dOptions(padding, value)) {}
};

template <class T> using ReflectionPad2dT = ModuleHolder<ReflectionPad2dImplT<T>>;
template <class T> using ReplicationPad2dT = ModuleHolder<ReplicationPad2dImplT<T>>;
template <class T> using ZeroPad2dT = ModuleHolder<ZeroPad2dImplT<T>>;
template <class T> using ConstantPad2dT = ModuleHolder<ConstantPad2dImplT<T>>;
using ReflectionPad2dImpl = ReflectionPad2dImplT<float>;
using ReplicationPad2dImpl = ReplicationPad2dImplT<float>;
using ZeroPad2dImpl = ZeroPad2dImplT<float>;
using ConstantPad2dImpl = ConstantPad2dImplT<float>;
using ReflectionPad2d = ReflectionPad2dT<float>;
using ReplicationPad2d = ReplicationPad2dT<float>;
using ZeroPad2d = ZeroPad2dT<float>;
using ConstantPad2d = ConstantPad2dT<float>;

}  // namespace crisp::nn
