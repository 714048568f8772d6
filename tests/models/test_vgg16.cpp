// VGG16Features (crisp/models/vgg16.hpp): torchvision's key names, shapes and parameter count at
// full width (no weights), PyTorch parity of every named layer for a width/16 replica with
// torchvision's layout (tests/data/golden/models_vgg16.safetensors, tools/make_model_goldens.py),
// strict load_torchvision errors, stopping after the deepest layer, and a gradcheck in double on a
// width/32 replica through all five blocks. No overfit test: the network is a fixed feature
// extractor in the papers (its training is torchvision's).
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include <crisp/crisp.hpp>
#include <crisp/models/vgg16.hpp>

#include "../data/data_test_util.hpp"
#include "../golden_util.hpp"

namespace models = crisp::models;
using crisp::Shape;
using crisp::Tensor;
using crisp::test::TensorMap;

namespace {

const crisp::test::GoldenFile& golden_file() {
  static const crisp::test::GoldenFile f("models_vgg16.safetensors");
  return f;
}
const std::string& meta(const std::string& key) { return golden_file().meta(key); }
const Tensor<float>& G(const std::string& key) { return golden_file().get(key); }
TensorMap sub(const std::string& prefix) { return golden_file().sub(prefix); }
using crisp::test::check_close;
using crisp::test::state_dict_keys;

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const crisp::Error& e) {
    return e.what();
  }
  FAIL("expected a crisp::Error");
  return "";
}

models::VGG16Features small_vgg(bool normalize = true) {
  models::VGG16Features vgg(models::VGG16FeaturesOptions().width_divisor(16).normalize_input(normalize));
  vgg.load_state_dict(sub("vgg16_w16.sd"));  // strict
  return vgg;
}

}  // namespace

TEST_CASE("VGG16Features has torchvision's keys, shapes and parameter count", "[models][vgg16]") {
  models::VGG16Features vgg;
  int64_t n = 0;
  for (const auto& p : vgg.parameters()) n += p.numel();
  CHECK(n == 14714688);
  CHECK(std::to_string(n) == meta("params.vgg16_features"));
  CHECK(state_dict_keys(vgg) == meta("keys.vgg16_features"));
  // The ImageNet mean / std are non-persistent buffers: they move with to(device) but are not
  // state (torchvision's state_dict has none).
  CHECK(vgg.named_buffers().size() == 2);
  CHECK(vgg->state_dict().count("mean") == 0);
  CHECK(vgg->state_dict().size() == 26);
  CHECK(vgg->features->size() == 31);
  // Layer names and their features indices.
  using V = models::VGG16FeaturesImpl;
  CHECK(V::layer_names().size() == 31);
  CHECK(V::layer_index("conv1_1") == 0);
  CHECK(V::layer_index("relu1_2") == 3);
  CHECK(V::layer_index("pool2") == 9);
  CHECK(V::layer_index("conv3_1") == 10);
  CHECK(V::layer_index("pool3") == 16);
  CHECK(V::layer_index("conv5_3") == 28);
  CHECK(V::layer_index("pool5") == 30);
}

TEST_CASE("VGG16Features matches torchvision's layers from the same weights", "[models][vgg16]") {
  auto vgg = small_vgg();
  const Tensor<float>& x = G("vgg16_w16.x");
  const std::vector<std::string> layers{"conv1_1", "relu2_2", "pool2", "conv3_1", "relu4_3", "pool5"};
  const auto out = vgg->forward(x, layers);
  CHECK(out.size() == layers.size());
  for (const auto& l : layers) check_close(out.at(l), G("vgg16_w16.y." + l), l);
  CHECK(out.at("pool5").shape() == Shape{1, 32, 1, 1});
  // normalize_input off: the raw input goes in.
  auto raw = small_vgg(false);
  check_close(raw->forward(x, {"pool1"}).at("pool1"), G("vgg16_w16.raw.pool1"), "raw pool1");
  // One call or two give the same values; a repeated name is returned once.
  const auto again = vgg->forward(x, {"pool2", "pool2"});
  CHECK(again.size() == 1);
  check_close(again.at("pool2"), G("vgg16_w16.y.pool2"), "pool2 again");
}

