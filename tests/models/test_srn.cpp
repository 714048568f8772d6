// SRN-DeblurNet (crisp/models/srn.hpp): parameter names and count at the paper's widths,
// per-level output shapes, input / option errors, a double-precision gradient check through the
// scale recurrence (with the previous predictions detached, as the model does), the multi-scale
// loss against a hand computation, an overfit run on real faces (skipped without them), and
// parity with a PyTorch reference of the same topology (tools/make_srn_goldens.py).
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

#include <crisp/crisp.hpp>
#include <crisp/models/srn.hpp>

#include "../data/data_test_util.hpp"

namespace models = crisp::models;
using crisp::Shape;
using crisp::Tensor;

namespace {

template <class T>
int64_t count_parameters(const crisp::nn::ModuleT<T>& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// The TF topology's count: enc/dec convs, 6·R ResBlocks, ConvLSTM, two deconvs, output conv.
int64_t expected_count(int64_t c, int64_t b, int64_t k, int64_t r) {
  auto conv = [](int64_t i, int64_t o, int64_t kk) { return i * o * kk * kk + o; };
  auto rb = [&](int64_t ch) { return 2 * conv(ch, ch, k); };
  return conv(2 * c, b, k) + conv(b, 2 * b, k) + conv(2 * b, 4 * b, k) + 2 * r * (rb(b) + rb(2 * b) + rb(4 * b)) +
         conv(8 * b, 16 * b, 3) + conv(4 * b, 2 * b, 4) + conv(2 * b, b, 4) + conv(b, c, k);
}

template <class T>
double max_abs(const Tensor<T>& t) {
  double m = 0;
  for (T v : t.to_vector()) m = std::max(m, std::abs(double(v)));
  return m;
}

Tensor<double> resize_d(const Tensor<double>& x, int64_t h, int64_t w) {
  if (x.size(2) == h && x.size(3) == w) return x;
  return crisp::interpolate(x, crisp::Pair2{h, w}, std::nullopt, crisp::InterpolateMode::Bilinear, false);
}

}  // namespace

TEST_CASE("SRN parameter names and count at the paper's widths") {
  models::SRN net;  // channels 3, 3 scales, base 32, 3 ResBlocks, kernel 5
  const auto sd = net.state_dict();
  const std::pair<const char*, Shape> keys[] = {
      {"enc1.conv.weight", {32, 6, 5, 5}},
      {"enc1.conv.bias", {32}},
      {"enc1.resblocks.0.conv1.weight", {32, 32, 5, 5}},
      {"enc1.resblocks.2.conv2.bias", {32}},
      {"enc2.conv.weight", {64, 32, 5, 5}},
      {"enc2.resblocks.1.conv1.weight", {64, 64, 5, 5}},
      {"enc3.conv.weight", {128, 64, 5, 5}},
      {"enc3.resblocks.2.conv2.weight", {128, 128, 5, 5}},
      {"convlstm.conv.weight", {512, 256, 3, 3}},
      {"convlstm.conv.bias", {512}},
      {"dec3.resblocks.0.conv1.weight", {128, 128, 5, 5}},
      {"dec3.deconv.weight", {128, 64, 4, 4}},
      {"dec2.resblocks.2.conv2.weight", {64, 64, 5, 5}},
      {"dec2.deconv.weight", {64, 32, 4, 4}},
      {"dec2.deconv.bias", {32}},
      {"dec1.resblocks.0.conv1.weight", {32, 32, 5, 5}},
      {"out.weight", {3, 32, 5, 5}},
      {"out.bias", {3}},
  };
  for (const auto& [k, s] : keys) {
    INFO(k);
    REQUIRE(sd.count(k) == 1);
    CHECK(sd.at(k).shape() == s);
  }
  CHECK(sd.count("dec1.deconv.weight") == 0);  // dec1 ends in the output conv
  CHECK(sd.size() == 86);  // 3 x (conv 2 + 3 ResBlocks x 4) + LSTM 2 + 2 x (12 + deconv 2) + 12 + out 2
  CHECK(net.named_buffers().size() == 0);
  CHECK(count_parameters(*net) == 8061411);
  CHECK(count_parameters(*net) == expected_count(3, 32, 5, 3));
  models::SRN gray(models::SRNOptions().channels(1));
  CHECK(count_parameters(*gray) == 8056609);
  CHECK(gray.state_dict().at("enc1.conv.weight").shape() == Shape{32, 2, 5, 5});
  CHECK(gray.state_dict().at("out.weight").shape() == Shape{1, 32, 5, 5});

  // Xavier-uniform weights (|w| <= sqrt(6 / (fan_in + fan_out))), zero biases.
  for (const auto& [name, p] : net.named_parameters()) {
    INFO(name);
    const auto v = p.to_vector();
    if (name.size() > 4 && name.substr(name.size() - 4) == "bias") {
      CHECK(max_abs(p) == 0.0f);
    } else {
      const auto [fi, fo] = crisp::nn::init::calculate_fan_in_and_fan_out(p);
      const double bound = std::sqrt(6.0 / double(fi + fo));
      CHECK(max_abs(p) <= bound);
      CHECK(max_abs(p) > 0.9 * bound);
    }
  }
  // Same seed, same weights.
  crisp::Generator g1(5), g2(5);
  models::SRN a(models::SRNOptions().base_channels(4).num_resblocks(1), g1);
  models::SRN b(models::SRNOptions().base_channels(4).num_resblocks(1), g2);
  for (const auto& [name, p] : a.named_parameters()) CHECK(p.to_vector() == b.state_dict().at(name).to_vector());
}

TEST_CASE("SRN output shapes, coarsest first, and input errors") {
  crisp::NoGradGuard no_grad;
  crisp::Generator gen(1);
  {
    models::SRN paper;
    const auto y = paper(crisp::rand<float>({1, 3, 16, 32}, gen));
    REQUIRE(y.size() == 3);
    CHECK(y[0].shape() == Shape{1, 3, 4, 8});
    CHECK(y[1].shape() == Shape{1, 3, 8, 16});
    CHECK(y[2].shape() == Shape{1, 3, 16, 32});
  }
  models::SRN net(models::SRNOptions().base_channels(4).num_resblocks(1), gen);
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{16, 16}, {32, 48}, {64, 16}, {48, 80}}) {
    INFO(h << "x" << w);
    const auto y = net(crisp::rand<float>({2, 3, h, w}, gen));
    REQUIRE(y.size() == 3);
    for (int64_t i = 0; i < 3; ++i) CHECK(y[size_t(i)].shape() == Shape{2, 3, h >> (2 - i), w >> (2 - i)});
  }
  // Two scales need multiples of 8, one scale of 4.
  models::SRN two(models::SRNOptions().scales(2).base_channels(4).num_resblocks(1), gen);
  const auto y2 = two(crisp::rand<float>({1, 3, 24, 40}, gen));
  REQUIRE(y2.size() == 2);
  CHECK(y2[0].shape() == Shape{1, 3, 12, 20});
  CHECK(y2[1].shape() == Shape{1, 3, 24, 40});
  models::SRN one(models::SRNOptions().scales(1).base_channels(4).num_resblocks(0), gen);
  REQUIRE(one(crisp::rand<float>({1, 3, 12, 20}, gen)).size() == 1);
  // Gray variant.
  models::SRN gray(models::SRNOptions().channels(1).base_channels(4).num_resblocks(1), gen);
  const auto yg = gray(crisp::rand<float>({1, 1, 32, 16}, gen));
  CHECK(yg.back().shape() == Shape{1, 1, 32, 16});
  CHECK_THROWS_AS(gray(crisp::rand<float>({1, 3, 32, 16}, gen)), crisp::ShapeError);

  // Wrong channel count, rank, and sizes that do not divide.
  CHECK_THROWS_AS(net(crisp::rand<float>({1, 1, 16, 16}, gen)), crisp::ShapeError);
  CHECK_THROWS_AS(net(crisp::rand<float>({3, 16, 16}, gen)), crisp::ShapeError);
  CHECK_THROWS_AS(net(Tensor<float>()), crisp::ShapeError);
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{24, 16}, {16, 20}, {8, 8}, {17, 16}}) {
    INFO(h << "x" << w);
    CHECK_THROWS_AS(net(crisp::rand<float>({1, 3, h, w}, gen)), crisp::ShapeError);
  }
  CHECK_THROWS_AS(two(crisp::rand<float>({1, 3, 20, 16}, gen)), crisp::ShapeError);
  try {
    net(crisp::rand<float>({1, 3, 24, 16}, gen));
    FAIL("expected an error");
  } catch (const crisp::Error& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("SRN") != std::string::npos);
    CHECK(msg.find("divisible by 16") != std::string::npos);
    CHECK(msg.find("24") != std::string::npos);
  }
  try {
    net(crisp::rand<float>({1, 1, 16, 16}, gen));
    FAIL("expected an error");
  } catch (const crisp::Error& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("[N, 3, H, W]") != std::string::npos);
  }
  // Bad options.
  CHECK_THROWS_AS(models::SRN(models::SRNOptions().channels(0)), crisp::ValueError);
  CHECK_THROWS_AS(models::SRN(models::SRNOptions().scales(0)), crisp::ValueError);
  CHECK_THROWS_AS(models::SRN(models::SRNOptions().scale_factor(1.5)), crisp::ValueError);
  CHECK_THROWS_AS(models::SRN(models::SRNOptions().kernel_size(4)), crisp::ValueError);
  CHECK_THROWS_AS(models::SRN(models::SRNOptions().num_resblocks(-1)), crisp::ValueError);
}

