// DCGANDiscriminator (crisp/models/dcgan_discriminator.hpp): pytorch/examples' key names and
// parameter counts (2,765,568 at 64 x 64 as the example's netD; 11,164,416 at the paper's 128),
// shapes for every supported image size, DCGAN init statistics, the ReLU / logits options,
// gradients in double, errors, and on real faces (skipped without ../shared/data) that it learns
// to tell 2 sharp faces from their blurred copies.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

#include <crisp/crisp.hpp>
#include <crisp/models/dcgan_discriminator.hpp>

#include "semantic_test_util.hpp"

namespace models = crisp::models;
namespace nn = crisp::nn;
using crisp::Shape;
using crisp::Tensor;

namespace {
std::vector<std::string> keys(const models::DCGANDiscriminator& d) {
  std::vector<std::string> v;
  for (const auto& [k, t] : d.state_dict()) v.push_back(k);
  return v;
}
double mean_of(const Tensor<float>& t) { return double(t.sum().item()) / double(t.numel()); }
double std_of(const Tensor<float>& t) {
  const double m = mean_of(t);
  double s = 0;
  for (float v : t.to_vector()) s += (v - m) * (v - m);
  return std::sqrt(s / double(t.numel()));
}
}  // namespace

TEST_CASE("DCGANDiscriminator has the paper's layers, pytorch/examples keys and parameter counts", "[models][dcgan]") {
  models::DCGANDiscriminator d;  // 128 x 128, ndf 64: the paper's discriminator
  CHECK(crisp::test::count_parameters(d) == 11164416);
  const auto sd = d.state_dict();
  // Strided convs at main.0, 2, 5, 8, 11 (BN at 3, 6, 9, 12), the last conv at main.14, no biases.
  const std::pair<const char*, Shape> want[] = {
      {"main.0.weight", {64, 3, 4, 4}},      {"main.2.weight", {128, 64, 4, 4}},   {"main.3.weight", {128}},
      {"main.5.weight", {256, 128, 4, 4}},   {"main.8.weight", {512, 256, 4, 4}},  {"main.11.weight", {1024, 512, 4, 4}},
      {"main.12.running_var", {1024}},       {"main.14.weight", {1, 1024, 4, 4}},
  };
  for (const auto& [k, s] : want) {
    INFO(k);
    REQUIRE(sd.count(k) == 1);
    CHECK(sd.at(k).shape() == s);
  }
  for (const auto& k : keys(d)) {  // the only biases are BatchNorm's
    const bool bn = k.rfind("main.3.", 0) == 0 || k.rfind("main.6.", 0) == 0 || k.rfind("main.9.", 0) == 0 ||
                    k.rfind("main.12.", 0) == 0;
    INFO(k);
    CHECK((bn || k.find(".bias") == std::string::npos));
  }
  CHECK(sd.count("main.15.weight") == 0);
  CHECK(sd.size() == 6 + 4 * 5);  // 6 conv weights, 4 BNs x (weight, bias, running_mean, running_var, count)

  // image_size 64 is pytorch/examples' netD exactly: 2,765,568 parameters, last conv main.11.
  models::DCGANDiscriminator d64(models::DCGANDiscriminatorOptions().image_size(64));
  CHECK(crisp::test::count_parameters(d64) == 2765568);
  CHECK(d64.state_dict().at("main.11.weight").shape() == Shape{1, 512, 4, 4});
  // Single-channel and narrower variants.
  models::DCGANDiscriminator g(models::DCGANDiscriminatorOptions().in_channels(1).ndf(8).image_size(32));
  CHECK(crisp::test::count_parameters(g) == 8 * 1 * 16 + 16 * 8 * 16 + 32 * 16 * 16 + 32 * 16 + 2 * (16 + 32));
}

