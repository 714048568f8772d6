// crisp::optim::OptimizerT<T> (optim::Optimizer = OptimizerT<float>): the base of SGD, Adam and
// AdamW, as libtorch's torch::optim::Optimizer - parameter groups with their own options, state
// per parameter, zero_grad, step, and a state dict that a checkpoint stores and restores exactly.
#pragma once

// State dict layout (OptimizerStateDictT: tensors + small values as exact decimal strings), with
// parameters numbered flat across groups in group order, as PyTorch's optimizer.state_dict():
//   values  "type"                     the optimiser's name ("SGD", "Adam", "AdamW")
//           "param_groups"             number of groups
//           "param_groups.<g>.params"  the flat indices of the group's parameters ("0,1,2")
//           "param_groups.<g>.<opt>"   each option of the group (lr, momentum, betas0, ...)
//           "state"                    flat indices of the parameters that have state
//           "state.<i>.<scalar>"       per-parameter counters (Adam's "step")
//   tensors "state.<i>.<buffer>"       momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq
// load_state_dict checks everything first (counts, indices, option values, buffer shapes,
// unexpected keys) and throws one crisp::Error listing every problem before changing anything.

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crisp/autograd/grad_mode.hpp"
#include "crisp/ops/inplace.hpp"
#include "crisp/optim/state_fields.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::optim {

// Hyper-parameters of one parameter group. lr is a double, as in PyTorch, so that schedulers
// compute learning rates in double precision whatever the parameters' type.
class OptimizerOptions {
 public:
  virtual ~OptimizerOptions() = default;
  virtual std::unique_ptr<OptimizerOptions> clone() const = 0;
  virtual double get_lr() const = 0;
  virtual void set_lr(double lr) = 0;
  // Lists the options for state dicts (see FieldIO).
  virtual void serialize(FieldIO& io) = 0;
  // Throws ValueError, naming `op`, when an option is out of range (PyTorch's constructor checks).
  virtual void validate(const char* op) const = 0;
};

template <class T>
struct OptimizerStateDictT {
  std::map<std::string, Tensor<T>> tensors;
  ValueMap values;
};
using OptimizerStateDict = OptimizerStateDictT<float>;

// Per-parameter state (momentum buffer, moments, step count); created on the parameter's first step.
template <class T>
class OptimizerParamState {
 public:
  virtual ~OptimizerParamState() = default;
  // The state's tensor slots by name; a slot not in use is an undefined tensor and is not saved.
  virtual void tensors(const std::function<void(const char*, Tensor<T>&)>& f) = 0;
  // The state's scalars (see FieldIO).
  virtual void serialize(FieldIO&) {}
};

template <class T>
class OptimizerParamGroupT {
 public:
  // A group without options takes a copy of the optimiser's defaults when added.
  OptimizerParamGroupT(std::vector<Tensor<T>> params) : params_(std::move(params)) {}  // NOLINT: implicit, as libtorch
  OptimizerParamGroupT(std::vector<Tensor<T>> params, std::unique_ptr<OptimizerOptions> options)
      : params_(std::move(params)), options_(std::move(options)) {}
  OptimizerParamGroupT(const OptimizerParamGroupT& o)
      : params_(o.params_), options_(o.options_ ? o.options_->clone() : nullptr) {}
  OptimizerParamGroupT& operator=(const OptimizerParamGroupT& o) {
    params_ = o.params_;
    options_ = o.options_ ? o.options_->clone() : nullptr;
    return *this;
  }
  OptimizerParamGroupT(OptimizerParamGroupT&&) noexcept = default;
  OptimizerParamGroupT& operator=(OptimizerParamGroupT&&) noexcept = default;

  bool has_options() const { return options_ != nullptr; }
  OptimizerOptions& options() {
    CRISP_CHECK(options_ != nullptr, Error, "OptimizerParamGroup::options", "the group has no options yet");
    return *options_;
  }
  const OptimizerOptions& options() const { return const_cast<OptimizerParamGroupT*>(this)->options(); }
  void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }
  std::vector<Tensor<T>>& params() { return params_; }
  const std::vector<Tensor<T>>& params() const { return params_; }

 private:
  std::vector<Tensor<T>> params_;
  std::unique_ptr<OptimizerOptions> options_;
};
using OptimizerParamGroup = OptimizerParamGroupT<float>;

// What a learning-rate scheduler sees of an optimiser, whatever its parameters' type.
class OptimizerBase {
 public:
  virtual ~OptimizerBase() = default;
  virtual size_t num_param_groups() const = 0;
  virtual OptimizerOptions& param_group_options(size_t group) = 0;
  virtual const OptimizerOptions& param_group_options(size_t group) const = 0;
};

