// Learning-rate schedulers over an optimiser's parameter groups, with torch.optim.lr_scheduler's
// names and numbers: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR and
// CycleGAN's LinearDecayLR (constant, then linear to zero).
#pragma once

// As in PyTorch: constructing a scheduler records each group's lr as its base lr and performs
// the first step() (last_epoch becomes 0, lr = the epoch-0 value); each later step() increments
// last_epoch and sets every group's lr; get_last_lr() returns what the last step set. StepLR,
// MultiStepLR, ExponentialLR and CosineAnnealingLR use PyTorch's recursive ("chainable") forms,
// which read the groups' current lr, so their sequences equal torch's bit for bit; LambdaLR and
// LinearDecayLR use the closed form base_lr * lambda(last_epoch).
//
// state_dict() holds the scheduler's type, hyper-parameters, last_epoch, base_lrs and last_lr as
// exact decimal strings; load_state_dict restores them (hyper-parameters included, as PyTorch
// does) after checking all of them, and throws one crisp::Error listing every problem otherwise.

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crisp/optim/optimizer.hpp"

namespace crisp::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;

  virtual std::string name() const = 0;

  // Advances one epoch (or iteration) and sets every group's learning rate.
  void step() {
    ++last_epoch_;
    std::vector<double> lrs = get_lr();
    for (size_t g = 0; g < lrs.size(); ++g) optimizer_->param_group_options(g).set_lr(lrs[g]);
    last_lr_ = std::move(lrs);
  }
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }

  ValueMap state_dict() const {
    ValueMap out;
    out["type"] = name();
    FieldIO io = FieldIO::saver(out, "");
    clone()->serialize_all(io);
    return out;
  }
  // Every problem that would stop load_state_dict(state), empty when it would succeed.
  std::vector<std::string> check_state_dict(const ValueMap& state) const {
    std::vector<std::string> problems;
    auto copy = clone();
    std::set<std::string> used{"type"};
    auto it = state.find("type");
    if (it == state.end()) problems.push_back("missing value \"type\"");
    else if (it->second != name())
      problems.push_back("expected the state of a " + name() + " scheduler, got one of \"" + it->second + "\"");
    FieldIO check = FieldIO::checker(state, "", problems, &used);
    copy->serialize_all(check);
    for (const auto& [k, v] : state)
      if (!used.count(k)) problems.push_back("unexpected value \"" + k + "\"");
    if (!problems.empty()) return problems;
    FieldIO load = FieldIO::loader(state, "");
    copy->serialize_all(load);
    const size_t groups = optimizer_->num_param_groups();
    if (copy->base_lrs_.size() != groups || copy->last_lr_.size() != groups)
      problems.push_back("expected base_lrs and last_lr for " + std::to_string(groups) + " param group(s), got " +
                         std::to_string(copy->base_lrs_.size()) + " and " + std::to_string(copy->last_lr_.size()));
    if (copy->last_epoch_ < 0) problems.push_back("expected last_epoch >= 0, got " + std::to_string(copy->last_epoch_));
    try {
      copy->validate();
    } catch (const Error& e) {
      problems.push_back(e.what());
    }
    return problems;
  }
  // Restores the scheduler's state. It does not touch the optimiser: the groups' learning rates
  // are part of the optimiser's own state dict.
  void load_state_dict(const ValueMap& state) {
    const auto problems = check_state_dict(state);
    if (!problems.empty()) {
      std::string msg = name() + "::load_state_dict: error(s) loading a scheduler state (nothing was changed):";
      for (const auto& p : problems) msg += "\n  " + p;
      throw Error(msg);
    }
    FieldIO load = FieldIO::loader(state, "");
    serialize_all(load);
  }

 protected:
  explicit LRScheduler(OptimizerBase& optimizer) : optimizer_(&optimizer) {
    for (size_t g = 0; g < optimizer.num_param_groups(); ++g) base_lrs_.push_back(optimizer.param_group_options(g).get_lr());
  }
  LRScheduler(const LRScheduler&) = default;

  // The learning rates for last_epoch(), one per group.
  virtual std::vector<double> get_lr() = 0;
  virtual std::unique_ptr<LRScheduler> clone() const = 0;
  // The subclass's hyper-parameters (see FieldIO).
  virtual void serialize(FieldIO&) {}
  // Throws ValueError when a hyper-parameter is out of range.
  virtual void validate() const {}

  double group_lr(size_t g) const { return optimizer_->param_group_options(g).get_lr(); }
  size_t groups() const { return optimizer_->num_param_groups(); }
  // Each group's current lr mapped by f(lr, base_lr).
  template <class F>
  std::vector<double> map_groups(F f) const {
    std::vector<double> out;
    for (size_t g = 0; g < groups(); ++g) out.push_back(f(group_lr(g), base_lrs_[g]));
    return out;
  }

 private:
  void serialize_all(FieldIO& io) {
    serialize(io);
    io.integer("last_epoch", last_epoch_);
    io.reals("base_lrs", base_lrs_);
    io.reals("last_lr", last_lr_);
  }

  OptimizerBase* optimizer_;
  int64_t last_epoch_ = -1;
  std::vector<double> base_lrs_, last_lr_;
};

