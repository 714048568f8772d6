// nn modules against PyTorch (tests/data/golden/nn.safetensors, made by tools/make_nn_goldens.py):
// state-dict names and shapes in PyTorch's order, PyTorch state dicts loaded into crisp modules
// (num_batches_tracked stored as I64), forward outputs and gradients, and BatchNorm2d /
// InstanceNorm2d running statistics over training steps then eval.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include <crisp/crisp.hpp>
#include <crisp/nn/nn.hpp>

#include "../golden_util.hpp"

namespace nn = crisp::nn;
using crisp::Tensor;
using crisp::test::TensorMap;

namespace {

const crisp::test::GoldenFile& golden_file() {
  static const crisp::test::GoldenFile f("nn.safetensors");
  return f;
}
const Tensor<float>& G(const std::string& key) { return golden_file().get(key); }
TensorMap sub(const std::string& prefix) { return golden_file().sub(prefix); }
const std::string& meta(const std::string& key) { return golden_file().meta(key); }
void check_close(const Tensor<float>& got, const Tensor<float>& want, const std::string& what, double tol = 1e-5) {
  crisp::test::check_close(got, want, what, tol);
}
using crisp::test::state_dict_keys;

// Loads the case's state dict, runs forward (with `f`), compares the output and the
// gradients of sum(y * r) for the input and every parameter.
template <class M, class F>
void forward_case(const std::string& c, M module, F f) {
  module.load_state_dict(sub(c + ".sd"));
  auto x = G(c + ".x").detach().clone().requires_grad_();
  auto y = f(module, x);
  check_close(y, G(c + ".y"), c + ".y");
  (y * G(c + ".r")).sum().backward();
  check_close(x.grad(), G(c + ".grad_x"), c + ".grad_x", 1e-4);
  for (auto& [n, p] : module.named_parameters()) check_close(p.grad(), G(c + ".grad_" + n), c + ".grad_" + n, 1e-4);
}

template <class M>
void norm_case(const std::string& c, M module, int train_steps) {
  module.load_state_dict(sub(c + ".sd"));
  module.train();
  for (int i = 0; i < train_steps; ++i) {
    const auto s = std::to_string(i);
    check_close(module(G(c + ".x" + s)), G(c + ".y" + s), c + ".y" + s);
  }
  module.eval();
  check_close(module(G(c + ".xe")), G(c + ".ye"), c + ".ye");
  const TensorMap after = sub(c + ".after");
  const TensorMap mine = module.state_dict();
  REQUIRE(after.size() == mine.size());
  for (const auto& [k, v] : after) check_close(mine.at(k), v, c + ".after." + k);
}

}  // namespace

TEST_CASE("state dict names and shapes equal PyTorch's") {
  CHECK(state_dict_keys(nn::Conv2d(nn::Conv2dOptions(3, 8, 5).padding(2))) == meta("keys.conv2d"));
  CHECK(state_dict_keys(nn::Conv2d(nn::Conv2dOptions(4, 6, {3, 2}).groups(2).bias(false))) ==
        meta("keys.conv2d_nobias_groups"));
  CHECK(state_dict_keys(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(8, 3, 4).stride(2).padding(1))) ==
        meta("keys.conv_transpose2d"));
  CHECK(state_dict_keys(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(4, 6, 3).groups(2).bias(false))) ==
        meta("keys.conv_transpose2d_groups"));
  CHECK(state_dict_keys(nn::BatchNorm2d(5)) == meta("keys.batch_norm2d"));
  CHECK(state_dict_keys(nn::BatchNorm2d(nn::BatchNorm2dOptions(5).affine(false))) == meta("keys.batch_norm2d_noaffine"));
  CHECK(state_dict_keys(nn::BatchNorm2d(nn::BatchNorm2dOptions(5).track_running_stats(false))) ==
        meta("keys.batch_norm2d_notrack"));
  CHECK(state_dict_keys(nn::InstanceNorm2d(5)) == meta("keys.instance_norm2d"));
  CHECK(state_dict_keys(nn::InstanceNorm2d(nn::InstanceNorm2dOptions(5).affine(true).track_running_stats(true))) ==
        meta("keys.instance_norm2d_affine_track"));
  CHECK(state_dict_keys(nn::Linear(7, 3)) == meta("keys.linear"));
  CHECK(state_dict_keys(nn::Sequential(nn::Conv2d(3, 4, 3), nn::BatchNorm2d(4), nn::ReLU(),
                                  nn::Conv2d(nn::Conv2dOptions(4, 2, 1).bias(false)))) == meta("keys.sequential"));
}

TEST_CASE("Conv2d padding modes, loaded from PyTorch, forward and backward") {
  using nn::PaddingMode;
  auto run = [](nn::Conv2d& m, const Tensor<float>& x) { return m(x); };
  forward_case("conv_reflect", nn::Conv2d(nn::Conv2dOptions(2, 3, 3).stride(2).padding(2).padding_mode(PaddingMode::Reflect)),
               run);
  forward_case("conv_replicate",
               nn::Conv2d(nn::Conv2dOptions(2, 4, {3, 2}).padding({1, 2}).dilation({1, 2}).groups(2).padding_mode(
                   PaddingMode::Replicate)),
               run);
  forward_case("conv_circular_same",
               nn::Conv2d(nn::Conv2dOptions(3, 2, 4).padding("same").dilation(2).padding_mode(PaddingMode::Circular)),
               run);
  forward_case("conv_zeros_same", nn::Conv2d(nn::Conv2dOptions(3, 2, {2, 3}).padding("same")), run);
}

TEST_CASE("ConvTranspose2d and Linear loaded from PyTorch, forward and backward") {
  forward_case("convT_output_size", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(3, 2, 3).stride(2).padding(1)),
               [](nn::ConvTranspose2d& m, const Tensor<float>& x) { return m(x, crisp::Pair2{10, 8}); });
  forward_case("convT_groups",
               nn::ConvTranspose2d(
                   nn::ConvTranspose2dOptions(4, 6, 3).stride({2, 1}).padding(1).output_padding({1, 0}).groups(2).dilation({1, 2})),
               [](nn::ConvTranspose2d& m, const Tensor<float>& x) { return m(x); });
  forward_case("linear", nn::Linear(5, 3), [](nn::Linear& m, const Tensor<float>& x) { return m(x); });
}

TEST_CASE("BatchNorm2d / InstanceNorm2d running statistics over training steps, then eval") {
  norm_case("bn", nn::BatchNorm2d(nn::BatchNorm2dOptions(3).momentum(0.2).eps(1e-3)), 3);
  norm_case("bn_cma", nn::BatchNorm2d(nn::BatchNorm2dOptions(3).momentum(std::nullopt)), 3);
  norm_case("in_track", nn::InstanceNorm2d(nn::InstanceNorm2dOptions(3).affine(true).track_running_stats(true).momentum(0.3)),
            2);
  norm_case("in_default", nn::InstanceNorm2d(3), 1);
  // PyTorch's I64 count was loaded and advanced.
  nn::BatchNorm2d bn(nn::BatchNorm2dOptions(3).momentum(std::nullopt));
  bn.load_state_dict(sub("bn_cma.sd"));
  CHECK(bn->num_batches_tracked.item() == 5.0f);
  bn(G("bn_cma.x0"));
  CHECK(bn->num_batches_tracked.item() == 6.0f);
}
