// The layers of the convolution issue as modules: output shapes, parameter shapes, default
// initialisation, forward equal to the functional op, padding_mode equal to pad + conv,
// gradchecks of the double-precision modules, argument errors and PyTorch's printing.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <crisp/crisp.hpp>
#include <crisp/nn/nn.hpp>

namespace nn = crisp::nn;
using crisp::Shape;
using crisp::Tensor;
using D = Tensor<double>;
using Inputs = std::vector<D>;

namespace {
template <class M>
std::string repr(const M& m) {
  std::ostringstream os;
  os << m;
  return os.str();
}
double max_abs(const Tensor<float>& t) {
  double m = 0;
  for (float v : t.to_vector()) m = std::max(m, double(std::abs(v)));
  return m;
}
template <class T>
void check_equal(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  CHECK(a.to_vector() == b.to_vector());
}
D dleaf(const Shape& s, uint64_t seed) {
  crisp::Generator g(seed);
  return crisp::randn<double>(s, g).requires_grad_();
}
}  // namespace

TEST_CASE("Conv2d: shapes, default init, forward = conv2d, printing") {
  crisp::Generator gen(1);
  nn::Conv2d conv(nn::Conv2dOptions(6, 16, 5).stride(2).padding(2).groups(2), gen);
  CHECK(conv->weight.shape() == Shape{16, 3, 5, 5});
  CHECK(conv->bias.shape() == Shape{16});
  const double bound = 1.0 / std::sqrt(3.0 * 25.0);  // fan_in = in/groups * kh * kw
  CHECK(max_abs(conv->weight) <= bound);
  CHECK(max_abs(conv->weight) > 0.95 * bound);
  CHECK(max_abs(conv->bias) <= bound);
  auto x = crisp::randn<float>({2, 6, 11, 9}, gen);
  auto y = conv(x);
  CHECK(y.shape() == Shape{2, 16, 6, 5});
  check_equal(y, crisp::conv2d(x, conv->weight, conv->bias, 2, 2, 1, 2));
  CHECK(repr(conv) == "Conv2d(6, 16, kernel_size=(5, 5), stride=(2, 2), padding=(2, 2), groups=2)");
  CHECK(repr(nn::Conv2d(nn::Conv2dOptions(3, 4, {3, 1}).bias(false).padding("same").dilation(2).padding_mode(
            nn::PaddingMode::Reflect))) ==
        "Conv2d(3, 4, kernel_size=(3, 1), stride=(1, 1), padding=same, dilation=(2, 2), bias=False, padding_mode=reflect)");
  nn::Conv2d nobias(nn::Conv2dOptions(3, 4, 3).bias(false));
  CHECK(!nobias->bias.defined());
  CHECK(nobias.named_parameters().keys() == std::vector<std::string>{"weight"});
  nn::Conv2d shorthand(3, 4, 3);  // libtorch's (in, out, kernel) constructor
  CHECK(shorthand->weight.shape() == Shape{4, 3, 3, 3});
}

TEST_CASE("Conv2d padding_mode = explicit pad, then conv with padding 0") {
  crisp::Generator gen(2);
  auto x = crisp::randn<float>({2, 3, 8, 7}, gen);
  const std::pair<nn::PaddingMode, crisp::PadMode> modes[] = {{nn::PaddingMode::Reflect, crisp::PadMode::Reflect},
                                                              {nn::PaddingMode::Replicate, crisp::PadMode::Replicate},
                                                              {nn::PaddingMode::Circular, crisp::PadMode::Circular}};
  for (auto [mode, pad_mode] : modes) {
    nn::Conv2d conv(nn::Conv2dOptions(3, 4, 3).padding({2, 1}).stride({1, 2}).padding_mode(mode), gen);
    check_equal(conv(x), crisp::conv2d(crisp::pad(x, {1, 1, 2, 2}, pad_mode), conv->weight, conv->bias, {1, 2}));
    // "same" with an even kernel: the extra row / column goes to the bottom / right.
    nn::Conv2d same(nn::Conv2dOptions(3, 2, {4, 2}).padding("same").padding_mode(mode), gen);
    CHECK(same->explicit_pads() == std::vector<int64_t>{0, 1, 1, 2});
    auto y = same(x);
    CHECK(y.shape() == Shape{2, 2, 8, 7});
    check_equal(y, crisp::conv2d(crisp::pad(x, {0, 1, 1, 2}, pad_mode), same->weight, same->bias));
  }
  nn::Conv2d zeros(nn::Conv2dOptions(3, 2, 3).padding(1), gen);
  nn::Conv2d zeros_explicit(nn::Conv2dOptions(3, 2, 3).padding_mode(nn::PaddingMode::Zeros).padding(1), gen);
  zeros_explicit.load_state_dict(zeros.state_dict());
  check_equal(zeros(x), zeros_explicit(x));
  nn::Conv2d valid(nn::Conv2dOptions(3, 2, 3).padding("valid").padding_mode(nn::PaddingMode::Reflect), gen);
  CHECK(valid(x).shape() == Shape{2, 2, 6, 5});
}

