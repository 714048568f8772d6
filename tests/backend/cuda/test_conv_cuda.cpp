// The CUDA convolution against its CPU twin (crisp::cpu::conv2d_*): crisp's implicit GEMM in exact
// FP32 (1e-5 relative L2), its TF32 / BF16 tensor-core paths (their documented tolerances), cuDNN,
// and conv2d / conv_transpose2d with autograd on device tensors vs the same ops on the CPU.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "crisp/backend/cpu/conv.hpp"
#include "crisp/backend/cuda/conv.hpp"
#include "crisp/crisp.hpp"
#include "cuda_test_util.hpp"

namespace {

using crisp::cpu::Conv2dGeometry;
using crisp::cuda::ConvMath;
using crisp::test::DeviceBuffer;
using crisp::test::rel_l2;

Conv2dGeometry geom(int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t k, int64_t stride, int64_t pad,
                    int64_t dil = 1, int64_t groups = 1, int64_t kw = 0) {
  Conv2dGeometry g;
  g.N = N, g.C = C, g.H = H, g.W = W, g.O = O, g.kh = k, g.kw = kw ? kw : k, g.groups = groups;
  g.stride_h = g.stride_w = stride, g.pad_h = g.pad_w = pad, g.dil_h = g.dil_w = dil;
  g.P = (H + 2 * pad - dil * (g.kh - 1) - 1) / stride + 1;
  g.Q = (W + 2 * pad - dil * (g.kw - 1) - 1) / stride + 1;
  return g;
}

std::string describe(const Conv2dGeometry& g) {
  std::ostringstream os;
  os << "N" << g.N << " C" << g.C << " " << g.H << "x" << g.W << " -> O" << g.O << " k" << g.kh << "x" << g.kw << " s"
     << g.stride_h << " p" << g.pad_h << " d" << g.dil_h << " g" << g.groups;
  return os.str();
}

// Random geometries: odd sizes (tile edges), strides, dilation, groups, pads.
std::vector<Conv2dGeometry> random_geometries(crisp::Generator& gen, int count) {
  std::vector<Conv2dGeometry> out;
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(gen.uniform_int(uint64_t(hi - lo + 1))); };
  while (int(out.size()) < count) {
    const int64_t groups = pick(1, 2), k = pick(1, 5), stride = pick(1, 2), dil = pick(1, 2);
    const int64_t C = groups * pick(1, 9), O = groups * pick(1, 70);
    Conv2dGeometry g = geom(pick(1, 3), C, pick(5, 23), pick(5, 23), O, k, stride, pick(0, 2), dil, groups);
    if (g.P > 0 && g.Q > 0) out.push_back(g);
  }
  return out;
}

// The convolution shapes of the papers, batch 1 (the CPU reference must stay quick).
std::vector<Conv2dGeometry> paper_geometries() {
  return {geom(1, 14, 64, 64, 64, 11, 1, 5),   geom(1, 17, 128, 128, 64, 11, 1, 5), geom(1, 64, 64, 64, 64, 5, 1, 2),
          geom(1, 64, 128, 128, 64, 5, 1, 2),  geom(1, 64, 128, 128, 3, 5, 1, 2),   geom(1, 3, 128, 128, 64, 4, 2, 1),
          geom(1, 64, 64, 64, 128, 4, 2, 1),   geom(1, 3, 262, 262, 64, 7, 1, 0),   geom(1, 256, 66, 66, 256, 3, 1, 0),
          geom(1, 32, 128, 128, 32, 5, 1, 2),  geom(1, 128, 64, 64, 128, 5, 1, 2)};
}

struct Result {
  double fwd, dgrad, wgrad, dbias;
};

