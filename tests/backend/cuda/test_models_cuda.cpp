// One training step of each of the seven networks on the CUDA device equals the same step on the
// CPU: the loss, every parameter's gradient and every parameter after an Adam step, from the same
// initial weights and inputs. This is the whole dispatch layer at work (forward, loss, backward
// rules, gradient accumulation, optimiser) with every tensor of the step on the device.
// Skips visibly without a device.
#include <catch2/catch.hpp>

#include <crisp/crisp.hpp>

#include <cmath>
#include <functional>
#include <string>

#include "cuda_test_util.hpp"

using namespace crisp;

namespace {

// max |a - b| / (1 + max |b|) over the tensor: FP32 accumulation orders differ between devices.
double rel_diff(const Tensor<float>& a, const Tensor<float>& b) {
  const auto va = a.to(Device::cpu()).to_vector(), vb = b.to(Device::cpu()).to_vector();
  REQUIRE(va.size() == vb.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    REQUIRE(std::isfinite(va[i]));
    diff = std::max(diff, std::abs(double(va[i]) - double(vb[i])));
    scale = std::max(scale, std::abs(double(vb[i])));
  }
  return diff / (1.0 + scale);
}

// net_cpu and net_dev start equal; step(net, device) runs forward + loss on that device and
// returns the loss. Compares loss, gradients and the parameters after one Adam step.
template <class Net>
void check_step(const std::string& name, Net net_cpu, Net net_dev,
                const std::function<Tensor<float>(Net&, Device)>& loss_of, double tol = 2e-4) {
  INFO(name);
  const Device dev = Device::cuda(0);
  net_dev->to(dev);
  for (const auto& p : net_dev->parameters()) REQUIRE(p.device() == dev);
  for (const auto& b : net_dev->buffers()) REQUIRE(b.device() == dev);
  // eps 1e-4, not 1e-8: a conv bias before an instance norm has a gradient that is rounding noise
  // (~1e-9), which Adam at eps 1e-8 would blow up to a full-size, device-dependent step.
  const auto opts = optim::AdamOptions(1e-3).eps(1e-4);
  optim::Adam opt_cpu(net_cpu->parameters(), opts);
  optim::Adam opt_dev(net_dev->parameters(), opts);
  const Tensor<float> l_cpu = loss_of(net_cpu, Device::cpu());
  const Tensor<float> l_dev = loss_of(net_dev, dev);
  REQUIRE(l_dev.device() == dev);
  CHECK(rel_diff(l_dev, l_cpu) < tol);
  l_cpu.backward();
  l_dev.backward();
  const auto pc = net_cpu->named_parameters(), pd = net_dev->named_parameters();
  for (const auto& [key, p] : pc) {
    INFO(key);
    const Tensor<float> q = pd[key];
    REQUIRE(q.grad().defined() == p.grad().defined());
    if (p.grad().defined()) {
      REQUIRE(q.grad().device() == dev);
      CHECK(rel_diff(q.grad(), p.grad()) < tol);
    }
  }
  opt_cpu.step();
  opt_dev.step();
  for (const auto& [key, p] : pc) {
    INFO(key);
    CHECK(rel_diff(pd[key], p) < tol);
  }
  for (const auto& [key, b] : net_cpu->named_buffers()) {
    INFO(key);
    CHECK(rel_diff(net_dev->named_buffers()[key], b) < tol);
  }
}

Tensor<float> input(const Shape& s, uint64_t seed, Device d) {
  Generator g(seed);
  return rand<float>(s, g).to(d);
}

}  // namespace

