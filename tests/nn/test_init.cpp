// nn::init: torch.nn.init's gains, fans, bounds and standard deviations; determinism by Generator.
#include <catch2/catch.hpp>

#include <cmath>

#include <crisp/crisp.hpp>
#include <crisp/nn/nn.hpp>

namespace init = crisp::nn::init;
using crisp::Tensor;

namespace {
struct Stats {
  double min, max, mean, std;
};
Stats stats(const Tensor<float>& t) {
  const auto v = t.to_vector();
  double s = 0, s2 = 0, lo = 1e30, hi = -1e30;
  for (float x : v) s += x, s2 += double(x) * x, lo = std::min(lo, double(x)), hi = std::max(hi, double(x));
  const double n = double(v.size()), mean = s / n;
  return {lo, hi, mean, std::sqrt(s2 / n - mean * mean)};
}
}  // namespace

TEST_CASE("calculate_gain and fans follow torch.nn.init") {
  using N = init::Nonlinearity;
  CHECK(init::calculate_gain(N::Linear) == 1.0);
  CHECK(init::calculate_gain(N::Conv2D) == 1.0);
  CHECK(init::calculate_gain(N::Sigmoid) == 1.0);
  CHECK(init::calculate_gain(N::Tanh) == Approx(5.0 / 3.0));
  CHECK(init::calculate_gain(N::ReLU) == Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain(N::LeakyReLU) == Approx(std::sqrt(2.0 / (1 + 0.01 * 0.01))));
  CHECK(init::calculate_gain(N::LeakyReLU, 0.2) == Approx(std::sqrt(2.0 / 1.04)));
  CHECK(init::calculate_gain(N::SELU) == 0.75);
  auto w = crisp::zeros<float>({8, 3, 5, 4});
  CHECK(init::calculate_fan_in_and_fan_out(w) == std::pair<int64_t, int64_t>{60, 160});
  CHECK(init::calculate_fan_in_and_fan_out(crisp::zeros<float>({7, 2})) == std::pair<int64_t, int64_t>{2, 7});
  CHECK_THROWS_WITH(init::calculate_fan_in_and_fan_out(crisp::zeros<float>({7})),
                    Catch::Contains("at least 2 dims") && Catch::Contains("[7]"));
}

TEST_CASE("distributions: bounds and moments") {
  crisp::Generator gen(11);
  auto t = crisp::zeros<float>({64, 32, 3, 3});  // fan_in 288, fan_out 576, 18432 values
  const double fan_in = 288, fan_out = 576;

  auto s = stats(init::uniform_(t, -0.5, 1.5, gen));
  CHECK(s.min >= -0.5);
  CHECK(s.max < 1.5);
  CHECK(s.mean == Approx(0.5).margin(0.02));
  CHECK(s.std == Approx(2.0 / std::sqrt(12.0)).epsilon(0.02));

  s = stats(init::normal_(t, 1.0, 0.5, gen));
  CHECK(s.mean == Approx(1.0).margin(0.01));
  CHECK(s.std == Approx(0.5).epsilon(0.02));

  const double xb = std::sqrt(6.0 / (fan_in + fan_out));
  s = stats(init::xavier_uniform_(t, 1.0, gen));
  CHECK((s.min >= -xb && s.max <= xb && s.max > 0.98 * xb));
  s = stats(init::xavier_normal_(t, 2.0, gen));
  CHECK(s.std == Approx(2.0 * std::sqrt(2.0 / (fan_in + fan_out))).epsilon(0.02));

  // Conv2d's default: a = sqrt(5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  const double kb = 1.0 / std::sqrt(fan_in);
  s = stats(init::kaiming_uniform_(t, std::sqrt(5.0), init::FanMode::FanIn, init::Nonlinearity::LeakyReLU, gen));
  CHECK((s.min >= -kb && s.max <= kb && s.max > 0.98 * kb));
  s = stats(init::kaiming_uniform_(t, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU, gen));
  CHECK(s.max <= std::sqrt(6.0 / fan_out));
  CHECK(s.std == Approx(std::sqrt(2.0 / fan_out)).epsilon(0.02));
  s = stats(init::kaiming_normal_(t, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU, gen));
  CHECK(s.std == Approx(std::sqrt(2.0 / fan_in)).epsilon(0.02));

  CHECK(stats(init::constant_(t, 0.3)).min == Approx(0.3f));
  CHECK(stats(init::ones_(t)).max == 1.0);
  CHECK(stats(init::zeros_(t)).max == 0.0);
  CHECK_THROWS_AS(init::uniform_(t, 1.0, 0.0, gen), crisp::ValueError);
  CHECK_THROWS_AS(init::normal_(t, 0.0, -1.0, gen), crisp::ValueError);
}

TEST_CASE("initialisers are in place, deterministic, work on views and parameters") {
  crisp::Generator g1(5), g2(5);
  auto a = crisp::zeros<float>({4, 6}), b = crisp::zeros<float>({4, 6});
  auto a0 = a;
  init::normal_(a, 0, 1, g1);
  init::normal_(b, 0, 1, g2);
  CHECK(a.same(a0));
  CHECK(a.to_vector() == b.to_vector());
  // A non-contiguous view: only its elements change.
  auto c = crisp::zeros<float>({4, 6});
  init::ones_(c.slice(1, 0, 6, 2));
  const auto cv = c.to_vector();
  for (int i = 0; i < 24; ++i) CHECK(cv[size_t(i)] == (i % 2 == 0 ? 1.0f : 0.0f));
  // A parameter that requires grad (no graph is recorded, it stays a leaf).
  auto p = crisp::zeros<float>({3, 3}).requires_grad_();
  init::xavier_uniform_(p, 1.0, g1);
  CHECK((p.is_leaf() && p.requires_grad()));
  // Module init takes the generator: same seed, same weights.
  crisp::Generator s1(9), s2(9);
  crisp::nn::Conv2d m1(crisp::nn::Conv2dOptions(3, 4, 3), s1), m2(crisp::nn::Conv2dOptions(3, 4, 3), s2);
  CHECK(m1->weight.to_vector() == m2->weight.to_vector());
  CHECK(m1->bias.to_vector() == m2->bias.to_vector());
}