// Runs the three directions on the device (current backend / math) and on the CPU; returns the
// relative L2 errors. Outputs are poisoned first so that an unwritten element fails.
Result compare(const Conv2dGeometry& g, crisp::Generator& gen) {
  const size_t nx = size_t(g.N * g.C * g.H * g.W), nw = size_t(g.O * g.Cg() * g.kh * g.kw),
               ny = size_t(g.N * g.O * g.P * g.Q);
  const auto x = crisp::test::random_vector(nx, gen), w = crisp::test::random_vector(nw, gen),
             b = crisp::test::random_vector(size_t(g.O), gen), dy = crisp::test::random_vector(ny, gen);
  std::vector<float> y(ny), dx(nx), dw(nw), db(size_t(g.O));
  crisp::cpu::conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
  crisp::cpu::conv2d_backward_data(g, dy.data(), w.data(), dx.data());
  crisp::cpu::conv2d_backward_weight(g, x.data(), dy.data(), dw.data(), db.data());

  DeviceBuffer dx_d(x), dw_d(w), db_d(b), ddy(dy), out_y(ny), out_dx(nx), out_dw(nw), out_db(size_t(g.O));
  out_y.poison(), out_dx.poison(), out_dw.poison(), out_db.poison();
  crisp::cuda::conv2d_forward(g, dx_d.get(), dw_d.get(), db_d.get(), out_y.get());
  crisp::cuda::conv2d_backward_data(g, ddy.get(), dw_d.get(), out_dx.get());
  crisp::cuda::conv2d_backward_weight(g, dx_d.get(), ddy.get(), out_dw.get(), out_db.get());
  return {rel_l2(out_y.download(), y), rel_l2(out_dx.download(), dx), rel_l2(out_dw.download(), dw),
          rel_l2(out_db.download(), db)};
}

struct MathGuard {
  crisp::cuda::ConvMath m0 = crisp::cuda::conv_math();
  crisp::cuda::ConvBackend b0 = crisp::cuda::conv_backend();
  MathGuard(crisp::cuda::ConvBackend b, ConvMath m) {
    crisp::cuda::set_conv_backend(b);
    crisp::cuda::set_conv_math(m);
  }
  ~MathGuard() {
    crisp::cuda::set_conv_backend(b0);
    crisp::cuda::set_conv_math(m0);
  }
};

void check_all(crisp::cuda::ConvBackend backend, ConvMath math, double tol, const std::vector<Conv2dGeometry>& gs,
               crisp::Generator& gen) {
  MathGuard guard(backend, math);
  for (const auto& g : gs) {
    if (backend == crisp::cuda::ConvBackend::CuDNN && !crisp::cuda::cudnn::supports(crisp::cuda::detail::to_shape(g, "t")))
      continue;
    const Result r = compare(g, gen);
    INFO(describe(g) << " math " << crisp::cuda::to_string(math) << ": fwd " << r.fwd << " dgrad " << r.dgrad
                     << " wgrad " << r.wgrad << " dbias " << r.dbias);
    CHECK(r.fwd <= tol);
    CHECK(r.dgrad <= tol);
    CHECK(r.wgrad <= tol);
    CHECK(r.dbias <= 1e-5);  // the bias gradient is a plain FP32 sum in every mode
  }
}

}  // namespace

TEST_CASE("CUDA implicit-GEMM conv, exact FP32, matches the CPU on random shapes to 1e-5") {
  CRISP_CUDA_TEST_OR_SKIP();
  crisp::Generator gen(11);
  check_all(crisp::cuda::ConvBackend::Native, ConvMath::FP32, 1e-5, random_geometries(gen, 40), gen);
}

TEST_CASE("CUDA implicit-GEMM conv, exact FP32, matches the CPU on every paper shape") {
  CRISP_CUDA_TEST_OR_SKIP();
  crisp::Generator gen(12);
  check_all(crisp::cuda::ConvBackend::Native, ConvMath::FP32, 1e-5, paper_geometries(), gen);
}