TEST_CASE("SRN gradients (double) through the scale recurrence") {
  // 3 levels (4x4, 8x8, 16x16), base 2, one ResBlock per stage. forward() detaches each level's
  // previous prediction, so the reference function g() below replays the levels with those
  // predictions frozen at their unperturbed values while the LSTM state, the input and the
  // shared weights flow through every level; finite differences of g() must equal autograd's
  // gradient of forward().
  crisp::Generator gen(7);
  models::SRNT<double> net(models::SRNOptions().base_channels(2).num_resblocks(1), gen);
  Tensor<double> x = crisp::rand<double>({1, 3, 16, 16}, gen).requires_grad_();
  std::vector<Tensor<double>> preds = net(x);
  REQUIRE(preds.size() == 3);
  std::vector<Tensor<double>> r, frozen;
  for (const auto& p : preds) r.push_back(crisp::randn<double>(p.shape(), gen));
  Tensor<double> objective = crisp::scalar_tensor<double>(0.0);
  for (size_t i = 0; i < preds.size(); ++i) objective = objective + (preds[i] * r[i]).sum();
  net.zero_grad();
  objective.backward();
  const auto sizes = net->level_sizes(16, 16);
  {
    crisp::NoGradGuard no_grad;
    for (size_t i = 0; i < sizes.size(); ++i)
      frozen.push_back(resize_d(i == 0 ? x.detach() : preds[i - 1].detach(), sizes[i].first, sizes[i].second).clone());
  }
  auto g = [&]() {
    crisp::NoGradGuard no_grad;
    double total = 0;
    models::SRNImplT<double>::State state = net->convlstm->zero_state(1, 1, 1);
    for (size_t i = 0; i < sizes.size(); ++i) {
      const auto [h, w] = sizes[i];
      if (i == 0) state = net->convlstm->zero_state(1, h / 4, w / 4);
      else state = {resize_d(std::get<0>(state), h / 4, w / 4), resize_d(std::get<1>(state), h / 4, w / 4)};
      auto [pred, next] = net->forward_level(resize_d(x.detach(), h, w), frozen[i], state);
      state = next;
      total += (pred * r[i]).sum().item();
    }
    return total;
  };
  REQUIRE(g() == Approx(objective.item()).epsilon(1e-12));

  auto check = [&](const std::string& what, Tensor<double> t, const std::vector<double>& analytic, int64_t step) {
    INFO(what);
    crisp::NoGradGuard no_grad;
    double* d = t.data();
    int checked = 0;
    for (int64_t j = 0; j < t.numel(); j += step, ++checked) {
      const double orig = d[j], eps = 1e-6;
      d[j] = orig + eps;
      const double plus = g();
      d[j] = orig - eps;
      const double minus = g();
      d[j] = orig;
      const double numeric = (plus - minus) / (2 * eps);
      INFO("element " << j);
      CHECK(analytic[size_t(j)] == Approx(numeric).epsilon(1e-4).margin(1e-7));
    }
    CHECK(checked > 0);
  };
  check("input", x.detach(), x.grad().to_vector(), 5);
  int64_t tensors = 0;
  for (const auto& [name, p] : net.named_parameters()) {
    REQUIRE(p.grad().defined());
    check(name, p.detach(), p.grad().to_vector(), std::max<int64_t>(1, p.numel() / 5));
    ++tensors;
  }
  CHECK(tensors == 38);
  // The coarse levels' weights matter to the finest output only through the LSTM state here:
  // the LSTM's gradient from the finest level alone is non-zero.
  net.zero_grad();
  (net(x).back() * r.back()).sum().backward();
  CHECK(max_abs(net->convlstm->conv->weight.grad()) > 0.0);
}

