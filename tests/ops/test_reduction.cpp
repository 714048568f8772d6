// Gradchecks, values and argument errors for sum, mean, max/min, argmax/argmin and sum_to.
#include "gradcheck_util.hpp"

using namespace crisp;
using namespace crisp::test;

TEST_CASE("reductions pass gradcheck") {
  T x = leaf({2, 3, 4}, 1);
  CHECK(check_grad([](const Inputs& v) { return sum(v[0]); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return sum(v[0], {1}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return sum(v[0], {0, 2}, true); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return sum(v[0], {-1}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return mean(v[0]); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return mean(v[0], {1, 2}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return mean(v[0].transpose(0, 2), {0}, true); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return max(v[0], 1).first; }, {x}));
  CHECK(check_grad([](const Inputs& v) { return min(v[0], -1, true).first; }, {x}));
  CHECK(check_grad([](const Inputs& v) { return max(v[0]); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return min(v[0]); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return sum_to(v[0], Shape{3, 1}); }, {x}));
}

TEST_CASE("reduction values") {
  auto x = from_vector<float>({1, 5, 3, 7, 2, 7}, {2, 3});
  CHECK(sum(x).item() == 25.0f);
  CHECK(sum(x, {0}).to_vector() == std::vector<float>{8, 7, 10});
  CHECK(sum(x, {1}, true).shape() == Shape{2, 1});
  CHECK(mean(x, {1}).to_vector() == std::vector<float>{3, 16.0f / 3});
  auto [v, i] = max(x, 1, true);
  CHECK(v.shape() == Shape{2, 1});
  CHECK(i.to_vector() == std::vector<int64_t>{1, 0});  // first of a tie
  CHECK(argmin(x).item() == 0);
  CHECK(argmax(x, 0).to_vector() == std::vector<int64_t>{1, 0, 1});
  CHECK(std::isnan(max(from_vector<float>({1, NAN, 3})).item()));
  // Ties split the gradient of max() evenly, as PyTorch does.
  auto t = from_vector<double>({2, 2, 1}).requires_grad_();
  max(t).backward();
  CHECK(t.grad().to_vector() == std::vector<double>{0.5, 0.5, 0});
  // Long sums stay accurate (accumulated in double).
  auto ones_big = ones<float>({3000000});
  CHECK(sum(ones_big).item() == 3000000.0f);
  CHECK(sum(zeros<float>({0, 3}), {0}).to_vector() == std::vector<float>{0, 0, 0});
  CHECK(sum(scalar_tensor<float>(2.5f)).item() == 2.5f);
}

TEST_CASE("reductions reject bad dims") {
  auto x = zeros<float>({2, 3});
  CHECK_THROWS_WITH(sum(x, {2}), Catch::Contains("sum") && Catch::Contains("dim"));
  CHECK_THROWS_WITH(sum(x, {1, -1}), Catch::Contains("twice"));
  CHECK_THROWS_AS(max(x, 3), ShapeError);
  CHECK_THROWS_WITH(max(zeros<float>({0})), Catch::Contains("non-empty"));
  CHECK_THROWS_WITH(sum_to(x, Shape{4}), Catch::Contains("sum_to"));
}