TEST_CASE("CUDA tensor-core conv paths stay within their documented tolerance") {
  CRISP_CUDA_TEST_OR_SKIP();
  crisp::Generator gen(13);
  auto shapes = random_geometries(gen, 12);
  for (const auto& g : paper_geometries()) shapes.push_back(g);
  SECTION("tf32 <= 2e-3") { check_all(crisp::cuda::ConvBackend::Native, ConvMath::TF32, 2e-3, shapes, gen); }
  SECTION("bf16 <= 1.5e-2") { check_all(crisp::cuda::ConvBackend::Native, ConvMath::BF16, 1.5e-2, shapes, gen); }
}

TEST_CASE("cuDNN conv backend matches the CPU (FP32 1e-5, TF32 2e-3)") {
  CRISP_CUDA_TEST_OR_SKIP();
  crisp::Generator gen(14);
  auto shapes = random_geometries(gen, 16);
  check_all(crisp::cuda::ConvBackend::CuDNN, ConvMath::FP32, 1e-5, shapes, gen);
  check_all(crisp::cuda::ConvBackend::CuDNN, ConvMath::TF32, 2e-3, paper_geometries(), gen);
}

TEST_CASE("cuDNN backend refuses bf16 on float tensors and asymmetric padding, naming the op") {
  CRISP_CUDA_TEST_OR_SKIP();
  MathGuard guard(crisp::cuda::ConvBackend::CuDNN, ConvMath::BF16);
  crisp::Generator gen(15);
  auto x = crisp::randn<float>({1, 2, 6, 6}, gen).to(crisp::Device::cuda());
  auto w = crisp::randn<float>({3, 2, 3, 3}, gen).to(crisp::Device::cuda());
  CHECK_THROWS_WITH(crisp::conv2d(x, w), Catch::Contains("cuda::conv2d_forward") && Catch::Contains("bf16"));
  crisp::cuda::set_conv_math(ConvMath::FP32);
  auto w2 = crisp::randn<float>({3, 2, 2, 2}, gen).to(crisp::Device::cuda());
  CHECK_THROWS_WITH(crisp::conv2d(x, w2, {}, 1, "same"), Catch::Contains("symmetric padding"));
}

TEST_CASE("conv2d and conv_transpose2d with autograd on CUDA tensors match the CPU ops") {
  CRISP_CUDA_TEST_OR_SKIP();
  using crisp::Device;
  crisp::Generator gen(16);
  for (int transposed = 0; transposed < 2; ++transposed) {
    auto x = crisp::randn<float>({2, 6, 13, 11}, gen), w = crisp::randn<float>({6, 5, 4, 4}, gen),
         b = crisp::randn<float>({5}, gen);
    auto xd = x.to(Device::cuda()).detach().requires_grad_(), wd = w.to(Device::cuda()).detach().requires_grad_(),
         bd = b.to(Device::cuda()).detach().requires_grad_();
    x.requires_grad_(), w.requires_grad_(), b.requires_grad_();
    auto y = transposed ? crisp::conv_transpose2d(x, w, b, 2, 1, 1) : crisp::conv2d(x, w.permute({1, 0, 2, 3}), b, 2, 1);
    auto yd = transposed ? crisp::conv_transpose2d(xd, wd, bd, 2, 1, 1)
                         : crisp::conv2d(xd, wd.permute({1, 0, 2, 3}), bd, 2, 1);
    REQUIRE(yd.is_cuda());
    auto g = crisp::randn<float>(y.shape(), gen);
    y.backward(g);
    yd.backward(g.to(Device::cuda()));
    INFO("transposed " << transposed);
    CHECK(rel_l2(yd.to(Device::cpu()).to_vector(), y.to_vector()) <= 1e-5);
    CHECK(rel_l2(xd.grad().to(Device::cpu()).to_vector(), x.grad().to_vector()) <= 1e-5);
    CHECK(rel_l2(wd.grad().to(Device::cpu()).to_vector(), w.grad().to_vector()) <= 1e-5);
    CHECK(rel_l2(bd.grad().to(Device::cpu()).to_vector(), b.grad().to_vector()) <= 1e-5);
  }
}
