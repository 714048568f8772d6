// Every crisp::loss beyond l1 / mse against PyTorch (tests/data/golden/loss.safetensors, made by
// tools/make_loss_goldens.py): outputs for each reduction and the gradients of sum(y * r) for
// every input PyTorch differentiates; masked_l1 by hand; input errors naming loss and shapes.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <set>

#include <crisp/crisp.hpp>
#include <crisp/loss/loss.hpp>

#include "../golden_util.hpp"

using crisp::Shape;
using crisp::Tensor;
using crisp::loss::Reduction;
namespace loss = crisp::loss;
using crisp::test::TensorMap;

namespace {

const crisp::test::GoldenFile& golden_file() {
  static const crisp::test::GoldenFile f("loss.safetensors");
  return f;
}
const TensorMap& golden() { return golden_file().tensors(); }
const Tensor<float>& G(const std::string& key) { return golden_file().get(key); }
Tensor<int64_t> labels(const std::string& key) { return crisp::cast<int64_t>(G(key)); }
void check_close(const Tensor<float>& got, const Tensor<float>& want, const std::string& what, double tol = 1e-5) {
  crisp::test::check_close(got, want, what, tol);
}

Reduction red(const std::string& case_name) {
  const std::string r = case_name.substr(case_name.rfind('.') + 1);
  return r == "sum" ? Reduction::Sum : r == "none" ? Reduction::None : Reduction::Mean;
}

// Golden inputs for one case: leaf("input", key) is the golden tensor as a leaf requiring grad,
// whose gradient is compared with "<case>.grad_input".
struct Ctx {
  std::map<std::string, Tensor<float>> leaves;
  Tensor<float> leaf(const std::string& name, const std::string& key) {
    auto t = G(key).clone().requires_grad_();
    leaves[name] = t;
    return t;
  }
};
using CaseFn = std::function<Tensor<float>(const std::string& case_name, Ctx&)>;

std::vector<std::pair<std::string, CaseFn>> cases() {
  std::vector<std::pair<std::string, CaseFn>> v;
  const char* reds[] = {"mean", "sum", "none"};
  for (const char* r : reds) {
    for (const char* beta : {"1.0", "0.5", "0.0"})
      v.push_back({std::string("smooth_l1.b") + beta + "." + r, [beta](const std::string& c, Ctx& x) {
                     return loss::smooth_l1(x.leaf("input", "smooth_l1.in.input"), x.leaf("target", "smooth_l1.in.target"),
                                            red(c), std::stod(beta));
                   }});
    v.push_back({std::string("bce.") + r, [](const std::string& c, Ctx& x) {
                   return loss::bce(x.leaf("input", "bce.in.input"), x.leaf("target", "bce.in.target"), {}, red(c));
                 }});
    v.push_back({std::string("bce_weight.") + r, [](const std::string& c, Ctx& x) {
                   return loss::bce(x.leaf("input", "bce.in.input"), x.leaf("target", "bce.in.target"),
                                    G("bce.in.weight"), red(c));
                 }});
    v.push_back({std::string("bcel.") + r, [](const std::string& c, Ctx& x) {
                   return loss::bce_with_logits(x.leaf("input", "bcel.in.input"), x.leaf("target", "bcel.in.target"), {},
                                                red(c));
                 }});
    v.push_back({std::string("bcel_weight_pos.") + r, [](const std::string& c, Ctx& x) {
                   return loss::bce_with_logits(x.leaf("input", "bcel.in.input"), x.leaf("target", "bcel.in.target"),
                                                G("bcel.in.weight"), red(c), G("bcel.in.pos_weight"));
                 }});
    v.push_back({std::string("ce2d.") + r, [](const std::string& c, Ctx& x) {
                   return loss::cross_entropy(x.leaf("input", "ce.in.x2"), labels("ce.in.t2"), {}, -100, red(c));
                 }});
    v.push_back({std::string("ce2d_weight.") + r, [](const std::string& c, Ctx& x) {
                   return loss::cross_entropy(x.leaf("input", "ce.in.x2"), labels("ce.in.t2"), G("ce.in.w2"), -100,
                                              red(c));
                 }});
    v.push_back({std::string("ce4d_weight_ignore.") + r, [](const std::string& c, Ctx& x) {
                   return loss::cross_entropy(x.leaf("input", "ce.in.x4"), labels("ce.in.t4"), G("ce.in.w4"), 255,
                                              red(c));
                 }});
    v.push_back({std::string("masked_l1.") + r, [](const std::string& c, Ctx& x) {
                   return loss::masked_l1(x.leaf("input", "masked_l1.in.input"), x.leaf("target", "masked_l1.in.target"),
                                          x.leaf("masks", "masked_l1.in.masks"), red(c));
                 }});
  }
  v.push_back({"bce_clamp.sum", [](const std::string&, Ctx& x) {
                 return loss::bce(x.leaf("input", "bce_clamp.in.input"), G("bce_clamp.in.target"), {}, Reduction::Sum);
               }});
  v.push_back({"bcel_pos.mean", [](const std::string&, Ctx& x) {
                 return loss::bce_with_logits(x.leaf("input", "bcel.in.input"), x.leaf("target", "bcel.in.target"), {},
                                              Reduction::Mean, G("bcel.in.pos_weight"));
               }});
  v.push_back({"ce4d_ignore1.mean", [](const std::string&, Ctx& x) {
                 return loss::cross_entropy(x.leaf("input", "ce.in.x4"), labels("ce.in.t4_ignore1"), {}, 1);
               }});
  v.push_back({"nll.mean", [](const std::string&, Ctx& x) {
                 return loss::nll_loss(x.leaf("input", "ce.in.logp2"), labels("ce.in.t2"), G("ce.in.w2"));
               }});
  // The torch features: relu(c1(x)) and relu(c2(maxpool2(relu(c1(x))))).
  auto features = [](const Tensor<float>& img) {
    Tensor<float> f1 = crisp::relu(crisp::conv2d(img, G("perceptual.sd.c1.weight"), G("perceptual.sd.c1.bias"), 1, 1));
    Tensor<float> f2 = crisp::relu(
        crisp::conv2d(crisp::max_pool2d(f1, 2), G("perceptual.sd.c2.weight"), G("perceptual.sd.c2.bias"), 1, 1));
    return std::vector<Tensor<float>>{f1, f2};
  };
  for (const char* r : {"mean", "sum"})
    v.push_back({std::string("perceptual.") + r, [features](const std::string& c, Ctx& x) {
                   return loss::perceptual(x.leaf("input", "perceptual.in.input"), G("perceptual.in.target"), features,
                                           red(c));
                 }});
  v.push_back({"perceptual_weighted.mean", [features](const std::string&, Ctx& x) {
                 return loss::perceptual(x.leaf("input", "perceptual.in.input"), G("perceptual.in.target"), features,
                                         Reduction::Mean, {0.25, 2.0});
               }});
  for (auto [mname, mode] : {std::pair{"vanilla", loss::GanMode::Vanilla}, std::pair{"lsgan", loss::GanMode::LeastSquares}})
    for (auto [lname, lab] : {std::pair{"default", loss::GanLabels{}}, std::pair{"smooth", loss::GanLabels{0.9, 0.1}}}) {
      v.push_back({std::string("gan_g.") + mname + "." + lname, [mode, lab](const std::string&, Ctx& x) {
                     return loss::gan_generator_loss(x.leaf("fake", "gan.in.fake"), mode, lab);
                   }});
      v.push_back({std::string("gan_d.") + mname + "." + lname, [mode, lab](const std::string&, Ctx& x) {
                     return loss::gan_discriminator_loss(x.leaf("real", "gan.in.real"), x.leaf("fake", "gan.in.fake"), mode,
                                                         lab);
                   }});
    }
  v.push_back({"cycle.l10", [](const std::string&, Ctx& x) {
                 return loss::cycle_consistency(x.leaf("rec", "cycle.in.rec"), x.leaf("real", "cycle.in.real"));
               }});
  v.push_back({"cycle.l5", [](const std::string&, Ctx& x) {
                 return loss::cycle_consistency(x.leaf("rec", "cycle.in.rec"), x.leaf("real", "cycle.in.real"), 5.0);
               }});
  v.push_back({"tv.sum", [](const std::string&, Ctx& x) { return loss::total_variation(x.leaf("x", "tv.in.x")); }});
  v.push_back({"tv.mean", [](const std::string&, Ctx& x) {
                 return loss::total_variation(x.leaf("x", "tv.in.x"), Reduction::Mean);
               }});
  return v;
}

bool is_block_key(const std::string& k) {
  return k.rfind("resnet.", 0) == 0 || k.rfind("resblock.", 0) == 0 || k.rfind("convlstm.", 0) == 0;
}

}  // namespace

