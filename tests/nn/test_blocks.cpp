// The papers' blocks (crisp/nn/blocks.hpp): ResnetBlock's parameter names equal the official
// pytorch-CycleGAN-and-pix2pix keys; ResnetBlock, ResBlock and ConvLSTMCell load PyTorch state
// dicts (tests/data/golden/loss.safetensors, tools/make_loss_goldens.py) and match PyTorch's
// outputs and gradients; gradchecks in double for inputs and parameters; shape errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include <crisp/crisp.hpp>
#include <crisp/nn/blocks.hpp>

#include "../golden_util.hpp"
#include "../ops/gradcheck_util.hpp"

namespace nn = crisp::nn;
using crisp::Shape;
using crisp::Tensor;
using crisp::test::TensorMap;

namespace {

const crisp::test::GoldenFile& golden_file() {
  static const crisp::test::GoldenFile f("loss.safetensors");
  return f;
}
const Tensor<float>& G(const std::string& key) { return golden_file().get(key); }
TensorMap sub(const std::string& prefix) { return golden_file().sub(prefix); }
void check_close(const Tensor<float>& got, const Tensor<float>& want, const std::string& what, double tol = 2e-5) {
  crisp::test::check_close(got, want, what, tol);
}
using crisp::test::state_dict_keys;

std::vector<std::string> names_of(const nn::OrderedDict<Tensor<float>>& d) {
  std::vector<std::string> v;
  for (const auto& [n, t] : d) v.push_back(n);
  return v;
}

// Finite-difference check of every parameter's gradient of sum(f() * r) (f runs the module).
template <class M, class F>
void check_param_grads(M& module, F f) {
  Tensor<double> y = f();
  crisp::Generator gen(99);
  const Tensor<double> r = crisp::randn<double>(y.shape(), gen);
  module.zero_grad();
  (y * r).sum().backward();
  crisp::NoGradGuard no_grad;
  for (const auto& [name, p] : module.named_parameters()) {
    INFO("parameter " << name);
    const auto analytic = p.grad().to_vector();
    double* d = p.data();
    for (int64_t j = 0; j < p.numel(); j += 3) {  // every third element keeps it fast
      const double orig = d[j], eps = 1e-6;
      d[j] = orig + eps;
      const double plus = (f() * r).sum().item();
      d[j] = orig - eps;
      const double minus = (f() * r).sum().item();
      d[j] = orig;
      const double numeric = (plus - minus) / (2 * eps);
      CHECK(analytic[size_t(j)] == Approx(numeric).epsilon(1e-4).margin(1e-6));
    }
  }
}

}  // namespace

TEST_CASE("ResnetBlock parameter names are the official CycleGAN keys") {
  // pytorch-CycleGAN-and-pix2pix ResnetBlock(256, 'reflect', InstanceNorm2d, False, True), as it
  // appears under model.10 of resnet_9blocks: pads at 0 and 4, convs at 1 and 5.
  nn::ResnetBlock block(256);
  CHECK(names_of(block.named_parameters()) ==
        std::vector<std::string>{"conv_block.1.weight", "conv_block.1.bias", "conv_block.5.weight", "conv_block.5.bias"});
  CHECK(block.named_buffers().size() == 0);  // InstanceNorm2d(affine=False, track_running_stats=False)
  CHECK(block->conv_block->named_parameters().size() == 4);
  CHECK(block.state_dict().at("conv_block.1.weight").shape() == Shape{256, 256, 3, 3});
  // With dropout (index 4), the second pad and conv shift to 5 and 6.
  nn::ResnetBlock drop(nn::ResnetBlockOptions(8).use_dropout(true));
  CHECK(names_of(drop.named_parameters()) ==
        std::vector<std::string>{"conv_block.1.weight", "conv_block.1.bias", "conv_block.6.weight", "conv_block.6.bias"});
  // Zero padding has no pad layers: convs at 0 and 3 (0 and 4 with dropout).
  nn::ResnetBlock zero(nn::ResnetBlockOptions(8).padding_type(nn::ResnetPadding::Zero));
  CHECK(names_of(zero.named_parameters()) ==
        std::vector<std::string>{"conv_block.0.weight", "conv_block.0.bias", "conv_block.3.weight", "conv_block.3.bias"});

  // Every variant's full key list and shapes against the PyTorch modules'.
  const std::pair<const char*, nn::ResnetBlockOptions> variants[] = {
      {"resnet.reflect", nn::ResnetBlockOptions(4)},
      {"resnet.reflect_dropout", nn::ResnetBlockOptions(4).use_dropout(true)},
      {"resnet.replicate", nn::ResnetBlockOptions(4).padding_type(nn::ResnetPadding::Replicate)},
      {"resnet.replicate_dropout",
       nn::ResnetBlockOptions(4).padding_type(nn::ResnetPadding::Replicate).use_dropout(true)},
      {"resnet.zero", nn::ResnetBlockOptions(4).padding_type(nn::ResnetPadding::Zero)},
      {"resnet.zero_dropout", nn::ResnetBlockOptions(4).padding_type(nn::ResnetPadding::Zero).use_dropout(true)},
      {"resnet.reflect_batch", nn::ResnetBlockOptions(4).norm(nn::ResnetNorm::Batch).use_bias(false)},
      {"resnet.zero_none", nn::ResnetBlockOptions(4).padding_type(nn::ResnetPadding::Zero).norm(nn::ResnetNorm::None)},
  };
  for (const auto& [name, opts] : variants) {
    INFO(name);
    CHECK(state_dict_keys(nn::ResnetBlock(opts)) == golden_file().meta(std::string("keys.") + name));
  }
  CHECK(state_dict_keys(nn::ResBlock(nn::ResBlockOptions(3))) == golden_file().meta("keys.resblock.k5"));
  CHECK(state_dict_keys(nn::ConvLSTMCell(3, 4, 3)) == golden_file().meta("keys.convlstm.ifog"));
}

