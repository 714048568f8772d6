// The element-wise CUDA path through the crisp ops on device tensors: broadcasting binary ops,
// unary ops, and relu's / sigmoid's backward through autograd, against the same ops on the CPU.
// (Each launcher against its CPU twin: test_kernels_cuda.cpp.) FP32: 1e-5 relative L2.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "crisp/crisp.hpp"
#include "cuda_test_util.hpp"

using crisp::Device;
using crisp::test::rel_l2;

namespace {
std::vector<float> host(const crisp::Tensor<float>& t) { return t.to(Device::cpu()).to_vector(); }
}  // namespace

TEST_CASE("broadcasting add / sub / mul / div / maximum on CUDA match the CPU") {
  CRISP_CUDA_TEST_OR_SKIP();
  crisp::Generator gen(21);
  const std::vector<std::pair<crisp::Shape, crisp::Shape>> shapes = {
      {{7, 5}, {7, 5}}, {{4, 1, 6}, {3, 1}}, {{2, 3, 17, 19}, {3, 1, 1}}, {{1}, {5, 4}}};
  for (const auto& [sa, sb] : shapes) {
    auto a = crisp::randn<float>(sa, gen), b = crisp::randn<float>(sb, gen) + 3.f;
    auto ad = a.to(Device::cuda()), bd = b.to(Device::cuda());
    CHECK(rel_l2(host(ad + bd), (a + b).to_vector()) <= 1e-6);
    CHECK(rel_l2(host(ad - bd), (a - b).to_vector()) <= 1e-6);
    CHECK(rel_l2(host(ad * bd), (a * b).to_vector()) <= 1e-6);
    CHECK(rel_l2(host(ad / bd), (a / bd.to(Device::cpu())).to_vector()) <= 1e-6);
    CHECK(rel_l2(host(crisp::maximum(ad, bd)), crisp::maximum(a, b).to_vector()) <= 1e-6);
  }
  // A transposed (strided) operand.
  auto m = crisp::randn<float>({6, 9}, gen);
  auto md = m.to(Device::cuda());
  CHECK(rel_l2(host(md.t() + md.t()), (m.t() + m.t()).contiguous().to_vector()) <= 1e-6);
}

TEST_CASE("unary ops on CUDA match the CPU, and relu's backward runs on the device") {
  CRISP_CUDA_TEST_OR_SKIP();
  crisp::Generator gen(22);
  auto x = crisp::randn<float>({3, 37, 41}, gen) * 3.f;
  auto xd = x.to(Device::cuda());
  CHECK(rel_l2(host(crisp::relu(xd)), crisp::relu(x).to_vector()) <= 1e-6);
  CHECK(rel_l2(host(crisp::sigmoid(xd)), crisp::sigmoid(x).to_vector()) <= 1e-5);
  CHECK(rel_l2(host(crisp::tanh(xd)), crisp::tanh(x).to_vector()) <= 1e-5);
  // exp compared on the same input on both devices (the old test scaled the device tensor by a
  // scalar the CPU made, so exp was never reached); tensor-scalar arithmetic checked on its own.
  const auto xs = x * 0.1f;
  CHECK(rel_l2(host(crisp::exp(xs.to(Device::cuda()))), crisp::exp(xs).to_vector()) <= 1e-5);
  CHECK(rel_l2(host(xd * 0.1f), xs.to_vector()) <= 1e-6);
  CHECK(rel_l2(host(crisp::abs(xd)), crisp::abs(x).to_vector()) <= 1e-6);
  auto xl = x.clone().requires_grad_();
  auto xdl = x.to(Device::cuda()).requires_grad_();
  auto g = crisp::randn<float>(x.shape(), gen);
  crisp::relu(xl).backward(g);
  crisp::relu(xdl).backward(g.to(Device::cuda()));
  CHECK(rel_l2(host(xdl.grad()), xl.grad().to_vector()) <= 1e-6);
  // sigmoid's backward runs on the device too (its rule is written with ops).
  auto xsl = x.clone().requires_grad_();
  auto xsd = x.to(Device::cuda()).requires_grad_();
  crisp::sigmoid(xsl).backward(g);
  crisp::sigmoid(xsd).backward(g.to(Device::cuda()));
  CHECK(rel_l2(host(xsd.grad()), xsl.grad().to_vector()) <= 1e-5);
}
