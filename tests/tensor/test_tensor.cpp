// Tensor basics: Shape, storage sharing, factories, Generator determinism, element access, printing.
#include <catch2/catch.hpp>

#include <sstream>

#include "crisp/crisp.hpp"

using crisp::Shape;
using crisp::Tensor;

TEST_CASE("Shape compares, prints and counts elements") {
  Shape s{2, 3, 32, 32};
  CHECK(s.size() == 4);
  CHECK(s.numel() == 2 * 3 * 32 * 32);
  CHECK(s == Shape{2, 3, 32, 32});
  CHECK_FALSE(s == Shape{2, 3, 32});
  CHECK_FALSE(s == Shape{2, 3, 32, 31});
  std::ostringstream os;
  os << s;
  CHECK(os.str() == "[2, 3, 32, 32]");
  CHECK(Shape{}.numel() == 1);
  CHECK(crisp::contiguous_strides(s) == Shape{3072, 1024, 32, 1});
  CHECK_THROWS_AS((Shape{1, 2, 3, 4, 5, 6, 7, 8, 9}), crisp::ShapeError);
  CHECK(crisp::broadcast_shapes(Shape{3, 1, 5}, Shape{4, 1}, "t") == Shape{3, 4, 5});
  CHECK_THROWS_WITH(crisp::broadcast_shapes(Shape{3, 2}, Shape{3}, "add"), Catch::Contains("add") && Catch::Contains("[3, 2]"));
}

TEST_CASE("factories fill as documented") {
  auto z = crisp::zeros<float>({2, 3});
  auto o = crisp::ones<double>({4});
  auto f = crisp::full<float>({2, 2}, 7.5f);
  CHECK(z.shape() == Shape{2, 3});
  for (float v : z.to_vector()) CHECK(v == 0.0f);
  for (double v : o.to_vector()) CHECK(v == 1.0);
  for (float v : f.to_vector()) CHECK(v == 7.5f);
  CHECK(crisp::arange<float>(0, 5).to_vector() == std::vector<float>{0, 1, 2, 3, 4});
  CHECK(crisp::arange<double>(1, 2, 0.25).to_vector() == std::vector<double>{1, 1.25, 1.5, 1.75});
  CHECK(crisp::arange<float>(5, 0, -2).to_vector() == std::vector<float>{5, 3, 1});
  CHECK_THROWS_AS(crisp::arange<float>(0, 5, 0), crisp::ValueError);
  auto v = crisp::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(v(1, 2) == 6.0f);
  CHECK(v.at({0, -1}) == 3.0f);
  CHECK_THROWS_WITH(crisp::from_vector<float>({1, 2, 3}, {2, 2}), Catch::Contains("from_vector") && Catch::Contains("[2, 2]"));
  CHECK_THROWS_AS(v(2, 0), crisp::ShapeError);
  CHECK_THROWS_AS(v(0), crisp::ShapeError);
  CHECK(crisp::scalar_tensor<float>(3.0f).item() == 3.0f);
  CHECK_THROWS_AS(v.item(), crisp::ShapeError);
}

TEST_CASE("Generator is deterministic for a seed and rand/randn have the right moments") {
  crisp::Generator a(42), b(42), c(43);
  auto x = crisp::randn<float>({1000}, a);
  auto y = crisp::randn<float>({1000}, b);
  auto z = crisp::randn<float>({1000}, c);
  CHECK(x.to_vector() == y.to_vector());
  CHECK(x.to_vector() != z.to_vector());
  crisp::Generator g(7);
  auto n = crisp::randn<double>({200000}, g);
  auto u = crisp::rand<double>({200000}, g);
  const double mean = crisp::mean(n).item();
  const double var = crisp::mean(crisp::square(n - mean)).item();
  CHECK(std::abs(mean) < 0.01);
  CHECK(std::abs(var - 1.0) < 0.02);
  CHECK(std::abs(crisp::mean(u).item() - 0.5) < 0.01);
  CHECK(crisp::min(u).item() >= 0.0);
  CHECK(crisp::max(u).item() < 1.0);
  // State save/restore reproduces the sequence (checkpoints rely on it).
  auto st = g.state();
  auto r1 = crisp::rand<float>({16}, g);
  g.set_state(st);
  CHECK(crisp::rand<float>({16}, g).to_vector() == r1.to_vector());
}

