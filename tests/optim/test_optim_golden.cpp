// Optimisers, schedulers and gradient clipping against PyTorch (tests/data/golden/optim.safetensors,
// made by tools/make_optim_goldens.py): a conv net trained 20 steps per optimiser configuration,
// every branch of the update formulas on one parameter, clip_grad_norm_, and LR sequences.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>

#include <crisp/crisp.hpp>
#include <crisp/optim/optim.hpp>

#include "../golden_util.hpp"

namespace nn = crisp::nn;
namespace optim = crisp::optim;
using crisp::Tensor;
using crisp::test::TensorMap;

namespace {

const std::string kPath = std::string(CRISP_TEST_DATA_DIR) + "/golden/optim.safetensors";

const crisp::test::GoldenFile& golden_file() {
  static const crisp::test::GoldenFile f("optim.safetensors");
  return f;
}
const TensorMap& golden() { return golden_file().tensors(); }
const std::map<std::string, Tensor<double>>& golden64() {
  static const auto g = crisp::io::load_safetensors<double>(kPath);
  return g;
}
const Tensor<float>& G(const std::string& key) { return golden_file().get(key); }
TensorMap sub(const std::string& prefix) { return golden_file().sub(prefix); }

// The distinct <case> names of keys "<area>.<case>.<...>".
std::set<std::string> cases_in_file(const std::string& area, const std::set<std::string>& skip = {}) {
  std::set<std::string> out;
  for (const auto& [k, v] : golden()) {
    if (k.rfind(area + ".", 0) != 0) continue;
    const std::string rest = k.substr(area.size() + 1);
    const std::string c = rest.substr(0, rest.find('.'));
    if (!skip.count(c) && rest.find('.') != std::string::npos) out.insert(c);
  }
  return out;
}

// Largest |got - want| / max(|want|, floor): relative error, except for elements that ended
// near zero (the conv weights are O(0.1); one that passed close to zero is judged by its
// absolute error against the floor, as its relative error there only measures float rounding).
double max_rel_err(const Tensor<float>& got, const Tensor<float>& want, double floor = 1e-2) {
  REQUIRE(got.shape() == want.shape());
  const auto a = got.to_vector(), b = want.to_vector();
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / std::max(std::abs(double(b[i])), floor));
  return worst;
}

// ||got - want|| / ||want||.
double norm_rel_err(const Tensor<float>& got, const Tensor<float>& want) {
  const auto a = got.to_vector(), b = want.to_vector();
  double d = 0, n = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (double(a[i]) - b[i]) * (double(a[i]) - b[i]), n += double(b[i]) * b[i];
  return std::sqrt(d / n);
}

nn::Sequential make_net() {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(3, 4, 3).padding(1)), nn::ReLU(),
                        nn::Conv2d(nn::Conv2dOptions(4, 2, 3).padding(1)));
}

struct NetCase {
  std::function<std::unique_ptr<optim::Optimizer>(const std::vector<Tensor<float>>&)> make;
  bool clip_and_cosine = false;
};

const std::map<std::string, NetCase>& net_cases() {
  using P = std::vector<Tensor<float>>;
  static const std::map<std::string, NetCase> cases = {
      {"sgd_momentum",
       {[](const P& ps) {
          return std::make_unique<optim::SGD>(ps, optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-2));
        }}},
      {"sgd_groups_nesterov",
       {[](const P& ps) {
          std::vector<optim::OptimizerParamGroup> groups{
              optim::OptimizerParamGroup(P(ps.begin(), ps.begin() + 2)),
              optim::OptimizerParamGroup(
                  P(ps.begin() + 2, ps.end()),
                  optim::SGDOptions(0.02).momentum(0.5).nesterov(true).weight_decay(1e-3).clone())};
          return std::make_unique<optim::SGD>(groups, optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3));
        }}},
      {"adam", {[](const P& ps) { return std::make_unique<optim::Adam>(ps, optim::AdamOptions(2e-3)); }}},
      {"adam_amsgrad",
       {[](const P& ps) {
          return std::make_unique<optim::Adam>(
              ps, optim::AdamOptions(2e-3).betas({0.8, 0.99}).eps(1e-6).weight_decay(1e-2).amsgrad(true));
        }}},
      {"adamw",
       {[](const P& ps) { return std::make_unique<optim::AdamW>(ps, optim::AdamWOptions(2e-3).weight_decay(0.1)); }}},
      {"sgd_clip_cosine",
       {[](const P& ps) { return std::make_unique<optim::SGD>(ps, optim::SGDOptions(0.1).momentum(0.9).nesterov(true)); },
        true}},
  };
  return cases;
}

}  // namespace