TEST_CASE("DCGANDiscriminator outputs N x 1 for every image size 4 * 2^k", "[models][dcgan]") {
  crisp::NoGradGuard no_grad;
  for (int64_t size : {8, 16, 32, 64, 128, 256}) {
    INFO("image_size " << size);
    crisp::Generator gen(1);
    models::DCGANDiscriminator d(models::DCGANDiscriminatorOptions().ndf(4).image_size(size), gen);
    CHECK(models::DCGANDiscriminatorImpl::strided_layers(size) == int64_t(std::log2(double(size) / 4)));
    const Tensor<float> p = d(crisp::rand<float>({3, 3, size, size}, gen));
    CHECK(p.shape() == Shape{3, 1});
    for (float v : p.to_vector()) CHECK((v > 0.0f && v < 1.0f));
  }
  // Paper widths at 128, batch 2.
  crisp::Generator gen(2);
  models::DCGANDiscriminator d(models::DCGANDiscriminatorOptions(), gen);
  CHECK(d(crisp::rand<float>({2, 3, 128, 128}, gen)).shape() == Shape{2, 1});
}

TEST_CASE("DCGANDiscriminator initialises as DCGAN's weights_init, deterministically", "[models][dcgan]") {
  crisp::Generator g1(5), g2(5);
  const auto opts = models::DCGANDiscriminatorOptions().ndf(32);  // half the paper's widths keeps it quick
  models::DCGANDiscriminator a(opts, g1), b(opts, g2);
  const auto sa = a.state_dict(), sb = b.state_dict();
  for (const auto& [k, t] : sa) CHECK(t.to_vector() == sb.at(k).to_vector());
  const Tensor<float>& w = sa.at("main.11.weight");  // 2M values
  CHECK(std::abs(mean_of(w)) < 1e-3);
  CHECK(std_of(w) == Approx(0.02).epsilon(0.01));
  CHECK(std_of(sa.at("main.0.weight")) == Approx(0.02).epsilon(0.1));
  CHECK(mean_of(sa.at("main.12.weight")) == Approx(1.0).epsilon(0.005));
  CHECK(std_of(sa.at("main.12.weight")) == Approx(0.02).epsilon(0.15));
  CHECK(crisp::abs(sa.at("main.12.bias")).sum().item() == 0.0f);
  CHECK(sa.at("main.12.running_var").sum().item() == 512.0f);
  // The free function re-initialises any module's convs and BNs.
  crisp::Generator g3(6);
  models::init_dcgan_weights(*a.ptr(), g3);
  CHECK(a.state_dict().at("main.0.weight").to_vector() != sb.at("main.0.weight").to_vector());
}

TEST_CASE("DCGANDiscriminator ReLU and logits options", "[models][dcgan]") {
  crisp::NoGradGuard no_grad;
  crisp::Generator g1(3), g2(3), gx(4);
  auto opts = models::DCGANDiscriminatorOptions().ndf(4).image_size(16);
  models::DCGANDiscriminator prob(opts, g1), logit(models::DCGANDiscriminatorOptions(opts).logits(true), g2);
  const Tensor<float> x = crisp::rand<float>({2, 3, 16, 16}, gx);
  const auto p = prob(x).to_vector(), l = logit(x).to_vector();
  for (size_t i = 0; i < p.size(); ++i) CHECK(p[i] == Approx(1.0 / (1.0 + std::exp(-double(l[i])))).epsilon(1e-5));
  CHECK(logit->main->size() == prob->main->size() - 1);

  models::DCGANDiscriminator relu(models::DCGANDiscriminatorOptions(opts).leaky(false));
  CHECK(relu->main->ptr(1)->name() == "ReLU");
  CHECK(prob->main->ptr(1)->name() == "LeakyReLU");
  CHECK(prob->main->at<nn::LeakyReLU>(1).options.negative_slope() == 0.2);
  CHECK(crisp::test::count_parameters(relu) == crisp::test::count_parameters(prob));
}

