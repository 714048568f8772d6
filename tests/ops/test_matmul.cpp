// matmul: PyTorch's rank rules, batch broadcasting, transposed views, gradcheck and errors.
#include "gradcheck_util.hpp"

using namespace crisp;
using namespace crisp::test;

namespace {
// Reference product by definition, for 2-d operands.
Tensor<double> naive_mm(const Tensor<double>& a, const Tensor<double>& b) {
  auto out = zeros<double>({a.size(0), b.size(1)});
  for (int64_t i = 0; i < a.size(0); ++i)
    for (int64_t j = 0; j < b.size(1); ++j) {
      double s = 0;
      for (int64_t k = 0; k < a.size(1); ++k) s += a(i, k) * b(k, j);
      out(i, j) = s;
    }
  return out;
}
}  // namespace

TEST_CASE("matmul matches the definition, for transposed views too") {
  Generator g(1);
  for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {64, 70, 65}}) {
    auto a = randn<double>({m, k}, g), b = randn<double>({k, n}, g);
    auto ref = naive_mm(a, b);
    auto c = matmul(a, b);
    auto ct = matmul(a.t().contiguous().t(), b.t().contiguous().t());
    for (int64_t i = 0; i < ref.numel(); ++i) {
      REQUIRE(c.data()[i] == Approx(ref.data()[i]).margin(1e-12));
      REQUIRE(ct.data()[i] == Approx(ref.data()[i]).margin(1e-12));
    }
  }
}

TEST_CASE("matmul follows PyTorch's rank and broadcasting rules") {
  CHECK(matmul(ones<float>({3}), ones<float>({3})).shape() == Shape{});
  CHECK(matmul(ones<float>({3}), ones<float>({3})).item() == 3.0f);
  CHECK(matmul(ones<float>({2, 3}), ones<float>({3})).shape() == Shape{2});
  CHECK(matmul(ones<float>({3}), ones<float>({3, 4})).shape() == Shape{4});
  CHECK(matmul(ones<float>({5, 2, 3}), ones<float>({3, 4})).shape() == Shape{5, 2, 4});
  CHECK(matmul(ones<float>({2, 1, 2, 3}), ones<float>({4, 3, 6})).shape() == Shape{2, 4, 2, 6});
  CHECK(matmul(ones<float>({3}), ones<float>({7, 3, 4})).shape() == Shape{7, 4});
  CHECK(bmm(ones<float>({2, 3, 4}), ones<float>({2, 4, 5})).shape() == Shape{2, 3, 5});
  CHECK(matmul(zeros<float>({2, 0}), zeros<float>({0, 3})).to_vector() == std::vector<float>(6, 0.0f));
}

TEST_CASE("matmul passes gradcheck") {
  CHECK(check_grad([](const Inputs& v) { return matmul(v[0], v[1]); }, {leaf({3, 4}, 1), leaf({4, 2}, 2)}));
  CHECK(check_grad([](const Inputs& v) { return matmul(v[0], v[1]); }, {leaf({4}, 3), leaf({4}, 4)}));
  CHECK(check_grad([](const Inputs& v) { return matmul(v[0], v[1]); }, {leaf({2, 4}, 5), leaf({4}, 6)}));
  CHECK(check_grad([](const Inputs& v) { return matmul(v[0], v[1]); }, {leaf({4}, 7), leaf({3, 4, 2}, 8)}));
  CHECK(check_grad([](const Inputs& v) { return matmul(v[0], v[1]); }, {leaf({2, 1, 3, 4}, 9), leaf({3, 4, 2}, 10)}));
  CHECK(check_grad([](const Inputs& v) { return matmul(v[0].t(), v[1].transpose(0, 1)); }, {leaf({4, 3}, 11), leaf({5, 4}, 12)}));
  CHECK(check_grad([](const Inputs& v) { return matmul(v[0], v[0]); }, {leaf({3, 3}, 13)}));  // used twice
}

TEST_CASE("matmul rejects mismatched operands") {
  CHECK_THROWS_WITH(matmul(ones<float>({2, 3}), ones<float>({4, 5})), Catch::Contains("matmul") && Catch::Contains("[2, 3]") && Catch::Contains("[4, 5]"));
  CHECK_THROWS_AS(matmul(scalar_tensor<float>(1.0f), ones<float>({3})), ShapeError);
  CHECK_THROWS_AS(matmul(ones<float>({2, 2, 3}), ones<float>({3, 3, 4})), ShapeError);
  CHECK_THROWS_AS(bmm(ones<float>({2, 3}), ones<float>({3, 2})), ShapeError);
}
