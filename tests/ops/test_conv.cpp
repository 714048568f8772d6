// conv2d and conv_transpose2d: output shapes, argument errors, gradcheck in double on tiny shapes,
// and PyTorch goldens (tools/make_conv_goldens.py) over many geometries.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "crisp/ops/conv.hpp"
#include "gradcheck_util.hpp"

using namespace crisp;
using crisp::test::check_grad;
using crisp::test::Inputs;
using crisp::test::leaf;

namespace {

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("conv2d output shapes follow PyTorch") {
  const Tensor<float> x = zeros<float>({2, 4, 9, 11});
  CHECK(conv2d(x, zeros<float>({6, 4, 3, 3})).shape() == Shape{2, 6, 7, 9});
  CHECK(conv2d(x, zeros<float>({6, 4, 3, 3}), {}, 2, 1).shape() == Shape{2, 6, 5, 6});
  CHECK(conv2d(x, zeros<float>({6, 2, 4, 4}), {}, 1, "same", 1, 2).shape() == Shape{2, 6, 9, 11});
  CHECK(conv2d(x, zeros<float>({6, 4, 3, 3}), {}, 1, "valid", 2).shape() == Shape{2, 6, 5, 7});
  CHECK(conv2d(x, zeros<float>({8, 1, 3, 3}), zeros<float>({8}), {3, 2}, {1, 0}, 1, 4).shape() ==
        Shape{2, 8, 3, 5});
  CHECK(conv2d(zeros<float>({4, 9, 11}), zeros<float>({6, 4, 3, 3})).shape() == Shape{6, 7, 9});
  CHECK(conv_transpose2d(x, zeros<float>({4, 3, 4, 4}), {}, 2, 1).shape() == Shape{2, 3, 18, 22});
  CHECK(conv_transpose2d(x, zeros<float>({4, 3, 3, 3}), {}, 2, 1, 1).shape() == Shape{2, 3, 18, 22});
  CHECK(conv_transpose2d(x, zeros<float>({4, 1, 3, 3}), {}, 1, 0, 0, 2).shape() == Shape{2, 2, 11, 13});
  CHECK(conv_transpose2d(zeros<float>({4, 9, 11}), zeros<float>({4, 3, 1, 1})).shape() == Shape{3, 9, 11});
}

TEST_CASE("conv2d and conv_transpose2d reject bad arguments, naming the op and the shapes") {
  const Tensor<float> x = zeros<float>({2, 4, 5, 5}), w = zeros<float>({6, 4, 3, 3});
  auto msg = error_of([&] { conv2d(x, zeros<float>({6, 3, 3, 3})); });
  CHECK_THAT(msg, Catch::Contains("conv2d") && Catch::Contains("[2, 4, 5, 5]") && Catch::Contains("[6, 3, 3, 3]"));
  CHECK_THROWS_AS(conv2d(x, zeros<float>({6, 3, 3, 3})), ShapeError);             // channel mismatch
  CHECK_THROWS_AS(conv2d(zeros<float>({4, 5}), w), ShapeError);                   // wrong rank
  CHECK_THROWS_AS(conv2d(zeros<float>({1, 2, 4, 5, 5}), w), ShapeError);          // wrong rank
  CHECK_THROWS_AS(conv2d(x, zeros<float>({6, 4, 3})), ShapeError);                // weight rank
  CHECK_THROWS_AS(conv2d(x, zeros<float>({6, 4, 7, 7})), ShapeError);             // kernel > input
  msg = error_of([&] { conv2d(x, zeros<float>({6, 4, 9, 9}), {}, 1, 1); });       // kernel > padded input
  CHECK_THAT(msg, Catch::Contains("conv2d") && Catch::Contains("larger than the padded input"));
  CHECK_THROWS_AS(conv2d(x, w, {}, 1, 0, 3), ShapeError);                         // dilated kernel > input
  CHECK_THROWS_AS(conv2d(x, zeros<float>({6, 2, 3, 3}), {}, 1, 0, 1, 3), ShapeError);  // groups vs C
  CHECK_THROWS_AS(conv2d(x, zeros<float>({5, 2, 3, 3}), {}, 1, 0, 1, 2), ShapeError);  // groups vs O
  CHECK_THROWS_AS(conv2d(x, w, {}, 1, -1), ValueError);
  CHECK_THROWS_AS(conv2d(x, w, {}, 0), ValueError);
  CHECK_THROWS_AS(conv2d(x, w, {}, 1, 0, {1, 0}), ValueError);
  CHECK_THROWS_AS(conv2d(x, w, {}, 1, 0, 1, 0), ValueError);
  CHECK_THROWS_AS(conv2d(x, w, {}, 2, "same"), ValueError);
  CHECK_THROWS_AS(conv2d(x, w, zeros<float>({5})), ShapeError);
  CHECK_THROWS_AS(conv2d(x, w, zeros<float>({6, 1})), ShapeError);
  CHECK_THROWS_AS(conv2d(x, w, {}, 1, "full"), ValueError);

  const Tensor<float> wt = zeros<float>({4, 3, 3, 3});
  msg = error_of([&] { conv_transpose2d(x, zeros<float>({3, 3, 3, 3})); });
  CHECK_THAT(msg, Catch::Contains("conv_transpose2d") && Catch::Contains("[2, 4, 5, 5]"));
  CHECK_THROWS_AS(conv_transpose2d(x, zeros<float>({3, 3, 3, 3})), ShapeError);   // channel mismatch
  CHECK_THROWS_AS(conv_transpose2d(zeros<float>({4, 5}), wt), ShapeError);
  CHECK_THROWS_AS(conv_transpose2d(x, wt, {}, 2, 0, 2), ValueError);               // output_padding >= stride
  CHECK_THROWS_AS(conv_transpose2d(x, wt, {}, 1, 0, 1), ValueError);
  CHECK_THROWS_AS(conv_transpose2d(x, wt, {}, 1, -1), ValueError);
  CHECK_THROWS_AS(conv_transpose2d(x, wt, {}, 1, 4), ShapeError);                  // output size < 1
  CHECK_THROWS_AS(conv_transpose2d(x, wt, {}, 1, 0, 0, 3), ShapeError);            // groups vs C_in
  CHECK_THROWS_AS(conv_transpose2d(x, wt, zeros<float>({4})), ShapeError);         // bias is [O]
  CHECK_THROWS_AS(conv_transpose2d(x, wt, {}, 0), ValueError);
}

TEST_CASE("conv2d gradcheck") {
  using V = const Inputs&;
  // stride 1-3, padding incl. "same" / "valid", dilation, groups, depthwise, no bias, 1x1 images, batch 1.
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], v[2], 1, 1); },
                   {leaf({2, 3, 5, 4}, 1), leaf({2, 3, 3, 3}, 2), leaf({2}, 3)}));
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], v[2], 2, 1); },
                   {leaf({1, 2, 7, 6}, 4), leaf({3, 2, 3, 3}, 5), leaf({3}, 6)}));
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], {}, 3, 2); }, {leaf({1, 2, 8, 7}, 7), leaf({2, 2, 3, 3}, 8)}));
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], v[2], 1, "same"); },
                   {leaf({1, 2, 5, 4}, 9), leaf({2, 2, 4, 3}, 10), leaf({2}, 11)}));
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], {}, 1, "valid", 2); },
                   {leaf({2, 2, 6, 7}, 12), leaf({2, 2, 2, 3}, 13)}));
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], v[2], 1, "same", {2, 1}); },
                   {leaf({1, 2, 5, 5}, 14), leaf({3, 2, 3, 2}, 15), leaf({3}, 16)}));
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], v[2], 2, 1, 1, 2); },
                   {leaf({1, 4, 5, 5}, 17), leaf({4, 2, 3, 3}, 18), leaf({4}, 19)}));
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], v[2], 1, 1, 1, 3); },  // depthwise
                   {leaf({2, 3, 4, 4}, 20), leaf({3, 1, 3, 3}, 21), leaf({3}, 22)}));
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], v[2], 1, 1); },  // 1x1 image
                   {leaf({2, 2, 1, 1}, 23), leaf({3, 2, 3, 3}, 24), leaf({3}, 25)}));
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], v[2], {2, 1}, {0, 2}, {1, 2}); },
                   {leaf({1, 2, 6, 5}, 26), leaf({2, 2, 2, 3}, 27), leaf({2}, 28)}));
  CHECK(check_grad([](V v) { return conv2d(v[0], v[1], v[2], 2, 1); },  // unbatched
                   {leaf({2, 5, 5}, 29), leaf({2, 2, 4, 4}, 30), leaf({2}, 31)}));
  // Only the weight requires grad, and only the input: the other gradients are not computed.
  Tensor<double> x = leaf({1, 2, 4, 4}, 32), w = leaf({2, 2, 3, 3}, 33);
  CHECK(check_grad([&](V v) { return conv2d(x.detach(), v[0], {}, 1, 1); }, {w}));
  CHECK(check_grad([&](V v) { return conv2d(v[0], w.detach(), {}, 1, 1); }, {x}));
}

