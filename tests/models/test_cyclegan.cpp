// CycleGAN's networks (crisp/models/cyclegan.hpp) and ImagePool (crisp/models/image_pool.hpp):
// official key names and parameter counts against the PyTorch reference's lists, PyTorch parity
// from the same weights (tests/data/golden/models_cyclegan.safetensors, made by
// tools/make_model_goldens.py), gradchecks in double on shrunken networks, overfitting real faces
// (../shared/data, skipped when absent), input errors, the official init and the pool's semantics.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <sstream>

#include <crisp/crisp.hpp>
#include <crisp/models/cyclegan.hpp>
#include <crisp/models/image_pool.hpp>

#include "../data/data_test_util.hpp"
#include "../golden_util.hpp"

namespace nn = crisp::nn;
namespace models = crisp::models;
using crisp::Shape;
using crisp::Tensor;
using crisp::test::TensorMap;

namespace {

const crisp::test::GoldenFile& golden_file() {
  static const crisp::test::GoldenFile f("models_cyclegan.safetensors");
  return f;
}
const TensorMap& golden() { return golden_file().tensors(); }
const std::string& meta(const std::string& key) { return golden_file().meta(key); }
const Tensor<float>& G(const std::string& key) { return golden_file().get(key); }
TensorMap sub(const std::string& prefix) { return golden_file().sub(prefix); }
using crisp::test::check_close;
using crisp::test::count_parameters;
using crisp::test::state_dict_keys;

// Finite differences for every `stride`-th element of every parameter of sum(f() * r).
template <class M, class F>
void check_param_grads(M& module, F f, int64_t stride) {
  Tensor<double> y = f();
  crisp::Generator gen(99);
  const Tensor<double> r = crisp::randn<double>(y.shape(), gen);
  module.zero_grad();
  (y * r).sum().backward();
  crisp::NoGradGuard no_grad;
  for (const auto& [name, p] : module.named_parameters()) {
    INFO("parameter " << name);
    REQUIRE(p.grad().defined());
    const auto analytic = p.grad().to_vector();
    double* d = p.data();
    for (int64_t j = 0; j < p.numel(); j += stride) {
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

template <class F>
void check_throws(F f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL("expected a crisp::Error");
  } catch (const crisp::Error& e) {
    const std::string msg = e.what();
    INFO(msg);
    for (const auto& p : parts) CHECK(msg.find(p) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("ResnetGenerator and NLayerDiscriminator have the official keys and parameter counts", "[models][cyclegan]") {
  models::ResnetGenerator g9(3, 3);
  CHECK(count_parameters(g9) == 11378179);
  CHECK(state_dict_keys(g9) == meta("keys.resnet_9blocks"));
  CHECK(g9.state_dict().at("model.10.conv_block.5.weight").shape() == Shape{256, 256, 3, 3});
  CHECK(g9.state_dict().at("model.19.weight").shape() == Shape{256, 128, 3, 3});  // transposed conv: [in, out, k, k]
  CHECK(g9.state_dict().count("model.26.bias") == 1);

  models::ResnetGenerator g6(models::ResnetGeneratorOptions(3, 3).n_blocks(6));
  CHECK(state_dict_keys(g6) == meta("keys.resnet_6blocks"));
  CHECK(count_parameters(g6) == std::stoll(meta("params.resnet_6blocks")));
  for (const char* k : {"model.16.weight", "model.19.weight", "model.23.weight"}) CHECK(g6.state_dict().count(k) == 1);

  models::NLayerDiscriminator d(3);
  CHECK(count_parameters(d) == 2764737);
  CHECK(state_dict_keys(d) == meta("keys.nlayer_3"));

  // Variants: BatchNorm (no conv bias, running stats) with dropout, zero padding, 'none' norm.
  CHECK(state_dict_keys(models::ResnetGenerator(models::ResnetGeneratorOptions(3, 3)
                                            .ngf(4)
                                            .n_blocks(2)
                                            .norm(nn::ResnetNorm::Batch)
                                            .use_dropout(true))) == meta("keys.resnet_batch_dropout"));
  CHECK(state_dict_keys(models::ResnetGenerator(
            models::ResnetGeneratorOptions(3, 3).ngf(4).n_blocks(1).padding_type(nn::ResnetPadding::Zero))) ==
        meta("keys.resnet_zero"));
  CHECK(state_dict_keys(models::NLayerDiscriminator(
            models::NLayerDiscriminatorOptions(3).ndf(4).n_layers(2).norm(nn::ResnetNorm::Batch))) ==
        meta("keys.nlayer_batch"));
  CHECK(state_dict_keys(models::NLayerDiscriminator(
            models::NLayerDiscriminatorOptions(1).ndf(4).n_layers(1).norm(nn::ResnetNorm::None))) ==
        meta("keys.nlayer_none_1"));
}

TEST_CASE("CycleGAN networks match PyTorch from the same weights", "[models][cyclegan]") {
  using GenOpt = models::ResnetGeneratorOptions;
  using DiscOpt = models::NLayerDiscriminatorOptions;
  const std::pair<const char*, std::function<std::shared_ptr<nn::Module>()>> cases[] = {
      {"gen_b2", [] { return models::ResnetGenerator(GenOpt(3, 3).ngf(4).n_blocks(2)).ptr(); }},
      {"gen_b6", [] { return models::ResnetGenerator(GenOpt(3, 1).ngf(2).n_blocks(6)).ptr(); }},
      {"gen_batch_zero_eval",
       [] {
         return models::ResnetGenerator(GenOpt(3, 3)
                                            .ngf(2)
                                            .n_blocks(1)
                                            .norm(nn::ResnetNorm::Batch)
                                            .padding_type(nn::ResnetPadding::Zero)
                                            .use_dropout(true))
             .ptr();
       }},
      {"gen_none_replicate",
       [] {
         return models::ResnetGenerator(
                    GenOpt(2, 3).ngf(2).n_blocks(1).norm(nn::ResnetNorm::None).padding_type(nn::ResnetPadding::Replicate))
             .ptr();
       }},
      {"disc_n3", [] { return models::NLayerDiscriminator(DiscOpt(3).ndf(2).n_layers(3)).ptr(); }},
      {"disc_n2_batch_eval",
       [] { return models::NLayerDiscriminator(DiscOpt(3).ndf(4).n_layers(2).norm(nn::ResnetNorm::Batch)).ptr(); }},
  };
  for (const auto& [name, make] : cases) {
    INFO(name);
    const std::string c = name;
    auto m = make();
    m->load_state_dict(sub(c + ".sd"));  // strict
    if (c.find("eval") != std::string::npos) m->eval();
    const bool grad = golden().count(c + ".grad_x") == 1;
    Tensor<float> x = G(c + ".x").clone();
    if (grad) x.requires_grad_();
    Tensor<float> y;
    if (auto* g = m->as<models::ResnetGenerator>()) y = g->forward(x);
    else y = m->as<models::NLayerDiscriminator>()->forward(x);
    check_close(y, G(c + ".y"), "y");
    if (grad) {
      (y * G(c + ".r")).sum().backward();
      check_close(x.grad(), G(c + ".grad_x"), "grad_x");
    }
  }
}

TEST_CASE("CycleGAN networks pass gradchecks in double", "[models][cyclegan][gradcheck]") {
  crisp::Generator gen(7);
  SECTION("ResnetGenerator ngf 2, 1 block, 8x8") {
    models::ResnetGeneratorT<double> g(models::ResnetGeneratorOptions(3, 2).ngf(2).n_blocks(1), gen);
    Tensor<double> x = crisp::rand<double>({1, 3, 8, 8}, gen, -1.0, 1.0).requires_grad_();
    CHECK(crisp::gradcheck([&](const std::vector<Tensor<double>>& v) { return g(v[0]); }, {x}));
    Tensor<double> xc = x.detach();
    check_param_grads(*g, [&] { return g(xc); }, 5);
  }
  SECTION("NLayerDiscriminator ndf 2, 2 layers, 16x16") {
    models::NLayerDiscriminatorT<double> d(models::NLayerDiscriminatorOptions(3).ndf(2).n_layers(2), gen);
    Tensor<double> x = crisp::rand<double>({1, 3, 16, 16}, gen, -1.0, 1.0).requires_grad_();
    CHECK(crisp::gradcheck([&](const std::vector<Tensor<double>>& v) { return d(v[0]); }, {x}));
    Tensor<double> xc = x.detach();
    check_param_grads(*d, [&] { return d(xc); }, 5);
  }
}

TEST_CASE("CycleGAN networks check their input", "[models][cyclegan]") {
  models::ResnetGenerator g(models::ResnetGeneratorOptions(3, 3).ngf(2).n_blocks(1));
  CHECK(g(crisp::zeros<float>({1, 3, 8, 12})).shape() == Shape{1, 3, 8, 12});
  check_throws([&] { g(crisp::zeros<float>({1, 1, 16, 16})); }, {"ResnetGenerator", "[N, 3, H, W]", "[1, 1, 16, 16]"});
  check_throws([&] { g(crisp::zeros<float>({3, 16, 16})); }, {"ResnetGenerator", "[N, 3, H, W]"});
  check_throws([&] { g(crisp::zeros<float>({1, 3, 18, 16})); }, {"ResnetGenerator", "multiples of 4", "18 x 16"});
  check_throws([&] { g(crisp::zeros<float>({1, 3, 4, 4})); }, {"ResnetGenerator", "at least 8", "4 x 4"});
  check_throws([] { models::ResnetGenerator(models::ResnetGeneratorOptions(3, 3).ngf(0)); }, {"ResnetGenerator", "ngf"});
  check_throws([] { models::ResnetGenerator(models::ResnetGeneratorOptions(3, 3).n_blocks(-1)); },
               {"ResnetGenerator", "n_blocks"});

  models::NLayerDiscriminator d(models::NLayerDiscriminatorOptions(3).ndf(2));
  CHECK(d->min_input_size() == 24);
  CHECK(d(crisp::zeros<float>({1, 3, 24, 30})).shape() == Shape{1, 1, 1, 1});
  CHECK(d(crisp::zeros<float>({1, 3, 256, 64})).shape() == Shape{1, 1, 30, 6});
  check_throws([&] { d(crisp::zeros<float>({1, 3, 23, 64})); }, {"NLayerDiscriminator", "at least 24", "23 x 64"});
  check_throws([&] { d(crisp::zeros<float>({1, 4, 64, 64})); }, {"NLayerDiscriminator", "[N, 3, H, W]"});
  CHECK(models::NLayerDiscriminator(models::NLayerDiscriminatorOptions(1).ndf(2).n_layers(1))->min_input_size() == 6);
  check_throws([] { models::NLayerDiscriminator(models::NLayerDiscriminatorOptions(3).n_layers(-1)); },
               {"NLayerDiscriminator", "n_layers"});
}

TEST_CASE("init_cyclegan_weights is the official 'normal' init, reproducible from a seed", "[models][cyclegan]") {
  auto make = [](uint64_t seed) {
    crisp::Generator gen(seed);
    models::ResnetGenerator g(models::ResnetGeneratorOptions(3, 3).ngf(16).n_blocks(2).norm(nn::ResnetNorm::Batch));
    models::init_cyclegan_weights(g, 0.02, gen);
    return g;
  };
  auto a = make(5), b = make(5), c = make(6);
  const auto sa = a.state_dict(), sb = b.state_dict(), sc = c.state_dict();
  CHECK(sa.at("model.4.weight").to_vector() == sb.at("model.4.weight").to_vector());
  CHECK(sa.at("model.4.weight").to_vector() != sc.at("model.4.weight").to_vector());
  double sum = 0, sq = 0;
  int64_t n = 0;
  for (const auto& [k, t] : sa) {
    const auto v = t.to_vector();
    if (k.find("running") != std::string::npos || k.find("num_batches") != std::string::npos) continue;
    const bool is_bn = t.dim() == 1 && k.find("weight") != std::string::npos;
    if (k.find("bias") != std::string::npos) {
      for (float e : v) CHECK(e == 0.0f);
    } else if (is_bn) {
      for (float e : v) CHECK(std::abs(e - 1.0f) < 0.1f);  // N(1, 0.02)
    } else {
      for (float e : v) sum += e, sq += double(e) * e, ++n;
    }
  }
  const double mean = sum / double(n), sd = std::sqrt(sq / double(n) - mean * mean);
  CHECK(std::abs(mean) < 1e-3);
  CHECK(sd == Approx(0.02).epsilon(0.02));
  // The last conv has a bias even with BatchNorm; it is zeroed too.
  CHECK(sa.count("model.19.bias") == 1);
}

TEST_CASE("ImagePool follows the official semantics", "[models][image_pool]") {
  auto img = [](float v) { return crisp::full<float>({1, 2, 3, 3}, v); };
  auto batch = [&](std::initializer_list<float> vs) {
    std::vector<Tensor<float>> xs;
    for (float v : vs) xs.push_back(img(v));
    return crisp::cat(xs, 0);
  };
  auto values = [](const Tensor<float>& t) {
    std::vector<float> v;
    for (int64_t i = 0; i < t.size(0); ++i) v.push_back(t.data()[i * t.stride(0)]);
    return v;
  };

  SECTION("pool_size 0 passes the batch through") {
    models::ImagePool pool(0);
    const Tensor<float> x = batch({1, 2, 3});
    const Tensor<float> y = pool.query(x);
    CHECK(y.to_vector() == x.to_vector());
    CHECK(pool.size() == 0);
  }
  SECTION("filling: stored and returned, per image of the batch; then both branches") {
    models::ImagePool pool(3, 42);
    CHECK(values(pool.query(batch({1, 2}))) == std::vector<float>{1, 2});
    // The third image fills the pool; the fourth already meets a full pool.
    const auto v = values(pool.query(batch({3, 4})));
    CHECK(v[0] == 3);
    CHECK(pool.size() == 3);
    int returned_new = 0, returned_old = 0;
    std::multiset<float> seen_stored{1, 2, 3};
    float next = 4;
    // Replay: every later image either comes back itself (pool unchanged) or swaps with a stored one.
    auto check_one = [&](float got) {
      std::multiset<float> now;
      for (const auto& s : pool.images()) now.insert(s.data()[0]);
      if (got == next) {
        ++returned_new;
        CHECK(now == seen_stored);
      } else {
        ++returned_old;
        REQUIRE(seen_stored.count(got) == 1);
        seen_stored.erase(seen_stored.find(got));
        seen_stored.insert(next);
        CHECK(now == seen_stored);
      }
    };
    check_one(v[1]);
    for (int i = 0; i < 200; ++i) {
      next = float(5 + i);
      check_one(values(pool.query(img(next)))[0]);
    }
    CHECK(pool.size() == 3);
    CHECK(returned_new > 70);  // p = 0.5 each
    CHECK(returned_old > 70);
  }
  SECTION("deterministic for a seed; detached copies") {
    auto run = [&](uint64_t seed) {
      models::ImagePool pool(4, seed);
      std::vector<float> out;
      for (int i = 0; i < 40; ++i)
        for (float v : values(pool.query(batch({float(2 * i), float(2 * i + 1)})))) out.push_back(v);
      return out;
    };
    CHECK(run(1) == run(1));
    CHECK(run(1) != run(2));
    models::ImagePool pool(2);
    Tensor<float> x = batch({7}).requires_grad_();
    const Tensor<float> y = pool.query(x);
    CHECK_FALSE(y.requires_grad());
    crisp::NoGradGuard no_grad;
    x.fill_(0.0f);
    CHECK(pool.images()[0].data()[0] == 7.0f);  // the pool owns its copy
  }
  SECTION("errors") {
    check_throws([] { models::ImagePool(-1); }, {"ImagePool", "pool_size"});
    models::ImagePool pool(2);
    check_throws([&] { pool.query(crisp::zeros<float>({2, 3, 3})); }, {"ImagePool::query", "[N, C, H, W]"});
    pool.query(batch({1}));
    check_throws([&] { pool.query(crisp::zeros<float>({1, 2, 4, 4})); }, {"ImagePool::query", "[N, 2, 3, 3]", "[1, 2, 4, 4]"});
  }
}

namespace {
// Two real faces, area-resized to size x size, as a 2 x 3 x size x size batch in [0, 1], and the
// same faces blurred by a fixed synthetic camera-shake kernel.
std::pair<Tensor<float>, Tensor<float>> face_pair(int64_t size) {
  std::vector<Tensor<float>> sharp, blurred;
  crisp::Generator gen(3);
  const Tensor<float> k = crisp::data::motion_blur_kernel(7, gen);
  for (const char* f : {"28083", "28090"}) {
    const Tensor<float> img = crisp::data::resize(crisp::data::load_image(crisp::test::shared_data(std::string("faces/") + f + ".jpg")),
                                                  {size, size}, crisp::data::Interpolation::Area);
    sharp.push_back(img.unsqueeze(0));
    blurred.push_back(crisp::data::blur(img, k).unsqueeze(0));
  }
  return {crisp::cat(sharp, 0), crisp::cat(blurred, 0)};
}
double tail_mean(const std::vector<double>& v, size_t n) {
  double s = 0;
  for (size_t i = v.size() - n; i < v.size(); ++i) s += v[i];
  return s / double(n);
}
}  // namespace

TEST_CASE("ResnetGenerator overfits real faces to their blurred versions", "[models][cyclegan][real]") {
  if (!crisp::test::have_shared("faces/28083.jpg")) return;
  auto [sharp, blurred] = face_pair(32);
  const Tensor<float> x = sharp * 2.0f - 1.0f, target = blurred * 2.0f - 1.0f;  // CycleGAN's [-1, 1]
  crisp::Generator gen(11);
  models::ResnetGenerator g(models::ResnetGeneratorOptions(3, 3).ngf(8).n_blocks(2), gen);
  models::init_cyclegan_weights(g, 0.02, gen);
  crisp::optim::Adam opt(g.parameters(), crisp::optim::AdamOptions(1e-3).betas({0.5, 0.999}));
  std::vector<double> losses;
  for (int step = 0; step < 160; ++step) {
    opt.zero_grad();
    Tensor<float> loss = crisp::loss::l1(g(x), target);
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  const double last = tail_mean(losses, 10);
  INFO("L1 " << losses.front() << " -> " << last << " (mean of the last 10 steps)");
  CHECK(last * 10 <= losses.front());
}

TEST_CASE("NLayerDiscriminator learns to tell real faces from blurred ones", "[models][cyclegan][real]") {
  if (!crisp::test::have_shared("faces/28083.jpg")) return;
  // 64 x 64 so that the 70 x 70 receptive field of n_layers 3 sees the whole face: flat
  // background patches look the same sharp or blurred, and smaller patches cannot be told apart.
  auto [sharp, blurred] = face_pair(64);
  const Tensor<float> real = sharp * 2.0f - 1.0f, fake = blurred * 2.0f - 1.0f;
  crisp::Generator gen(12);
  models::NLayerDiscriminator d(models::NLayerDiscriminatorOptions(3).ndf(8), gen);
  models::init_cyclegan_weights(d, 0.02, gen);
  crisp::optim::Adam opt(d.parameters(), crisp::optim::AdamOptions(5e-4).betas({0.5, 0.999}));
  std::vector<double> losses;
  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    Tensor<float> loss = crisp::loss::gan_discriminator_loss(d(real), d(fake));  // LSGAN
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  const double last = tail_mean(losses, 10);
  INFO("LSGAN D loss " << losses.front() << " -> " << last << " (mean of the last 10 steps)");
  CHECK(last * 10 <= losses.front());
}
