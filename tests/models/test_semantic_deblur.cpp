// SemanticDeblurNet (crisp/models/semantic_deblur.hpp): keys, conv counts (18 per scale, 16 with
// the official code's 5 ResBlocks) and parameter counts (3,528,793 paper; 3,358,425 without
// semantics; 3,118,937 official), the two-scale wiring (14 / 17 input channels, avg-pooled image,
// max-pooled probabilities, 4x4 transposed-conv upsampling), shapes for several sizes, gradients
// in double, errors, and on real faces (skipped without ../shared/data) that a shrunken net
// overfits two blurred 32 x 32 faces: the content loss falls at least 10x.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <sstream>
#include <utility>

#include <crisp/crisp.hpp>
#include <crisp/models/semantic_deblur.hpp>

#include "semantic_test_util.hpp"

namespace models = crisp::models;
namespace nn = crisp::nn;
using crisp::Shape;
using crisp::Tensor;

namespace {
// Conv weights (4-d, not the transposed upsampling) under `prefix`.
int64_t conv_count(const models::SemanticDeblurNet& net, const std::string& prefix) {
  int64_t n = 0;
  for (const auto& [k, t] : net.named_parameters())
    if (k.rfind(prefix, 0) == 0 && t.dim() == 4) ++n;
  return n;
}
Tensor<float> softmax_probs(const Shape& s, crisp::Generator& gen) {
  return crisp::softmax(crisp::randn<float>(s, gen), 1);
}
void check_same(const Tensor<float>& a, const Tensor<float>& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector(), y = b.to_vector();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, double(std::abs(x[i] - y[i])));
  CHECK(worst <= 1e-6);
}
}  // namespace

TEST_CASE("SemanticDeblurNet has the paper's layers, keys and parameter counts", "[models][deblur]") {
  models::SemanticDeblurNet net;
  CHECK(crisp::test::count_parameters(net) == 3528793);
  CHECK(conv_count(net, "scale1.") == 18);
  CHECK(conv_count(net, "scale2.") == 18);
  const auto sd = net.state_dict();
  const std::pair<const char*, Shape> want[] = {
      {"scale1.conv_in.weight", {64, 14, 11, 11}},  {"scale1.conv_in.bias", {64}},
      {"scale1.conv1.weight", {64, 64, 5, 5}},      {"scale1.conv2.weight", {64, 64, 5, 5}},
      {"scale1.resblocks.0.conv1.weight", {64, 64, 5, 5}}, {"scale1.resblocks.5.conv2.bias", {64}},
      {"scale1.conv3.weight", {64, 64, 5, 5}},      {"scale1.conv4.weight", {64, 64, 5, 5}},
      {"scale1.conv_out.weight", {3, 64, 5, 5}},    {"scale1.conv_out.bias", {3}},
      {"upsample.weight", {3, 3, 4, 4}},            {"upsample.bias", {3}},
      {"scale2.conv_in.weight", {64, 17, 11, 11}},  {"scale2.resblocks.5.conv1.weight", {64, 64, 5, 5}},
      {"scale2.conv_out.weight", {3, 64, 5, 5}},
  };
  for (const auto& [k, s] : want) {
    INFO(k);
    REQUIRE(sd.count(k) == 1);
    CHECK(sd.at(k).shape() == s);
  }
  CHECK(sd.count("scale1.resblocks.6.conv1.weight") == 0);
  CHECK(sd.size() == 2 * 18 * 2 + 2);
  CHECK(!net->scale1->resblocks->at<nn::ResBlock>(0).options.relu_after());

  // The "without semantics" ablation: 3 and 6 input channels.
  models::SemanticDeblurNet plain(models::SemanticDeblurNetOptions().semantics(false));
  CHECK(crisp::test::count_parameters(plain) == 3358425);
  CHECK(plain.state_dict().at("scale1.conv_in.weight").shape() == Shape{64, 3, 11, 11});
  CHECK(plain.state_dict().at("scale2.conv_in.weight").shape() == Shape{64, 6, 11, 11});

  // The official code: 5 ResBlocks with a ReLU after the addition, 16 convs per scale.
  models::SemanticDeblurNet official(models::SemanticDeblurNetOptions().official(true));
  CHECK(official->options.num_resblocks() == 5);
  CHECK(crisp::test::count_parameters(official) == 3118937);
  CHECK(conv_count(official, "scale1.") == 16);
  CHECK(official->scale2->resblocks->at<nn::ResBlock>(4).options.relu_after());
  CHECK(official.state_dict().count("scale1.resblocks.5.conv1.weight") == 0);
  // An explicit count is kept, whichever order the options are set in.
  CHECK(models::SemanticDeblurNetOptions().official(true).num_resblocks(2).num_resblocks() == 2);
  CHECK(models::SemanticDeblurNetOptions().num_resblocks(2).official(true).num_resblocks() == 2);
  CHECK(models::SemanticDeblurNetOptions().official(true).official(false).num_resblocks() == 6);
}

