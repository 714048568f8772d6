// FaceParsingNet (crisp/models/face_parsing.hpp): the layer table's keys and shapes, the parameter
// count at the paper's widths (5,188,763), output shapes for several input sizes, gradients in
// double (train-mode BatchNorm, inputs and every parameter), errors, and on real CelebAMask-HQ
// faces mapped to Helen's classes (skipped without ../shared/data) that a shrunken net overfits
// two faces: cross-entropy falls at least 10x.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

#include <crisp/crisp.hpp>
#include <crisp/models/face_parsing.hpp>

#include "semantic_test_util.hpp"

namespace models = crisp::models;
using crisp::Shape;
using crisp::Tensor;

TEST_CASE("FaceParsingNet has the paper's layers, keys and parameter count", "[models][parsing]") {
  models::FaceParsingNet net;
  CHECK(crisp::test::count_parameters(net) == 5188763);
  const auto sd = net.state_dict();
  const std::pair<const char*, Shape> want[] = {
      {"enc1.conv.weight", {16, 3, 3, 3}},      {"enc1.bn.weight", {16}},
      {"enc2.conv.weight", {32, 16, 3, 3}},     {"enc3.conv.weight", {64, 32, 5, 5}},
      {"enc4.conv.weight", {128, 64, 3, 3}},    {"enc5.conv.weight", {256, 128, 3, 3}},
      {"enc6.conv.weight", {512, 256, 3, 3}},   {"enc6.bn.running_mean", {512}},
      {"dec1.deconv.weight", {512, 256, 4, 4}}, {"dec1.deconv.bias", {256}},
      {"dec1.conv.weight", {256, 256, 3, 3}},   {"dec1.bn.running_var", {256}},
      {"dec2.deconv.weight", {256, 128, 4, 4}}, {"dec3.deconv.weight", {128, 64, 4, 4}},
      {"dec4.deconv.weight", {64, 32, 4, 4}},   {"dec5.deconv.weight", {32, 16, 4, 4}},
      {"dec5.conv.weight", {16, 16, 3, 3}},     {"classifier.weight", {11, 16, 3, 3}},
      {"classifier.bias", {11}},
  };
  for (const auto& [k, s] : want) {
    INFO(k);
    REQUIRE(sd.count(k) == 1);
    CHECK(sd.at(k).shape() == s);
  }
  // Convs before BN have no bias; 11 BNs x 5 entries, 11 convs, 5 deconvs x 2, classifier x 2.
  CHECK(sd.count("enc1.conv.bias") == 0);
  CHECK(sd.count("dec3.conv.bias") == 0);
  CHECK(sd.size() == 11 * 5 + 11 + 5 * 2 + 2);
  // Other widths and class counts.
  models::FaceParsingNet small(models::FaceParsingNetOptions().in_channels(1).num_classes(5).base_channels(2));
  CHECK(small.state_dict().at("enc1.conv.weight").shape() == Shape{2, 1, 3, 3});
  CHECK(small.state_dict().at("classifier.weight").shape() == Shape{5, 2, 3, 3});
}

TEST_CASE("FaceParsingNet gives N x num_classes x H x W logits for H, W multiples of 32", "[models][parsing]") {
  crisp::NoGradGuard no_grad;
  crisp::Generator gen(1);
  models::FaceParsingNet net(models::FaceParsingNetOptions(), gen);  // paper widths
  net.eval();
  for (auto [h, w] : {std::pair<int64_t, int64_t>{128, 128}, {32, 32}, {64, 96}, {160, 32}}) {
    INFO(h << " x " << w);
    const Tensor<float> y = net(crisp::rand<float>({1, 3, h, w}, gen));
    CHECK(y.shape() == Shape{1, 11, h, w});
  }
  models::FaceParsingNet small(models::FaceParsingNetOptions().num_classes(4).base_channels(4), gen);
  const Tensor<float> x = crisp::rand<float>({3, 3, 64, 64}, gen);
  CHECK(small(x).shape() == Shape{3, 4, 64, 64});
  // probabilities() is the softmax over classes: every pixel sums to 1.
  const Tensor<float> p = small->probabilities(x);
  CHECK(p.shape() == Shape{3, 4, 64, 64});
  const Tensor<float> s = crisp::sum(p, {1});
  for (float v : s.to_vector()) CHECK(v == Approx(1.0f).epsilon(1e-5));
}