TEST_CASE("ConvTranspose2d: shapes, PyTorch's fan_in, output_size") {
  crisp::Generator gen(3);
  nn::ConvTranspose2d up(nn::ConvTranspose2dOptions(8, 3, 4).stride(2).padding(1), gen);
  CHECK(up->weight.shape() == Shape{8, 3, 4, 4});
  const double bound = 1.0 / std::sqrt(3.0 * 16.0);  // fan_in from weight dim 1: out/groups * k * k
  CHECK(max_abs(up->weight) <= bound);
  CHECK(max_abs(up->weight) > 0.95 * bound);
  CHECK(max_abs(up->bias) <= bound);
  auto x = crisp::randn<float>({2, 8, 16, 16}, gen);
  auto y = up(x);
  CHECK(y.shape() == Shape{2, 3, 32, 32});
  check_equal(y, crisp::conv_transpose2d(x, up->weight, up->bias, 2, 1));
  CHECK(repr(up) == "ConvTranspose2d(8, 3, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))");

  nn::ConvTranspose2d cyc(nn::ConvTranspose2dOptions(4, 2, 3).stride(2).padding(1).output_padding(1), gen);
  CHECK(cyc(crisp::randn<float>({1, 4, 8, 8}, gen)).shape() == Shape{1, 2, 16, 16});
  nn::ConvTranspose2d plain(nn::ConvTranspose2dOptions(4, 2, 3).stride(2).padding(1), gen);
  auto x8 = crisp::randn<float>({1, 4, 8, 8}, gen);
  CHECK(plain(x8).shape() == Shape{1, 2, 15, 15});
  CHECK(plain(x8, crisp::Pair2{16, 15}).shape() == Shape{1, 2, 16, 15});
  CHECK_THROWS_WITH(plain(x8, crisp::Pair2{17, 15}),
                    Catch::Contains("ConvTranspose2d") && Catch::Contains("(15, 15) to (16, 16)"));
  nn::ConvTranspose2d grouped(nn::ConvTranspose2dOptions(4, 6, 3).groups(2).bias(false), gen);
  CHECK(grouped->weight.shape() == Shape{4, 3, 3, 3});
}

TEST_CASE("conv modules reject bad arguments at construction") {
  CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(3, 4, 3).groups(2)),
                    Catch::Contains("Conv2d") && Catch::Contains("in_channels must be divisible by groups"));
  CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(4, 3, 3).groups(2)), Catch::Contains("out_channels must be divisible"));
  CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(4, 4, 3).stride(2).padding("same")),
                    Catch::Contains("padding='same' is not supported for strided convolutions"));
  CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(4, 4, 0)), Catch::Contains("kernel_size"));
  CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(4, 4, 3).padding(-1)), Catch::Contains("non-negative padding"));
  CHECK_THROWS_WITH(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(4, 4, 3).padding_mode(nn::PaddingMode::Reflect)),
                    Catch::Contains("only the zeros padding_mode"));
  CHECK_THROWS_AS(nn::Conv2d(nn::Conv2dOptions(0, 4, 3)), crisp::ValueError);
  // Shape errors of the functional op surface through the module, naming the op.
  nn::Conv2d conv(nn::Conv2dOptions(3, 4, 3));
  CHECK_THROWS_WITH(conv(crisp::zeros<float>({1, 5, 8, 8})), Catch::Contains("conv2d"));
  nn::Conv2d reflect(nn::Conv2dOptions(3, 4, 3).padding(4).padding_mode(nn::PaddingMode::Reflect));
  CHECK_THROWS_WITH(reflect(crisp::zeros<float>({1, 3, 4, 4})), Catch::Contains("pad"));
}