TEST_CASE("SemanticDeblurNet wires its two scales as the paper", "[models][deblur]") {
  crisp::NoGradGuard no_grad;
  crisp::Generator gen(2);
  models::SemanticDeblurNet net(models::SemanticDeblurNetOptions().channels(4).num_resblocks(1), gen);
  const Tensor<float> b = crisp::rand<float>({2, 3, 12, 16}, gen);
  const Tensor<float> p = softmax_probs({2, 11, 12, 16}, gen);
  const auto out = net(b, p);
  CHECK(out.scale1.shape() == Shape{2, 3, 6, 8});
  CHECK(out.scale2.shape() == Shape{2, 3, 12, 16});
  // scale 1 sees the 2x2 average of the image and the 2x2 maximum of the probabilities (14 ch);
  // scale 2 the upsampled scale-1 output, the image and the probabilities (17 ch).
  const Tensor<float> s1 =
      net->scale1(crisp::cat(std::vector<Tensor<float>>{crisp::avg_pool2d(b, 2), crisp::max_pool2d(p, 2)}, 1));
  check_same(out.scale1, s1);
  const Tensor<float> s2 = net->scale2(crisp::cat(std::vector<Tensor<float>>{net->upsample(s1), b, p}, 1));
  check_same(out.scale2, s2);
  // Without semantics: the image alone, then (upsampled, image).
  crisp::Generator gen2(3);
  models::SemanticDeblurNet plain(models::SemanticDeblurNetOptions().semantics(false).channels(4).num_resblocks(1), gen2);
  const auto o2 = plain(b);
  check_same(o2.scale1, plain->scale1(crisp::avg_pool2d(b, 2)));
  check_same(o2.scale2, plain->scale2(crisp::cat(std::vector<Tensor<float>>{plain->upsample(o2.scale1), b}, 1)));
}

TEST_CASE("SemanticDeblurNet residual(true) adds each scale's output to its blurred input", "[models][deblur]") {
  crisp::NoGradGuard no_grad;
  crisp::Generator gen(12), gen_twin(12);
  const auto opts = models::SemanticDeblurNetOptions().channels(4).num_resblocks(1);
  models::SemanticDeblurNet plain(opts, gen);
  models::SemanticDeblurNet residual(models::SemanticDeblurNetOptions(opts).residual(true), gen_twin);
  CHECK(residual.state_dict().size() == plain.state_dict().size());  // same parameters, same keys
  const Tensor<float> b = crisp::rand<float>({2, 3, 8, 12}, gen);
  const Tensor<float> p = softmax_probs({2, 11, 8, 12}, gen);
  // Same weights: scale 1 is the plain net's scale 1 plus the 2x2-averaged image; scale 2 sees
  // that sum upsampled and adds the image.
  const auto out = residual(b, p);
  const Tensor<float> s1 =
      residual->scale1(crisp::cat(std::vector<Tensor<float>>{crisp::avg_pool2d(b, 2), crisp::max_pool2d(p, 2)}, 1)) +
      crisp::avg_pool2d(b, 2);
  check_same(out.scale1, s1);
  check_same(out.scale2, residual->scale2(crisp::cat(std::vector<Tensor<float>>{residual->upsample(s1), b, p}, 1)) + b);
  // A zero last conv makes it the identity (what training starts near); the plain net gives 0.
  for (auto* net : {&plain, &residual})
    for (auto* scale : {&(*net)->scale1, &(*net)->scale2}) {
      (*scale)->conv_out->weight.zero_();
      (*scale)->conv_out->bias.zero_();
    }
  const auto id = residual(b, p);
  check_same(id.scale1, crisp::avg_pool2d(b, 2));
  check_same(id.scale2, b);
  CHECK(crisp::max(crisp::abs(plain(b, p).scale2)).item() == 0.0f);
  std::ostringstream os;
  residual->pretty_print(os);
  CHECK(os.str().find("residual=True") != std::string::npos);
}

