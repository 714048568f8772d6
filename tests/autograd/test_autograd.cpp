// The autograd engine: accumulation, tensors used twice, views, detach, NoGradGuard,
// retain_graph, error cases, and that graphs are freed (no growth over 10,000 steps).
#include <catch2/catch.hpp>

#include "crisp/crisp.hpp"

using crisp::Shape;
using crisp::Tensor;

TEST_CASE("backward on a scalar fills leaf grads") {
  auto x = crisp::from_vector<double>({1, 2, 3}).requires_grad_();
  auto y = crisp::sum(x * x);
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  y.backward();
  CHECK(x.grad().to_vector() == std::vector<double>{2, 4, 6});
}

TEST_CASE("gradients accumulate across backward calls until zeroed") {
  auto x = crisp::from_vector<float>({1, 2}).requires_grad_();
  crisp::sum(x * 3.0f).backward();
  crisp::sum(x * 3.0f).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{6, 6});
  x.grad().zero_();
  crisp::sum(x).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{1, 1});
}

TEST_CASE("a tensor used twice gets the sum of both gradients") {
  auto x = crisp::from_vector<double>({2, -1}).requires_grad_();
  auto a = crisp::exp(x);
  auto y = crisp::sum(a * a + a);  // d/dx = 2 e^{2x} + e^x
  y.backward();
  for (int i = 0; i < 2; ++i) {
    const double xv = x(i);
    CHECK(x.grad()(i) == Approx(2 * std::exp(2 * xv) + std::exp(xv)));
  }
}

TEST_CASE("gradients flow through views to the right elements") {
  auto x = crisp::arange<double>(0, 12).reshape({3, 4}).detach().requires_grad_();
  auto v = x.transpose(0, 1).slice(0, 1, 4, 2);  // columns 1 and 3, as rows
  auto w = x.reshape({12}).narrow(0, 0, 3);        // x[0, :3], broadcast over v's 2 rows
  crisp::sum(v * 2.0 + w).backward();
  const std::vector<double> expect{2, 4, 2, 2, 0, 2, 0, 2, 0, 2, 0, 2};
  CHECK(x.grad().to_vector() == expect);
}

TEST_CASE("backward with an explicit grad_output on a non-scalar") {
  auto x = crisp::from_vector<float>({1, 2, 3}).requires_grad_();
  auto y = x * 2.0f;
  y.backward(crisp::from_vector<float>({1, 10, 100}));
  CHECK(x.grad().to_vector() == std::vector<float>{2, 20, 200});
  auto z = x * 2.0f;
  CHECK_THROWS_WITH(z.backward(), Catch::Contains("one-element"));
  CHECK_THROWS_WITH(z.backward(crisp::ones<float>({2})), Catch::Contains("[3]") && Catch::Contains("[2]"));
}

TEST_CASE("detach and NoGradGuard cut the graph") {
  auto x = crisp::ones<float>({2}).requires_grad_();
  auto d = (x * 2.0f).detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  {
    crisp::NoGradGuard g;
    auto y = x * 2.0f;
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(crisp::is_grad_enabled());
  }
  CHECK(crisp::is_grad_enabled());
  auto y = crisp::sum(x * d);
  y.backward();
  CHECK(x.grad().to_vector() == std::vector<float>{2, 2});
  auto c = crisp::ones<float>({2});
  CHECK_THROWS_AS(crisp::sum(c).backward(), crisp::AutogradError);
  CHECK_THROWS_AS(y.requires_grad_(), crisp::AutogradError);
}

TEST_CASE("a freed graph cannot be run again; retain_graph keeps it") {
  auto x = crisp::from_vector<double>({1.5}).requires_grad_();
  auto y = crisp::sum(crisp::exp(x));
  y.backward(Tensor<double>(), /*retain_graph=*/true);
  y.backward();
  CHECK(x.grad().item() == Approx(2 * std::exp(1.5)));
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("already freed"));
}

TEST_CASE("inputs that do not require grad get none") {
  auto a = crisp::ones<float>({2, 2}).requires_grad_();
  auto b = crisp::ones<float>({2, 2});
  crisp::sum(crisp::matmul(a, b)).backward();
  CHECK(a.grad().defined());
  CHECK_FALSE(b.grad().defined());
}

TEST_CASE("a graph is freed after backward: no growth over 10,000 training steps") {
  crisp::Generator gen(3);
  auto w = crisp::randn<float>({8, 4}, gen).requires_grad_();
  auto b = crisp::zeros<float>({4}).requires_grad_();
  auto x = crisp::randn<float>({16, 8}, gen);
  auto target = crisp::randn<float>({16, 4}, gen);
  auto step = [&] {
    auto y = crisp::tanh(crisp::matmul(x, w) + b);
    auto loss = crisp::mean(crisp::square(y - target));
    loss.backward();
    crisp::NoGradGuard no_grad;
    w.add_(w.grad(), -0.01f);
    b.add_(b.grad(), -0.01f);
    w.grad().zero_();
    b.grad().zero_();
    return loss.item();
  };
  const float first = step();
  const int64_t nodes = crisp::autograd::live_nodes();
  const int64_t bytes = crisp::detail::live_storage_bytes();
  float last = first;
  for (int i = 0; i < 10000; ++i) last = step();
  CHECK(crisp::autograd::live_nodes() == nodes);
  CHECK(crisp::detail::live_storage_bytes() == bytes);
  CHECK(last < first);
}

