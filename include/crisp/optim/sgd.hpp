// crisp::optim::SGD: stochastic gradient descent with momentum, dampening, Nesterov momentum and
// weight decay, as torch::optim::SGD and with torch.optim.SGD's exact update.
#pragma once

// Per parameter p with gradient g (PyTorch's single-tensor implementation):
//   d = maximize ? -g : g;   if weight_decay != 0: d = d + weight_decay * p
//   if momentum != 0:
//     buf = (first step) ? d : momentum * buf + (1 - dampening) * d   (no dampening on the first step)
//     d = nesterov ? d + momentum * buf : buf
//   p = p - lr * d
// The options are converted to T once per step; one fused loop per parameter.

#include <memory>

#include "crisp/backend/optim.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/optim/optimizer.hpp"

namespace crisp::optim {

struct SGDOptions : public OptimizerOptions {
  SGDOptions(double lr) : lr_(lr) {}  // NOLINT: implicit, as libtorch (SGD(params, 0.1))
  CRISP_ARG(double, lr);
  CRISP_ARG(double, momentum) = 0;
  CRISP_ARG(double, dampening) = 0;
  CRISP_ARG(double, weight_decay) = 0;
  CRISP_ARG(bool, nesterov) = false;
  CRISP_ARG(bool, maximize) = false;

 public:
  std::unique_ptr<OptimizerOptions> clone() const override { return std::make_unique<SGDOptions>(*this); }
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  void serialize(FieldIO& io) override {
    io.real("lr", lr_);
    io.real("momentum", momentum_);
    io.real("dampening", dampening_);
    io.real("weight_decay", weight_decay_);
    io.boolean("nesterov", nesterov_);
    io.boolean("maximize", maximize_);
  }
  void validate(const char* op) const override {
    CRISP_CHECK(lr_ >= 0, ValueError, op, "invalid learning rate: expected lr >= 0, got ", lr_);
    CRISP_CHECK(momentum_ >= 0, ValueError, op, "invalid momentum value: expected >= 0, got ", momentum_);
    CRISP_CHECK(weight_decay_ >= 0, ValueError, op, "invalid weight_decay value: expected >= 0, got ", weight_decay_);
    CRISP_CHECK(!nesterov_ || (momentum_ > 0 && dampening_ == 0), ValueError, op,
                "nesterov momentum requires a momentum and zero dampening, got momentum ", momentum_, " and dampening ",
                dampening_);
  }
};

template <class T>
struct SGDParamState : public OptimizerParamState<T> {
  Tensor<T> momentum_buffer;  // undefined while momentum is 0
  void tensors(const std::function<void(const char*, Tensor<T>&)>& f) override { f("momentum_buffer", momentum_buffer); }
};

template <class T>
class SGDT : public OptimizerT<T> {
 public:
  SGDT(const std::vector<OptimizerParamGroupT<T>>& groups, const SGDOptions& defaults)
      : OptimizerT<T>(std::make_unique<SGDOptions>(defaults)) {
    this->init_groups(groups);
  }
  SGDT(const std::vector<Tensor<T>>& params, const SGDOptions& defaults)
      : SGDT(std::vector<OptimizerParamGroupT<T>>{OptimizerParamGroupT<T>(params)}, defaults) {}

  std::string name() const override { return "SGD"; }
  SGDParamState<T>* param_state(const Tensor<T>& p) const { return static_cast<SGDParamState<T>*>(this->state(p)); }

 protected:
  std::unique_ptr<OptimizerParamState<T>> make_state() const override { return std::make_unique<SGDParamState<T>>(); }
  std::vector<std::string> required_state(const OptimizerOptions& o) const override {
    if (static_cast<const SGDOptions&>(o).momentum() != 0) return {"momentum_buffer"};
    return {};
  }
  void update(Tensor<T>& param, const Tensor<T>& grad, OptimizerParamState<T>& state_base,
              const OptimizerOptions& opts_base) override {
    const auto& o = static_cast<const SGDOptions&>(opts_base);
    auto& st = static_cast<SGDParamState<T>&>(state_base);
    const bool use_momentum = o.momentum() != 0, first = use_momentum && !st.momentum_buffer.defined();
    if (first) st.momentum_buffer = Tensor<T>::empty(param.shape(), param.device());
    SgdStep args;
    args.lr = o.lr();
    args.momentum = o.momentum();
    args.dampening = o.dampening();
    args.weight_decay = o.weight_decay();
    args.nesterov = o.nesterov();
    args.maximize = o.maximize();
    args.first = first;
    backend::sgd_step(param, grad.is_contiguous() ? grad : grad.contiguous(),
                      use_momentum ? st.momentum_buffer : Tensor<T>(), args);
  }
};
using SGD = SGDT<float>;

}  // namespace crisp::optim