TEST_CASE("srn_multiscale_loss sums per-level MSE against the bilinearly resized target") {
  // sharp = 0..15 on 4x4; its half-pixel bilinear 2x2 downscale is the 2x2 block means
  // {2.5, 4.5, 10.5, 12.5}. Coarse prediction 0: MSE = (2.5² + 4.5² + 10.5² + 12.5²) / 4 = 73.25;
  // fine prediction sharp + 1: MSE = 1. Total 74.25.
  const Tensor<double> sharp = crisp::arange<double>(0.0, 16.0).reshape({1, 1, 4, 4});
  Tensor<double> coarse = crisp::zeros<double>({1, 1, 2, 2}).requires_grad_();
  Tensor<double> fine = (sharp + 1.0).detach().requires_grad_();
  Tensor<double> l = models::srn_multiscale_loss<double>({coarse, fine}, sharp);
  CHECK(l.item() == Approx(74.25).epsilon(1e-12));
  l.backward();
  // d/d coarse = 2 (coarse − target) / 4.
  CHECK(coarse.grad().to_vector() == std::vector<double>{-1.25, -2.25, -5.25, -6.25});
  for (double v : fine.grad().to_vector()) CHECK(v == Approx(2.0 / 16));
  // Float, three levels, as the model returns them.
  crisp::Generator gen(3);
  const Tensor<float> s = crisp::rand<float>({2, 3, 16, 16}, gen);
  std::vector<Tensor<float>> p{crisp::rand<float>({2, 3, 4, 4}, gen), crisp::rand<float>({2, 3, 8, 8}, gen),
                               crisp::rand<float>({2, 3, 16, 16}, gen)};
  double want = 0;
  for (const auto& pi : p)
    want += crisp::loss::mse(pi, crisp::interpolate(s, crisp::Pair2{pi.size(2), pi.size(3)}, std::nullopt,
                                                    crisp::InterpolateMode::Bilinear, false))
                .item();
  CHECK(models::srn_multiscale_loss(p, s).item() == Approx(want).epsilon(1e-6));
  // Errors.
  CHECK_THROWS_AS(models::srn_multiscale_loss(std::vector<Tensor<float>>{}, s), crisp::ValueError);
  CHECK_THROWS_AS(models::srn_multiscale_loss(std::vector<Tensor<float>>{crisp::rand<float>({2, 1, 4, 4}, gen)}, s),
                  crisp::ShapeError);
  CHECK_THROWS_AS(models::srn_multiscale_loss(p, crisp::rand<float>({3, 16, 16}, gen)), crisp::ShapeError);
}