TEST_CASE("VGG16Features stops after the deepest requested layer and checks its input", "[models][vgg16]") {
  models::VGG16Features vgg(models::VGG16FeaturesOptions().width_divisor(32));
  // 2 x 2 is enough for pool1; it could not go through pool2, so nothing past pool1 ran.
  const auto out = vgg->forward(crisp::rand<float>({1, 3, 2, 2}), {"pool1", "conv1_1"});
  CHECK(out.at("pool1").shape() == Shape{1, 2, 1, 1});
  CHECK(out.at("conv1_1").shape() == Shape{1, 2, 2, 2});
  std::string msg = error_of([&] { vgg->forward(crisp::rand<float>({1, 3, 2, 2}), {"pool2"}); });
  CHECK(msg.find("VGG16Features") != std::string::npos);
  CHECK(msg.find("at least 4") != std::string::npos);
  msg = error_of([&] { vgg->forward(crisp::rand<float>({1, 3, 8, 8}), {"pool2", "relu9_9"}); });
  CHECK(msg.find("unknown layer \"relu9_9\"") != std::string::npos);
  CHECK(msg.find("conv1_1, relu1_1") != std::string::npos);
  msg = error_of([&] { vgg->forward(crisp::rand<float>({1, 1, 8, 8}), {"pool1"}); });
  CHECK(msg.find("[N, 3, H, W]") != std::string::npos);
  CHECK(msg.find("[1, 1, 8, 8]") != std::string::npos);
  msg = error_of([&] { vgg->forward(crisp::rand<float>({1, 3, 8, 8}), {}); });
  CHECK(msg.find("at least one layer") != std::string::npos);
  msg = error_of([] { models::VGG16Features(models::VGG16FeaturesOptions().width_divisor(3)); });
  CHECK(msg.find("width_divisor") != std::string::npos);
}

TEST_CASE("VGG16Features::load_torchvision is strict and names every problem", "[models][vgg16]") {
  const std::string path = crisp::test::scratch("vgg16_w16.safetensors");
  TensorMap sd = sub("vgg16_w16.sd");
  sd["classifier.0.weight"] = crisp::zeros<float>({4, 2});  // a whole vgg16 state dict: ignored
  crisp::io::save_safetensors(path, sd);
  models::VGG16Features vgg(models::VGG16FeaturesOptions().width_divisor(16));
  vgg->load_torchvision(path);
  check_close(vgg->forward(G("vgg16_w16.x"), {"pool5"}).at("pool5"), G("vgg16_w16.y.pool5"), "pool5 after load_torchvision");

  TensorMap bad = sub("vgg16_w16.sd");
  bad.erase("features.28.bias");
  bad["features.29.weight"] = crisp::zeros<float>({1});
  bad["features.0.weight"] = crisp::zeros<float>({4, 3, 5, 5});
  const std::string bad_path = crisp::test::scratch("vgg16_bad.safetensors");
  crisp::io::save_safetensors(bad_path, bad);
  const auto before = vgg.state_dict().at("features.0.weight").to_vector();
  const std::string msg = error_of([&] { vgg->load_torchvision(bad_path); });
  INFO(msg);
  CHECK(msg.find("VGG16Features::load_torchvision") != std::string::npos);
  CHECK(msg.find(bad_path) != std::string::npos);
  CHECK(msg.find("features.28.bias") != std::string::npos);   // missing
  CHECK(msg.find("features.29.weight") != std::string::npos); // unexpected
  CHECK(msg.find("features.0.weight: expected shape [4, 3, 3, 3]") != std::string::npos);
  CHECK(vgg.state_dict().at("features.0.weight").to_vector() == before);  // unchanged
  // Full width refuses the narrow weights.
  models::VGG16Features full;
  CHECK(error_of([&] { full->load_torchvision(path); }).find("shape mismatches") != std::string::npos);
  CHECK_THROWS_AS(full->load_torchvision(crisp::test::scratch("missing.safetensors")), crisp::IoError);
}

