// Activation modules: ReLU, LeakyReLU, Sigmoid, Tanh, wrapping the functional ops of
// ops/activation.hpp with libtorch's names and options.
#pragma once

#include <ostream>

#include "crisp/nn/module_holder.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/ops/activation.hpp"

namespace crisp::nn {

// `inplace` is accepted so that ported code (nn.ReLU(True)) reads the same; crisp computes the
// result out of place, which gives the same values.
struct ReLUOptions {
  ReLUOptions(bool inplace = false) : inplace_(inplace) {}  // NOLINT: implicit, as libtorch
  CRISP_ARG(bool, inplace);
};

template <class T>
class ReLUImplT : public ModuleT<T> {
 public:
  explicit ReLUImplT(const ReLUOptions& options = {}) : ModuleT<T>("ReLU"), options(options) {}
  Tensor<T> forward(const Tensor<T>& x) { return relu(x); }
  void pretty_print(std::ostream& os) const override { os << "ReLU(" << (options.inplace() ? "inplace=True" : "") << ")"; }
  ReLUOptions options;
};

struct LeakyReLUOptions {
  CRISP_ARG(double, negative_slope) = 0.01;
  CRISP_ARG(bool, inplace) = false;
};

template <class T>
class LeakyReLUImplT : public ModuleT<T> {
 public:
  explicit LeakyReLUImplT(const LeakyReLUOptions& options = {}) : ModuleT<T>("LeakyReLU"), options(options) {}
  Tensor<T> forward(const Tensor<T>& x) { return leaky_relu(x, static_cast<T>(options.negative_slope())); }
  void pretty_print(std::ostream& os) const override {
    os << "LeakyReLU(negative_slope=" << options.negative_slope() << (options.inplace() ? ", inplace=True" : "") << ")";
  }
  LeakyReLUOptions options;
};

template <class T>
class SigmoidImplT : public ModuleT<T> {
 public:
  SigmoidImplT() : ModuleT<T>("Sigmoid") {}
  Tensor<T> forward(const Tensor<T>& x) { return sigmoid(x); }
  void pretty_print(std::ostream& os) const override { os << "Sigmoid()"; }
};

template <class T>
class TanhImplT : public ModuleT<T> {
 public:
  TanhImplT() : ModuleT<T>("Tanh") {}
  Tensor<T> forward(const Tensor<T>& x) { return crisp::tanh(x); }
  void pretty_print(std::ostream& os) const override { os << "Tanh()"; }
};

template <class T> using ReLUT = ModuleHolder<ReLUImplT<T>>;
template <class T> using LeakyReLUT = ModuleHolder<LeakyReLUImplT<T>>;
template <class T> using SigmoidT = ModuleHolder<SigmoidImplT<T>>;
template <class T> using TanhT = ModuleHolder<TanhImplT<T>>;
using ReLUImpl = ReLUImplT<float>;
using LeakyReLUImpl = LeakyReLUImplT<float>;
using SigmoidImpl = SigmoidImplT<float>;
using TanhImpl = TanhImplT<float>;
using ReLU = ReLUT<float>;
using LeakyReLU = LeakyReLUT<float>;
using Sigmoid = SigmoidT<float>;
using Tanh = TanhT<float>;

}  // namespace crisp::nn