TEST_CASE("conv_transpose2d gradcheck") {
  using V = const Inputs&;
  CHECK(check_grad([](V v) { return conv_transpose2d(v[0], v[1], v[2], 1, 1); },
                   {leaf({2, 3, 4, 3}, 1), leaf({3, 2, 3, 3}, 2), leaf({2}, 3)}));
  CHECK(check_grad([](V v) { return conv_transpose2d(v[0], v[1], v[2], 2, 1); },
                   {leaf({1, 2, 3, 4}, 4), leaf({2, 3, 4, 4}, 5), leaf({3}, 6)}));
  CHECK(check_grad([](V v) { return conv_transpose2d(v[0], v[1], v[2], 2, 1, 1); },  // output_padding
                   {leaf({1, 2, 3, 3}, 7), leaf({2, 2, 3, 3}, 8), leaf({2}, 9)}));
  CHECK(check_grad([](V v) { return conv_transpose2d(v[0], v[1], {}, 3, 1, 2); },
                   {leaf({1, 2, 2, 3}, 10), leaf({2, 2, 3, 3}, 11)}));
  CHECK(check_grad([](V v) { return conv_transpose2d(v[0], v[1], v[2], 2, 1, 1, 2); },  // groups
                   {leaf({1, 4, 3, 3}, 12), leaf({4, 2, 3, 3}, 13), leaf({4}, 14)}));
  CHECK(check_grad([](V v) { return conv_transpose2d(v[0], v[1], v[2], 1, 2, 1, 3, 2); },  // depthwise, dilation
                   {leaf({1, 3, 4, 4}, 15), leaf({3, 1, 3, 3}, 16), leaf({3}, 17)}));
  CHECK(check_grad([](V v) { return conv_transpose2d(v[0], v[1], v[2]); },  // 1x1 image
                   {leaf({2, 2, 1, 1}, 18), leaf({2, 3, 2, 2}, 19), leaf({3}, 20)}));
  CHECK(check_grad([](V v) { return conv_transpose2d(v[0], v[1], v[2], {2, 3}, {1, 0}, {1, 2}); },
                   {leaf({1, 2, 3, 3}, 21), leaf({2, 2, 3, 2}, 22), leaf({2}, 23)}));
  CHECK(check_grad([](V v) { return conv_transpose2d(v[0], v[1], {}, 2, 1); },  // unbatched
                   {leaf({2, 3, 3}, 24), leaf({2, 2, 4, 4}, 25)}));
}

