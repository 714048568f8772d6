// Gradchecks, broadcasting and argument errors for arithmetic, unary math and activations.
#include "gradcheck_util.hpp"

using namespace crisp;
using namespace crisp::test;

TEST_CASE("broadcasting arithmetic passes gradcheck") {
  T a = leaf({2, 3, 4}, 1), b = leaf({3, 1}, 2), c = leaf({4}, 3);
  T p = leaf({2, 3, 4}, 4, 0.5, 2.0);
  CHECK(check_grad([](const Inputs& v) { return v[0] + v[1]; }, {a, b}));
  CHECK(check_grad([](const Inputs& v) { return v[0] - v[1]; }, {a, c}));
  CHECK(check_grad([](const Inputs& v) { return v[0] * v[1]; }, {b, c}));
  CHECK(check_grad([](const Inputs& v) { return v[0] / v[1]; }, {a, p}));
  CHECK(check_grad([](const Inputs& v) { return -v[0] * 2.0 + 1.0 - v[0] / 4.0; }, {a}));
  CHECK(check_grad([](const Inputs& v) { return 3.0 / v[0] + (2.0 - v[0]); }, {p}));
  CHECK(check_grad([](const Inputs& v) { return maximum(v[0], v[1]) + minimum(v[0], v[1]) * 2.0; }, {a, c}));
  T s = leaf({}, 5);
  CHECK(check_grad([](const Inputs& v) { return v[0] * v[1]; }, {a, s}));
}

TEST_CASE("unary math passes gradcheck") {
  T x = leaf({3, 4}, 6);
  T pos = leaf({3, 4}, 7, 0.2, 2.0);
  T away = leaf_away_from_zero({3, 4}, 8);
  CHECK(check_grad([](const Inputs& v) { return exp(v[0]); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return log(v[0]); }, {pos}));
  CHECK(check_grad([](const Inputs& v) { return sqrt(v[0]); }, {pos}));
  CHECK(check_grad([](const Inputs& v) { return abs(v[0]); }, {away}));
  CHECK(check_grad([](const Inputs& v) { return pow(v[0], 3.0); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return pow(v[0], -1.5); }, {pos}));
  CHECK(check_grad([](const Inputs& v) { return pow(v[0], v[1]); }, {pos, x}));
  CHECK(check_grad([](const Inputs& v) { return square(v[0]); }, {x}));
  // clamp: keep inputs away from the bounds so finite differences do not straddle them.
  T c = leaf_away_from_zero({3, 4}, 9, 0.05) * 2.0;
  T cl = c.detach().requires_grad_();
  for (int64_t i = 0; i < cl.numel(); ++i)
    if (std::abs(std::abs(cl.data()[i]) - 0.5) < 0.01) cl.data()[i] += 0.05;
  CHECK(check_grad([](const Inputs& v) { return clamp<double>(v[0], -0.5, 0.5); }, {cl}));
  CHECK(check_grad([](const Inputs& v) { return clamp<double>(v[0], std::nullopt, 0.5); }, {cl}));
  CHECK(check_grad([](const Inputs& v) { return clamp<double>(v[0], -0.5); }, {cl}));
}

TEST_CASE("activations pass gradcheck") {
  T away = leaf_away_from_zero({2, 3, 4}, 10);
  T x = leaf({2, 3, 4}, 11, -3, 3);
  CHECK(check_grad([](const Inputs& v) { return relu(v[0]); }, {away}));
  CHECK(check_grad([](const Inputs& v) { return leaky_relu(v[0], 0.2); }, {away}));
  CHECK(check_grad([](const Inputs& v) { return sigmoid(v[0]); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return tanh(v[0]); }, {x}));
  for (int64_t d : {0, 1, 2, -1}) {
    CHECK(check_grad([d](const Inputs& v) { return softmax(v[0], d); }, {x}));
    CHECK(check_grad([d](const Inputs& v) { return log_softmax(v[0], d); }, {x}));
  }
  // Through a non-contiguous input.
  CHECK(check_grad([](const Inputs& v) { return softmax(v[0].transpose(0, 2), 1); }, {x}));
}

TEST_CASE("element-wise values: edge cases") {
  auto big = from_vector<float>({-1000, 0, 1000});
  CHECK(sigmoid(big).to_vector() == std::vector<float>{0, 0.5f, 1});
  auto sm = softmax(from_vector<float>({1000, 1000}), 0).to_vector();
  CHECK(sm[0] == Approx(0.5));
  auto ls = log_softmax(from_vector<float>({0, -1000}), 0).to_vector();
  CHECK(ls[0] == Approx(0.0).margin(1e-6));
  CHECK(ls[1] == Approx(-1000.0));
  CHECK(std::isnan(relu(from_vector<float>({NAN})).item()));
  CHECK(clamp<float>(from_vector<float>({-2, 0, 2}), -1.0f, 1.0f).to_vector() == std::vector<float>{-1, 0, 1});
  CHECK_THROWS_AS(clamp<float>(from_vector<float>({1}), std::nullopt, std::nullopt), ValueError);
  CHECK_THROWS_WITH(add(zeros<float>({2, 3}), zeros<float>({2})), Catch::Contains("add") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(mul(zeros<float>({4}), zeros<float>({3})), Catch::Contains("mul"));
  CHECK_THROWS_WITH(softmax(zeros<float>({2, 3}), 2), Catch::Contains("softmax") && Catch::Contains("dim"));
  // Results of strided inputs equal those of contiguous copies.
  Generator g(4);
  auto a = randn<float>({5, 7}, g);
  CHECK((exp(a.t()) - exp(a.t().contiguous())).to_vector() == std::vector<float>(35, 0.0f));
  CHECK((a.t() * a.t() - a.t().contiguous() * a.t().contiguous()).to_vector() == std::vector<float>(35, 0.0f));
}
