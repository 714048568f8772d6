// batch_norm and instance_norm: gradchecks of every backward rule, PyTorch goldens (outputs,
// gradients and running statistics after one and two steps), argument errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "crisp/crisp.hpp"
#include "crisp/ops/normalization.hpp"
#include "gradcheck_util.hpp"

using namespace crisp;
using crisp::test::check_grad;
using crisp::test::Inputs;
using crisp::test::leaf;

namespace {

Tensor<double> positive(const Shape& s, uint64_t seed) {
  Generator g(seed);
  return rand<double>(s, g, 0.5, 1.5);
}

// |a - b| <= atol + rtol * |b| elementwise; reports the worst element.
template <class T>
void require_close(const Tensor<T>& got, const Tensor<T>& want, const std::string& what, double atol = 1e-5,
                   double rtol = 1e-5) {
  INFO(what << ": crisp shape " << got.shape() << ", expected shape " << want.shape());
  REQUIRE(got.numel() == want.numel());
  const auto g = got.to_vector(), w = want.to_vector();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double excess = std::abs(double(g[i]) - double(w[i])) - (atol + rtol * std::abs(double(w[i])));
    if (!(excess <= worst)) worst = excess, at = i;
  }
  INFO("worst element " << at << ": crisp " << (g.empty() ? 0 : g[at]) << ", expected " << (w.empty() ? 0 : w[at]));
  REQUIRE(worst <= 0);
}

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("batch_norm gradients in training mode flow through the batch statistics") {
  SECTION("affine, 4-d, running stats updated on the side") {
    auto rm = zeros<double>({2}), rv = ones<double>({2});
    REQUIRE(check_grad([&](const Inputs& v) { return batch_norm(v[0], rm, rv, v[1], v[2], true); },
                       {leaf({3, 2, 3, 2}, 1), leaf({2}, 2, 0.5, 1.5), leaf({2}, 3)}));
  }
  SECTION("no affine, no running stats, 2-d input") {
    REQUIRE(check_grad([&](const Inputs& v) { return batch_norm(v[0], {}, {}, {}, {}, true); }, {leaf({5, 3}, 4)}));
  }
  SECTION("odd sizes, eps and momentum, weight only") {
    REQUIRE(check_grad([&](const Inputs& v) { return batch_norm(v[0], {}, {}, v[1], {}, true, 0.5, 1e-2); },
                       {leaf({2, 3, 3, 1, 2}, 5), leaf({3}, 6, 0.5, 1.5)}));
  }
  SECTION("one channel; only weight and bias require grad") {
    const auto x = leaf({4, 1, 2, 3}, 7).detach();
    REQUIRE(check_grad([&](const Inputs& v) { return batch_norm(x, {}, {}, v[0], v[1], true); },
                       {leaf({1}, 8, 0.5, 1.5), leaf({1}, 9)}));
  }
}

TEST_CASE("batch_norm gradients in eval mode are a per-channel scale") {
  const auto rm = leaf({3}, 10).detach(), rv = positive({3}, 11);
  REQUIRE(check_grad([&](const Inputs& v) { return batch_norm(v[0], rm, rv, v[1], v[2], false); },
                     {leaf({2, 3, 2, 2}, 12), leaf({3}, 13, 0.5, 1.5), leaf({3}, 14)}));
  REQUIRE(check_grad([&](const Inputs& v) { return batch_norm(v[0], rm, rv); }, {leaf({4, 3}, 15)}));
  // dx = g * w / sqrt(rv + eps) exactly.
  auto x = leaf({2, 3, 2, 2}, 16);
  const auto w = leaf({3}, 17, 0.5, 1.5).detach();
  batch_norm(x, rm, rv, w, {}, false).sum().backward();
  for (int64_t c = 0; c < 3; ++c) CHECK(x.grad()(1, c, 1, 0) == Approx(w(c) / std::sqrt(rv(c) + 1e-5)).epsilon(1e-14));
}