TEST_CASE("conv_transpose2d is the adjoint of conv2d") {
  // <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for matching arguments.
  Generator gen(5);
  const auto x = randn<double>({2, 4, 9, 8}, gen), w = randn<double>({6, 2, 4, 3}, gen);
  const auto y = conv2d(x, w, {}, 2, {1, 2}, {1, 2}, 2);
  const auto r = randn<double>(y.shape(), gen);
  const auto xt = conv_transpose2d(r, w, {}, 2, {1, 2}, {1, 1}, 2, {1, 2});
  REQUIRE(xt.shape() == x.shape());
  CHECK(sum(y * r).item() == Approx(sum(x * xt).item()).epsilon(1e-12));
}

namespace {

using TF = Tensor<float>;
using Fn = std::function<TF(const std::vector<TF>&)>;

TF bias_of(const std::vector<TF>& v) { return v.size() > 2 ? v[2] : TF(); }

// The same cases and arguments as tools/make_conv_goldens.py.
const std::map<std::string, Fn>& golden_cases() {
  static const std::map<std::string, Fn> table = {
      {"conv_basic", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, 1); }},
      {"conv_stride2_odd", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 2, 1); }},
      {"conv_stride3_pad2", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 3, 2); }},
      {"conv_dilation2", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, 2, 2); }},
      {"conv_groups2", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, 1, 1, 2); }},
      {"conv_depthwise_s2", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 2, 1, 1, 4); }},
      {"conv_same_even_kernel", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, "same"); }},
      {"conv_same_dilated", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, "same", {2, 3}); }},
      {"conv_valid_nobias", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, "valid"); }},
      {"conv_1x1_image", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, 1); }},
      {"conv_1x1_kernel", [](auto& v) { return conv2d(v[0], v[1], bias_of(v)); }},
      {"conv_pad_kernel_size", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, 3); }},
      {"conv_anisotropic", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), {2, 1}, {1, 2}, {1, 2}); }},
      {"conv_4x4_s2_p1", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 2, 1); }},
      {"conv_5x5", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, 2); }},
      {"conv_7x7_valid", [](auto& v) { return conv2d(v[0], v[1], bias_of(v)); }},
      {"conv_stride_gt_kernel", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 3); }},
      {"conv_unbatched", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, 1); }},
      {"conv_batch1_channels20", [](auto& v) { return conv2d(v[0], v[1], bias_of(v), 1, 1); }},
      {"convT_basic", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), 1, 1); }},
      {"convT_4x4_s2_p1", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), 2, 1); }},
      {"convT_s2_op1", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), 2, 1, 1); }},
      {"convT_s3_op2", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), 3, 1, 2); }},
      {"convT_groups2", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), 2, 1, 0, 2); }},
      {"convT_dilation_op", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), 1, 2, 1, 1, 2); }},
      {"convT_1x1_image", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v)); }},
      {"convT_anisotropic_nobias",
       [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), {2, 3}, {1, 0}, {1, 2}); }},
      {"convT_unbatched", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), 2, 1); }},
      {"convT_depthwise", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), 2, 1, 1, 3); }},
      {"convT_large_pad", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), 1, 2); }},
      {"convT_stride_gt_kernel", [](auto& v) { return conv_transpose2d(v[0], v[1], bias_of(v), 3, 0, 1); }},
  };
  return table;
}