TEST_CASE("every loss matches PyTorch: outputs and gradients, for each reduction") {
  const auto table = cases();
  std::set<std::string> want, have;
  for (const auto& [k, t] : golden())
    if (!is_block_key(k) && k.size() > 2 && k.compare(k.size() - 2, 2, ".y") == 0) want.insert(k.substr(0, k.size() - 2));
  for (const auto& [name, fn] : table) {
    have.insert(name);
    INFO("case " << name);
    Ctx ctx;
    Tensor<float> y = fn(name, ctx);
    check_close(y, G(name + ".y"), name + ".y");
    (y * G(name + ".r")).sum().backward();
    std::set<std::string> grads_want, grads_have;
    for (const auto& [k, t] : golden())
      if (k.rfind(name + ".grad_", 0) == 0) grads_want.insert(k.substr(name.size() + 6));
    for (const auto& [n, leaf] : ctx.leaves) {
      grads_have.insert(n);
      check_close(leaf.grad(), G(name + ".grad_" + n), name + ".grad_" + n);
    }
    CHECK(grads_have == grads_want);
  }
  CHECK(have == want);  // no golden case left unchecked, none missing
  CHECK(table.size() >= 50);
}

TEST_CASE("masked_l1 equals a hand-computed value") {
  // G - I = [[1, -2], [0, 3]] in channel 0 and [[-1, 1], [2, 0]] in channel 1 (N = 1, C = 2).
  auto g = crisp::from_vector<float>({1, -2, 0, 3, -1, 1, 2, 0}, {1, 2, 2, 2});
  auto i = crisp::zeros<float>({1, 2, 2, 2});
  // M_0 = [[1, 0], [0, 1]], M_1 = [[0.5, 0.5], [0, 0]].
  auto m = crisp::from_vector<float>({1, 0, 0, 1, 0.5f, 0.5f, 0, 0}, {1, 2, 2, 2});
  // k = 0: |1| + |3| + |-1| + |0| = 5; k = 1: 0.5 (|1| + |-2|) + 0.5 (|-1| + |1|) = 2.5. Total 7.5.
  CHECK(loss::masked_l1(g, i, m).item() == Approx(7.5));
  CHECK(loss::masked_l1(g, i, m, Reduction::Mean).item() == Approx(7.5 / 8));
  auto none = loss::masked_l1(g, i, m, Reduction::None);
  CHECK(none.shape() == Shape{1, 2, 2, 2, 2});
  CHECK(none.sum().item() == Approx(7.5));
  CHECK(none.at({0, 1, 0, 0, 1}) == Approx(1.0));  // 0.5 * |-2|
  // The list form: masks [N, H, W] or [N, 1, H, W].
  std::vector<Tensor<float>> list{m.select(1, 0), m.narrow(1, 1, 1)};
  CHECK(loss::masked_l1(g, i, list).item() == Approx(7.5));
  // An all-ones mask in Mean is the content loss l1.
  CHECK(loss::masked_l1(g, i, crisp::ones<float>({1, 1, 2, 2}), Reduction::Mean).item() ==
        Approx(loss::l1(g, i).item()));
}