TEST_CASE("views share storage; contiguous copies when needed") {
  auto x = crisp::arange<float>(0, 24).reshape({2, 3, 4});
  auto t = x.transpose(0, 2);
  CHECK(t.shape() == Shape{4, 3, 2});
  CHECK(t.shares_storage_with(x));
  CHECK_FALSE(t.is_contiguous());
  CHECK(t(3, 2, 1) == x(1, 2, 3));
  auto c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK_FALSE(c.shares_storage_with(x));
  CHECK(c(3, 2, 1) == 23.0f);
  auto s = x.slice(2, 1, 4, 2);  // columns 1 and 3
  CHECK(s.shape() == Shape{2, 3, 2});
  CHECK(s(1, 2, 1) == 23.0f);
  s.at({0, 0, 0}) = 100.0f;  // writes through to x
  CHECK(x(0, 0, 1) == 100.0f);
  CHECK_THROWS_WITH(t.view({24}), Catch::Contains("view") && Catch::Contains("reshape"));
  CHECK(t.reshape({24}).shape() == Shape{24});
  CHECK(x.view({6, -1}).shape() == Shape{6, 4});
  CHECK_THROWS_AS(x.view({5, -1}), crisp::ShapeError);
  CHECK(x.select(1, -1).shape() == Shape{2, 4});
  CHECK(x.narrow(1, 1, 2).shape() == Shape{2, 2, 4});
  CHECK_THROWS_WITH(x.narrow(1, 2, 2), Catch::Contains("narrow"));
  CHECK(x.unsqueeze(0).shape() == Shape{1, 2, 3, 4});
  CHECK(x.unsqueeze(-1).shape() == Shape{2, 3, 4, 1});
  CHECK(x.unsqueeze(0).squeeze(0).shape() == Shape{2, 3, 4});
  CHECK(x.flatten(1).shape() == Shape{2, 12});
  CHECK(crisp::from_vector<float>({1, 2, 3}).reshape({3, 1}).expand({3, 4}).strides() == Shape{1, 0});
  CHECK_THROWS_AS(x.permute({0, 0, 1}), crisp::ShapeError);
  CHECK_THROWS_AS(x.transpose(0, 3), crisp::ShapeError);
}

TEST_CASE("printing looks like PyTorch's") {
  std::ostringstream os;
  os << crisp::from_vector<float>({1, -2.5f, 3, 4}, {2, 2});
  CHECK(os.str() == "tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]], shape=[2, 2])");
  std::ostringstream big;
  big << crisp::zeros<float>({2000});
  CHECK(big.str().find("...") != std::string::npos);
  std::ostringstream g;
  g << crisp::ones<float>({1}).requires_grad_();
  CHECK(g.str().find("requires_grad=true") != std::string::npos);
}

TEST_CASE("in-place updates refuse tensors that require grad unless grad mode is off") {
  auto p = crisp::ones<float>({3}).requires_grad_();
  CHECK_THROWS_AS(p.add_(crisp::ones<float>({3})), crisp::AutogradError);
  {
    crisp::NoGradGuard g;
    p.add_(crisp::ones<float>({3}), -0.5f);
    p.mul_(4.0f);
  }
  CHECK(p.to_vector() == std::vector<float>{2, 2, 2});
  auto q = crisp::zeros<float>({2, 3});
  q.copy_(crisp::from_vector<float>({1, 2, 3}));
  CHECK(q(1, 2) == 3.0f);
  CHECK_THROWS_AS(q.copy_(crisp::zeros<float>({4})), crisp::ShapeError);
  q.slice(1, 0, 2).fill_(9.0f);
  CHECK(q.to_vector() == std::vector<float>{9, 9, 3, 9, 9, 3});
}

TEST_CASE("int64 tensors hold indices") {
  auto x = crisp::from_vector<float>({3, 9, 1, 9, 2, 0}, {2, 3});
  auto [v, i] = crisp::max(x, 1);
  CHECK(v.to_vector() == std::vector<float>{9, 9});
  CHECK(i.to_vector() == std::vector<int64_t>{1, 0});
  CHECK(crisp::argmax(x).item() == 1);
}
