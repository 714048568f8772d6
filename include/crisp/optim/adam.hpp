// crisp::optim::Adam and AdamW, as torch::optim::Adam / AdamW, with the exact update of
// torch.optim.Adam / AdamW (single-tensor implementation of torch 1.13 / 2.x), amsgrad included.
#pragma once

// Per parameter p with gradient g, after step += 1 (all in T, options converted once):
//   g = maximize ? -g : g
//   AdamW: p = p * (1 - lr * weight_decay)            (decoupled decay, before the moments)
//   Adam:  g = g + weight_decay * p                   (L2 penalty added to the gradient)
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
//   bias_correction1 = 1 - beta1^step;  bias_correction2 = 1 - beta2^step     (in double)
//   amsgrad: vmax = max(vmax, v) and v_used = vmax, else v_used = v
//   denom = sqrt(v_used) / sqrt(bias_correction2) + eps    (eps outside the square root, after
//                                                           the bias correction, as PyTorch)
//   p = p - (lr / bias_correction1) * m / denom
// The operations run in torch 1.13's order (mul_ then add_ for the moments); torch 2.x's lerp_
// for the first moment differs from it only in rounding.

#include <algorithm>
#include <cmath>
#include <memory>
#include <tuple>

#include "crisp/backend/optim.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/optim/optimizer.hpp"

namespace crisp::optim {

// Adam's and AdamW's options: the same fields (only weight_decay's default differs), written
// out by one macro so that every chained setter returns the concrete options type.
#define CRISP_ADAM_OPTIONS(Name, default_weight_decay)                                                          \
  struct Name : public OptimizerOptions {                                                                       \
    Name(double lr = 1e-3) : lr_(lr) {} /* NOLINT: implicit, as libtorch */                                     \
    CRISP_ARG(double, lr);                                                                                      \
    CRISP_ARG(Betas, betas) = Betas{0.9, 0.999};                                                                \
    CRISP_ARG(double, eps) = 1e-8;                                                                              \
    CRISP_ARG(double, weight_decay) = default_weight_decay;                                                     \
    CRISP_ARG(bool, amsgrad) = false;                                                                           \
    CRISP_ARG(bool, maximize) = false;                                                                          \
                                                                                                                \
   public:                                                                                                      \
    std::unique_ptr<OptimizerOptions> clone() const override { return std::make_unique<Name>(*this); }        \
    double get_lr() const override { return lr_; }                                                              \
    void set_lr(double lr) override { lr_ = lr; }                                                               \
    void serialize(FieldIO& io) override { detail::serialize_adam_options(io, lr_, betas_, eps_, weight_decay_, amsgrad_, maximize_); } \
    void validate(const char* op) const override { detail::validate_adam_options(op, lr_, betas_, eps_, weight_decay_); } \
  }

using Betas = std::tuple<double, double>;

namespace detail {
inline void serialize_adam_options(FieldIO& io, double& lr, Betas& betas, double& eps, double& weight_decay,
                                   bool& amsgrad, bool& maximize) {
  io.real("lr", lr);
  io.real("beta1", std::get<0>(betas));
  io.real("beta2", std::get<1>(betas));
  io.real("eps", eps);
  io.real("weight_decay", weight_decay);
  io.boolean("amsgrad", amsgrad);
  io.boolean("maximize", maximize);
}
inline void validate_adam_options(const char* op, double lr, const Betas& betas, double eps, double weight_decay) {
  const auto [b1, b2] = betas;
  CRISP_CHECK(lr >= 0, ValueError, op, "invalid learning rate: expected lr >= 0, got ", lr);
  CRISP_CHECK(eps >= 0, ValueError, op, "invalid epsilon value: expected eps >= 0, got ", eps);
  CRISP_CHECK(b1 >= 0 && b1 < 1, ValueError, op, "invalid beta parameter at index 0: expected [0, 1), got ", b1);
  CRISP_CHECK(b2 >= 0 && b2 < 1, ValueError, op, "invalid beta parameter at index 1: expected [0, 1), got ", b2);
  CRISP_CHECK(weight_decay >= 0, ValueError, op, "invalid weight_decay value: expected >= 0, got ", weight_decay);
}
}  // namespace detail

CRISP_ADAM_OPTIONS(AdamOptions, 0.0);
// AdamW's weight decay defaults to 1e-2, as in PyTorch.
CRISP_ADAM_OPTIONS(AdamWOptions, 1e-2);
#undef CRISP_ADAM_OPTIONS

template <class T>
struct AdamParamState : public OptimizerParamState<T> {
  int64_t step = 0;
  Tensor<T> exp_avg, exp_avg_sq, max_exp_avg_sq;  // max_exp_avg_sq only with amsgrad
  void tensors(const std::function<void(const char*, Tensor<T>&)>& f) override {
    f("exp_avg", exp_avg);
    f("exp_avg_sq", exp_avg_sq);
    f("max_exp_avg_sq", max_exp_avg_sq);
  }
  void serialize(FieldIO& io) override { io.integer("step", step); }
};

namespace detail {
template <class T, class Options, bool Decoupled>
class AdamCore : public OptimizerT<T> {
 public:
  AdamParamState<T>* param_state(const Tensor<T>& p) const { return static_cast<AdamParamState<T>*>(this->state(p)); }