TEST_CASE("SemanticDeblurNet output shapes for several input sizes", "[models][deblur]") {
  crisp::NoGradGuard no_grad;
  crisp::Generator gen(4);
  models::SemanticDeblurNet net(models::SemanticDeblurNetOptions(), gen);  // paper widths
  for (auto [n, h, w] : {std::tuple<int64_t, int64_t, int64_t>{1, 16, 16}, {2, 8, 12}, {1, 2, 2}, {1, 10, 6}}) {
    INFO(n << " x " << h << " x " << w);
    const auto out = net(crisp::rand<float>({n, 3, h, w}, gen), softmax_probs({n, 11, h, w}, gen));
    CHECK(out.scale1.shape() == Shape{n, 3, h / 2, w / 2});
    CHECK(out.scale2.shape() == Shape{n, 3, h, w});
  }
  // The paper's 128 x 128 at a shrunken width, and other class counts.
  models::SemanticDeblurNet narrow(models::SemanticDeblurNetOptions().channels(4).num_resblocks(1).num_classes(5), gen);
  const auto out = narrow(crisp::rand<float>({1, 3, 128, 128}, gen), softmax_probs({1, 5, 128, 128}, gen));
  CHECK(out.scale1.shape() == Shape{1, 3, 64, 64});
  CHECK(out.scale2.shape() == Shape{1, 3, 128, 128});
}

TEST_CASE("SemanticDeblurNet rejects inputs it cannot take", "[models][deblur]") {
  crisp::Generator gen(5);
  models::SemanticDeblurNet net(models::SemanticDeblurNetOptions().channels(2).num_resblocks(1), gen);
  const Tensor<float> b = crisp::rand<float>({2, 3, 8, 8}, gen);
  auto expect = [&](auto&& call, const std::vector<std::string>& parts) {
    try {
      call();
      FAIL("expected a crisp::Error");
    } catch (const crisp::Error& e) {
      const std::string m = e.what();
      INFO(m);
      for (const auto& part : parts) CHECK(m.find(part) != std::string::npos);
    }
  };
  // probs missing, wrong class count, wrong size, wrong batch.
  expect([&] { net(b); }, {"SemanticDeblurNet", "[2, 11, 8, 8]", "semantics is true", "got none"});
  expect([&] { net(b, softmax_probs({2, 10, 8, 8}, gen)); }, {"SemanticDeblurNet", "[2, 11, 8, 8]", "[2, 10, 8, 8]"});
  expect([&] { net(b, softmax_probs({2, 11, 4, 4}, gen)); }, {"SemanticDeblurNet", "[2, 11, 8, 8]", "[2, 11, 4, 4]"});
  expect([&] { net(b, softmax_probs({1, 11, 8, 8}, gen)); }, {"SemanticDeblurNet", "[2, 11, 8, 8]", "[1, 11, 8, 8]"});
  // odd sizes, wrong channel counts, wrong rank.
  expect([&] { net(crisp::zeros<float>({1, 3, 7, 8}), softmax_probs({1, 11, 7, 8}, gen)); },
         {"SemanticDeblurNet", "[N, 3, H, W]", "even", "[1, 3, 7, 8]"});
  expect([&] { net(crisp::zeros<float>({1, 3, 8, 1}), softmax_probs({1, 11, 8, 1}, gen)); },
         {"SemanticDeblurNet", "even", "[1, 3, 8, 1]"});
  expect([&] { net(crisp::zeros<float>({1, 1, 8, 8}), softmax_probs({1, 11, 8, 8}, gen)); },
         {"SemanticDeblurNet", "[N, 3, H, W]", "[1, 1, 8, 8]"});
  CHECK_THROWS_AS(net(crisp::zeros<float>({3, 8, 8})), crisp::ShapeError);
  CHECK_THROWS_AS(net(crisp::zeros<float>({1, 3, 7, 8}), softmax_probs({1, 11, 7, 8}, gen)), crisp::ShapeError);
  CHECK_THROWS_AS(net(b), crisp::ValueError);
  // Without semantics, probabilities are a mistake, not ignored.
  models::SemanticDeblurNet plain(models::SemanticDeblurNetOptions().semantics(false).channels(2).num_resblocks(0), gen);
  CHECK(plain(b).scale2.shape() == Shape{2, 3, 8, 8});
  expect([&] { plain(b, softmax_probs({2, 11, 8, 8}, gen)); }, {"SemanticDeblurNet", "semantics is false"});
  CHECK_THROWS_AS(models::SemanticDeblurNet(models::SemanticDeblurNetOptions().channels(0)), crisp::ValueError);
  CHECK_THROWS_AS(models::SemanticDeblurNet(models::SemanticDeblurNetOptions().num_resblocks(-1)), crisp::ValueError);
}

