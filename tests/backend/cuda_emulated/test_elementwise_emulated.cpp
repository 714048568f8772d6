// The elementwise and reduction kernels (kernels/elementwise.cu) run by the CUDA emulation,
// against crisp's CPU ops: strided / broadcasting copy and fill (float, double, int64), the
// binary and unary maps, axpby, relu backward, sum, l1 loss, Adam and softmax. The emulated
// "device" memory is host memory, so CPU tensors' buffers go straight to the launchers.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "crisp/autograd/engine.hpp"
#include "crisp/backend/cuda/elementwise.hpp"
#include "crisp/loss/regression.hpp"
#include "crisp/ops/ops.hpp"
#include "crisp/optim/adam.hpp"

namespace {

using crisp::Shape;
using crisp::Tensor;
using crisp::cuda::BinaryOp;
using crisp::cuda::StridedDesc;
using crisp::cuda::UnaryOp;
namespace native = crisp::cuda::native;

// t viewed over `over` (broadcast by expand: stride 0 along expanded dims).
template <class T>
StridedDesc desc(const Tensor<T>& t, const Shape& over) {
  const Tensor<T> v = t.expand(over);
  StridedDesc d;
  d.ndim = int(over.size());
  for (int k = 0; k < d.ndim; ++k) d.shape[k] = over[size_t(k)], d.strides[k] = v.strides()[size_t(k)];
  return d;
}
template <class T>
StridedDesc desc(const Tensor<T>& t) {
  return desc(t, t.shape());
}

// Elementwise |a - b| <= tol * max(1, |b|), NaN only where the reference has NaN.
void require_close(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
    if (std::isnan(want[i])) {
      CHECK(std::isnan(got[i]));
      continue;
    }
    CHECK(std::fabs(double(got[i]) - want[i]) <= tol * std::max(1.0, std::fabs(double(want[i]))));
  }
}

}  // namespace

TEST_CASE("emulated binary kernel: broadcasting and strided operands match crisp's CPU ops", "[cuda-emulated]") {
  crisp::Generator gen(31);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{7, 5}, {7, 5}}, {{4, 1, 6}, {3, 1}}, {{2, 3, 5, 7}, {3, 1, 1}}, {{1}, {5, 4}}};
  for (const auto& [sa, sb] : shapes) {
    auto a = crisp::randn<float>(sa, gen), b = crisp::randn<float>(sb, gen) + 3.f;
    a.data_ptr()[0] = std::numeric_limits<float>::quiet_NaN();  // maximum / minimum propagate NaN
    const Shape out_shape = (a + b).shape();
    const int64_t n = Tensor<float>::empty(out_shape).numel();
    const std::pair<BinaryOp, Tensor<float>> cases[] = {
        {BinaryOp::Add, a + b},           {BinaryOp::Sub, a - b},
        {BinaryOp::Mul, a * b},           {BinaryOp::Div, a / b},
        {BinaryOp::Maximum, crisp::maximum(a, b)}, {BinaryOp::Minimum, crisp::minimum(a, b)}};
    for (const auto& [op, want] : cases) {
      INFO("shapes " << sa << " and " << sb << ", op " << int(op));
      auto out = crisp::full<float>(out_shape, -1234.f);
      native::binary(op, n, desc(out), out.data_ptr(), desc(a, out_shape), a.data_ptr(), desc(b, out_shape),
                     b.data_ptr(), nullptr);
      require_close(out.to_vector(), want.contiguous().to_vector(), 0.0);  // the same IEEE operation
    }
  }
  // A transposed (strided) operand against its contiguous copy.
  auto m = crisp::randn<float>({6, 9}, gen);
  const auto mt = m.t();
  auto out = Tensor<float>::empty({9, 6});
  native::binary(BinaryOp::Add, 54, desc(out), out.data_ptr(), desc(mt), mt.data_ptr(), desc(mt), mt.data_ptr(),
                 nullptr);
  require_close(out.to_vector(), (mt + mt).contiguous().to_vector(), 0.0);
}