TEST_CASE("optimizers train a conv net as PyTorch does: 20 steps, parameters within 1e-5 relative", "[optim][golden]") {
  std::set<std::string> table;
  for (const auto& [n, c] : net_cases()) table.insert(n);
  REQUIRE(cases_in_file("net", {"init"}) == table);

  const Tensor<float> x = G("net.x"), target = G("net.target");
  for (const auto& [name, c] : net_cases()) {
    SECTION(name) {
      auto net = make_net();
      net->load_state_dict(sub("net.init"));
      auto opt = c.make(net->parameters());
      std::unique_ptr<optim::CosineAnnealingLR> sched;
      if (c.clip_and_cosine) sched = std::make_unique<optim::CosineAnnealingLR>(*opt, 8);
      const auto want_losses = G("net." + name + ".losses").to_vector();
      REQUIRE(want_losses.size() == 20);
      double worst_loss = 0;
      for (int step = 0; step < 20; ++step) {
        opt->zero_grad();
        Tensor<float> loss = crisp::loss::mse(net(x), target);
        loss.backward();
        if (c.clip_and_cosine) optim::clip_grad_norm_(net->parameters(), 0.05);
        opt->step();
        if (sched) sched->step();
        worst_loss = std::max(worst_loss, std::abs(double(loss.item()) - want_losses[size_t(step)]) /
                                              std::abs(double(want_losses[size_t(step)])));
      }
      INFO(name << ": worst per-step loss relative error " << worst_loss);
      CHECK(worst_loss < 1e-5);
      const TensorMap want = sub("net." + name + ".final");
      const auto got = net->state_dict();
      REQUIRE(want.size() == got.size());
      for (const auto& [k, w] : want) {
        const double err = max_rel_err(got.at(k), w);
        const double norm_err = norm_rel_err(got.at(k), w);
        INFO(name << " " << k << ": max relative error " << err << ", norm-wise " << norm_err);
        CHECK(err < 1e-5);
        CHECK(norm_err < 1e-6);
        if (getenv("CRISP_VERBOSE")) std::printf("%-20s %-9s max rel %.2e  norm rel %.2e\n", name.c_str(), k.c_str(), err, norm_err);
        // The parameters moved: the comparison is not of untouched initial weights.
        CHECK(max_rel_err(w, G("net.init." + k)) > 1e-3);
      }
    }
  }
}

namespace {
struct FormulaCase {
  std::function<std::unique_ptr<optim::Optimizer>(const Tensor<float>&)> make;
};
const std::map<std::string, FormulaCase>& formula_cases() {
  using OP = std::unique_ptr<optim::Optimizer>;
  using V = std::vector<Tensor<float>>;
  static const std::map<std::string, FormulaCase> cases = {
      {"sgd_plain", {[](const Tensor<float>& p) -> OP { return std::make_unique<optim::SGD>(V{p}, optim::SGDOptions(0.1)); }}},
      {"sgd_weight_decay",
       {[](const Tensor<float>& p) -> OP {
          return std::make_unique<optim::SGD>(V{p}, optim::SGDOptions(0.1).weight_decay(0.3));
        }}},
      {"sgd_momentum_dampening",
       {[](const Tensor<float>& p) -> OP {
          return std::make_unique<optim::SGD>(V{p}, optim::SGDOptions(0.1).momentum(0.8).dampening(0.3));
        }}},
      {"sgd_nesterov_weight_decay",
       {[](const Tensor<float>& p) -> OP {
          return std::make_unique<optim::SGD>(V{p},
                                              optim::SGDOptions(0.1).momentum(0.7).nesterov(true).weight_decay(0.2));
        }}},
      {"sgd_maximize",
       {[](const Tensor<float>& p) -> OP {
          return std::make_unique<optim::SGD>(V{p}, optim::SGDOptions(0.1).momentum(0.5).maximize(true));
        }}},
      {"adam_default", {[](const Tensor<float>& p) -> OP { return std::make_unique<optim::Adam>(V{p}); }}},
      {"adam_weight_decay_eps",
       {[](const Tensor<float>& p) -> OP {
          return std::make_unique<optim::Adam>(
              V{p}, optim::AdamOptions(0.05).betas({0.5, 0.9}).eps(1e-3).weight_decay(0.1));
        }}},
      {"adam_amsgrad",
       {[](const Tensor<float>& p) -> OP {
          return std::make_unique<optim::Adam>(V{p}, optim::AdamOptions(0.05).amsgrad(true));
        }}},
      {"adam_maximize",
       {[](const Tensor<float>& p) -> OP {
          return std::make_unique<optim::Adam>(V{p}, optim::AdamOptions(0.05).maximize(true).weight_decay(0.01));
        }}},
      {"adamw_default", {[](const Tensor<float>& p) -> OP { return std::make_unique<optim::AdamW>(V{p}, 0.05); }}},
      {"adamw_amsgrad",
       {[](const Tensor<float>& p) -> OP {
          return std::make_unique<optim::AdamW>(
              V{p}, optim::AdamWOptions(0.05).betas({0.7, 0.95}).weight_decay(0.5).amsgrad(true));
        }}},
  };
  return cases;
}
}  // namespace