TEST_CASE("ResnetBlock and ResBlock match PyTorch from the same weights") {
  const std::pair<const char*, std::function<std::shared_ptr<nn::Module>()>> cases[] = {
      {"resnet.reflect", [] { return nn::ResnetBlock(4).ptr(); }},
      {"resnet.replicate",
       [] { return nn::ResnetBlock(nn::ResnetBlockOptions(4).padding_type(nn::ResnetPadding::Replicate)).ptr(); }},
      {"resnet.zero", [] { return nn::ResnetBlock(nn::ResnetBlockOptions(4).padding_type(nn::ResnetPadding::Zero)).ptr(); }},
      {"resnet.reflect_dropout", [] { return nn::ResnetBlock(nn::ResnetBlockOptions(4).use_dropout(true)).ptr(); }},
      {"resblock.k5", [] { return nn::ResBlock(nn::ResBlockOptions(3)).ptr(); }},
      {"resblock.k3_relu_after", [] { return nn::ResBlock(nn::ResBlockOptions(3).kernel_size(3).relu_after(true)).ptr(); }},
  };
  for (const auto& [name, make] : cases) {
    INFO(name);
    auto m = make();
    m->load_state_dict(sub(std::string(name) + ".sd"));
    m->eval();  // dropout off, as the PyTorch module in eval mode
    auto x = G(std::string(name) + ".x").clone().requires_grad_();
    Tensor<float> y;
    if (auto* rb = m->as<nn::ResnetBlock>()) y = rb->forward(x);
    else y = m->as<nn::ResBlock>()->forward(x);
    check_close(y, G(std::string(name) + ".y"), "y");
    (y * G(std::string(name) + ".r")).sum().backward();
    check_close(x.grad(), G(std::string(name) + ".grad_x"), "grad_x");
    for (const auto& [pn, p] : m->named_parameters()) check_close(p.grad(), G(std::string(name) + ".grad_" + pn), pn);
  }
}

TEST_CASE("ConvLSTMCell matches PyTorch over two steps, both gate orders") {
  for (const char* name : {"convlstm.ifog", "convlstm.srn"}) {
    INFO(name);
    const std::string c = name;
    nn::ConvLSTMCell cell(c == "convlstm.srn" ? nn::ConvLSTMCellOptions::srn(3, 4) : nn::ConvLSTMCellOptions(3, 4));
    cell.load_state_dict(sub(c + ".sd"));
    TensorMap in;
    for (const char* n : {"x1", "x2", "h0", "c0"}) in[n] = G(c + "." + n).clone().requires_grad_();
    auto [h1, c1] = cell(in["x1"], std::tuple{in["h0"], in["c0"]});
    check_close(h1, G(c + ".h1"), "h1");
    check_close(c1, G(c + ".c1"), "c1");
    auto [h2, c2] = cell(in["x2"], std::tuple{h1, c1});
    check_close(h2, G(c + ".h2"), "h2");
    check_close(c2, G(c + ".c2"), "c2");
    ((h2 * G(c + ".rh")).sum() + (c2 * G(c + ".rc")).sum()).backward();
    for (const auto& [n, t] : in) check_close(t.grad(), G(c + ".grad_" + n), "grad_" + n);
    for (const auto& [pn, p] : cell.named_parameters()) check_close(p.grad(), G(c + ".grad_" + pn), pn);
    // No state = the zero state.
    crisp::NoGradGuard no_grad;
    auto [hz, cz] = cell(G(c + ".x1"));
    check_close(hz, G(c + ".hz"), "hz");
    check_close(cz, G(c + ".cz"), "cz");
    auto [h0, c0] = cell->zero_state(G(c + ".x1"));
    CHECK(h0.shape() == Shape{2, 4, 5, 6});
    CHECK(c0.sum().item() == 0.0f);
  }
}