TEST_CASE("bce clamps its logs at -100; cross_entropy edge cases") {
  auto x = crisp::from_vector<float>({0.0f, 1.0f}), y = crisp::from_vector<float>({1.0f, 0.0f});
  CHECK(loss::bce(x, y, {}, Reduction::Sum).item() == Approx(200.0));
  // Every target ignored: mean is 0 / 0 = NaN (PyTorch's), sum is 0.
  auto logits = crisp::zeros<float>({2, 3});
  auto t = crisp::from_vector<int64_t>({-100, -100});
  CHECK(std::isnan(loss::cross_entropy(logits, t).item()));
  CHECK(loss::cross_entropy(logits, t, {}, -100, Reduction::Sum).item() == 0.0f);
  // Uniform logits: -log(1/3) per element.
  CHECK(loss::cross_entropy(logits, crisp::from_vector<int64_t>({0, 2})).item() == Approx(std::log(3.0)));
  // Class weights leave a single-class mean unchanged (sum w l / sum w).
  auto w = crisp::from_vector<float>({5, 1, 1});
  CHECK(loss::cross_entropy(logits, crisp::from_vector<int64_t>({0, 0}), w).item() == Approx(std::log(3.0)));
  // A detached target side: no gradient for it.
  auto xr = crisp::full<float>({3}, 0.5f).requires_grad_();
  loss::bce(xr, crisp::full<float>({3}, 0.5f)).backward();
  CHECK(xr.grad().defined());
}