TEST_CASE("instance_norm gradients") {
  SECTION("affine") {
    REQUIRE(check_grad([&](const Inputs& v) { return instance_norm(v[0], {}, {}, v[1], v[2]); },
                       {leaf({2, 3, 3, 2}, 20), leaf({3}, 21, 0.5, 1.5), leaf({3}, 22)}));
  }
  SECTION("no affine, batch 1, 1-d spatial, with running stats updated") {
    auto rm = zeros<double>({2}), rv = ones<double>({2});
    REQUIRE(check_grad([&](const Inputs& v) { return instance_norm(v[0], rm, rv); }, {leaf({1, 2, 5}, 23)}));
  }
  SECTION("running statistics (use_input_stats = false)") {
    const auto rm = leaf({2}, 24).detach(), rv = positive({2}, 25);
    REQUIRE(check_grad([&](const Inputs& v) { return instance_norm(v[0], rm, rv, v[1], v[2], false); },
                       {leaf({2, 2, 2, 3}, 26), leaf({2}, 27, 0.5, 1.5), leaf({2}, 28)}));
  }
}

TEST_CASE("batch_norm updates running statistics in place with the unbiased variance") {
  Generator g(30);
  const auto x = randn<double>({4, 2, 3, 3}, g);
  auto rm = from_vector<double>({0.5, -0.5}), rv = from_vector<double>({2.0, 1.0});
  const auto rm_handle = rm;  // the same buffer, seen through another handle
  const auto y = batch_norm(x, rm, rv, {}, {}, true, 0.25);
  REQUIRE_FALSE(rm.requires_grad());
  REQUIRE_FALSE(rv.requires_grad());
  for (int64_t c = 0; c < 2; ++c) {
    const auto xc = x.select(1, c);
    const double m = xc.mean().item(), n = double(xc.numel());
    const double var = ((xc - m) * (xc - m)).sum().item() / n;
    CHECK(rm_handle(c) == Approx(0.75 * (c == 0 ? 0.5 : -0.5) + 0.25 * m).epsilon(1e-13));
    CHECK(rv(c) == Approx(0.75 * (c == 0 ? 2.0 : 1.0) + 0.25 * var * n / (n - 1)).epsilon(1e-13));
    // The output itself uses the biased variance.
    CHECK(y(3, c, 2, 1) == Approx((x(3, c, 2, 1) - m) / std::sqrt(var + 1e-5)).epsilon(1e-12));
  }
  // Eval mode reads them and changes nothing.
  const auto before = rm.to_vector();
  batch_norm(x, rm, rv);
  CHECK(rm.to_vector() == before);
}

TEST_CASE("normalisation of strided inputs and of tensors large enough to run in parallel") {
  Generator g(31);
  SECTION("a transposed input gives the result of its contiguous copy") {
    const auto x = randn<double>({3, 5, 4, 2}, g).transpose(2, 3);
    REQUIRE_FALSE(x.is_contiguous());
    require_close(batch_norm(x, {}, {}, {}, {}, true), batch_norm(x.contiguous(), {}, {}, {}, {}, true), "bn", 0, 0);
    require_close(instance_norm(x), instance_norm(x.contiguous()), "in", 0, 0);
  }
  SECTION("float with 1e5 values per channel matches double") {
    const auto xd = randn<double>({4, 8, 96, 96}, g) * 2.0 + 3.0;
    const auto xf = cast<float>(xd).requires_grad_();
    const auto w = rand<double>({8}, g, 0.5, 1.5), b = randn<double>({8}, g);
    const auto xdr = xd.detach().requires_grad_();
    const auto rd = randn<double>(xd.shape(), g);
    auto yd = batch_norm(xdr, {}, {}, w, b, true);
    auto yf = batch_norm(xf, {}, {}, cast<float>(w), cast<float>(b), true);
    require_close(cast<double>(yf), yd, "bn forward", 2e-5, 1e-5);
    yd.backward(rd);
    yf.backward(cast<float>(rd));
    require_close(cast<double>(xf.grad()), xdr.grad(), "bn backward", 2e-5, 1e-5);
    require_close(cast<double>(instance_norm(xf.detach())), instance_norm(xd), "in forward", 2e-5, 1e-5);
  }
}

