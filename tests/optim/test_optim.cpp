// Optimiser API behaviour that goldens do not cover: param groups, zero_grad, skipped
// parameters, option checks, state-dict round trips and all-or-nothing loads, scheduler state.
#include <catch2/catch.hpp>

#include <crisp/crisp.hpp>
#include <crisp/optim/optim.hpp>

namespace optim = crisp::optim;
using crisp::Tensor;

namespace {
Tensor<float> param(const crisp::Shape& s, uint64_t seed) {
  crisp::Generator g(seed);
  Tensor<float> p = crisp::randn<float>(s, g);
  p.requires_grad_(true);
  return p;
}
void set_grad(Tensor<float>& p, uint64_t seed) {
  crisp::Generator g(seed);
  p.set_grad(crisp::randn<float>(p.shape(), g));
}
bool same_bits(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() && a.to_vector() == b.to_vector();
}
}  // namespace

TEST_CASE("param groups keep their own options; defaults fill groups without options", "[optim]") {
  Tensor<float> a = param({3}, 1), b = param({2, 2}, 2);
  optim::SGD opt({optim::OptimizerParamGroup({a}), optim::OptimizerParamGroup({b}, optim::SGDOptions(0.5).clone())},
                 optim::SGDOptions(0.1).momentum(0.9));
  REQUIRE(opt.param_groups().size() == 2);
  CHECK(opt.param_groups()[0].options().get_lr() == 0.1);
  CHECK(static_cast<const optim::SGDOptions&>(opt.param_groups()[0].options()).momentum() == 0.9);
  CHECK(opt.param_groups()[1].options().get_lr() == 0.5);
  CHECK(opt.parameters().size() == 2);
  // lr changes through the group's options (what schedulers do)
  opt.param_groups()[1].options().set_lr(0.25);
  const auto b0 = b.to_vector();
  b.set_grad(crisp::ones<float>({2, 2}));
  opt.step();
  for (size_t i = 0; i < 4; ++i) CHECK(b.to_vector()[i] == Approx(b0[i] - 0.25f));
  // add_param_group refuses a parameter already optimised
  CHECK_THROWS_AS(opt.add_param_group(optim::OptimizerParamGroup({a})), crisp::ValueError);
}

TEST_CASE("zero_grad sets gradients to undefined (default) or to zeros; step skips parameters without grad",
          "[optim]") {
  Tensor<float> a = param({4}, 1), b = param({4}, 2);
  optim::Adam opt(std::vector<Tensor<float>>{a, b}, optim::AdamOptions(0.1));
  set_grad(a, 3);
  const auto b0 = b.to_vector();
  opt.step();
  CHECK(b.to_vector() == b0);              // no grad: untouched, no state
  CHECK(opt.state(b) == nullptr);
  REQUIRE(opt.param_state(a) != nullptr);
  CHECK(opt.param_state(a)->step == 1);
  opt.zero_grad(false);
  REQUIRE(a.grad().defined());
  CHECK(a.grad().to_vector() == std::vector<float>(4, 0.f));
  opt.zero_grad();
  CHECK(!a.grad().defined());
}

TEST_CASE("step with a closure evaluates it, then updates", "[optim]") {
  Tensor<float> w = param({3}, 5);
  optim::SGD opt(std::vector<Tensor<float>>{w}, optim::SGDOptions(0.1));
  const float before = crisp::sum(crisp::mul(w, w)).item();
  auto closure = [&] {
    opt.zero_grad();
    Tensor<float> loss = crisp::sum(crisp::mul(w, w));
    loss.backward();
    return loss;
  };
  Tensor<float> loss = opt.step(closure);
  CHECK(loss.item() == Approx(before));
  CHECK(crisp::sum(crisp::mul(w, w)).item() < before);
}