TEST_CASE("double-precision conv modules pass gradcheck") {
  crisp::Generator gen(4);
  nn::Conv2dT<double> conv(nn::Conv2dOptions(2, 3, 3).padding(1).padding_mode(nn::PaddingMode::Reflect), gen);
  nn::ConvTranspose2dT<double> up(nn::ConvTranspose2dOptions(3, 2, 4).stride(2).padding(1), gen);
  CHECK(crisp::gradcheck([&](const Inputs& v) { return up(crisp::tanh(conv(v[0]))); }, {dleaf({1, 2, 4, 5}, 1)}));
  // Gradients reach the module's own parameters (checked against finite differences by hand).
  auto x = dleaf({1, 2, 4, 5}, 2);
  conv.zero_grad();
  auto f = [&] { return crisp::square(conv(x.detach())).sum(); };
  f().backward();
  crisp::NoGradGuard ng;
  double* w = conv->weight.data();
  for (int i : {0, 7, 17, 53}) {
    const double orig = w[i], eps = 1e-6;
    w[i] = orig + eps;
    const double plus = f().item();
    w[i] = orig - eps;
    const double minus = f().item();
    w[i] = orig;
    CHECK(conv->weight.grad().data()[i] == Approx((plus - minus) / (2 * eps)).epsilon(1e-6));
  }
}