namespace {
struct Case {
  bool batch;  // batch_norm (else instance_norm)
  bool train;  // training / use_input_stats
  bool affine, running;
};
// Every case of tools/make_norm_goldens.py; the file and this table must list the same names.
const std::map<std::string, Case>& golden_cases() {
  static const std::map<std::string, Case> table = {
      {"bn_train_affine", {true, true, true, true}},       {"bn_train_plain", {true, true, false, true}},
      {"bn_train_no_running", {true, true, true, false}},  {"bn_train_2d", {true, true, true, true}},
      {"bn_train_3d", {true, true, true, true}},           {"bn_train_5d", {true, true, true, true}},
      {"bn_train_c1", {true, true, true, true}},           {"bn_train_n1", {true, true, true, true}},
      {"bn_train_odd_eps", {true, true, true, true}},      {"bn_train_offset", {true, true, true, true}},
      {"bn_train_1x1", {true, true, true, true}},          {"bn_eval_affine", {true, false, true, true}},
      {"bn_eval_plain_2d", {true, false, false, true}},    {"bn_eval_c1", {true, false, true, true}},
      {"bn_eval_n1", {true, false, true, true}},           {"in_affine", {false, true, true, false}},
      {"in_plain", {false, true, false, false}},           {"in_n1", {false, true, true, false}},
      {"in_c1_odd", {false, true, true, false}},           {"in_1d", {false, true, true, false}},
      {"in_offset", {false, true, false, false}},          {"in_running", {false, true, true, true}},
      {"in_running_plain_n1", {false, true, false, true}}, {"in_eval_running", {false, false, true, true}},
  };
  return table;
}
}  // namespace

TEST_CASE("batch_norm and instance_norm match PyTorch: outputs, gradients, running statistics") {
  using TF = Tensor<float>;
  const auto golden = io::load_safetensors(std::string(CRISP_TEST_DATA_DIR) + "/golden/norm.safetensors");
  std::set<std::string> names, table;
  for (const auto& [key, t] : golden) names.insert(key.substr(0, key.find('.')));
  for (const auto& [name, c] : golden_cases()) table.insert(name);
  REQUIRE(names == table);

  for (const auto& [name, c] : golden_cases()) {
    SECTION(name) {
      auto at = [&](const std::string& k) { return golden.at(name + "." + k); };
      const auto cfg = at("cfg").to_vector();
      REQUIRE(cfg[0] == float(c.train));
      REQUIRE(cfg[3] == float(c.affine));
      REQUIRE(cfg[4] == float(c.running));
      const double momentum = cfg[1], eps = cfg[2];
      TF x = at("x").clone().requires_grad_();
      TF w = c.affine ? at("w").clone().requires_grad_() : TF();
      TF b = c.affine ? at("b").clone().requires_grad_() : TF();
      TF rm = c.running ? at("rm").clone() : TF(), rv = c.running ? at("rv").clone() : TF();
      auto run = [&](const TF& in) {
        return c.batch ? batch_norm(in, rm, rv, w, b, c.train, momentum, eps)
                       : instance_norm(in, rm, rv, w, b, c.train, momentum, eps);
      };
      TF y = run(x);
      require_close(y, at("out"), name + " output");
      y.backward(at("r"));
      require_close(x.grad(), at("gx"), name + " grad input");
      if (c.affine) {
        require_close(w.grad(), at("gw"), name + " grad weight");
        require_close(b.grad(), at("gb"), name + " grad bias");
      }
      if (c.running && c.train) {
        require_close(rm, at("rm1"), name + " running_mean after one step");
        require_close(rv, at("rv1"), name + " running_var after one step");
        NoGradGuard no_grad;
        run(at("x2"));
        require_close(rm, at("rm2"), name + " running_mean after two steps");
        require_close(rv, at("rv2"), name + " running_var after two steps");
      } else if (c.running) {
        require_close(rm, at("rm"), name + " running_mean unchanged in eval", 0, 0);
        require_close(rv, at("rv"), name + " running_var unchanged in eval", 0, 0);
      }
    }
  }
}