template <class T>
class OptimizerT : public OptimizerBase {
 public:
  using LossClosure = std::function<Tensor<T>()>;

  OptimizerT(const OptimizerT&) = delete;
  OptimizerT& operator=(const OptimizerT&) = delete;
  ~OptimizerT() override = default;

  // "SGD", "Adam", "AdamW": saved in state dicts, so that one optimiser's state never loads into another.
  virtual std::string name() const = 0;

  // Adds a group; it takes a copy of the defaults when it has no options. A parameter may
  // belong to one group only; every parameter must be a defined leaf tensor.
  void add_param_group(const OptimizerParamGroupT<T>& group) {
    const std::string op = name() + "::add_param_group";
    OptimizerParamGroupT<T> g = group;
    if (!g.has_options()) g.set_options(defaults_->clone());
    g.options().validate(op.c_str());
    for (size_t i = 0; i < g.params().size(); ++i) {
      const Tensor<T>& p = g.params()[i];
      CRISP_CHECK(p.defined(), ValueError, op, "expected defined parameter tensors, got an undefined one at index ", i);
      CRISP_CHECK(p.is_leaf(), ValueError, op, "can't optimize a non-leaf tensor (parameter ", i, ", shape ", p.shape(),
                  ")");
      for (const auto& other : groups_)
        for (const auto& q : other.params())
          CRISP_CHECK(!q.same(p), ValueError, op, "some parameters appear in more than one parameter group (parameter ",
                      i, ", shape ", p.shape(), ")");
      for (size_t j = 0; j < i; ++j)
        CRISP_CHECK(!g.params()[j].same(p), ValueError, op, "parameter ", i, " appears twice in the group");
    }
    state_.emplace_back(g.params().size());
    groups_.push_back(std::move(g));
  }

  const std::vector<OptimizerParamGroupT<T>>& param_groups() const { return groups_; }
  std::vector<OptimizerParamGroupT<T>>& param_groups() { return groups_; }
  size_t num_param_groups() const override { return groups_.size(); }
  OptimizerOptions& param_group_options(size_t g) override { return group_at(g).options(); }
  const OptimizerOptions& param_group_options(size_t g) const override {
    return const_cast<OptimizerT*>(this)->group_at(g).options();
  }
  const OptimizerOptions& defaults() const { return *defaults_; }
  OptimizerOptions& defaults() { return *defaults_; }

  // Every parameter, in group order.
  std::vector<Tensor<T>> parameters() const {
    std::vector<Tensor<T>> out;
    for (const auto& g : groups_) out.insert(out.end(), g.params().begin(), g.params().end());
    return out;
  }
  size_t size() const { return parameters().size(); }

  // The state of `param` (nullptr before its first step or when it is not optimised here).
  OptimizerParamState<T>* state(const Tensor<T>& param) const {
    for (size_t g = 0; g < groups_.size(); ++g)
      for (size_t i = 0; i < groups_[g].params().size(); ++i)
        if (groups_[g].params()[i].same(param)) return state_[g][i].get();
    return nullptr;
  }

  // Resets the gradients: to undefined (set_to_none = true, the default of PyTorch 2 and of
  // libtorch: the next backward writes fresh gradients and the step skips parameters that got
  // none) or to zeros, keeping their storage.
  void zero_grad(bool set_to_none = true) {
    NoGradGuard no_grad;
    for (auto& g : groups_)
      for (auto& p : g.params()) {
        if (!p.grad().defined()) continue;
        if (set_to_none) p.set_grad(Tensor<T>());
        else p.grad().zero_();
      }
  }

  // One update of every parameter that has a gradient. With a closure, calls it first (it
  // usually zeroes the gradients, computes the loss and runs backward) and returns its loss.
  Tensor<T> step(const LossClosure& closure = nullptr) {
    Tensor<T> loss;
    if (closure) loss = closure();
    NoGradGuard no_grad;
    for (size_t g = 0; g < groups_.size(); ++g) {
      auto& group = groups_[g];
      for (size_t i = 0; i < group.params().size(); ++i) {
        Tensor<T> p = group.params()[i];
        Tensor<T> grad = p.grad();
        if (!grad.defined()) continue;
        CRISP_CHECK(grad.shape() == p.shape(), ShapeError, name() + "::step", "expected a gradient of the parameter's shape ",
                    p.shape(), ", got ", grad.shape());
        if (!state_[g][i]) state_[g][i] = make_state();
        if (!grad.is_contiguous()) grad = grad.contiguous();
        if (p.is_contiguous()) {
          update(p, grad, *state_[g][i], group.options());
        } else {  // a strided parameter is updated through a contiguous copy
          Tensor<T> c = p.contiguous();
          update(c, grad, *state_[g][i], group.options());
          p.copy_(c);
        }
      }
    }
    return loss;
  }