 protected:
  explicit AdamCore(const Options& defaults) : OptimizerT<T>(std::make_unique<Options>(defaults)) {}

  std::unique_ptr<OptimizerParamState<T>> make_state() const override { return std::make_unique<AdamParamState<T>>(); }
  std::vector<std::string> required_state(const OptimizerOptions& o) const override {
    if (static_cast<const Options&>(o).amsgrad()) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
    return {"exp_avg", "exp_avg_sq"};
  }
  void update(Tensor<T>& param, const Tensor<T>& grad, OptimizerParamState<T>& state_base,
              const OptimizerOptions& opts_base) override {
    const auto& o = static_cast<const Options&>(opts_base);
    auto& st = static_cast<AdamParamState<T>&>(state_base);
    auto zeros = [&](Tensor<T>& t) {
      if (!t.defined()) t = Tensor<T>::empty(param.shape(), param.device()), t.zero_();
    };
    zeros(st.exp_avg);
    zeros(st.exp_avg_sq);
    if (o.amsgrad()) zeros(st.max_exp_avg_sq);
    st.step += 1;
    AdamStep args;
    args.lr = o.lr();
    std::tie(args.beta1, args.beta2) = o.betas();
    args.eps = o.eps();
    args.weight_decay = o.weight_decay();
    args.amsgrad = o.amsgrad();
    args.maximize = o.maximize();
    args.decoupled = Decoupled;
    args.step = st.step;
    backend::adam_step(param, grad.is_contiguous() ? grad : grad.contiguous(), st.exp_avg, st.exp_avg_sq,
                       o.amsgrad() ? st.max_exp_avg_sq : Tensor<T>(), args);
  }
};
}  // namespace detail

template <class T>
class AdamT : public detail::AdamCore<T, AdamOptions, false> {
 public:
  AdamT(const std::vector<OptimizerParamGroupT<T>>& groups, const AdamOptions& defaults = {})
      : detail::AdamCore<T, AdamOptions, false>(defaults) {
    this->init_groups(groups);
  }
  AdamT(const std::vector<Tensor<T>>& params, const AdamOptions& defaults = {})
      : AdamT(std::vector<OptimizerParamGroupT<T>>{OptimizerParamGroupT<T>(params)}, defaults) {}
  std::string name() const override { return "Adam"; }
};
using Adam = AdamT<float>;

template <class T>
class AdamWT : public detail::AdamCore<T, AdamWOptions, true> {
 public:
  AdamWT(const std::vector<OptimizerParamGroupT<T>>& groups, const AdamWOptions& defaults = {})
      : detail::AdamCore<T, AdamWOptions, true>(defaults) {
    this->init_groups(groups);
  }
  AdamWT(const std::vector<Tensor<T>>& params, const AdamWOptions& defaults = {})
      : AdamWT(std::vector<OptimizerParamGroupT<T>>{OptimizerParamGroupT<T>(params)}, defaults) {}
  std::string name() const override { return "AdamW"; }
};
using AdamW = AdamWT<float>;

}  // namespace crisp::optim
