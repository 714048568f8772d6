// The elementwise / reduction CUDA kernels against their CPU twins: broadcasting binary ops and
// unary ops through the crisp ops on device tensors, relu's backward through autograd, and the
// launchers of sum, l1 loss, Adam and softmax against CPU references. FP32: 1e-5 relative L2.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "crisp/backend/cuda/native/elementwise.hpp"
#include "crisp/crisp.hpp"
#include "cuda_test_util.hpp"

using crisp::Device;
using crisp::test::DeviceBuffer;
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
  CHECK(rel_l2(host(crisp::exp(xd * 0.1f)), crisp::exp(x * 0.1f).to_vector()) <= 1e-5);
  CHECK(rel_l2(host(crisp::abs(xd)), crisp::abs(x).to_vector()) <= 1e-6);
  auto xl = x.clone().requires_grad_();
  auto xdl = x.to(Device::cuda()).requires_grad_();
  auto g = crisp::randn<float>(x.shape(), gen);
  crisp::relu(xl).backward(g);
  crisp::relu(xdl).backward(g.to(Device::cuda()));
  CHECK(rel_l2(host(xdl.grad()), xl.grad().to_vector()) <= 1e-6);
  // An op whose backward is not ported yet says so, naming itself.
  auto xs = x.to(Device::cuda()).requires_grad_();
  auto ys = crisp::sigmoid(xs);
  CHECK_THROWS_WITH(ys.backward(g.to(Device::cuda())), Catch::Contains("sigmoid") && Catch::Contains("CUDA"));
}

TEST_CASE("sum, l1 loss, Adam and softmax launchers match CPU references") {
  CRISP_CUDA_TEST_OR_SKIP();
  crisp::Generator gen(23);
  const size_t n = 100003;
  const auto a = crisp::test::random_vector(n, gen), b = crisp::test::random_vector(n, gen);
  DeviceBuffer ad(a), bd(b), out(1);
  cudaStream_t s = crisp::cuda::current_stream();

  double ref = 0, l1 = 0;
  for (size_t i = 0; i < n; ++i) ref += a[i], l1 += std::fabs(double(a[i]) - b[i]);
  crisp::cuda::native::sum_all(int64_t(n), ad.get(), out.get(), s);
  CHECK(std::fabs(out.download()[0] - ref) <= 1e-5 * std::max(1.0, std::fabs(ref)));
  crisp::cuda::native::l1_loss(int64_t(n), ad.get(), bd.get(), out.get(), s);
  CHECK(rel_l2(out.download(), {float(l1 / double(n))}) <= 1e-6);

  // Adam, 3 steps, against PyTorch's formula in double.
  std::vector<double> p(a.begin(), a.end()), m(n, 0.0), v(n, 0.0);
  DeviceBuffer pd(a), md(std::vector<float>(n, 0.f)), vd(std::vector<float>(n, 0.f)), gd(b);
  const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 1e-2;
  for (int step = 1; step <= 3; ++step) {
    crisp::cuda::native::adam_step(int64_t(n), pd.get(), gd.get(), md.get(), vd.get(), float(lr), float(b1), float(b2),
                                   float(eps), float(wd), step, s);
    for (size_t i = 0; i < n; ++i) {
      const double gi = b[i] + wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] -= lr / (1 - std::pow(b1, step)) * m[i] / (std::sqrt(v[i]) / std::sqrt(1 - std::pow(b2, step)) + eps);
    }
  }
  CHECK(rel_l2(pd.download(), std::vector<float>(p.begin(), p.end())) <= 1e-6);

  const int64_t rows = 37, cols = 1000;
  auto x = crisp::randn<float>({rows, cols}, gen) * 4.f;
  DeviceBuffer xd(x.to_vector()), yd(size_t(rows * cols));
  yd.poison();
  crisp::cuda::native::softmax_lastdim(rows, cols, xd.get(), yd.get(), s);
  CHECK(rel_l2(yd.download(), crisp::softmax(x, 1).to_vector()) <= 1e-5);
}