TEST_CASE("losses reject bad input, naming the loss and the shapes") {
  auto a = crisp::zeros<float>({2, 3}), b = crisp::zeros<float>({3});
  // A macro, not a function: Catch2 v2's combined matchers keep references to their parts.
#define msg(op, s1, s2) (Catch::Contains(op) && Catch::Contains(s1) && Catch::Contains(s2))
  CHECK_THROWS_WITH(loss::smooth_l1(a, b), msg("loss::smooth_l1", "[2, 3]", "[3]"));
  CHECK_THROWS_AS(loss::smooth_l1(a, a, Reduction::Mean, -1.0), crisp::ValueError);
  CHECK_THROWS_WITH(loss::bce(a, b), msg("loss::bce", "[2, 3]", "[3]"));
  CHECK_THROWS_WITH(loss::bce_with_logits(a, b), msg("loss::bce_with_logits", "[2, 3]", "[3]"));
  CHECK_THROWS_WITH(loss::bce_with_logits(a, a, crisp::zeros<float>({2})),
                    msg("loss::bce_with_logits", "weight", "[2]"));
  CHECK_THROWS_WITH(loss::bce(crisp::full<float>({2}, 1.5f), crisp::zeros<float>({2})), msg("loss::bce", "[0, 1]", "1.5"));
  CHECK_THROWS_WITH(loss::cycle_consistency(a, b), msg("loss::cycle_consistency", "[2, 3]", "[3]"));
  CHECK_THROWS_AS(loss::total_variation(b), crisp::ShapeError);
  CHECK_THROWS_AS(loss::total_variation(a, Reduction::None), crisp::ValueError);
  CHECK_THROWS_WITH(loss::gan_generator_loss(crisp::zeros<float>({0})), Catch::Contains("loss::gan_loss"));

  // cross_entropy: target out of range and not ignore_index; wrong target shape; wrong weight.
  auto logits = crisp::zeros<float>({2, 3, 4, 4});
  auto t = crisp::zeros<int64_t>({2, 4, 4});
  t.data()[5] = 3;
  CHECK_THROWS_WITH(loss::cross_entropy(logits, t), msg("loss::cross_entropy", "target 3", "[2, 3, 4, 4]") &&
                                                        Catch::Contains("[2, 4, 4]") && Catch::Contains("[0, 3)"));
  CHECK_THROWS_AS(loss::cross_entropy(logits, t), crisp::ValueError);
  t.data()[5] = -1;
  CHECK_THROWS_AS(loss::cross_entropy(logits, t), crisp::ValueError);
  CHECK_NOTHROW(loss::cross_entropy(logits, t, {}, -1));
  CHECK_THROWS_WITH(loss::cross_entropy(logits, crisp::zeros<int64_t>({2, 4})),
                    msg("loss::cross_entropy", "[2, 4, 4]", "[2, 4]"));
  CHECK_THROWS_WITH(loss::cross_entropy(logits, crisp::zeros<int64_t>({2, 4, 4}), crisp::ones<float>({4})),
                    msg("loss::cross_entropy", "weight", "[4]"));
  CHECK_THROWS_WITH(loss::nll_loss(crisp::zeros<float>({3}), crisp::zeros<int64_t>({3})), msg("loss::nll_loss", "[N, C]", "[3]"));

  // masked_l1: masks of the wrong batch or size, a list of unequal masks, an empty list.
  auto img = crisp::zeros<float>({2, 3, 4, 4});
  CHECK_THROWS_WITH(loss::masked_l1(img, img, crisp::zeros<float>({1, 5, 4, 4})),
                    msg("loss::masked_l1", "[2, K, 4, 4]", "[1, 5, 4, 4]") && Catch::Contains("[2, 3, 4, 4]"));
  CHECK_THROWS_AS(loss::masked_l1(img, img, crisp::zeros<float>({2, 5, 4})), crisp::ShapeError);
  CHECK_THROWS_WITH(loss::masked_l1(img, img, std::vector<Tensor<float>>{crisp::zeros<float>({2, 4, 4}),
                                                                          crisp::zeros<float>({2, 4, 3})}),
                    msg("loss::masked_l1", "mask 1", "[2, 4, 3]"));
  CHECK_THROWS_AS(loss::masked_l1(img, img, std::vector<Tensor<float>>{}), crisp::ValueError);
  CHECK_THROWS_WITH(loss::masked_l1(img, crisp::zeros<float>({2, 3, 4, 5}), crisp::zeros<float>({2, 5, 4, 4})),
                    msg("loss::masked_l1", "[2, 3, 4, 4]", "[2, 3, 4, 5]"));

  // perceptual: layer_weights of the wrong count, None.
  auto feats = [](const Tensor<float>& x) { return std::vector<Tensor<float>>{x, x}; };
  CHECK_THROWS_WITH(loss::perceptual(img, img, feats, Reduction::Mean, {1.0}), msg("loss::perceptual", "2", "got 1"));
  CHECK_THROWS_AS(loss::perceptual(img, img, feats, Reduction::None), crisp::ValueError);
#undef msg
}
