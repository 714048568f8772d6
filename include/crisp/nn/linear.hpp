// Linear (y = x W^T + b, PyTorch's parameters and default init), Flatten and Identity modules.
#pragma once

#include <cmath>
#include <ostream>

#include "crisp/nn/init.hpp"
#include "crisp/nn/module_holder.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/ops/arithmetic.hpp"
#include "crisp/ops/matmul.hpp"

namespace crisp::nn {

struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features) : in_features_(in_features), out_features_(out_features) {}
  CRISP_ARG(int64_t, in_features);
  CRISP_ARG(int64_t, out_features);
  CRISP_ARG(bool, bias) = true;
};

// weight [out_features, in_features], bias [out_features]; both U(-1/sqrt(in), 1/sqrt(in)) as
// PyTorch's kaiming_uniform_(a = sqrt(5)) and bias rule.
template <class T>
class LinearImplT : public ModuleT<T> {
 public:
  LinearImplT(int64_t in_features, int64_t out_features, Generator& gen = default_generator())
      : LinearImplT(LinearOptions(in_features, out_features), gen) {}
  explicit LinearImplT(const LinearOptions& options, Generator& gen = default_generator())
      : ModuleT<T>("Linear"), options(options) {
    CRISP_CHECK(options.in_features() >= 0 && options.out_features() >= 0, ValueError, "Linear",
                "expected non-negative in_features and out_features, got ", options.in_features(), " and ",
                options.out_features());
    weight = this->register_parameter("weight", Tensor<T>::empty({options.out_features(), options.in_features()}));
    if (options.bias()) bias = this->register_parameter("bias", Tensor<T>::empty({options.out_features()}));
    reset_parameters(gen);
  }

  void reset_parameters(Generator& gen = default_generator()) {
    init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, init::Nonlinearity::LeakyReLU, gen);
    if (bias.defined()) {
      const int64_t fan_in = options.in_features();
      const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
      init::uniform_(bias, -bound, bound, gen);
    }
  }

  Tensor<T> forward(const Tensor<T>& x) {
    CRISP_CHECK(x.dim() >= 1 && x.size(-1) == options.in_features(), ShapeError, "Linear",
                "expected input with last dim ", options.in_features(), ", got shape ", x.shape());
    Tensor<T> y = matmul(x, weight.t());
    return bias.defined() ? y + bias : y;
  }
  void pretty_print(std::ostream& os) const override {
    os << "Linear(in_features=" << options.in_features() << ", out_features=" << options.out_features()
       << ", bias=" << (options.bias() ? "True" : "False") << ")";
  }

  LinearOptions options;
  Tensor<T> weight, bias;
};

struct FlattenOptions {
  CRISP_ARG(int64_t, start_dim) = 1;
  CRISP_ARG(int64_t, end_dim) = -1;
};

template <class T>
class FlattenImplT : public ModuleT<T> {
 public:
  explicit FlattenImplT(const FlattenOptions& options = {}) : ModuleT<T>("Flatten"), options(options) {}
  Tensor<T> forward(const Tensor<T>& x) { return flatten(x, options.start_dim(), options.end_dim()); }
  void pretty_print(std::ostream& os) const override {
    os << "Flatten(start_dim=" << options.start_dim() << ", end_dim=" << options.end_dim() << ")";
  }
  FlattenOptions options;
};

template <class T>
class IdentityImplT : public ModuleT<T> {
 public:
  IdentityImplT() : ModuleT<T>("Identity") {}
  Tensor<T> forward(const Tensor<T>& x) { return x; }
  void pretty_print(std::ostream& os) const override { os << "Identity()"; }
};

template <class T> using LinearT = ModuleHolder<LinearImplT<T>>;
template <class T> using FlattenT = ModuleHolder<FlattenImplT<T>>;
template <class T> using IdentityT = ModuleHolder<IdentityImplT<T>>;
using LinearImpl = LinearImplT<float>;
using FlattenImpl = FlattenImplT<float>;
using IdentityImpl = IdentityImplT<float>;
using Linear = LinearT<float>;
using Flatten = FlattenT<float>;
using Identity = IdentityT<float>;

}  // namespace crisp::nn