TEST_CASE("every branch of the SGD / Adam / AdamW update matches PyTorch", "[optim][golden]") {
  std::set<std::string> table;
  for (const auto& [n, c] : formula_cases()) table.insert(n);
  REQUIRE(cases_in_file("formula") == table);
  for (const auto& [name, c] : formula_cases()) {
    Tensor<float> p = G("formula." + name + ".p0").clone();
    p.requires_grad_(true);
    auto opt = c.make(p);
    const Tensor<float> grads = G("formula." + name + ".grads");
    for (int64_t s = 0; s < grads.size(0); ++s) {
      p.set_grad(grads.select(0, s).clone());
      opt->step();
    }
    const double err = max_rel_err(p.detach(), G("formula." + name + ".final"));
    INFO(name << ": max relative error " << err);
    CHECK(err < 2e-6);
  }
}

TEST_CASE("clip_grad_norm_ matches torch.nn.utils.clip_grad_norm_", "[optim][golden]") {
  const std::map<std::string, std::pair<double, double>> table = {
      {"l2", {1.0, 2.0}}, {"l1", {2.0, 1.0}}, {"inf", {0.5, INFINITY}}, {"p3", {1.0, 3.0}}, {"noop", {100.0, 2.0}}};
  std::set<std::string> names;
  for (const auto& [n, c] : table) names.insert(n);
  std::set<std::string> in_file;
  for (const auto& [k, v] : golden())
    if (k.rfind("clip.", 0) == 0 && k.find(".total") != std::string::npos) in_file.insert(k.substr(5, k.size() - 11));
  REQUIRE(in_file == names);
  for (const auto& [name, c] : table) {
    INFO(name);
    std::vector<Tensor<float>> ps;
    for (int i = 0; i < 3; ++i) {
      const Tensor<float> g = G("clip.g" + std::to_string(i));
      Tensor<float> p = crisp::zeros<float>(g.shape());
      p.requires_grad_(true);
      p.set_grad(g.clone());
      ps.push_back(p);
    }
    ps.push_back(crisp::zeros<float>({2}).requires_grad_(true));  // no grad: skipped, as PyTorch
    const double total = optim::clip_grad_norm_(ps, c.first, c.second);
    const double want = golden64().at("clip." + name + ".total").item();
    CHECK(std::abs(total - want) <= 1e-6 * want);
    for (int i = 0; i < 3; ++i) CHECK(max_rel_err(ps[size_t(i)].grad(), G("clip." + name + ".out" + std::to_string(i))) < 1e-6);
  }
}

TEST_CASE("schedulers give PyTorch's get_last_lr() for 50 epochs, two param groups", "[optim][golden][scheduler]") {
  using Make = std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer&)>;
  const std::map<std::string, Make> table = {
      {"step", [](optim::Optimizer& o) { return std::make_unique<optim::StepLR>(o, 7, 0.5); }},
      {"multistep",
       [](optim::Optimizer& o) { return std::make_unique<optim::MultiStepLR>(o, std::vector<int64_t>{5, 12, 12, 30}, 0.3); }},
      {"exponential", [](optim::Optimizer& o) { return std::make_unique<optim::ExponentialLR>(o, 0.93); }},
      {"cosine", [](optim::Optimizer& o) { return std::make_unique<optim::CosineAnnealingLR>(o, 10, 1e-3); }},
      {"cosine_long", [](optim::Optimizer& o) { return std::make_unique<optim::CosineAnnealingLR>(o, 60); }},
      {"linear_decay", [](optim::Optimizer& o) { return std::make_unique<optim::LinearDecayLR>(o, 20, 25); }},
      {"linear_decay_epoch_count",
       [](optim::Optimizer& o) { return std::make_unique<optim::LinearDecayLR>(o, 10, 30, 5); }},
  };
  std::set<std::string> names, in_file;
  for (const auto& [n, m] : table) names.insert(n);
  for (const auto& [k, v] : golden64())
    if (k.rfind("sched.", 0) == 0) in_file.insert(k.substr(6));
  REQUIRE(in_file == names);
  for (const auto& [name, make] : table) {
    INFO(name);
    Tensor<float> a = crisp::zeros<float>({1}).requires_grad_(true), b = crisp::zeros<float>({1}).requires_grad_(true);
    optim::SGD opt({optim::OptimizerParamGroup({a}), optim::OptimizerParamGroup({b}, optim::SGDOptions(0.03).momentum(0.9).clone())},
                   optim::SGDOptions(0.1).momentum(0.9));
    auto sched = make(opt);
    const Tensor<double> want = golden64().at("sched." + name);
    REQUIRE(want.shape() == crisp::Shape({50, 2}));
    double worst = 0;
    for (int64_t e = 0; e < 50; ++e) {
      const auto lrs = sched->get_last_lr();
      REQUIRE(lrs.size() == 2);
      for (int64_t g = 0; g < 2; ++g) {
        const double w = want.at({e, g});
        worst = std::max(worst, std::abs(lrs[size_t(g)] - w) / std::max(std::abs(w), 1e-300));
        CHECK(opt.param_groups()[size_t(g)].options().get_lr() == lrs[size_t(g)]);
      }
      opt.step();
      sched->step();
    }
    INFO("worst relative error " << worst);
    CHECK(worst <= 1e-14);
  }
}
