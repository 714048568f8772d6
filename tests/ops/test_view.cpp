// Gradchecks and argument errors for views, copies and concatenation.
#include "gradcheck_util.hpp"

using namespace crisp;
using namespace crisp::test;

TEST_CASE("view ops pass gradcheck") {
  T x = leaf({2, 3, 4}, 1);
  CHECK(check_grad([](const Inputs& v) { return v[0].reshape({4, 6}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return v[0].view({6, -1}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return v[0].permute({2, 0, 1}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return v[0].transpose(0, 2).reshape({-1}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return v[0].slice(2, 1, 4, 2); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return v[0].slice(1, -2, 100); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return v[0].narrow(0, 1, 1); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return v[0].select(1, -1); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return v[0].unsqueeze(1).squeeze(1).flatten(0, 1); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return v[0].transpose(1, 2).contiguous(); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return v[0].clone(); }, {x}));
  T s = leaf({3, 1}, 2);
  CHECK(check_grad([](const Inputs& v) { return v[0].expand({2, 3, 5}); }, {s}));
}

TEST_CASE("cat, stack, split and chunk pass gradcheck") {
  T a = leaf({2, 3}, 3), b = leaf({2, 1}, 4), c = leaf({2, 2}, 5);
  CHECK(check_grad([](const Inputs& v) { return cat(v, 1); }, {a, b, c}));
  CHECK(check_grad([](const Inputs& v) { return cat<double>({v[0], v[0]}, 0); }, {a}));
  CHECK(check_grad([](const Inputs& v) { return stack<double>({v[0], v[1]}, 1); }, {a, leaf({2, 3}, 6)}));
  CHECK(check_grad([](const Inputs& v) { return split(v[0], 2, 1)[1] * 3.0; }, {a}));
  CHECK(check_grad([](const Inputs& v) {
          auto parts = chunk(v[0], 2, 1);
          return parts[0] * parts[1].sum();
        }, {c}));
  // A non-grad input mixed in.
  T k = crisp::ones<double>({2, 3});
  CHECK(check_grad([&](const Inputs& v) { return cat<double>({v[0], k}, 0); }, {a}));
}

TEST_CASE("cat and friends reject bad shapes with the op's name") {
  auto a = zeros<float>({2, 3}), b = zeros<float>({3, 3});
  CHECK_THROWS_WITH(cat<float>({a, b}, 1), Catch::Contains("cat") && Catch::Contains("[3, 3]"));
  CHECK_THROWS_AS(cat<float>({}, 0), ShapeError);
  CHECK_THROWS_AS(cat<float>({a, zeros<float>({2, 3, 1})}, 0), ShapeError);
  CHECK(cat<float>({a, b}, 0).shape() == Shape{5, 3});
  CHECK_THROWS_WITH(stack<float>({a, b}), Catch::Contains("stack"));
  CHECK_THROWS_WITH(split(a, std::vector<int64_t>{1, 1}, 1), Catch::Contains("split") && Catch::Contains("3"));
  CHECK_THROWS_AS(a.slice(0, 0, 1, 0), ValueError);
  CHECK_THROWS_AS(a.select(0, 2), ShapeError);
  CHECK_THROWS_WITH(a.expand({4, 4}), Catch::Contains("expand"));
  CHECK_THROWS_WITH(a.reshape({4, 2}), Catch::Contains("reshape") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_AS(a.reshape({-1, -1}), ShapeError);
}