// |a - b| <= atol + rtol * |b| elementwise; reports the worst element.
void require_close(const TF& got, const TF& want, const std::string& what, float atol = 2e-5f, float rtol = 1e-5f) {
  INFO(what << ": crisp shape " << got.shape() << ", torch shape " << want.shape());
  REQUIRE(got.shape() == want.shape());
  const auto g = got.to_vector(), w = want.to_vector();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double excess = std::abs(double(g[i]) - double(w[i])) - (atol + rtol * std::abs(double(w[i])));
    if (excess > worst) worst = excess, at = i;
  }
  INFO("worst element " << at << ": crisp " << (g.empty() ? 0 : g[at]) << ", torch " << (w.empty() ? 0 : w[at]));
  REQUIRE(worst <= 0);
}

}  // namespace

TEST_CASE("conv2d and conv_transpose2d match PyTorch's outputs and gradients") {
  const auto golden = io::load_safetensors(std::string(CRISP_TEST_DATA_DIR) + "/golden/conv.safetensors");
  std::set<std::string> names, table;
  for (const auto& [key, t] : golden) names.insert(key.substr(0, key.find('.')));
  for (const auto& [name, f] : golden_cases()) table.insert(name);
  REQUIRE(names == table);  // none silently skipped

  for (const auto& [name, f] : golden_cases()) {
    SECTION(name) {
      std::vector<TF> in;
      for (int i = 0; golden.count(name + ".in" + std::to_string(i)); ++i)
        in.push_back(golden.at(name + ".in" + std::to_string(i)).clone().requires_grad_());
      TF out = f(in);
      require_close(out, golden.at(name + ".out"), name + " output");
      out.backward(golden.at(name + ".r"));
      for (size_t i = 0; i < in.size(); ++i)
        require_close(in[i].grad(), golden.at(name + ".grad" + std::to_string(i)), name + " grad" + std::to_string(i));
    }
  }
}

// Regression: the im2col path's partial-tile epilogue once computed c = edge + 0 * c on its first
// K block, so a NaN left in the freshly allocated output poisoned results whose H×W is not a
// multiple of the tile width (seen as NaN losses with 32-px CycleGAN crops). The freed NaN buffer
// of the same size makes the allocator likely to hand that memory to the conv's output.
TEST_CASE("conv2d output never depends on what its fresh output memory held") {
  for (int64_t size : {8, 10, 14, 30}) {
    Generator gen(size);
    const auto x = rand<float>({2, 3, size, size}, gen, -1.0, 1.0);
    const auto w = rand<float>({4, 3, 4, 4}, gen, -1.0, 1.0);
    const Tensor<float> ref = conv2d(x, w, {}, 2, 1).clone();
    for (int rep = 0; rep < 4; ++rep) {
      {
        auto poison = Tensor<float>::empty(ref.shape());
        std::fill(poison.data(), poison.data() + poison.numel(), std::numeric_limits<float>::quiet_NaN());
      }
      const Tensor<float> y = conv2d(x, w, {}, 2, 1);
      for (int64_t i = 0; i < y.numel(); ++i) {
        INFO("size " << size << " element " << i);
        REQUIRE(std::isfinite(y.data()[i]));
        REQUIRE(y.data()[i] == ref.data()[i]);
      }
    }
  }
}