// lr * gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(OptimizerBase& optimizer, int64_t step_size, double gamma = 0.1)
      : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
    validate();
    step();
  }
  std::string name() const override { return "StepLR"; }

 protected:
  std::vector<double> get_lr() override {
    const bool decay = last_epoch() != 0 && last_epoch() % step_size_ == 0;
    return map_groups([&](double lr, double) { return decay ? lr * gamma_ : lr; });
  }
  std::unique_ptr<LRScheduler> clone() const override { return std::make_unique<StepLR>(*this); }
  void serialize(FieldIO& io) override {
    io.integer("step_size", step_size_);
    io.real("gamma", gamma_);
  }
  void validate() const override {
    CRISP_CHECK(step_size_ > 0, ValueError, "StepLR", "expected step_size > 0, got ", step_size_);
  }

 private:
  int64_t step_size_;
  double gamma_;
};

// lr * gamma at each milestone epoch (gamma^k when a milestone is listed k times).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(OptimizerBase& optimizer, std::vector<int64_t> milestones, double gamma = 0.1)
      : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
    validate();
    step();
  }
  std::string name() const override { return "MultiStepLR"; }

 protected:
  std::vector<double> get_lr() override {
    int64_t hits = 0;
    for (int64_t m : milestones_) hits += m == last_epoch();
    if (hits == 0) return map_groups([](double lr, double) { return lr; });
    const double factor = std::pow(gamma_, static_cast<double>(hits));
    return map_groups([&](double lr, double) { return lr * factor; });
  }
  std::unique_ptr<LRScheduler> clone() const override { return std::make_unique<MultiStepLR>(*this); }
  void serialize(FieldIO& io) override {
    io.integers("milestones", milestones_);
    io.real("gamma", gamma_);
  }

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

// lr * gamma every epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(OptimizerBase& optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) { step(); }
  std::string name() const override { return "ExponentialLR"; }

 protected:
  std::vector<double> get_lr() override {
    const bool first = last_epoch() == 0;
    return map_groups([&](double lr, double) { return first ? lr : lr * gamma_; });
  }
  std::unique_ptr<LRScheduler> clone() const override { return std::make_unique<ExponentialLR>(*this); }
  void serialize(FieldIO& io) override { io.real("gamma", gamma_); }

 private:
  double gamma_;
};

// eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, by PyTorch's recursion
// (which keeps going past T_max: the lr climbs back up over the next T_max epochs).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(OptimizerBase& optimizer, int64_t T_max, double eta_min = 0.0)
      : LRScheduler(optimizer), T_max_(T_max), eta_min_(eta_min) {
    validate();
    step();
  }
  std::string name() const override { return "CosineAnnealingLR"; }

 protected:
  std::vector<double> get_lr() override {
    constexpr double pi = 3.14159265358979323846;
    const int64_t e = last_epoch();
    const double T = static_cast<double>(T_max_);
    if (e == 0) return map_groups([](double lr, double) { return lr; });
    // Python's modulo: non-negative for a positive divisor.
    const int64_t r = ((e - 1 - T_max_) % (2 * T_max_) + 2 * T_max_) % (2 * T_max_);
    if (r == 0)
      return map_groups([&](double lr, double base) { return lr + (base - eta_min_) * (1 - std::cos(pi / T)) / 2; });
    const double ratio = (1 + std::cos(pi * static_cast<double>(e) / T)) / (1 + std::cos(pi * static_cast<double>(e - 1) / T));
    return map_groups([&](double lr, double) { return ratio * (lr - eta_min_) + eta_min_; });
  }
  std::unique_ptr<LRScheduler> clone() const override { return std::make_unique<CosineAnnealingLR>(*this); }
  void serialize(FieldIO& io) override {
    io.integer("T_max", T_max_);
    io.real("eta_min", eta_min_);
  }
  void validate() const override {
    CRISP_CHECK(T_max_ > 0, ValueError, "CosineAnnealingLR", "expected T_max > 0, got ", T_max_);
  }

 private:
  int64_t T_max_;
  double eta_min_;
};

// base_lr * lr_lambda(last_epoch). The function itself is not saved: a resumed run must build
// the scheduler with the same function.
class LambdaLR : public LRScheduler {
 public:
  using Lambda = std::function<double(int64_t epoch)>;
  LambdaLR(OptimizerBase& optimizer, Lambda lr_lambda) : LRScheduler(optimizer), lambda_(std::move(lr_lambda)) {
    CRISP_CHECK(lambda_ != nullptr, ValueError, "LambdaLR", "expected a function, got an empty one");
    step();
  }
  std::string name() const override { return "LambdaLR"; }

 protected:
  std::vector<double> get_lr() override {
    const double f = lambda_(last_epoch());
    return map_groups([&](double, double base) { return base * f; });
  }
  std::unique_ptr<LRScheduler> clone() const override { return std::make_unique<LambdaLR>(*this); }

 private:
  Lambda lambda_;
};

// CycleGAN's "linear" policy (networks.get_scheduler in the official pytorch-CycleGAN-and-pix2pix):
// a LambdaLR with
//   lambda(epoch) = 1 - max(0, epoch + epoch_count - n_epochs) / (n_epochs_decay + 1)
// i.e. the base lr for the first n_epochs epochs, then a linear decay that reaches
// base_lr / (n_epochs_decay + 1) at the last epoch (epoch_count = the starting epoch, 1 by default).
class LinearDecayLR : public LRScheduler {
 public:
  LinearDecayLR(OptimizerBase& optimizer, int64_t n_epochs, int64_t n_epochs_decay, int64_t epoch_count = 1)
      : LRScheduler(optimizer), n_epochs_(n_epochs), n_epochs_decay_(n_epochs_decay), epoch_count_(epoch_count) {
    validate();
    step();
  }
  std::string name() const override { return "LinearDecayLR"; }
  static double factor(int64_t epoch, int64_t n_epochs, int64_t n_epochs_decay, int64_t epoch_count = 1) {
    return 1.0 - static_cast<double>(std::max<int64_t>(0, epoch + epoch_count - n_epochs)) /
                     static_cast<double>(n_epochs_decay + 1);
  }

 protected:
  std::vector<double> get_lr() override {
    const double f = factor(last_epoch(), n_epochs_, n_epochs_decay_, epoch_count_);
    return map_groups([&](double, double base) { return base * f; });
  }
  std::unique_ptr<LRScheduler> clone() const override { return std::make_unique<LinearDecayLR>(*this); }
  void serialize(FieldIO& io) override {
    io.integer("n_epochs", n_epochs_);
    io.integer("n_epochs_decay", n_epochs_decay_);
    io.integer("epoch_count", epoch_count_);
  }
  void validate() const override {
    CRISP_CHECK(n_epochs_ >= 0 && n_epochs_decay_ >= 0, ValueError, "LinearDecayLR",
                "expected n_epochs >= 0 and n_epochs_decay >= 0, got ", n_epochs_, " and ", n_epochs_decay_);
  }

 private:
  int64_t n_epochs_, n_epochs_decay_, epoch_count_;
};

}  // namespace crisp::optim