TEST_CASE("emulated unary kernel: every op matches crisp's CPU op", "[cuda-emulated]") {
  crisp::Generator gen(32);
  const auto x = crisp::randn<float>({3, 7, 11}, gen) * 3.f;
  const auto pos = crisp::abs(x) + 0.01f;
  const auto xt = x.transpose(0, 2);  // strided input
  struct Case {
    UnaryOp op;
    Tensor<float> in, want;
    double tol;
  };
  const Case cases[] = {
      {UnaryOp::Neg, xt, -xt, 0.0},
      {UnaryOp::Abs, xt, crisp::abs(xt), 0.0},
      {UnaryOp::Relu, xt, crisp::relu(xt), 0.0},
      {UnaryOp::Sigmoid, x, crisp::sigmoid(x), 1e-6},
      {UnaryOp::Tanh, x, crisp::tanh(x), 1e-6},
      {UnaryOp::Exp, x, crisp::exp(x), 1e-6},
      {UnaryOp::Log, pos, crisp::log(pos), 1e-6},
      {UnaryOp::Sqrt, pos, crisp::sqrt(pos), 1e-7},
      {UnaryOp::Square, x, crisp::square(x), 0.0},
  };
  for (const auto& c : cases) {
    INFO("op " << int(c.op));
    auto out = crisp::full<float>(c.in.shape(), -1234.f);
    native::unary(c.op, desc(out), out.data_ptr(), desc(c.in), c.in.data_ptr(), nullptr);
    require_close(out.to_vector(), c.want.contiguous().to_vector(), c.tol);
  }
}

TEST_CASE("emulated axpby and relu backward kernels", "[cuda-emulated]") {
  crisp::Generator gen(33);
  const int64_t n = 300;  // two blocks
  const auto a = crisp::randn<float>({n}, gen), b = crisp::randn<float>({n}, gen);
  auto out = Tensor<float>::empty({n});
  native::axpby(n, 0.5f, a.data_ptr(), -2.f, b.data_ptr(), out.data_ptr(), nullptr);
  require_close(out.to_vector(), (a * 0.5f + b * -2.f).to_vector(), 1e-7);
  native::axpby(n, 3.f, a.data_ptr(), 7.f, nullptr, out.data_ptr(), nullptr);  // b absent: out = alpha * a
  require_close(out.to_vector(), (a * 3.f).to_vector(), 0.0);
  native::relu_backward(n, b.data_ptr(), a.data_ptr(), out.data_ptr(), nullptr);
  const auto av = a.to_vector(), bv = b.to_vector(), got = out.to_vector();
  for (size_t i = 0; i < size_t(n); ++i) CHECK(got[i] == (av[i] > 0.f ? bv[i] : 0.f));
}

TEST_CASE("emulated strided copy and fill: broadcast sources, strided destinations, three dtypes",
          "[cuda-emulated]") {
  crisp::Generator gen(34);
  // float: a broadcast source into a contiguous destination, and a contiguous source into a
  // transposed (strided) destination.
  const auto src = crisp::randn<float>({3, 1, 5}, gen);
  auto dst = Tensor<float>::empty({3, 4, 5});
  native::copy_strided(desc(dst), dst.data_ptr(), desc(src, dst.shape()), src.data_ptr(), nullptr);
  require_close(dst.to_vector(), src.expand({3, 4, 5}).contiguous().to_vector(), 0.0);
  auto base = crisp::zeros<float>({5, 6});
  auto view = base.t();  // [6, 5], strides {1, 6}
  const auto src2 = crisp::randn<float>({6, 5}, gen);
  native::copy_strided(desc(view), view.data_ptr(), desc(src2), src2.data_ptr(), nullptr);
  require_close(base.to_vector(), src2.t().contiguous().to_vector(), 0.0);
  native::fill_strided(desc(view), view.data_ptr(), 2.5f, nullptr);
  for (float v : base.to_vector()) CHECK(v == 2.5f);
  // double and int64: a column of a matrix (stride 4) copied out, then filled.
  auto dm = crisp::randn<double>({7, 4}, gen);
  const auto col = dm.transpose(0, 1);  // [4, 7]
  auto dcopy = Tensor<double>::empty({4, 7});
  native::copy_strided(desc(dcopy), dcopy.data_ptr(), desc(col), col.data_ptr(), nullptr);
  CHECK(dcopy.to_vector() == col.contiguous().to_vector());
  std::vector<int64_t> iv(24);
  for (size_t i = 0; i < iv.size(); ++i) iv[i] = int64_t(i) * 1000003 - 7;
  const auto im = crisp::from_vector<int64_t>(iv, {4, 6});
  const auto it = im.t();
  auto icopy = Tensor<int64_t>::empty({6, 4});
  native::copy_strided(desc(icopy), icopy.data_ptr(), desc(it), it.data_ptr(), nullptr);
  CHECK(icopy.to_vector() == it.contiguous().to_vector());
  native::fill_strided(desc(icopy), icopy.data_ptr(), int64_t(-5), nullptr);
  CHECK(icopy.to_vector() == std::vector<int64_t>(24, -5));
  // Mismatched ranks are refused, naming the launcher.
  CHECK_THROWS_WITH(native::copy_strided(desc(dst), dst.data_ptr(), desc(src2), src2.data_ptr(), nullptr),
                    Catch::Contains("cuda::copy_strided"));
}