TEST_CASE("SRN overfits a few blurred real faces") {
  if (!crisp::test::have_shared("faces")) return;
  const auto start = std::chrono::steady_clock::now();
  crisp::Generator gen(11);
  std::vector<Tensor<float>> sharp_v, blurred_v;
  for (const char* stem : {"28083", "28090"}) {
    const Tensor<float> face = crisp::data::load_image(crisp::test::shared_data(std::string("faces/") + stem + ".jpg"));
    // Whole face area-resized to 64², then the centre 32² (eyes, nose, mouth).
    const Tensor<float> sharp =
        crisp::data::center_crop(crisp::data::resize(face, {64, 64}, crisp::data::Interpolation::Area), {32, 32});
    const Tensor<float> kernel = crisp::data::motion_blur_kernel(7, gen);
    sharp_v.push_back(sharp);
    blurred_v.push_back(crisp::data::degrade(sharp, kernel, gen));
  }
  const Tensor<float> sharp = crisp::stack(sharp_v, 0), blurred = crisp::stack(blurred_v, 0);
  REQUIRE(sharp.shape() == Shape{2, 3, 32, 32});

  const double load_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  models::SRN net(models::SRNOptions().base_channels(8).num_resblocks(1), gen);
  crisp::optim::Adam opt(net.parameters(), crisp::optim::AdamOptions(2e-3));
  double first = 0, last = 0;
  int steps = 0;
  for (; steps < 150; ++steps) {
    opt.zero_grad();
    Tensor<float> loss = models::srn_multiscale_loss(net(blurred), sharp);
    loss.backward();
    opt.step();
    last = loss.item();
    if (steps == 0) first = last;
    if (!std::isfinite(last) || last <= first / 20) break;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("SRN overfit: loss " << first << " -> " << last << " in " << steps + 1 << " Adam steps, " << secs << " s (loading " << load_secs << " s)");
  CHECK(std::isfinite(last));
  CHECK(last <= first / 10);
}

TEST_CASE("SRN matches a PyTorch reference of the same topology") {
  // tests/data/golden/models_srn.safetensors from tools/make_srn_goldens.py: channels 3, base 2,
  // one ResBlock, 3 levels, input 2 x 3 x 16 x 32; predictions, loss and every gradient.
  const std::string path = std::string(CRISP_TEST_DATA_DIR) + "/golden/models_srn.safetensors";
  const auto g = crisp::io::load_safetensors(path);
  const auto meta = crisp::io::load_safetensors_metadata(path);
  auto G = [&](const std::string& k) -> const Tensor<float>& {
    INFO("golden key " << k);
    REQUIRE(g.count(k) == 1);
    return g.at(k);
  };
  auto close = [](const Tensor<float>& got, const Tensor<float>& want, const std::string& what) {
    INFO(what);
    REQUIRE(got.defined());
    REQUIRE(got.shape() == want.shape());
    const auto a = got.to_vector(), b = want.to_vector();
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i)
      worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / (1.0 + std::abs(double(b[i]))));
    INFO("worst relative error " << worst);
    CHECK(worst <= 1e-4);
  };
  models::SRN net(models::SRNOptions().base_channels(2).num_resblocks(1));
  // Same keys, shapes and order as the PyTorch state_dict.
  std::string keys;
  for (const auto& [k, t] : net.named_parameters()) {
    keys += (keys.empty() ? "" : ";") + k + ":[";
    for (int64_t i = 0; i < t.dim(); ++i) keys += (i ? ", " : "") + std::to_string(t.size(i));
    keys += "]";
  }
  REQUIRE(meta.count("keys.srn") == 1);
  CHECK(keys == meta.at("keys.srn"));
  std::map<std::string, Tensor<float>> sd;
  for (const auto& [k, v] : g)
    if (k.rfind("srn.sd.", 0) == 0) sd.emplace(k.substr(7), v);
  net.load_state_dict(sd);
  Tensor<float> x = G("srn.x").clone().requires_grad_();
  const auto preds = net(x);
  REQUIRE(preds.size() == 3);
  for (size_t i = 0; i < 3; ++i) close(preds[i], G("srn.pred" + std::to_string(i)), "pred" + std::to_string(i));
  Tensor<float> loss = models::srn_multiscale_loss(preds, G("srn.sharp"));
  CHECK(loss.item() == Approx(G("srn.loss").item()).epsilon(1e-5));
  loss.backward();
  close(x.grad(), G("srn.grad_x"), "grad_x");
  for (const auto& [k, p] : net.named_parameters()) close(p.grad(), G("srn.grad." + k), "grad " + k);
}
