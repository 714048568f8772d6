// Gradchecks (double, finite differences) of every crisp::loss beyond l1 / mse, for each
// reduction, on inputs kept off the losses' kinks.
#include <catch2/catch.hpp>

#include <crisp/crisp.hpp>
#include <crisp/loss/loss.hpp>

#include "../ops/gradcheck_util.hpp"

using crisp::Shape;
using crisp::Tensor;
using crisp::loss::Reduction;
using crisp::test::check_grad;
using crisp::test::Inputs;
using crisp::test::leaf;
using crisp::test::leaf_away_from_zero;
namespace loss = crisp::loss;

namespace {
const Reduction kReds[] = {Reduction::Mean, Reduction::Sum, Reduction::None};
// b = a + d with |d| >= 0.1: pairs whose difference stays off |.|'s kink.
std::pair<Tensor<double>, Tensor<double>> apart(const Shape& s, uint64_t seed) {
  auto a = leaf(s, seed);
  auto b = (a.detach() + leaf_away_from_zero(s, seed + 1).detach()).detach().requires_grad_();
  return {a, b};
}
}  // namespace

TEST_CASE("smooth_l1, cycle_consistency and total_variation pass gradcheck") {
  auto [a, b] = apart({2, 3, 4}, 1);
  for (auto red : kReds) {
    INFO("reduction " << loss::detail::reduction_name(red));
    for (double beta : {1.0, 0.05, 0.0})
      CHECK(check_grad([red, beta](const Inputs& v) { return loss::smooth_l1(v[0], v[1], red, beta); }, {a, b}));
    CHECK(check_grad([red](const Inputs& v) { return loss::cycle_consistency(v[0], v[1], 7.0, red); }, {a, b}));
  }
  auto x = leaf({2, 2, 4, 5}, 3);
  CHECK(check_grad([](const Inputs& v) { return loss::total_variation(v[0]); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return loss::total_variation(v[0], Reduction::Mean); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return loss::total_variation(v[0]); }, {leaf({3, 1, 6}, 4)}));
}

TEST_CASE("bce and bce_with_logits pass gradcheck for input and target") {
  auto p = leaf({3, 4}, 5, 0.1, 0.9);
  auto y = leaf({3, 4}, 6, 0.0, 1.0);
  auto z = leaf({3, 4}, 7, -4.0, 4.0);
  auto w = leaf({4}, 8, 0.5, 2.0).detach();
  auto pw = leaf({4}, 9, 0.2, 3.0).detach();
  for (auto red : kReds) {
    INFO("reduction " << loss::detail::reduction_name(red));
    CHECK(check_grad([red](const Inputs& v) { return loss::bce(v[0], v[1], {}, red); }, {p, y}));
    CHECK(check_grad([red, w](const Inputs& v) { return loss::bce(v[0], v[1], w, red); }, {p, y}));
    CHECK(check_grad([red](const Inputs& v) { return loss::bce_with_logits(v[0], v[1], {}, red); }, {z, y}));
    CHECK(check_grad([red, w, pw](const Inputs& v) { return loss::bce_with_logits(v[0], v[1], w, red, pw); }, {z, y}));
    CHECK(check_grad([red, pw](const Inputs& v) { return loss::bce_with_logits(v[0], v[1], {}, red, pw); }, {z, y}));
  }
}

TEST_CASE("cross_entropy and nll_loss pass gradcheck with weights and ignore_index") {
  auto x2 = leaf({4, 3}, 10, -2.0, 2.0);
  auto t2 = crisp::from_vector<int64_t>({0, 2, -100, 1}, {4});
  auto x4 = leaf({2, 3, 2, 3}, 11, -2.0, 2.0);
  auto t4 = crisp::from_vector<int64_t>({0, 1, 2, 7, 1, 0, 2, 2, 7, 1, 0, 1}, {2, 2, 3});
  auto w = leaf({3}, 12, 0.3, 2.0).detach();
  for (auto red : kReds) {
    INFO("reduction " << loss::detail::reduction_name(red));
    CHECK(check_grad([red, t2](const Inputs& v) { return loss::cross_entropy(v[0], t2, {}, -100, red); }, {x2}));
    CHECK(check_grad([red, t2, w](const Inputs& v) { return loss::cross_entropy(v[0], t2, w, -100, red); }, {x2}));
    CHECK(check_grad([red, t4, w](const Inputs& v) { return loss::cross_entropy(v[0], t4, w, 7, red); }, {x4}));
    CHECK(check_grad([red, t4, w](const Inputs& v) { return loss::nll_loss(v[0], t4, w, 7, red); }, {x4}));
  }
}

TEST_CASE("masked_l1 passes gradcheck for input, target and masks") {
  auto [g, i] = apart({2, 2, 3, 3}, 13);
  auto m = leaf_away_from_zero({2, 3, 3, 3}, 15);  // masks off 0, where |M| has its kink
  for (auto red : kReds) {
    INFO("reduction " << loss::detail::reduction_name(red));
    CHECK(check_grad([red](const Inputs& v) { return loss::masked_l1(v[0], v[1], v[2], red); }, {g, i, m}));
  }
  CHECK(check_grad(
      [](const Inputs& v) {
        return loss::masked_l1(v[0], v[1], std::vector<Tensor<double>>{v[2].select(1, 0), v[2].narrow(1, 1, 2).select(1, 1)});
      },
      {g, i, m}));
}

TEST_CASE("perceptual passes gradcheck through a small feature network") {
  auto w1 = leaf({3, 2, 3, 3}, 16).detach(), w2 = leaf({4, 3, 3, 3}, 17).detach();
  auto features = [w1, w2](const Tensor<double>& x) {
    auto f1 = crisp::tanh(crisp::conv2d(x, w1, {}, 1, 1));
    auto f2 = crisp::tanh(crisp::conv2d(crisp::avg_pool2d(f1, 2), w2, {}, 1, 1));
    return std::vector<Tensor<double>>{f1, f2};
  };
  auto x = leaf({1, 2, 4, 4}, 18), y = leaf({1, 2, 4, 4}, 19);
  for (auto red : {Reduction::Mean, Reduction::Sum}) {
    CHECK(check_grad([&](const Inputs& v) { return loss::perceptual(v[0], v[1], features, red, {0.5, 3.0}); }, {x, y.detach()}));
    // The target side is differentiated only with detach_target = false.
    CHECK(check_grad([&](const Inputs& v) { return loss::perceptual(v[0], v[1], features, red, {}, false); }, {x, y}));
  }
  auto y2 = y.detach().clone().requires_grad_();
  loss::perceptual(x.detach().clone().requires_grad_(), y2, features).backward();
  CHECK(!y2.grad().defined());
}

TEST_CASE("GAN losses pass gradcheck on both sides and both modes") {
  auto real = leaf({2, 1, 3, 3}, 20, -3.0, 3.0), fake = leaf({2, 1, 3, 3}, 21, -3.0, 3.0);
  for (auto mode : {loss::GanMode::Vanilla, loss::GanMode::LeastSquares}) {
    const loss::GanLabels lab{0.9, 0.1};
    CHECK(check_grad([mode](const Inputs& v) { return loss::gan_generator_loss(v[0], mode); }, {fake}));
    CHECK(check_grad([mode, lab](const Inputs& v) { return loss::gan_discriminator_loss(v[0], v[1], mode, lab); },
                     {real, fake}));
  }
}
