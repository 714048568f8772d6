// crisp's ops on Device::cuda tensors with the CUDA backend emulated (crisp_cuda_emulated_backend:
// the emulated runtime's host memory behind device storage, every kernel run by the emulation):
// the device branches of transfers, the broadcasting binary ops, unary ops, relu's backward and
// conv2d / conv_transpose2d with autograd, against the same ops on the CPU. No GPU needed.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "crisp/backend/cuda/conv.hpp"
#include "crisp/crisp.hpp"

namespace {

using crisp::Device;
using crisp::Tensor;

std::vector<float> host(const Tensor<float>& t) {
  REQUIRE(t.device().is_cuda());
  return t.to(Device::cpu()).to_vector();
}

double rel_l2(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    num += (double(got[i]) - want[i]) * (double(got[i]) - want[i]), den += double(want[i]) * want[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

}  // namespace

TEST_CASE("emulated device: transfers round-trip and the binary / unary ops match the CPU", "[cuda-emulated]") {
  crisp::Generator gen(51);
  const auto a = crisp::randn<float>({3, 1, 6}, gen), b = crisp::randn<float>({4, 1}, gen) + 3.f;
  const auto ad = a.to(Device::cuda()), bd = b.to(Device::cuda());
  CHECK(ad.device() == Device::cuda());
  CHECK(host(ad) == a.to_vector());
  CHECK(host(ad + bd) == (a + b).to_vector());
  CHECK(host(ad * bd) == (a * b).to_vector());
  CHECK(host(ad - bd) == (a - b).to_vector());
  CHECK(host(ad / bd) == (a / b).to_vector());
  CHECK(rel_l2(host(crisp::sigmoid(ad)), crisp::sigmoid(a).to_vector()) <= 1e-6);
  CHECK(rel_l2(host(crisp::exp(ad)), crisp::exp(a).to_vector()) <= 1e-6);
  // relu's backward through autograd, on the device.
  auto xc = a.clone().requires_grad_();
  auto xd = a.to(Device::cuda()).requires_grad_();
  const auto g = crisp::randn<float>(a.shape(), gen);
  crisp::relu(xc).backward(g);
  crisp::relu(xd).backward(g.to(Device::cuda()));
  CHECK(host(xd.grad()) == xc.grad().to_vector());
}

TEST_CASE("emulated device: conv2d and conv_transpose2d forward and backward match the CPU", "[cuda-emulated]") {
  crisp::Generator gen(52);
  const auto x = crisp::randn<float>({2, 4, 7, 6}, gen), w = crisp::randn<float>({6, 2, 3, 2}, gen),
             b = crisp::randn<float>({6}, gen);
  auto run = [&](Device dev) {
    auto leaf = [&](const Tensor<float>& t) { return t.to(dev).detach().requires_grad_(); };
    auto xi = leaf(x), wi = leaf(w), bi = leaf(b);
    auto y = crisp::conv2d(xi, wi, bi, {2, 1}, crisp::Pair2{1, 0}, {1, 2}, 2);
    y.backward(crisp::ones<float>(y.shape()).to(dev));
    std::vector<std::vector<float>> out;
    for (const Tensor<float>& t : {y, xi.grad(), wi.grad(), bi.grad()}) out.push_back(t.to(Device::cpu()).to_vector());
    return out;
  };
  const auto cpu = run(Device::cpu());
  for (auto math : {crisp::cuda::ConvMath::FP32, crisp::cuda::ConvMath::TF32}) {
    crisp::cuda::set_conv_math(math);
    const auto dev = run(Device::cuda());
    const double tol = math == crisp::cuda::ConvMath::FP32 ? 1e-5 : 2e-3;
    for (size_t i = 0; i < cpu.size(); ++i) {
      INFO("output " << i << " (y, dx, dw, db), math " << crisp::cuda::to_string(math));
      CHECK(rel_l2(dev[i], cpu[i]) <= tol);
    }
  }
  crisp::cuda::set_conv_math(crisp::cuda::ConvMath::FP32);

  const auto wt = crisp::randn<float>({4, 3, 2, 3}, gen);
  const auto yt = crisp::conv_transpose2d(x, wt, Tensor<float>(), 2, 1);
  const auto ytd = crisp::conv_transpose2d(x.to(Device::cuda()), wt.to(Device::cuda()), Tensor<float>(), 2, 1);
  CHECK(rel_l2(host(ytd), yt.to_vector()) <= 1e-5);

  // cuDNN has no emulation: the stub says so, naming itself.
  crisp::cuda::set_conv_backend(crisp::cuda::ConvBackend::CuDNN);
  CHECK_THROWS_WITH(crisp::conv2d(x.to(Device::cuda()), w.to(Device::cuda()), Tensor<float>(), 1, 1, 1, 2),
                    Catch::Contains("cuDNN has no CPU emulation"));
  crisp::cuda::set_conv_backend(crisp::cuda::ConvBackend::Native);
}