TEST_CASE("a forward pass without backward does not leak when dropped") {
  const int64_t nodes = crisp::autograd::live_nodes();
  const int64_t bytes = crisp::detail::live_storage_bytes();
  {
    auto x = crisp::ones<float>({4, 4}).requires_grad_();
    auto y = crisp::softmax(crisp::exp(x) * x, 1);  // outputs saved by their own nodes
    auto z = crisp::sum(crisp::sigmoid(y) + crisp::tanh(y));
    CHECK(crisp::autograd::live_nodes() > nodes);
  }
  CHECK(crisp::autograd::live_nodes() == nodes);
  CHECK(crisp::detail::live_storage_bytes() == bytes);
}

TEST_CASE("gradcheck catches a wrong backward rule") {
  // An op whose recorded gradient is off by a factor of 2.
  auto bad_square = [](const Tensor<double>& x) {
    Tensor<double> y = crisp::cpu::map<double>(x.shape(), [](double v) { return v * v; }, x);
    crisp::autograd::record<double>("bad_square", y, {x}, [x = x.detach()](const Tensor<double>& g) {
      return std::vector{g * x};
    });
    return y;
  };
  crisp::Generator gen(1);
  auto x = crisp::randn<double>({5}, gen).requires_grad_();
  CHECK_THROWS_WITH(crisp::gradcheck([&](const std::vector<Tensor<double>>& v) { return bad_square(v[0]); }, {x}),
                    Catch::Contains("gradcheck") && Catch::Contains("analytic"));
  CHECK(crisp::gradcheck([](const std::vector<Tensor<double>>& v) { return v[0] * v[0]; }, {x}));
}

TEST_CASE("a wrongly shaped gradient from a backward rule is reported") {
  auto x = crisp::ones<double>({3}).requires_grad_();
  Tensor<double> y = crisp::cpu::map<double>(x.shape(), [](double v) { return v; }, x);
  crisp::autograd::record<double>("broken", y, {x}, [](const Tensor<double>&) {
    return std::vector{crisp::ones<double>({4})};
  });
  CHECK_THROWS_WITH(crisp::sum(y).backward(), Catch::Contains("broken") && Catch::Contains("[4]"));
}

TEST_CASE("post-accumulate-grad hooks run once per backward, after the leaf's gradient is complete") {
  auto w = crisp::ones<double>({2}).requires_grad_();
  std::vector<double> seen;
  const uint64_t id = crisp::autograd::register_post_accumulate_grad_hook<double>(
      w, [&](const Tensor<double>& leaf) { seen.push_back(leaf.grad()(0)); });
  // w is used twice: the hook sees the sum of both contributions, once.
  crisp::sum(w * w + w * crisp::full<double>(Shape{2}, 3.0)).backward();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == 5.0);  // 2w + 3 at w = 1
  crisp::sum(w).backward();  // accumulates onto .grad(): the hook sees 5 + 1
  REQUIRE(seen.size() == 2);
  CHECK(seen[1] == 6.0);
  CHECK(crisp::autograd::remove_post_accumulate_grad_hook(w, id));
  CHECK_FALSE(crisp::autograd::remove_post_accumulate_grad_hook(w, id));
  crisp::sum(w).backward();
  CHECK(seen.size() == 2);
  CHECK_THROWS_WITH(crisp::autograd::register_post_accumulate_grad_hook<double>(w * 2.0, [](const Tensor<double>&) {}),
                    Catch::Contains("expected a leaf tensor that requires grad"));
  CHECK_THROWS_WITH(crisp::autograd::register_post_accumulate_grad_hook<double>(crisp::ones<double>({1}), [](const Tensor<double>&) {}),
                    Catch::Contains("one that does not"));
}

// The engine hands a first gradient to .grad without a copy only when nothing else can see it;
// a gradient the caller still holds (or that aliases another one) is copied.
TEST_CASE("a leaf's first gradient never aliases a tensor the caller holds") {
  auto x = crisp::zeros<float>({2, 3}).requires_grad_();
  auto y = x + 1.0f;  // Add's rule passes grad_output through to x
  auto g = crisp::ones<float>({2, 3});
  y.backward(g);
  g.fill_(5.0f);
  for (float v : x.grad().to_vector()) CHECK(v == 1.0f);
  CHECK(x.grad().storage() != g.storage());

  // One gradient flowing to two leaves: each gets its own buffer.
  auto a = crisp::zeros<float>({4}).requires_grad_();
  auto b = crisp::zeros<float>({4}).requires_grad_();
  crisp::sum(a + b).backward();
  CHECK(a.grad().storage() != b.grad().storage());
  a.grad().fill_(3.0f);
  for (float v : b.grad().to_vector()) CHECK(v == 1.0f);

  // A gradient made by the backward rule itself is taken over and then accumulated into.
  auto w = crisp::ones<float>({3, 3}).requires_grad_();
  auto z = crisp::ones<float>({3, 3});
  crisp::sum(crisp::matmul(w, z)).backward();
  crisp::sum(crisp::matmul(w, z)).backward();
  for (float v : w.grad().to_vector()) CHECK(v == 6.0f);
}
