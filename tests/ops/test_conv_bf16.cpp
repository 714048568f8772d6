// ConvMath::BF16 through the autograd ops: conv2d and conv_transpose2d on float tensors, forward
// and all gradients, against the same graph in double (the switch never rounds double). Relative
// L2 error bound 1e-2: bf16 rounds each operand by at most 2^-8 relative (per-element bounds in
// tests/backend/cpu/test_conv_bf16.cpp); random-sign errors over K terms average well below it.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "crisp/crisp.hpp"

using namespace crisp;

namespace {

// Upstream gradient: fixed pseudo-random weights (same values in float and double).
Tensor<float> to_float_weights(const Shape& s) {
  Generator gen(99);
  return randn<float>(s, gen);
}

Tensor<double> to_double(const Tensor<float>& t) {
  Tensor<double> d = empty<double>(t.shape());
  const std::vector<float> v = t.contiguous().to_vector();
  for (size_t i = 0; i < v.size(); ++i) d.data()[i] = v[i];
  return d;
}

double rel_l2(const Tensor<float>& got, const Tensor<double>& want) {
  const std::vector<float> g = got.contiguous().to_vector();
  const std::vector<double> w = want.contiguous().to_vector();
  double num = 0, den = 0;
  for (size_t i = 0; i < g.size(); ++i) num += (g[i] - w[i]) * (g[i] - w[i]), den += w[i] * w[i];
  return std::sqrt(num / den);
}

// f(x, w, b) in float under `math` and in double; checks output and the three gradients.
template <class F>
void check_against_double(F f, const Shape& xs, const Shape& ws, int64_t o) {
  Generator gen(21);
  const Tensor<float> x0 = randn<float>(xs, gen), w0 = randn<float>(ws, gen), b0 = randn<float>({o}, gen);
  Tensor<float> x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
  Tensor<double> xd = to_double(x0).requires_grad_(), wd = to_double(w0).requires_grad_(),
                 bd = to_double(b0).requires_grad_();
  Tensor<float> y;
  {
    const cpu::ConvMathScope bf16(ConvMath::BF16);
    y = f(x, w, b);
    const Tensor<float> r = to_float_weights(y.shape());
    sum(y * r).backward();
  }
  const Tensor<double> yd = f(xd, wd, bd);
  sum(yd * to_double(to_float_weights(yd.shape()))).backward();
  CHECK(rel_l2(y, yd) < 1e-2);
  CHECK(rel_l2(x.grad(), xd.grad()) < 1e-2);
  CHECK(rel_l2(w.grad(), wd.grad()) < 1e-2);
  CHECK(rel_l2(b.grad(), bd.grad()) < 1e-5);  // the bias gradient is an fp32 sum of dy
  // ... and the switch was honoured: FP32 gives a different (more accurate) result.
  const Tensor<float> y32 = f(x0, w0, b0);
  CHECK(rel_l2(y32, yd) < 1e-5);
  CHECK(rel_l2(y, yd) > 1e-4);
}

}  // namespace

TEST_CASE("bf16: conv2d and conv_transpose2d train through autograd in bf16", "[conv][bf16]") {
  if (!cpu::cpu_has(cpu::kAvx512Bf16)) {
    WARN("skipped: this CPU has no avx512_bf16");
    return;
  }
  SECTION("conv2d, stride 2, groups 2") {
    check_against_double([](auto x, auto w, auto b) { return conv2d(x, w, b, 2, 1, 1, 2); }, {2, 8, 13, 11},
                         {6, 4, 3, 3}, 6);
  }
  SECTION("conv2d, dilation 2, 5x5") {
    check_against_double([](auto x, auto w, auto b) { return conv2d(x, w, b, 1, 4, 2); }, {1, 5, 17, 19},
                         {7, 5, 5, 5}, 7);
  }
  SECTION("conv_transpose2d, stride 2, output padding 1") {
    check_against_double([](auto x, auto w, auto b) { return conv_transpose2d(x, w, b, 2, 1, 1); }, {2, 6, 9, 10},
                         {6, 4, 3, 3}, 4);
  }
}

TEST_CASE("bf16: an op on a CPU without avx512_bf16 names the op and the missing feature", "[conv][bf16]") {
  Generator gen(1);
  const Tensor<float> x = randn<float>({1, 2, 6, 6}, gen), w = randn<float>({3, 2, 3, 3}, gen);
  const cpu::HideCpuFeatures hidden(cpu::kAvx512Bf16);
  const cpu::ConvMathScope bf16(ConvMath::BF16);
  CHECK_THROWS_WITH(conv2d(x, w), Catch::Contains("conv2d_forward") && Catch::Contains("avx512_bf16"));
  CHECK_THROWS_AS(conv_transpose2d(x, w.transpose(0, 1).contiguous()), Error);
}