TEST_CASE("BatchNorm2d: parameters, buffers, counting, train/eval, gradcheck") {
  nn::BatchNorm2d bn(4);
  CHECK(bn.named_parameters().keys() == std::vector<std::string>{"weight", "bias"});
  CHECK(bn.named_buffers().keys() == std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
  CHECK(bn->weight.to_vector() == std::vector<float>(4, 1.0f));
  CHECK(bn->bias.to_vector() == std::vector<float>(4, 0.0f));
  CHECK(bn->running_mean.to_vector() == std::vector<float>(4, 0.0f));
  CHECK(bn->running_var.to_vector() == std::vector<float>(4, 1.0f));
  CHECK(bn->num_batches_tracked.shape() == Shape{});
  CHECK(bn->num_batches_tracked.item() == 0.0f);

  crisp::Generator gen(5);
  auto x = crisp::randn<float>({3, 4, 5, 5}, gen);
  auto rm = crisp::zeros<float>({4}), rv = crisp::ones<float>({4});
  check_equal(bn(x), crisp::batch_norm(x, rm, rv, bn->weight, bn->bias, true, 0.1, 1e-5));
  check_equal(bn->running_mean, rm);
  check_equal(bn->running_var, rv);
  bn(x);
  CHECK(bn->num_batches_tracked.item() == 2.0f);
  bn.eval();
  check_equal(bn(x), crisp::batch_norm(x, bn->running_mean, bn->running_var, bn->weight, bn->bias, false));
  CHECK(bn->num_batches_tracked.item() == 2.0f);
  // The count round-trips through state_dict and safetensors.
  const auto path = (std::filesystem::temp_directory_path() / "crisp_nn_bn.safetensors").string();
  crisp::io::save_safetensors(path, bn.state_dict());
  nn::BatchNorm2d bn2(4);
  bn2.load_state_dict(crisp::io::load_safetensors(path));
  CHECK(bn2->num_batches_tracked.item() == 2.0f);
  check_equal(bn2->running_var, bn->running_var);
  std::remove(path.c_str());

  // Without running statistics: no buffers, batch statistics in eval too.
  nn::BatchNorm2d free(nn::BatchNorm2dOptions(4).track_running_stats(false).affine(false));
  CHECK(free.state_dict().empty());
  free.eval();
  check_equal(free(x), crisp::batch_norm(x, Tensor<float>(), Tensor<float>(), {}, {}, true));

  CHECK_THROWS_WITH(bn(crisp::zeros<float>({4, 5, 5})), Catch::Contains("BatchNorm2d") && Catch::Contains("4-d"));
  CHECK_THROWS_WITH(bn(crisp::zeros<float>({2, 3, 5, 5})), Catch::Contains("4 channels") && Catch::Contains("[2, 3, 5, 5]"));
  CHECK(repr(bn) == "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");

  nn::BatchNorm2dT<double> bnd(nn::BatchNorm2dOptions(3).affine(true));
  nn::init::normal_(bnd->weight, 1.0, 0.3, gen);
  CHECK(crisp::gradcheck([&](const Inputs& v) { return bnd(v[0]); }, {dleaf({2, 3, 3, 2}, 3)}));
}

TEST_CASE("InstanceNorm2d: defaults, affine, unbatched input, gradcheck") {
  nn::InstanceNorm2d in(3);
  CHECK(in.state_dict().empty());
  crisp::Generator gen(6);
  auto x = crisp::randn<float>({2, 3, 6, 5}, gen);
  check_equal(in(x), crisp::instance_norm(x));
  in.eval();  // no running statistics: still per-instance
  check_equal(in(x), crisp::instance_norm(x));
  check_equal(in(x.select(0, 1)), crisp::instance_norm(x).select(0, 1));

  nn::InstanceNorm2d tracked(nn::InstanceNorm2dOptions(3).affine(true).track_running_stats(true));
  CHECK(tracked.state_dict().size() == 5);
  tracked(x);
  CHECK(tracked->num_batches_tracked.item() == 0.0f);  // PyTorch's InstanceNorm never counts
  CHECK(tracked->running_mean.to_vector() != std::vector<float>(3, 0.0f));
  CHECK_THROWS_WITH(in(crisp::zeros<float>({2, 4, 5, 5})), Catch::Contains("InstanceNorm2d") && Catch::Contains("3 channels"));
  CHECK(repr(in) == "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)");

  nn::InstanceNorm2dT<double> ind(nn::InstanceNorm2dOptions(2).affine(true));
  nn::init::normal_(ind->weight, 1.0, 0.3, gen);
  nn::init::normal_(ind->bias, 0.0, 0.3, gen);
  CHECK(crisp::gradcheck([&](const Inputs& v) { return ind(v[0]); }, {dleaf({2, 2, 3, 3}, 4)}));
}

TEST_CASE("pooling, padding, upsampling, dropout and activation modules") {
  crisp::Generator gen(7);
  auto x = crisp::randn<float>({2, 3, 9, 8}, gen);
  nn::MaxPool2d mp(nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true));
  check_equal(mp(x), crisp::max_pool2d(x, 3, crisp::Pair2(2), 1, 1, true));
  nn::MaxPool2d mp2(2);  // stride defaults to the kernel size
  CHECK(mp2->options.stride() == crisp::Pair2(2));
  CHECK(mp2(x).shape() == Shape{2, 3, 4, 4});
  nn::AvgPool2d ap(nn::AvgPool2dOptions({3, 2}).padding({1, 0}).count_include_pad(false));
  check_equal(ap(x), crisp::avg_pool2d(x, {3, 2}, crisp::Pair2{3, 2}, {1, 0}, false, false));
  nn::AdaptiveAvgPool2d aap(nn::AdaptiveAvgPool2dOptions({4, 3}));
  check_equal(aap(x), crisp::adaptive_avg_pool2d(x, {4, 3}));

  nn::ReflectionPad2d rp(3);
  CHECK(rp(x).shape() == Shape{2, 3, 15, 14});
  check_equal(rp(x), crisp::pad(x, {3, 3, 3, 3}, crisp::PadMode::Reflect));
  nn::ReflectionPad2d rp4(nn::ReflectionPad2dOptions({1, 2, 3, 0}));
  check_equal(rp4(x), crisp::pad(x, {1, 2, 3, 0}, crisp::PadMode::Reflect));
  CHECK(repr(rp4) == "ReflectionPad2d((1, 2, 3, 0))");
  check_equal(nn::ReplicationPad2d(2)(x), crisp::pad(x, {2, 2, 2, 2}, crisp::PadMode::Replicate));
  check_equal(nn::ZeroPad2d(1)(x), crisp::pad(x, {1, 1, 1, 1}));
  check_equal(nn::ConstantPad2d(1, 2.5)(x), crisp::pad(x, {1, 1, 1, 1}, crisp::PadMode::Constant, 2.5f));
  CHECK_THROWS_WITH(nn::ReflectionPad2d(8)(x), Catch::Contains("pad"));

  nn::Upsample up(nn::UpsampleOptions().scale_factor(2.0));
  CHECK(up(x).shape() == Shape{2, 3, 18, 16});
  check_equal(up(x), crisp::interpolate(x, std::nullopt, std::pair{2.0, 2.0}));
  nn::Upsample bil(nn::UpsampleOptions().scale_factor(std::vector<double>{0.5, 0.5}).mode(crisp::InterpolateMode::Bilinear));
  check_equal(bil(x), crisp::interpolate(x, std::nullopt, std::pair{0.5, 0.5}, crisp::InterpolateMode::Bilinear, false));
  nn::Upsample sized(nn::UpsampleOptions().size(crisp::Pair2{5, 7}).mode(crisp::InterpolateMode::Bilinear).align_corners(true));
  check_equal(sized(x), crisp::interpolate(x, crisp::Pair2{5, 7}, std::nullopt, crisp::InterpolateMode::Bilinear, true));
  CHECK_THROWS_WITH(nn::Upsample(nn::UpsampleOptions()), Catch::Contains("exactly one of size and scale_factor"));

  crisp::Generator dg1(8), dg2(8);
  nn::Dropout drop(nn::DropoutOptions(0.25), dg1);
  auto big = crisp::ones<float>({100, 100});
  auto d = drop(big);
  int64_t zeros = 0, others = 0;
  for (float v : d.to_vector()) zeros += v == 0.0f, others += v != 0.0f && v != 1.0f / 0.75f;
  CHECK(others == 0);
  CHECK(double(zeros) / 10000.0 == Approx(0.25).margin(0.02));
  check_equal(d, crisp::dropout(big, 0.25, true, dg2));
  drop.eval();
  CHECK(drop(big).same(big));
  CHECK_THROWS_WITH(nn::Dropout(1.5), Catch::Contains("between 0 and 1"));

  check_equal(nn::ReLU()(x), crisp::relu(x));
  check_equal(nn::ReLU(true)(x), crisp::relu(x));
  check_equal(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2))(x), crisp::leaky_relu(x, 0.2f));
  check_equal(nn::Sigmoid()(x), crisp::sigmoid(x));
  check_equal(nn::Tanh()(x), crisp::tanh(x));
  CHECK(nn::Flatten()(x).shape() == Shape{2, 216});
  CHECK(nn::Flatten(nn::FlattenOptions().start_dim(2))(x).shape() == Shape{2, 3, 72});
  CHECK(repr(nn::MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False)");
}

TEST_CASE("a CycleGAN-style block composed from modules trains end to end") {
  crisp::Generator gen(9);
  nn::Sequential block(nn::ReflectionPad2d(1), nn::Conv2d(nn::Conv2dOptions(4, 4, 3), gen), nn::InstanceNorm2d(4),
                       nn::ReLU(), nn::Dropout(nn::DropoutOptions(0.5), gen), nn::ReflectionPad2d(1),
                       nn::Conv2d(nn::Conv2dOptions(4, 4, 3), gen), nn::InstanceNorm2d(4));
  CHECK(block.named_parameters().keys() == std::vector<std::string>{"1.weight", "1.bias", "6.weight", "6.bias"});
  auto x = crisp::randn<float>({2, 4, 8, 8}, gen);
  auto y = x + block(x);
  CHECK(y.shape() == x.shape());
  crisp::square(y).mean().backward();
  for (auto& p : block.parameters()) CHECK(p.grad().defined());
  block.eval();
  check_equal(block(x), block(x));  // dropout off: deterministic
}