TEST_CASE("emulated sum and l1 loss kernels match crisp::sum and loss::l1", "[cuda-emulated]") {
  crisp::Generator gen(35);
  for (int64_t n : {1, 255, 1000}) {  // one block, one partial block, four blocks
    INFO("n = " << n);
    const auto a = crisp::randn<float>({n}, gen), b = crisp::randn<float>({n}, gen);
    float out = NAN;
    native::sum_all(n, a.data_ptr(), &out, nullptr);
    CHECK(out == Approx(crisp::sum(a).item()).epsilon(1e-6).margin(1e-6));
    out = NAN;
    native::l1_loss(n, a.data_ptr(), b.data_ptr(), &out, nullptr);
    CHECK(out == Approx(crisp::loss::l1(a, b).item()).epsilon(1e-6));
  }
  CHECK_THROWS_WITH(native::l1_loss(0, nullptr, nullptr, nullptr, nullptr), Catch::Contains("cuda::l1_loss"));
}

TEST_CASE("emulated Adam kernel matches crisp::optim::Adam over three steps", "[cuda-emulated]") {
  crisp::Generator gen(36);
  const int64_t n = 333;
  auto p = crisp::randn<float>({n}, gen);
  const auto p0 = p.clone();
  const auto opts = crisp::optim::AdamOptions(1e-2).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.1);
  crisp::optim::Adam adam(std::vector<Tensor<float>>{p}, opts);
  auto q = p0.clone(), m = crisp::zeros<float>({n}), v = crisp::zeros<float>({n});
  for (int step = 1; step <= 3; ++step) {
    const auto g = crisp::randn<float>({n}, gen);
    p.set_grad(g);
    adam.step();
    native::adam_step(n, q.data_ptr(), g.data_ptr(), m.data_ptr(), v.data_ptr(), 1e-2f, 0.8f, 0.99f, 1e-6f, 0.1f,
                      step, nullptr);
  }
  require_close(q.to_vector(), p.to_vector(), 1e-5);
  CHECK_THROWS_WITH(native::adam_step(n, q.data_ptr(), q.data_ptr(), m.data_ptr(), v.data_ptr(), 1e-2f, 0.8f, 0.99f,
                                      1e-6f, 0.f, 0, nullptr),
                    Catch::Contains("cuda::adam_step"));
}

TEST_CASE("emulated softmax kernel matches crisp::softmax over the last dim", "[cuda-emulated]") {
  crisp::Generator gen(37);
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{3, 7}, {4, 300}}) {  // cols past one block's width
    const auto x = crisp::randn<float>({rows, cols}, gen) * 4.f;
    auto y = crisp::full<float>({rows, cols}, -1.f);
    native::softmax_lastdim(rows, cols, x.data_ptr(), y.data_ptr(), nullptr);
    require_close(y.to_vector(), crisp::softmax(x, 1).to_vector(), 1e-6);
  }
}