TEST_CASE("VGG16Features passes a gradcheck in double through all thirteen convs", "[models][vgg16][gradcheck]") {
  // Width / 32 (2, 4, 8, 16, 16 channels) on 16 x 16: pool4 leaves 1 x 1, so every conv runs.
  crisp::Generator gen(3);
  models::VGG16FeaturesT<double> vgg(models::VGG16FeaturesOptions().width_divisor(32), gen);
  Tensor<double> x = crisp::rand<double>({1, 3, 16, 16}, gen).requires_grad_();
  CHECK(crisp::gradcheck(
      [&](const std::vector<Tensor<double>>& v) {
        auto out = vgg->forward(v[0], {"relu2_1", "relu5_3"});
        return crisp::cat(std::vector<Tensor<double>>{out.at("relu2_1").reshape({-1}), out.at("relu5_3").reshape({-1})}, 0);
      },
      {x}));
  // Parameter gradients against finite differences, a sample of each parameter.
  const Tensor<double> xc = x.detach();
  auto f = [&] { return vgg->forward(xc, {"relu5_3"}).at("relu5_3"); };
  vgg.zero_grad();  // the gradcheck's backward reached the parameters too
  Tensor<double> y = f();
  const Tensor<double> r = crisp::randn<double>(y.shape(), gen);
  (y * r).sum().backward();
  crisp::NoGradGuard no_grad;
  for (const auto& [name, p] : vgg.named_parameters()) {
    INFO("parameter " << name);
    REQUIRE(p.grad().defined());
    const auto analytic = p.grad().to_vector();
    double* d = p.data();
    for (int64_t j = 0; j < p.numel(); j += 97) {
      const double orig = d[j], eps = 1e-6;
      d[j] = orig + eps;
      const double plus = (f() * r).sum().item();
      d[j] = orig - eps;
      const double minus = (f() * r).sum().item();
      d[j] = orig;
      CHECK(analytic[size_t(j)] == Approx((plus - minus) / (2 * eps)).epsilon(1e-4).margin(1e-6));
    }
  }
}

TEST_CASE("VGG16Features learns to tell real faces from blurred ones", "[models][vgg16][real]") {
  // The overfit check every model gets: the first seven convs of a width/8 VGG16 on two real
  // 32 x 32 faces and their blurred versions, conv3_3 (before its ReLU, so it can go negative)
  // averaged to one logit per image, binary cross-entropy with Adam. (Deeper layers of so narrow
  // a net start with every ReLU of their 2 x 2 maps dead: the logits could not tell images apart.)
  if (!crisp::test::have_shared("faces/28083.jpg")) return;
  std::vector<Tensor<float>> images;
  crisp::Generator gen(5);
  const Tensor<float> k = crisp::data::motion_blur_kernel(7, gen);
  for (const char* f : {"28083", "28090"}) {
    const Tensor<float> img = crisp::data::resize(crisp::data::load_image(crisp::test::shared_data(std::string("faces/") + f + ".jpg")),
                                                  {32, 32}, crisp::data::Interpolation::Area);
    images.push_back(img.unsqueeze(0));
    images.push_back(crisp::data::blur(img, k).unsqueeze(0));
  }
  const Tensor<float> x = crisp::cat(images, 0);
  const Tensor<float> labels = crisp::from_vector<float>({1, 0, 1, 0}, crisp::Shape{4});
  models::VGG16Features vgg(models::VGG16FeaturesOptions().width_divisor(8), gen);
  crisp::optim::Adam opt(vgg->parameters(), crisp::optim::AdamOptions(1e-3));
  std::vector<double> losses;
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    const Tensor<float> logits = crisp::mean(vgg->forward(x, {"conv3_3"}).at("conv3_3"), {1, 2, 3});
    Tensor<float> loss = crisp::loss::bce_with_logits(logits, labels);
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  double last = 0;
  for (size_t i = losses.size() - 5; i < losses.size(); ++i) last += losses[i] / 5;
  INFO("BCE " << losses.front() << " -> " << last << " (mean of the last 5 steps)");
  CHECK(last * 10 <= losses.front());
}