TEST_CASE("one train step of every model on the device equals the CPU step") {
  CRISP_CUDA_TEST_OR_SKIP();
  using models::SemanticDeblurNet, models::FaceParsingNet, models::DCGANDiscriminator, models::VGG16Features,
      models::SRN, models::ResnetGenerator, models::NLayerDiscriminator;

  auto twins = [](auto make) { return std::make_pair(make(), make()); };

  {
    auto [a, b] = twins([] {
      Generator g(1);
      return SemanticDeblurNet(models::SemanticDeblurNetOptions().channels(4).num_resblocks(1), g);
    });
    check_step<SemanticDeblurNet>("SemanticDeblurNet", a, b, [](SemanticDeblurNet& n, Device d) {
      const Tensor<float> x = input({2, 3, 16, 16}, 2, d), probs = softmax(input({2, 11, 16, 16}, 3, d), 1);
      const Tensor<float> sharp = input({2, 3, 16, 16}, 4, d);
      auto out = n(x, probs);
      return add(loss::l1(out.scale2, sharp), loss::mse(out.scale1, interpolate(sharp, std::nullopt, std::pair{0.5, 0.5}, InterpolateMode::Bilinear)));
    });
  }
  {
    auto [a, b] = twins([] {
      Generator g(5);
      return FaceParsingNet(models::FaceParsingNetOptions().num_classes(4).base_channels(2), g);
    });
    check_step<FaceParsingNet>("FaceParsingNet", a, b, [](FaceParsingNet& n, Device d) {
      const Tensor<float> x = input({2, 3, 32, 32}, 6, d);
      Tensor<int64_t> target = cast<int64_t>(input({2, 32, 32}, 7, Device::cpu()) * 3.99f).to(d);
      return loss::cross_entropy(n(x), target, from_vector<float>({1.f, 2.f, 1.f, 0.5f}).to(d));
    });
  }
  {
    auto [a, b] = twins([] {
      Generator g(8);
      return DCGANDiscriminator(models::DCGANDiscriminatorOptions().ndf(4).image_size(16), g);
    });
    check_step<DCGANDiscriminator>("DCGANDiscriminator", a, b, [](DCGANDiscriminator& n, Device d) {
      return loss::bce(n(input({2, 3, 16, 16}, 9, d)), full<float>({2, 1}, 1.f, d));
    });
  }
  {
    auto [a, b] = twins([] {
      Generator g(10);
      return VGG16Features(models::VGG16FeaturesOptions().width_divisor(16), g);
    });
    check_step<VGG16Features>("VGG16Features", a, b, [](VGG16Features& n, Device d) {
      auto f = n->forward(input({1, 3, 32, 32}, 10, d), std::vector<std::string>{"relu2_2", "pool3"});
      return add(mean(f["relu2_2"]), mean(f["pool3"]));
    });
  }
  {
    auto [a, b] = twins([] {
      Generator g(11);
      return SRN(models::SRNOptions().base_channels(4).num_resblocks(1), g);
    });
    check_step<SRN>("SRN", a, b, [](SRN& n, Device d) {
      const Tensor<float> x = input({1, 3, 16, 16}, 12, d), sharp = input({1, 3, 16, 16}, 13, d);
      return models::srn_multiscale_loss(n(x), sharp);
    });
  }
  {
    auto [a, b] = twins([] {
      Generator g(14);
      return ResnetGenerator(models::ResnetGeneratorOptions(3, 3).ngf(4).n_blocks(1), g);
    });
    check_step<ResnetGenerator>("ResnetGenerator", a, b, [](ResnetGenerator& n, Device d) {
      const Tensor<float> x = input({1, 3, 16, 16}, 15, d);
      return loss::cycle_consistency(n(x), x);
    });
  }
  {
    auto [a, b] = twins([] {
      Generator g(16);
      return NLayerDiscriminator(models::NLayerDiscriminatorOptions(3).ndf(4).n_layers(2), g);
    });
    check_step<NLayerDiscriminator>("NLayerDiscriminator", a, b, [](NLayerDiscriminator& n, Device d) {
      return loss::gan_loss(n(input({1, 3, 24, 24}, 17, d)), true, loss::GanMode::LeastSquares);
    });
  }
}

TEST_CASE("a mixed-device call names the op and both devices") {
  CRISP_CUDA_TEST_OR_SKIP();
  const Tensor<float> a = ones<float>({2, 2}), b = ones<float>({2, 2}, Device::cuda(0));
  CHECK_THROWS_WITH(add(a, b), Catch::Contains("add") && Catch::Contains("cpu") && Catch::Contains("cuda:0"));
  CHECK_THROWS_WITH(conv2d(ones<float>({1, 1, 4, 4}, Device::cuda(0)), ones<float>({1, 1, 3, 3})),
                    Catch::Contains("conv2d") && Catch::Contains("cuda:0"));
}