TEST_CASE("SemanticDeblurNet gradients in double (inputs and every parameter)", "[models][deblur][gradcheck]") {
  for (auto [official, residual] : {std::pair{false, false}, {true, false}, {false, true}}) {
    INFO("official " << official << ", residual " << residual);
    crisp::Generator gen(6);
    models::SemanticDeblurNetT<double> net(models::SemanticDeblurNetOptions()
                                               .num_classes(2)
                                               .channels(2)
                                               .official(official)
                                               .residual(residual)
                                               .num_resblocks(1),
                                           gen);
    Tensor<double> b = crisp::rand<double>({1, 3, 8, 8}, gen).requires_grad_();
    Tensor<double> p = crisp::rand<double>({1, 2, 8, 8}, gen).requires_grad_();
    auto wrt = crisp::test::named_params(net);
    wrt.emplace_back("blurred", b);
    wrt.emplace_back("probs", p);
    crisp::test::check_model_grads(
        [&] {
          auto out = net(b, p);
          return std::vector<Tensor<double>>{out.scale1, out.scale2};
        },
        wrt, 5);
  }
}

TEST_CASE("SemanticDeblurNet overfits two blurred real faces", "[models][deblur][real]") {
  if (!crisp::test::have_shared("parsing/labels")) return;
  using namespace crisp::data;
  const auto t0 = std::chrono::steady_clock::now();
  FaceParsingOptions o;
  o.size = {32, 32};
  const auto ds = FaceParsingDataset::celebamask(crisp::test::shared_data("parsing"), o);
  REQUIRE(ds.size() >= 2);
  crisp::Generator gen(8);
  const Tensor<float> kernel = motion_blur_kernel(5, gen);
  std::vector<Tensor<float>> sharp, blurred;
  std::vector<Tensor<int64_t>> labels;
  for (int64_t i = 0; i < 2; ++i) {
    const auto s = ds.get(i, gen);
    sharp.push_back(s.image);
    blurred.push_back(degrade(s.image, kernel, gen));  // replicate border, sigma 0.01 noise, clamped
    labels.push_back(s.labels);
  }
  const Tensor<float> x = crisp::stack(sharp, 0), b = crisp::stack(blurred, 0);
  // The ground-truth parsing as one-hot probabilities (a perfect parser).
  Tensor<float> p = crisp::zeros<float>({2, 11, 32, 32});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 32 * 32; ++i) p.data()[(n * 11 + labels[size_t(n)].data()[i]) * 32 * 32 + i] = 1.0f;
  const Tensor<float> x_half = crisp::avg_pool2d(x, 2);

  models::SemanticDeblurNet net(models::SemanticDeblurNetOptions().channels(16).num_resblocks(1), gen);
  // lr 1e-3 .. 2e-3 converge in 160 - 230 steps for seeds 8 .. 11; 5e-3 stalls on the mean colour.
  crisp::optim::Adam opt(net.parameters(), crisp::optim::AdamOptions(2e-3));
  double first = 0, last = 0;
  int steps = 0;
  for (; steps < 400; ++steps) {
    opt.zero_grad();
    const auto out = net(b, p);
    Tensor<float> loss = crisp::loss::l1(out.scale1, x_half) + crisp::loss::l1(out.scale2, x);  // Lc at both scales
    loss.backward();
    opt.step();
    last = loss.item();
    if (steps == 0) first = last;
    if (last < first / 12) break;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("SemanticDeblurNet (channels 16, 1 ResBlock, 2 faces 32x32) content loss " << first << " -> " << last << " in "
                                                                                << steps + 1 << " Adam steps, " << secs
                                                                                << " s; blurred-vs-sharp L1 "
                                                                                << crisp::loss::l1(b, x).item());
  CHECK(last <= first / 10);
}