TEST_CASE("blocks keep shapes and reject bad input") {
  nn::ResBlock rb(nn::ResBlockOptions(6));
  CHECK(rb(crisp::zeros<float>({2, 6, 9, 7})).shape() == Shape{2, 6, 9, 7});
  CHECK(names_of(rb.named_parameters()) ==
        std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"});
  CHECK(rb.state_dict().at("conv1.weight").shape() == Shape{6, 6, 5, 5});
  CHECK_THROWS_AS(nn::ResBlock(nn::ResBlockOptions(6).kernel_size(4)), crisp::ValueError);
  CHECK_THROWS_AS(rb(crisp::zeros<float>({2, 5, 9, 7})), crisp::ShapeError);

  nn::ResnetBlock block(nn::ResnetBlockOptions(3).use_dropout(true));
  CHECK(block(crisp::randn<float>({1, 3, 6, 5})).shape() == Shape{1, 3, 6, 5});

  nn::ConvLSTMCell cell(3, 5, 3);
  CHECK(names_of(cell.named_parameters()) == std::vector<std::string>{"conv.weight", "conv.bias"});
  CHECK(cell.state_dict().at("conv.weight").shape() == Shape{20, 8, 3, 3});
  auto [h, c] = cell(crisp::zeros<float>({2, 3, 4, 6}));
  CHECK(h.shape() == Shape{2, 5, 4, 6});
  CHECK(c.shape() == Shape{2, 5, 4, 6});
  CHECK_THROWS_WITH(cell(crisp::zeros<float>({2, 4, 4, 6})),
                    Catch::Contains("ConvLSTMCell") && Catch::Contains("[N, 3, H, W]") && Catch::Contains("[2, 4, 4, 6]"));
  CHECK_THROWS_WITH(cell(crisp::zeros<float>({2, 3, 4, 6}), std::tuple{h.narrow(2, 0, 3), c}),
                    Catch::Contains("ConvLSTMCell") && Catch::Contains("[2, 5, 4, 6]") && Catch::Contains("[2, 5, 3, 6]"));
  CHECK_THROWS_AS(nn::ConvLSTMCell(3, 5, 2), crisp::ValueError);
}

TEST_CASE("blocks pass gradcheck in double, inputs and parameters") {
  using crisp::test::check_grad;
  using crisp::test::Inputs;
  crisp::Generator gen(7);
  for (auto pad : {nn::ResnetPadding::Reflect, nn::ResnetPadding::Zero, nn::ResnetPadding::Replicate}) {
    nn::ResnetBlockT<double> block(nn::ResnetBlockOptions(2).padding_type(pad), gen);
    auto x = crisp::test::leaf({1, 2, 4, 4}, 1);
    CHECK(check_grad([&](const Inputs& v) { return block(v[0]); }, {x}));
    check_param_grads(block, [&] { return block(x.detach()); });
  }
  nn::ResBlockT<double> rb(nn::ResBlockOptions(2).kernel_size(3).relu_after(true), gen);
  auto x = crisp::test::leaf({1, 2, 4, 4}, 2);
  CHECK(check_grad([&](const Inputs& v) { return rb(v[0]); }, {x}));
  check_param_grads(rb, [&] { return rb(x.detach()); });

  for (bool srn : {false, true}) {
    nn::ConvLSTMCellT<double> cell(srn ? nn::ConvLSTMCellOptions::srn(2, 2) : nn::ConvLSTMCellOptions(2, 2), gen);
    auto xs = crisp::test::leaf({1, 2, 3, 3}, 3), h = crisp::test::leaf({1, 2, 3, 3}, 4),
         c = crisp::test::leaf({1, 2, 3, 3}, 5);
    CHECK(check_grad(
        [&](const Inputs& v) {
          auto [h1, c1] = cell(v[0], std::tuple{v[1], v[2]});
          auto [h2, c2] = cell(v[0], std::tuple{h1, c1});
          return crisp::cat(std::vector<Tensor<double>>{h2, c2}, 1);
        },
        {xs, h, c}));
    check_param_grads(cell, [&] {
      auto [h1, c1] = cell(xs.detach(), std::tuple{h.detach(), c.detach()});
      return h1 + c1;
    });
  }
}