  OptimizerStateDictT<T> state_dict() const {
    OptimizerStateDictT<T> sd;
    sd.values["type"] = name();
    sd.values["param_groups"] = std::to_string(groups_.size());
    std::vector<int64_t> with_state;
    int64_t flat = 0;
    for (size_t g = 0; g < groups_.size(); ++g) {
      const std::string gp = "param_groups." + std::to_string(g) + ".";
      std::vector<int64_t> idx;
      for (size_t i = 0; i < groups_[g].params().size(); ++i, ++flat) {
        idx.push_back(flat);
        OptimizerParamState<T>* s = state_[g][i].get();
        if (!s) continue;
        with_state.push_back(flat);
        const std::string sp = "state." + std::to_string(flat) + ".";
        FieldIO io = FieldIO::saver(sd.values, sp);
        s->serialize(io);
        s->tensors([&](const char* n, Tensor<T>& t) {
          if (t.defined()) sd.tensors.emplace(sp + n, t.detach());
        });
      }
      sd.values[gp + "params"] = detail::format_list(idx, detail::format_int);
      FieldIO io = FieldIO::saver(sd.values, gp);
      groups_[g].options().clone()->serialize(io);
    }
    sd.values["state"] = detail::format_list(with_state, detail::format_int);
    return sd;
  }

  // Every problem that would stop load_state_dict(sd), empty when it would succeed.
  std::vector<std::string> check_state_dict(const OptimizerStateDictT<T>& sd) const {
    std::vector<std::string> problems;
    prepare_load(sd, problems);
    return problems;
  }

  // Restores options and state from `sd` (copies its tensors); on any problem throws one
  // crisp::Error listing them all and changes nothing.
  void load_state_dict(const OptimizerStateDictT<T>& sd) {
    std::vector<std::string> problems;
    Prepared prepared = prepare_load(sd, problems);
    if (!problems.empty()) {
      std::string msg = name() + "::load_state_dict: error(s) loading an optimizer state dict (nothing was changed):";
      for (const auto& p : problems) msg += "\n  " + p;
      throw Error(msg);
    }
    for (size_t g = 0; g < groups_.size(); ++g) {
      groups_[g].set_options(std::move(prepared.options[g]));
      for (size_t i = 0; i < groups_[g].params().size(); ++i) state_[g][i] = std::move(prepared.state[g][i]);
    }
  }

 protected:
  explicit OptimizerT(std::unique_ptr<OptimizerOptions> defaults) : defaults_(std::move(defaults)) {}
  void init_groups(const std::vector<OptimizerParamGroupT<T>>& groups) {
    defaults_->validate(name().c_str());
    for (const auto& g : groups) add_param_group(g);
  }

  virtual std::unique_ptr<OptimizerParamState<T>> make_state() const = 0;
  // The tensor slots a state must hold under `options` (checked on load).
  virtual std::vector<std::string> required_state(const OptimizerOptions& options) const = 0;
  // Updates `param` (contiguous) from `grad` (contiguous, same shape); runs under NoGradGuard.
  virtual void update(Tensor<T>& param, const Tensor<T>& grad, OptimizerParamState<T>& state,
                      const OptimizerOptions& options) = 0;

 private:
  struct Prepared {
    std::vector<std::unique_ptr<OptimizerOptions>> options;
    std::vector<std::vector<std::unique_ptr<OptimizerParamState<T>>>> state;
  };

  OptimizerParamGroupT<T>& group_at(size_t g) {
    CRISP_CHECK(g < groups_.size(), ValueError, name(), "param group ", g, " out of range for ", groups_.size(),
                " group(s)");
    return groups_[g];
  }