TEST_CASE("DCGANDiscriminator rejects wrong input and options", "[models][dcgan]") {
  models::DCGANDiscriminator d(models::DCGANDiscriminatorOptions().ndf(4));
  CHECK_THROWS_WITH(d(crisp::zeros<float>({1, 3, 64, 64})), Catch::Contains("DCGANDiscriminator") &&
                                                                Catch::Contains("[N, 3, 128, 128]") &&
                                                                Catch::Contains("[1, 3, 64, 64]"));
  CHECK_THROWS_AS(d(crisp::zeros<float>({1, 1, 128, 128})), crisp::ShapeError);
  CHECK_THROWS_AS(d(crisp::zeros<float>({3, 128, 128})), crisp::ShapeError);
  CHECK_THROWS_AS(d(Tensor<float>()), crisp::ShapeError);
  for (int64_t bad : {0, 4, 48, 100, 129, -128})
    CHECK_THROWS_WITH(models::DCGANDiscriminator(models::DCGANDiscriminatorOptions().image_size(bad)),
                      Catch::Contains("DCGANDiscriminator") && Catch::Contains("4 * 2^k") &&
                          Catch::Contains(std::to_string(bad)));
  CHECK_THROWS_AS(models::DCGANDiscriminator(models::DCGANDiscriminatorOptions().ndf(0)), crisp::ValueError);
}

TEST_CASE("DCGANDiscriminator gradients in double (inputs and every parameter)", "[models][dcgan][gradcheck]") {
  for (bool leaky : {true, false}) {
    INFO("leaky " << leaky);
    crisp::Generator gen(11);
    models::DCGANDiscriminatorT<double> d(
        models::DCGANDiscriminatorOptions().ndf(2).image_size(16).leaky(leaky).logits(!leaky), gen);
    Tensor<double> x = crisp::rand<double>({2, 3, 16, 16}, gen, -1.0, 1.0).requires_grad_();
    auto wrt = crisp::test::named_params(d);
    wrt.emplace_back("x", x);
    crisp::test::check_model_grads([&] { return std::vector<Tensor<double>>{d(x)}; }, wrt, 8);
  }
}

TEST_CASE("DCGANDiscriminator learns to tell real faces from blurred ones", "[models][dcgan][real]") {
  if (!crisp::test::have_shared("faces/28083.jpg")) return;
  using namespace crisp::data;
  const auto t0 = std::chrono::steady_clock::now();
  crisp::Generator gen(21);
  const Tensor<float> kernel = motion_blur_kernel(7, gen);
  std::vector<Tensor<float>> images;
  for (const char* stem : {"28083", "28090"}) {
    const Tensor<float> sharp = resize(load_image(crisp::test::shared_data(std::string("faces/") + stem + ".jpg")),
                                       {32, 32}, Interpolation::Area);
    images.push_back(sharp);
    images.push_back(degrade(sharp, kernel, gen));
  }
  const Tensor<float> x = crisp::stack(images, 0);
  const Tensor<float> y = crisp::from_vector<float>({1, 0, 1, 0}, Shape{4, 1});

  models::DCGANDiscriminator d(models::DCGANDiscriminatorOptions().ndf(8).image_size(32), gen);
  crisp::optim::Adam opt(d.parameters(), crisp::optim::AdamOptions(2e-3).betas({0.5, 0.999}));
  double first = 0, last = 0;
  int steps = 0;
  for (; steps < 200; ++steps) {
    opt.zero_grad();
    Tensor<float> loss = crisp::loss::bce(d(x), y);
    loss.backward();
    opt.step();
    last = loss.item();
    if (steps == 0) first = last;
    if (last < first / 20) break;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("DCGANDiscriminator real/blurred BCE " << first << " -> " << last << " in " << steps + 1 << " Adam steps, "
                                              << secs << " s");
  CHECK(last <= first / 10);
  crisp::NoGradGuard no_grad;
  const auto p = d(x).to_vector();  // training mode: batch statistics, as it was trained
  CHECK((p[0] > 0.5f && p[2] > 0.5f && p[1] < 0.5f && p[3] < 0.5f));
}