TEST_CASE("invalid options throw ValueError naming the optimizer", "[optim]") {
  Tensor<float> a = param({2}, 1);
  using V = std::vector<Tensor<float>>;
  CHECK_THROWS_AS(optim::SGD(V{a}, optim::SGDOptions(-1)), crisp::ValueError);
  CHECK_THROWS_WITH(optim::SGD(V{a}, optim::SGDOptions(0.1).nesterov(true)), Catch::Contains("SGD") && Catch::Contains("nesterov"));
  CHECK_THROWS_AS(optim::Adam(V{a}, optim::AdamOptions(0.1).betas({1.0, 0.9})), crisp::ValueError);
  CHECK_THROWS_AS(optim::AdamW(V{a}, optim::AdamWOptions(0.1).eps(-1)), crisp::ValueError);
  CHECK(optim::AdamWOptions().weight_decay() == 1e-2);
  CHECK(optim::AdamOptions().weight_decay() == 0.0);
  Tensor<float> nonleaf = crisp::mul(a, a);
  CHECK_THROWS_AS(optim::SGD(V{nonleaf}, optim::SGDOptions(0.1)), crisp::ValueError);
}

TEST_CASE("optimizer state dict round trip continues bit for bit", "[optim][state]") {
  for (int kind = 0; kind < 3; ++kind) {
    INFO("kind " << kind);
    auto make = [&](std::vector<Tensor<float>> ps) -> std::unique_ptr<optim::Optimizer> {
      if (kind == 0) return std::make_unique<optim::SGD>(ps, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
      if (kind == 1) return std::make_unique<optim::Adam>(ps, optim::AdamOptions(0.01).amsgrad(true).weight_decay(0.1));
      return std::make_unique<optim::AdamW>(ps, optim::AdamWOptions(0.01));
    };
    Tensor<float> a = param({5}, 1), b = param({2, 3}, 2);
    auto opt = make({a, b});
    for (int s = 0; s < 3; ++s) {
      set_grad(a, 10 + s), set_grad(b, 20 + s);
      opt->step();
    }
    const auto sd = opt->state_dict();
    Tensor<float> a2 = a.detach().clone().requires_grad_(true), b2 = b.detach().clone().requires_grad_(true);
    auto opt2 = make({a2, b2});
    opt2->param_groups()[0].options().set_lr(123.0);  // overwritten by the load
    opt2->load_state_dict(sd);
    CHECK(opt2->param_groups()[0].options().get_lr() == opt->param_groups()[0].options().get_lr());
    for (int s = 3; s < 6; ++s) {
      set_grad(a, 10 + s), set_grad(b, 20 + s), set_grad(a2, 10 + s), set_grad(b2, 20 + s);
      opt->step();
      opt2->step();
    }
    CHECK(same_bits(a, a2));
    CHECK(same_bits(b, b2));
  }
}

TEST_CASE("a mismatching optimizer state dict is refused with every problem listed, nothing changed",
          "[optim][state]") {
  Tensor<float> a = param({5}, 1), b = param({2, 3}, 2);
  optim::Adam opt(std::vector<Tensor<float>>{a, b}, optim::AdamOptions(0.01));
  set_grad(a, 3), set_grad(b, 4);
  opt.step();
  const auto good = opt.state_dict();

  Tensor<float> c = param({5}, 1), d = param({3, 2}, 2);  // d has another shape
  optim::Adam other(std::vector<Tensor<float>>{c, d}, optim::AdamOptions(0.5));
  set_grad(c, 3), set_grad(d, 4);
  other.step();
  const auto before = other.state_dict();
  auto bad = good;
  bad.values["param_groups.0.beta1"] = "1.5";       // out of range
  bad.values["surprise"] = "1";                     // unexpected
  bad.tensors.erase("state.0.exp_avg_sq");          // missing buffer
  try {
    other.load_state_dict(bad);
    FAIL("expected an error");
  } catch (const crisp::Error& e) {
    const std::string m = e.what();
    CHECK_THAT(m, Catch::Contains("state.1.exp_avg") && Catch::Contains("[3, 2]") && Catch::Contains("beta") &&
                      Catch::Contains("surprise") && Catch::Contains("state.0.exp_avg_sq") &&
                      Catch::Contains("nothing was changed"));
  }
  const auto after = other.state_dict();
  CHECK(after.values == before.values);
  for (const auto& [k, t] : before.tensors) CHECK(same_bits(after.tensors.at(k), t));
  // SGD state into Adam: refused
  optim::SGD sgd(std::vector<Tensor<float>>{c, d}, optim::SGDOptions(0.1));
  CHECK_THROWS_WITH(other.load_state_dict(sgd.state_dict()), Catch::Contains("Adam") && Catch::Contains("SGD"));
}

TEST_CASE("scheduler state round trip, and CycleGAN's linear decay formula", "[optim][scheduler]") {
  Tensor<float> a = param({1}, 1);
  optim::SGD opt(std::vector<Tensor<float>>{a}, optim::SGDOptions(0.2));
  optim::CosineAnnealingLR s(opt, 7, 0.01);
  for (int i = 0; i < 11; ++i) s.step();
  const auto st = s.state_dict();
  CHECK(st.at("type") == "CosineAnnealingLR");
  CHECK(st.at("last_epoch") == "11");

  optim::SGD opt2(std::vector<Tensor<float>>{param({1}, 2)}, optim::SGDOptions(0.2));
  optim::CosineAnnealingLR s2(opt2, 3);  // other hyper-parameters: replaced by the load, as PyTorch
  s2.load_state_dict(st);
  opt2.param_groups()[0].options().set_lr(opt.param_groups()[0].options().get_lr());  // the optimizer's own state
  for (int i = 0; i < 20; ++i) {
    s.step();
    s2.step();
    CHECK(s.get_last_lr() == s2.get_last_lr());
  }
  optim::StepLR wrong(opt2, 3);
  CHECK_THROWS_WITH(wrong.load_state_dict(st), Catch::Contains("StepLR") && Catch::Contains("CosineAnnealingLR"));
  auto broken = st;
  broken["T_max"] = "x";
  CHECK_THROWS_WITH(s2.load_state_dict(broken), Catch::Contains("T_max"));

  // 1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1): constant for epochs 0..n_epochs-1
  CHECK(optim::LinearDecayLR::factor(0, 100, 100) == 1.0);
  CHECK(optim::LinearDecayLR::factor(98, 100, 100) == 1.0);
  CHECK(optim::LinearDecayLR::factor(99, 100, 100) == Approx(1.0 - 0.0 / 101));
  CHECK(optim::LinearDecayLR::factor(100, 100, 100) == Approx(1.0 - 1.0 / 101));
  CHECK(optim::LinearDecayLR::factor(199, 100, 100) == Approx(1.0 / 101));
}

TEST_CASE("clip_grad_norm_ edge cases", "[optim][clip]") {
  Tensor<float> a = param({3}, 1);
  CHECK(optim::clip_grad_norm_(std::vector<Tensor<float>>{a}, 1.0) == 0.0);  // no grads
  a.set_grad(crisp::from_vector<float>({3, 4, 0}, {3}));
  CHECK(optim::clip_grad_norm_(a, 10.0) == Approx(5.0));
  CHECK(a.grad().to_vector() == std::vector<float>{3, 4, 0});  // below max_norm: unchanged
  CHECK(optim::clip_grad_norm_(a, 1.0) == Approx(5.0));
  CHECK(a.grad().to_vector()[1] == Approx(4.0 / (5.0 + 1e-6)));
  a.set_grad(crisp::from_vector<float>({NAN, 1, 0}, {3}));
  CHECK_THROWS_AS(optim::clip_grad_norm_(a, 1.0, 2.0, true), crisp::ValueError);
  optim::clip_grad_value_(std::vector<Tensor<float>>{a}, 0.5);
  CHECK(a.grad().to_vector()[1] == 0.5f);
}