TEST_CASE("FaceParsingNet rejects inputs it cannot parse", "[models][parsing]") {
  models::FaceParsingNet net(models::FaceParsingNetOptions().base_channels(2));
  // The message names the model, what it accepts and what it was given.
  auto check_msg = [&](const Shape& s, const std::string& given) {
    INFO(given);
    try {
      net(crisp::zeros<float>(s));
      FAIL("expected a ShapeError");
    } catch (const crisp::ShapeError& e) {
      const std::string m = e.what();
      for (const char* part : {"FaceParsingNet", "[N, 3, H, W]", "multiples of 32"}) CHECK(m.find(part) != std::string::npos);
      CHECK(m.find(given) != std::string::npos);
    }
  };
  check_msg({1, 3, 48, 64}, "[1, 3, 48, 64]");
  check_msg({1, 3, 64, 100}, "[1, 3, 64, 100]");
  check_msg({1, 4, 64, 64}, "[1, 4, 64, 64]");
  CHECK_THROWS_AS(net(crisp::zeros<float>({3, 64, 64})), crisp::ShapeError);
  CHECK_THROWS_AS(net(crisp::zeros<float>({1, 3, 0, 32})), crisp::ShapeError);
  CHECK_THROWS_AS(net(Tensor<float>()), crisp::ShapeError);
  CHECK_THROWS_AS(models::FaceParsingNet(models::FaceParsingNetOptions().num_classes(0)), crisp::ValueError);
}

TEST_CASE("FaceParsingNet gradients in double (inputs and every parameter)", "[models][parsing][gradcheck]") {
  crisp::Generator gen(3);
  models::FaceParsingNetT<double> net(models::FaceParsingNetOptions().num_classes(3).base_channels(2), gen);
  // Non-trivial BN affine parameters, so their gradients are not special cases.
  {
    crisp::NoGradGuard no_grad;
    for (auto& [n, p] : net.named_parameters())
      if (n.find(".bn.") != std::string::npos) crisp::nn::init::uniform_(p, 0.5, 1.5, gen);
  }
  // Train mode (batch statistics): 2 images of 64 x 64 leave 8 values per channel at enc6 (2 x 2).
  Tensor<double> x = crisp::rand<double>({2, 3, 64, 64}, gen).requires_grad_();
  auto wrt = crisp::test::named_params(net);
  wrt.emplace_back("x", x);
  crisp::test::check_model_grads([&] { return std::vector<Tensor<double>>{net(x)}; }, wrt, 4);
}

TEST_CASE("FaceParsingNet overfits two real faces", "[models][parsing][real]") {
  if (!crisp::test::have_shared("parsing/labels")) return;
  using namespace crisp::data;
  const auto t0 = std::chrono::steady_clock::now();
  FaceParsingOptions o;
  o.size = {64, 64};
  const auto ds = FaceParsingDataset::celebamask(crisp::test::shared_data("parsing"), o);
  REQUIRE(ds.size() >= 2);
  crisp::Generator gen(7);
  const auto batch = FaceParsingDataset::collate({ds.get(0, gen), ds.get(1, gen)});

  models::FaceParsingNet net(models::FaceParsingNetOptions().base_channels(8), gen);
  crisp::optim::Adam opt(net.parameters(), crisp::optim::AdamOptions(1e-2));
  double first = 0, last = 0;
  int steps = 0;
  for (; steps < 150; ++steps) {
    opt.zero_grad();
    Tensor<float> loss = crisp::loss::cross_entropy(net(batch.image), batch.labels);
    loss.backward();
    opt.step();
    last = loss.item();
    if (steps == 0) first = last;
    if (last < first / 12) break;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("FaceParsingNet (base 8, 2 faces 64x64) cross-entropy " << first << " -> " << last << " in " << steps + 1
                                                               << " Adam steps, " << secs << " s");
  CHECK(last <= first / 10);
}
