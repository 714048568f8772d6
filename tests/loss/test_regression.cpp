// loss::l1 and loss::mse: PyTorch goldens (tests/data/golden/nn.safetensors, "loss.*", made by
// tools/make_nn_goldens.py) for every reduction, with the gradients of input and target;
// gradchecks in double; shape errors.
#include <catch2/catch.hpp>

#include <cmath>

#include <crisp/crisp.hpp>
#include <crisp/loss/regression.hpp>

#include "../ops/gradcheck_util.hpp"

using crisp::Tensor;
using crisp::loss::Reduction;

namespace {
const std::map<std::string, Tensor<float>>& golden() {
  static const auto g = crisp::io::load_safetensors(std::string(CRISP_TEST_DATA_DIR) + "/golden/nn.safetensors");
  return g;
}
void check_close(const Tensor<float>& got, const std::string& key) {
  INFO(key);
  REQUIRE(golden().count(key) == 1);
  const auto& want = golden().at(key);
  REQUIRE(got.defined());
  REQUIRE(got.shape() == want.shape());
  const auto a = got.to_vector(), b = want.to_vector();
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-5).margin(1e-6));
}
}  // namespace

TEST_CASE("l1 and mse equal PyTorch's for every reduction, gradients included") {
  const std::pair<const char*, Reduction> reductions[] = {
      {"mean", Reduction::Mean}, {"sum", Reduction::Sum}, {"none", Reduction::None}};
  int cases = 0;
  for (const char* name : {"l1", "mse"}) {
    for (auto [rname, red] : reductions) {
      const std::string c = std::string("loss.") + name + "." + rname;
      auto a = golden().at("loss.input").clone().requires_grad_();
      auto b = golden().at("loss.target").clone().requires_grad_();
      auto y = std::string(name) == "l1" ? crisp::loss::l1(a, b, red) : crisp::loss::mse(a, b, red);
      check_close(y, c + ".y");
      (y * golden().at(c + ".r")).sum().backward();
      check_close(a.grad(), c + ".grad_input");
      check_close(b.grad(), c + ".grad_target");
      ++cases;
    }
  }
  CHECK(cases == 6);
  // Mean is the default; the l1 gradient is 0 where input == target (the golden has such elements).
  auto a = golden().at("loss.input").clone().requires_grad_();
  crisp::loss::l1(a, golden().at("loss.target")).backward();
  CHECK(a.grad().at({0, 0, 0}) == 0.0f);
  CHECK(a.grad().at({0, 0, 1}) == 0.0f);
}

TEST_CASE("l1 and mse pass gradcheck for input and target") {
  using crisp::test::check_grad;
  for (auto red : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    auto a = crisp::test::leaf({2, 3, 4}, 1);
    auto d = crisp::test::leaf_away_from_zero({2, 3, 4}, 2);  // target = a + d keeps |a - b| off the kink
    auto b = (a.detach() + d.detach()).detach().requires_grad_();
    CHECK(check_grad([red](const crisp::test::Inputs& v) { return crisp::loss::l1(v[0], v[1], red); }, {a, b}));
    CHECK(check_grad([red](const crisp::test::Inputs& v) { return crisp::loss::mse(v[0], v[1], red); }, {a, b}));
  }
}

TEST_CASE("losses reject mismatched shapes, naming the op and both shapes") {
  auto a = crisp::zeros<float>({2, 3}), b = crisp::zeros<float>({3});
  CHECK_THROWS_WITH(crisp::loss::l1(a, b), Catch::Contains("loss::l1") && Catch::Contains("[2, 3]") && Catch::Contains("[3]"));
  CHECK_THROWS_AS(crisp::loss::mse(a, b), crisp::ShapeError);
  CHECK(crisp::loss::mse(a, a, Reduction::None).shape() == crisp::Shape{2, 3});
  CHECK(crisp::loss::l1(a, a).shape() == crisp::Shape{});
}