  Prepared prepare_load(const OptimizerStateDictT<T>& sd, std::vector<std::string>& problems) const {
    Prepared out;
    std::set<std::string> used_values{"type", "param_groups", "state"}, used_tensors;
    auto value = [&](const std::string& key) -> const std::string* {
      auto it = sd.values.find(key);
      if (it == sd.values.end()) {
        problems.push_back("missing value \"" + key + "\"");
        return nullptr;
      }
      return &it->second;
    };
    if (const std::string* t = value("type"); t && *t != name())
      problems.push_back("expected the state of a " + name() + " optimizer, got one of \"" + *t + "\"");
    int64_t ngroups = -1;
    if (const std::string* n = value("param_groups"); n && !(detail::parse_int(*n, ngroups) && ngroups == int64_t(groups_.size())))
      problems.push_back("expected " + std::to_string(groups_.size()) + " param group(s), got \"" + *n + "\"");
    // Groups: the same parameter layout, valid options.
    std::vector<const Tensor<T>*> flat_params;
    std::vector<std::pair<size_t, size_t>> where;
    for (size_t g = 0; g < groups_.size(); ++g) {
      const std::string gp = "param_groups." + std::to_string(g) + ".";
      std::vector<int64_t> want, got;
      for (size_t i = 0; i < groups_[g].params().size(); ++i) {
        want.push_back(int64_t(flat_params.size()));
        flat_params.push_back(&groups_[g].params()[i]);
        where.emplace_back(g, i);
      }
      used_values.insert(gp + "params");
      if (const std::string* s = value(gp + "params"); s && !(detail::parse_list(*s, got, detail::parse_int) && got == want))
        problems.push_back("param group " + std::to_string(g) + ": expected parameters [" +
                           detail::format_list(want, detail::format_int) + "], got [" + *s + "]");
      auto opts = groups_[g].options().clone();
      const size_t before = problems.size();
      FieldIO check = FieldIO::checker(sd.values, gp, problems, &used_values);
      opts->serialize(check);
      if (problems.size() == before) {
        FieldIO load = FieldIO::loader(sd.values, gp);
        opts->serialize(load);
        try {
          opts->validate(name().c_str());
        } catch (const Error& e) {
          problems.push_back("param group " + std::to_string(g) + ": " + e.what());
        }
      }
      out.options.push_back(std::move(opts));
      out.state.emplace_back(groups_[g].params().size());
    }
    // Per-parameter state.
    std::vector<int64_t> with_state;
    if (const std::string* s = value("state"); s && !detail::parse_list(*s, with_state, detail::parse_int)) {
      problems.push_back("value \"state\": expected a comma-separated list of parameter indices, got \"" + *s + "\"");
      with_state.clear();
    }
    std::set<int64_t> seen;
    for (int64_t i : with_state) {
      if (i < 0 || i >= int64_t(flat_params.size()) || !seen.insert(i).second) {
        problems.push_back("state for parameter " + std::to_string(i) + ": expected a distinct index below " +
                           std::to_string(flat_params.size()));
        continue;
      }
      const auto [g, k] = where[size_t(i)];
      const Tensor<T>& p = *flat_params[size_t(i)];
      const std::string sp = "state." + std::to_string(i) + ".";
      auto st = make_state();
      const size_t before = problems.size();
      FieldIO check = FieldIO::checker(sd.values, sp, problems, &used_values);
      st->serialize(check);
      if (problems.size() == before) {
        FieldIO load = FieldIO::loader(sd.values, sp);
        st->serialize(load);
      }
      std::set<std::string> present;
      st->tensors([&](const char* n, Tensor<T>& slot) {
        const std::string key = sp + n;
        auto it = sd.tensors.find(key);
        if (it == sd.tensors.end()) return;
        used_tensors.insert(key);
        present.insert(n);
        if (!it->second.defined() || it->second.shape() != p.shape()) {
          problems.push_back(::crisp::detail::str_cat("tensor \"", key, "\": expected shape ", p.shape(), " (the parameter's), got ",
                                             it->second.defined() ? ::crisp::detail::str_cat(it->second.shape()) : "undefined"));
          return;
        }
        slot = it->second.contiguous().clone().to(p.device());  // state lives beside its parameter
      });
      const OptimizerOptions& opts = out.options[g] ? *out.options[g] : groups_[g].options();
      for (const auto& r : required_state(opts))
        if (!present.count(r)) problems.push_back("missing tensor \"" + sp + r + "\"");
      out.state[g][k] = std::move(st);
    }
    for (const auto& [k, v] : sd.values)
      if (!used_values.count(k)) problems.push_back("unexpected value \"" + k + "\"");
    for (const auto& [k, v] : sd.tensors)
      if (!used_tensors.count(k)) problems.push_back("unexpected tensor \"" + k + "\"");
    return out;
  }

  std::unique_ptr<OptimizerOptions> defaults_;
  std::vector<OptimizerParamGroupT<T>> groups_;
  std::vector<std::vector<std::unique_ptr<OptimizerParamState<T>>>> state_;  // [group][param]
};
using Optimizer = OptimizerT<float>;

namespace detail {
// Converts the (double) option `v` to T once per step, as PyTorch turns Python scalars into the
// tensor's dtype inside its kernels.
template <class T>
T cast(double v) {
  return static_cast<T>(v);
}
}  // namespace detail

}  // namespace crisp::optim