TEST_CASE("normalisation errors name the op, what was expected and the shapes") {
  Generator g(40);
  const auto x = randn<double>({2, 3, 4, 4}, g);
  const auto c3 = ones<double>({3}), c4 = ones<double>({4});
  SECTION("parameters of the wrong size") {
    auto m = error_of([&] { batch_norm(x, c4, c3, {}, {}, true); });
    CHECK_THAT(m, Catch::Contains("batch_norm") && Catch::Contains("running_mean") && Catch::Contains("[2, 3, 4, 4]") &&
                      Catch::Contains("[4]"));
    CHECK_THAT(error_of([&] { batch_norm(x, c3, c4); }), Catch::Contains("running_var"));
    CHECK_THAT(error_of([&] { batch_norm(x, c3, c3, c4); }),
               Catch::Contains("weight") && Catch::Contains("3 elements"));
    CHECK_THAT(error_of([&] { batch_norm(x, c3, c3, c3, c4); }), Catch::Contains("bias"));
    CHECK_THAT(error_of([&] { instance_norm(x, {}, {}, c4); }),
               Catch::Contains("instance_norm") && Catch::Contains("weight"));
    CHECK_THAT(error_of([&] { instance_norm(x, c4, c4); }),
               Catch::Contains("instance_norm") && Catch::Contains("running_mean"));
    CHECK_THROWS_AS(batch_norm(x, c4, c3, {}, {}, true), ShapeError);
  }
  SECTION("one value per channel in training") {
    const auto one = randn<double>({1, 3}, g), one4 = randn<double>({1, 3, 1, 1}, g);
    CHECK_THAT(
        error_of([&] { batch_norm(one, c3.clone(), c3.clone(), {}, {}, true); }),
        Catch::Contains("batch_norm: Expected more than 1 value per channel when training, got input size [1, 3]"));
    CHECK_THROWS_AS(batch_norm(one4, {}, {}, {}, {}, true), ValueError);
    CHECK_NOTHROW(batch_norm(one, c3, c3));  // eval is fine
    CHECK_THAT(error_of([&] { instance_norm(one4); }),
               Catch::Contains("instance_norm: Expected more than 1 spatial element when training"));
  }
  SECTION("input rank below 2") {
    CHECK_THAT(error_of([&] { batch_norm(randn<double>({5}, g), {}, {}, {}, {}, true); }),
               Catch::Contains("batch_norm") && Catch::Contains("rank >= 2") && Catch::Contains("[5]"));
    CHECK_THROWS_AS(instance_norm(randn<double>({5}, g)), ShapeError);
  }
  SECTION("eval without running statistics; running statistics that require grad") {
    CHECK_THAT(error_of([&] { batch_norm(x, {}, {}); }),
               Catch::Contains("batch_norm") && Catch::Contains("running_mean"));
    CHECK_THROWS_AS(instance_norm(x, c3, {}, {}, {}, false), ValueError);
    auto rg = ones<double>({3}).requires_grad_();
    CHECK_THAT(error_of([&] { batch_norm(x, rg, c3, {}, {}, true); }), Catch::Contains("does not require grad"));
  }
  SECTION("a failed call leaves the running statistics unchanged") {
    auto rm = zeros<double>({3}), rv = ones<double>({3});
    CHECK_THROWS(batch_norm(x, rm, rv, c4, {}, true));
    CHECK(rm.to_vector() == std::vector<double>(3, 0.0));
    CHECK(rv.to_vector() == std::vector<double>(3, 1.0));
  }
}

TEST_CASE("normalisation of an empty batch gives an empty result") {
  const auto x = zeros<double>({0, 3, 4, 4}).requires_grad_();
  auto y = batch_norm(x, {}, {}, {}, {}, true);
  CHECK(y.shape() == Shape{0, 3, 4, 4});
  y.sum().backward();
  CHECK(x.grad().shape() == x.shape());
}
