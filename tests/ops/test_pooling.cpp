// max_pool2d, avg_pool2d, adaptive_avg_pool2d: window rules on small known inputs, ties and
// NaN, gradchecks of every variant, and argument errors. PyTorch goldens are in
// test_image_ops_golden.cpp.
#include "gradcheck_util.hpp"

#include <cmath>
#include <limits>

#include "crisp/ops/pooling.hpp"

using namespace crisp;
using namespace crisp::test;
using V = std::vector<float>;

TEST_CASE("max_pool2d picks the first maximum, propagates NaN and routes the gradient to it") {
  auto x = from_vector<float>({1, 3, 3, 0, 2, 1, 3, 2}, {1, 1, 2, 4}).requires_grad_();
  auto [y, idx] = max_pool2d_with_indices(x, 2);  // default stride = kernel
  CHECK(y.shape() == Shape{1, 1, 1, 2});
  CHECK(y.to_vector() == V{3, 3});
  CHECK(idx.to_vector() == std::vector<int64_t>{1, 2});  // ties: first in row-major order
  sum(y).backward();
  CHECK(x.grad().to_vector() == V{0, 1, 1, 0, 0, 0, 0, 0});

  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto xn = from_vector<float>({1, nan, 5, nan}, {1, 1, 1, 4}).requires_grad_();
  auto [yn, in] = max_pool2d_with_indices(xn, Pair2{1, 4});
  CHECK(std::isnan(yn.item()));
  CHECK(in.to_vector() == std::vector<int64_t>{3});  // the last NaN, as ATen's scan
  sum(yn).backward();
  CHECK(xn.grad().to_vector() == V{0, 0, 0, 1});

  // A dilated window that falls wholly in the padding: -inf and ATen's (out-of-plane) index,
  // and no gradient anywhere (PyTorch's backward would write out of bounds there).
  auto xd = arange<float>(4.0f).reshape({1, 1, 2, 2}).requires_grad_();
  auto [yd, id] = max_pool2d_with_indices(xd, 2, 1, 1, 3);
  CHECK(yd.item() == -std::numeric_limits<float>::infinity());
  CHECK(id.to_vector() == std::vector<int64_t>{6});
  sum(yd).backward();
  CHECK(xd.grad().to_vector() == V(4, 0.0f));

  // Overlapping windows send several gradients to one input.
  auto xo = from_vector<float>({0, 9, 0, 0, 0, 0}, {1, 2, 3}).requires_grad_();  // CHW
  auto yo = max_pool2d(xo, Pair2{1, 2}, 1);
  CHECK(yo.shape() == Shape{1, 2, 2});
  sum(yo).backward();
  CHECK(xo.grad().to_vector()[1] == 2.0f);
}

TEST_CASE("pooling output sizes follow PyTorch, ceil_mode included") {
  auto x = zeros<float>({2, 3, 7, 9});
  CHECK(max_pool2d(x, 2).shape() == Shape{2, 3, 3, 4});
  CHECK(max_pool2d(x, 2, 2, 0, 1, true).shape() == Shape{2, 3, 4, 5});
  CHECK(max_pool2d(x, 3, 2, 1, 2).shape() == Shape{2, 3, 3, 4});
  // ceil_mode: the last window must start inside the input or the left padding.
  CHECK(max_pool2d(zeros<float>({1, 1, 6, 6}), 2, 3, 1, 1, true).shape() == Shape{1, 1, 3, 3});
  CHECK(max_pool2d(zeros<float>({1, 1, 5, 5}), 2, 3, 1, 1, true).shape() == Shape{1, 1, 2, 2});
  CHECK(max_pool2d(zeros<float>({1, 1, 6, 6}), 3, 2, 1, 1, true).shape() == Shape{1, 1, 4, 4});
  CHECK(avg_pool2d(zeros<float>({1, 1, 5, 5}), 2, 2, 0, true).shape() == Shape{1, 1, 3, 3});
  CHECK(adaptive_avg_pool2d(x, {3, 4}).shape() == Shape{2, 3, 3, 4});
  CHECK(adaptive_avg_pool2d(x, 0).numel() == 0);
  CHECK(max_pool2d(zeros<float>({3, 1, 1}), 3, 1, 1).shape() == Shape{3, 1, 1});
}

TEST_CASE("avg_pool2d divisors: count_include_pad, ceil_mode edge windows, divisor_override") {
  auto x = ones<float>({1, 1, 3, 3});
  // k3 s2 p1: four windows that each hold 4 real and 5 padded cells.
  CHECK(avg_pool2d(x, 3, 2, 1).to_vector() == V(4, 4.0f / 9.0f));
  CHECK(avg_pool2d(x, 3, 2, 1, false, false).to_vector() == V(4, 1.0f));
  CHECK(avg_pool2d(x, 3, 2, 1, false, true, 2).to_vector() == V(4, 2.0f));
  // ceil_mode on 3x3 with k2 s2: the edge window is clipped to the input (no padding to count).
  CHECK(avg_pool2d(x, 2, 2, 0, true).to_vector() == V(4, 1.0f));
  // ceil_mode with padding: the edge window past the padded input is clipped to it.
  auto y = avg_pool2d(ones<float>({1, 1, 4, 4}), 3, 2, 1, true);
  CHECK(y.shape() == Shape{1, 1, 3, 3});
  CHECK(y.to_vector()[8] == Approx(1.0f / 4.0f));  // 1 real cell; window 2x2 inside padded input
  // Adaptive windows floor(i*H/out) .. ceil((i+1)*H/out): 5 -> 3 is [0,2), [1,4), [3,5).
  auto r = adaptive_avg_pool2d(arange<float>(5.0f).reshape({1, 1, 1, 5}), {1, 3});
  CHECK(r.to_vector() == V{0.5f, 2.0f, 3.5f});
}

TEST_CASE("pooling passes gradcheck") {
  T x = leaf({2, 2, 7, 8}, 1);
  CHECK(check_grad([](const Inputs& v) { return max_pool2d(v[0], 2); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return max_pool2d(v[0], 3, 2, 1); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return max_pool2d(v[0], 3, 1, 1, 2); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return max_pool2d(v[0], {3, 2}, Pair2{2, 3}, {1, 1}, {1, 2}, true); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return max_pool2d(v[0].select(0, 0), 2, 1); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return avg_pool2d(v[0], 2); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return avg_pool2d(v[0], 3, 2, 1); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return avg_pool2d(v[0], 3, 2, 1, true, false); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return avg_pool2d(v[0], {3, 2}, Pair2{3, 1}, {1, 1}, true, true); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return avg_pool2d(v[0], 2, 1, 1, false, true, 3); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return avg_pool2d(v[0].transpose(2, 3), 2, 3); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return adaptive_avg_pool2d(v[0], {3, 5}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return adaptive_avg_pool2d(v[0], {10, 11}); }, {x}));
  CHECK(check_grad([](const Inputs& v) { return adaptive_avg_pool2d(v[0].select(1, 1), 1); }, {x}));
  T one = leaf({1, 2, 1, 1}, 2);
  CHECK(check_grad([](const Inputs& v) { return max_pool2d(v[0], 3, 1, 1); }, {one}));
  CHECK(check_grad([](const Inputs& v) { return avg_pool2d(v[0], 3, 1, 1, false, false); }, {one}));
}

TEST_CASE("pooling rejects bad arguments with the op and the sizes") {
  auto x = zeros<float>({1, 2, 3, 4});
  CHECK_THROWS_AS(max_pool2d(zeros<float>({3, 4}), 2), ShapeError);
  CHECK_THROWS_WITH(max_pool2d(zeros<float>({3, 4}), 2), Catch::Contains("max_pool2d") && Catch::Contains("[3, 4]"));
  CHECK_THROWS_WITH(avg_pool2d(zeros<float>({1, 1, 1, 3, 4}), 2), Catch::Contains("avg_pool2d") && Catch::Contains("4-d"));
  CHECK_THROWS_WITH(adaptive_avg_pool2d(zeros<float>({1, 1, 0, 3}), 2),
                    Catch::Contains("adaptive_avg_pool2d") && Catch::Contains("[1, 1, 0, 3]"));
  CHECK_THROWS_AS(max_pool2d(x, 0), ValueError);
  CHECK_THROWS_WITH(max_pool2d(x, 2, 0), Catch::Contains("max_pool2d") && Catch::Contains("stride"));
  CHECK_THROWS_WITH(max_pool2d(x, 2, 1, 0, 0), Catch::Contains("dilation"));
  CHECK_THROWS_WITH(max_pool2d(x, 2, 1, -1), Catch::Contains("non-negative") && Catch::Contains("(-1, -1)"));
  CHECK_THROWS_WITH(max_pool2d(x, 3, 1, 2), Catch::Contains("half of kernel_size") && Catch::Contains("(2, 2)"));
  CHECK_THROWS_AS(avg_pool2d(x, {3, 3}, 1, {1, 2}), ValueError);
  CHECK_THROWS_AS(max_pool2d(x, 5), ShapeError);  // kernel larger than the (padded) input
  CHECK_THROWS_WITH(max_pool2d(x, 5), Catch::Contains("max_pool2d") && Catch::Contains("[1, 2, 3, 4]") &&
                                          Catch::Contains("kernel_size (5, 5)") && Catch::Contains("0x0"));
  CHECK_THROWS_WITH(max_pool2d(x, 3, 1, 0, 2), Catch::Contains("larger than the padded input"));
  CHECK_THROWS_WITH(avg_pool2d(x, 4), Catch::Contains("avg_pool2d") && Catch::Contains("[1, 2, 3, 4]"));
  CHECK_THROWS_WITH(avg_pool2d(x, 2, 2, 0, false, true, 0), Catch::Contains("divisor_override"));
  CHECK_THROWS_WITH(adaptive_avg_pool2d(x, {-1, 2}), Catch::Contains("adaptive_avg_pool2d") && Catch::Contains("(-1, 2)"));
}

TEST_CASE("pooling over many planes (split across threads) equals pooling plane by plane") {
  Generator gen(7);
  auto x = rand<float>({4, 16, 40, 40}, gen);
  auto check = [&](auto f) {
    const auto y = f(x);
    for (int64_t n = 0; n < 4; ++n)
      for (int64_t c = 0; c < 16; c += 5) {
        const auto one = f(x.slice(0, n, n + 1).slice(1, c, c + 1));
        REQUIRE(one.to_vector() == y.slice(0, n, n + 1).slice(1, c, c + 1).contiguous().to_vector());
      }
  };
  check([](const Tensor<float>& t) { return max_pool2d(t, 2); });
  check([](const Tensor<float>& t) { return max_pool2d(t, 3, 2, 1, 2, true); });
  check([](const Tensor<float>& t) { return avg_pool2d(t, 3, 2, 1, true, false); });
  check([](const Tensor<float>& t) { return adaptive_avg_pool2d(t, {7, 5}); });
}
