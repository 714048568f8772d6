// Every CUDA kernel launcher against its CPU twin, written once for two builds: the CUDA tests
// (tests/backend/cuda/test_kernels_cuda.cpp, a real device, larger shapes) and the emulated tests
// (tests/backend/cuda_emulated/test_kernels_emulated.cpp: kernels/*.cu compiled as host C++,
// small shapes). Buffers go through cudaMalloc / cudaMemcpy, which the emulation provides on
// host memory. Tolerances: relative L2 1e-5 (float), 1e-12 (double); NaNs must sit at the same
// places; index outputs and dropout masks must be equal.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "crisp/backend/cpu/dropout.hpp"
#include "crisp/backend/cpu/elementwise.hpp"
#include "crisp/backend/cpu/index.hpp"
#include "crisp/backend/cpu/norm.hpp"
#include "crisp/backend/cpu/optim.hpp"
#include "crisp/backend/cpu/pad.hpp"
#include "crisp/backend/cpu/pool.hpp"
#include "crisp/backend/cpu/reduce.hpp"
#include "crisp/backend/cpu/resize.hpp"
#include "crisp/backend/cpu/softmax.hpp"
#include "crisp/backend/cuda/native/norm.hpp"
#include "crisp/backend/cuda/native/optim.hpp"
#include "crisp/backend/cuda/native/reduce.hpp"
#include "crisp/backend/cuda/native/softmax.hpp"
#include "crisp/backend/cuda/native/spatial.hpp"
#include "crisp/backend/cuda/device_vector.hpp"
#include "crisp/backend/cuda/strided.hpp"
#include "crisp/tensor/generator.hpp"

namespace crisp::kernel_checks {

template <class T>
constexpr double tol() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}

// A typed device buffer (caching allocator), filled from and read back to host vectors.
template <class T>
class Buf {
 public:
  explicit Buf(size_t n) : n_(n) {
    p_ = static_cast<T*>(cuda::caching_allocator().allocate(std::max<size_t>(n, 1) * sizeof(T), 0, nullptr));
  }
  explicit Buf(const std::vector<T>& h) : Buf(h.size()) {
    if (n_) CRISP_CUDA_CHECK(cudaMemcpy(p_, h.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~Buf() { cuda::caching_allocator().deallocate(p_); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  T* get() const { return p_; }
  // Every byte 0xff (NaN for float / double, -1 for int64): an unwritten element shows.
  void poison() { CRISP_CUDA_CHECK(cudaMemset(p_, 0xff, n_ * sizeof(T))); }
  std::vector<T> host() const {
    std::vector<T> h(n_);
    CRISP_CUDA_CHECK(cudaDeviceSynchronize());
    if (n_) CRISP_CUDA_CHECK(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

template <class T>
std::vector<T> random(size_t n, Generator& gen, double scale = 1, double shift = 0) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(gen.normal() * scale + shift);
  return v;
}

template <class T>
void check_close(const std::vector<T>& got, const std::vector<T>& want, double tolerance, const char* what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const bool gn = std::isnan(double(got[i])), wn = std::isnan(double(want[i]));
    const bool inf = std::isinf(double(want[i]));
    if (gn != wn || (inf && got[i] != want[i])) {  // one failure reported, not one assertion per element
      INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
      REQUIRE(false);
    }
    if (gn || inf) continue;
    num += (double(got[i]) - double(want[i])) * (double(got[i]) - double(want[i]));
    den += double(want[i]) * double(want[i]);
  }
  const double rel = den == 0 ? std::sqrt(num) : std::sqrt(num / den);
  INFO("relative L2 error " << rel);
  CHECK(rel <= tolerance);
}

// A CPU tensor holding v with the given shape (contiguous).
template <class T>
Tensor<T> cpu_tensor(const Shape& shape, const std::vector<T>& v) {
  Tensor<T> t = Tensor<T>::empty(shape);
  std::memcpy(t.data(), v.data(), v.size() * sizeof(T));
  return t;
}
template <class T>
std::vector<T> values(const Tensor<T>& contiguous) {
  return std::vector<T>(contiguous.data(), contiguous.data() + contiguous.numel());
}

// ---- element-wise -------------------------------------------------------------------------

// out (a transposed view of a [d1, d0] buffer, shape [d0, d1]) = f(x broadcast [d0, 1]) style
// cases: every unary op, every binary op, with broadcasting and a strided output.
template <class T>
void check_elementwise(int64_t d0, int64_t d1, uint64_t seed) {
  Generator gen(seed);
  const Shape shape{d0, d1};
  const auto xv = random<T>(size_t(d0 * d1), gen, 2.0);
  const auto yv = random<T>(size_t(d1), gen, 1.0, 0.5);  // broadcast along dim 0
  std::vector<T> pos(xv.size());
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = std::abs(xv[i]) + T(0.1);
  Tensor<T> x = cpu_tensor<T>(shape, xv), xp = cpu_tensor<T>(shape, pos), y = cpu_tensor<T>(Shape{d1}, yv);
  // The output: a transposed view, so it is written through strides (d1 x d0 storage).
  Tensor<T> out_store = Tensor<T>::empty(Shape{d1, d0});
  Tensor<T> out = Tensor<T>::view_of(out_store.storage(), shape, Strides{1, d0}, 0);
  Buf<T> dx(xv), dxp(pos), dy(yv), dout(size_t(d0 * d1));
  const cudaStream_t s = nullptr;
  auto got = [&] {
    auto h = dout.host();
    return h;
  };
  for (int k = 0; k < kUnaryOpCount; ++k) {
    const UnaryOp op = static_cast<UnaryOp>(k);
    const bool positive = op == UnaryOp::Log || op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt || op == UnaryOp::PowScalar ||
                          op == UnaryOp::Reciprocal;
    UnaryFn f{op, 0.3, 0.0};
    if (op == UnaryOp::Clamp || op == UnaryOp::InRange) f = {op, -0.5, 0.7};
    if (op == UnaryOp::PowScalar) f = {op, 1.7, 0};
    if (op == UnaryOp::Affine) f = {op, -1.5, 0.25};
    const Tensor<T>& in = positive ? xp : x;
    cpu::unary<T>(f, out, in);
    const auto d = cuda::detail::describe_over(out, in);
    dout.poison();
    cuda::native::unary<T>(f, d[0], dout.get(), d[1], positive ? dxp.get() : dx.get(), s);
    check_close(got(), values(out_store), tol<T>(), to_string(op));
  }
  for (int k = 0; k < kBinaryOpCount; ++k) {
    const BinaryOp op = static_cast<BinaryOp>(k);
    const bool positive = op == BinaryOp::Pow || op == BinaryOp::PowBaseGrad || op == BinaryOp::PowExpGrad;
    const Tensor<T>& in = positive ? xp : x;
    cpu::binary<T>(op, out, in, y);
    const auto d = cuda::detail::describe_over(out, in, y);
    dout.poison();
    cuda::native::binary<T>(op, d[0], dout.get(), d[1], positive ? dxp.get() : dx.get(), d[2], dy.get(), s);
    check_close(got(), values(out_store), tol<T>(), to_string(op));
  }
  {  // copy of a broadcast row into the strided output, fill, and casts
    cpu::copy<T>(out, y);
    const auto d = cuda::detail::describe_over(out, y);
    dout.poison();
    cuda::native::copy_strided<T>(d[0], dout.get(), d[1], dy.get(), s);
    check_close(got(), values(out_store), 0.0, "copy");
    cpu::fill<T>(out, T(2.5));
    dout.poison();
    cuda::native::fill_strided<T>(d[0], dout.get(), T(2.5), s);
    check_close(got(), values(out_store), 0.0, "fill");
    Tensor<int64_t> xi = Tensor<int64_t>::empty(shape);
    cpu::cast<int64_t, T>(xi, x);
    Buf<int64_t> dxi(size_t(d0 * d1));
    const auto dc = cuda::detail::describe_over(xi, x);
    cuda::native::cast_strided<int64_t, T>(dc[0], dxi.get(), dc[1], dx.get(), s);
    CHECK(dxi.host() == values(xi));
  }
}

// ---- reductions and indexing -------------------------------------------------------------

template <class T>
void check_reduce(int64_t a, int64_t b, int64_t c, uint64_t seed) {
  Generator gen(seed);
  const Shape shape{a, b, c};
  auto xv = random<T>(size_t(a * b * c), gen);
  Tensor<T> x = cpu_tensor<T>(shape, xv);
  Buf<T> dx(xv);
  for (int mask = 0; mask < 8; ++mask) {
    const std::vector<bool> reduce{bool(mask & 1), bool(mask & 2), bool(mask & 4)};
    Shape kept;
    for (int d = 0; d < 3; ++d)
      if (!reduce[size_t(d)]) kept.push_back(shape[d]);
    Tensor<T> out = Tensor<T>::empty(kept);
    cpu::sum_into<T>(x, reduce, out);
    Shape ks, kst, rs, rst;
    for (int64_t d = 0; d < 3; ++d) {
      if (shape[d] == 1) continue;
      (reduce[size_t(d)] ? rs : ks).push_back(shape[d]);
      (reduce[size_t(d)] ? rst : kst).push_back(x.strides()[d]);
    }
    auto desc = [](const Shape& sh, const Shape& st) {
      cuda::StridedDesc dd;
      dd.ndim = int(sh.size());
      for (int64_t i = 0; i < sh.size(); ++i) dd.shape[i] = sh[i], dd.strides[i] = st[i];
      return dd;
    };
    Buf<T> dout(size_t(out.numel()));
    dout.poison();
    cuda::native::sum_reduce<T>(desc(ks, kst), desc(rs, rst), dx.get(), dout.get(), nullptr);
    INFO("sum mask " << mask);
    check_close(dout.host(), values(out), tol<T>() * 10, "sum_into");
  }
  // arg max / min along each dim, with a NaN and ties.
  xv[1] = xv[0];
  xv[size_t(a * b * c / 2)] = std::numeric_limits<T>::quiet_NaN();
  x = cpu_tensor<T>(shape, xv);
  Buf<T> dxn(xv);
  for (int64_t d = 0; d < 3; ++d)
    for (bool greatest : {true, false}) {
      Shape kept, kst;
      for (int64_t i = 0; i < 3; ++i)
        if (i != d) kept.push_back(shape[i]), kst.push_back(x.strides()[i]);
      Tensor<T> v = Tensor<T>::empty(kept);
      Tensor<int64_t> ix = Tensor<int64_t>::empty(kept);
      cpu::arg_extremum<T>(x, d, greatest, v, ix);
      cuda::StridedDesc kd;
      kd.ndim = 2;
      for (int i = 0; i < 2; ++i) kd.shape[i] = kept[i], kd.strides[i] = kst[i];
      Buf<T> dv(size_t(v.numel()));
      Buf<int64_t> di(size_t(v.numel()));
      cuda::native::arg_extremum<T>(kd, shape[d], x.strides()[d], greatest, dxn.get(), dv.get(), di.get(), nullptr);
      INFO("arg_extremum dim " << d << (greatest ? " max" : " min"));
      CHECK(di.host() == values(ix));
      check_close(dv.host(), values(v), 0.0, "arg_extremum values");
    }
  // scatter / gather along the middle dim, [a, b, c] with index [a, c] (and skip = b - 1 for gather).
  std::vector<int64_t> iv(size_t(a * c));
  for (auto& i : iv) i = int64_t(gen.uniform_int(uint64_t(b)));
  const auto sv = random<T>(iv.size(), gen);
  Tensor<int64_t> index = cpu_tensor<int64_t>(Shape{a, c}, iv);
  Tensor<T> src = cpu_tensor<T>(Shape{a, c}, sv), sc = Tensor<T>::empty(shape), ga = Tensor<T>::empty(Shape{a, c});
  cpu::scatter_along<T>(sc, a, b, c, index, src);
  cpu::gather_along<T>(ga, x, a, b, c, index, b - 1);
  Buf<int64_t> dix(iv);
  Buf<T> dsrc(sv), dsc(size_t(sc.numel())), dga(size_t(ga.numel()));
  dsc.poison();
  cuda::native::scatter_along<T>(dsc.get(), a, b, c, dix.get(), dsrc.get(), nullptr);
  cuda::native::gather_along<T>(dga.get(), dxn.get(), a, b, c, dix.get(), b - 1, nullptr);
  check_close(dsc.host(), values(sc), 0.0, "scatter_along");
  check_close(dga.host(), values(ga), 0.0, "gather_along");
}

// Few outputs, long reductions (the chunked two-pass sum): x [rows, n] summed along dim 1 and over
// everything, in float the rounding of a long sum shows, so the tolerance is a little wider.
template <class T>
void check_sum_long(int64_t rows, int64_t n, uint64_t seed) {
  Generator gen(seed);
  const auto xv = random<T>(size_t(rows * n), gen, 1.0, 0.25);
  Tensor<T> x = cpu_tensor<T>(Shape{rows, n}, xv);
  Buf<T> dx(xv);
  for (bool all : {false, true}) {
    Tensor<T> out = all ? Tensor<T>::empty(Shape{}) : Tensor<T>::empty(Shape{rows});
    cpu::sum_into<T>(x, {all, true}, out);
    cuda::StridedDesc kept, red;
    if (all) {
      red.ndim = 1, red.shape[0] = rows * n, red.strides[0] = 1;
    } else {
      kept.ndim = 1, kept.shape[0] = rows, kept.strides[0] = n;
      red.ndim = 1, red.shape[0] = n, red.strides[0] = 1;
    }
    Buf<T> dout(size_t(out.numel()));
    dout.poison();
    cuda::native::sum_reduce<T>(kept, red, dx.get(), dout.get(), nullptr);
    check_close(dout.host(), values(out), tol<T>() * 10, all ? "sum of everything" : "sum of long rows");
  }
}

// ---- softmax, dropout, norm ----------------------------------------------------------------

template <class T>
void check_softmax_dropout(int64_t outer, int64_t n, int64_t inner, int64_t mask_n, uint64_t seed) {
  Generator gen(seed);
  const auto xv = random<T>(size_t(outer * n * inner), gen, 3.0);
  Tensor<T> x = cpu_tensor<T>(Shape{outer, n, inner}, xv), y = Tensor<T>::empty(Shape{outer, n, inner});
  Buf<T> dx(xv), dy(xv.size());
  for (bool log : {false, true}) {
    cpu::softmax<T>(y, x, outer, n, inner, log);
    dy.poison();
    cuda::native::softmax<T>(dy.get(), dx.get(), outer, n, inner, log, nullptr);
    check_close(dy.host(), values(y), tol<T>(), log ? "log_softmax" : "softmax");
  }
  for (double p : {0.0, 0.3, 0.9}) {
    std::vector<T> want(static_cast<size_t>(mask_n));
    cpu::dropout_mask<T>(want.data(), mask_n, seed + 7, p);
    Buf<T> dm(static_cast<size_t>(mask_n));
    dm.poison();
    cuda::native::dropout_mask<T>(dm.get(), mask_n, seed + 7, p, nullptr);
    INFO("dropout p = " << p);
    CHECK(dm.host() == want);
  }
}

template <class T>
void check_norm(int64_t outer, int64_t groups, int64_t inner, uint64_t seed) {
  Generator gen(seed);
  const NormLayout l{outer, groups, inner};
  const size_t n = size_t(outer * groups * inner), G = size_t(groups);
  const auto xv = random<T>(n, gen, 2.0, 5.0), dyv = random<T>(n, gen);
  std::vector<double> mean(G), var(G), s1(G), s2(G), dx_a(G), dx_b(G), dx_k(G);
  cpu::norm_stats<T>(xv.data(), l, mean.data(), var.data());
  for (size_t g = 0; g < G; ++g) dx_a[g] = 0.1 * double(g), dx_b[g] = 0.5 - 0.01 * double(g), dx_k[g] = 1.0 + double(g);
  std::vector<T> y(n), dxr(n), dxe(n);
  cpu::norm_apply<T>(xv.data(), l, mean.data(), dx_k.data(), dx_a.data(), y.data());
  cpu::norm_grad_sums<T>(dyv.data(), xv.data(), l, mean.data(), s1.data(), s2.data());
  cpu::norm_grad_input<T>(dyv.data(), xv.data(), l, mean.data(), dx_a.data(), dx_b.data(), dx_k.data(), dxr.data());
  cpu::norm_grad_input<T>(dyv.data(), nullptr, l, mean.data(), dx_a.data(), dx_b.data(), dx_k.data(), dxe.data());
  Buf<T> dx(xv), ddy(dyv), dyo(n), ddx(n), ddxe(n);
  Buf<double> dmean(G), dvar(G), ds1(G), ds2(G), da(dx_a), db(dx_b), dk(dx_k), dm_ref(mean);
  cuda::native::norm_stats<T>(dx.get(), l, dmean.get(), dvar.get(), nullptr);
  check_close(dmean.host(), mean, 1e-12, "norm mean");
  check_close(dvar.host(), var, 1e-12, "norm var");
  cuda::native::norm_apply<T>(dx.get(), l, dm_ref.get(), dk.get(), da.get(), dyo.get(), nullptr);
  check_close(dyo.host(), y, tol<T>(), "norm_apply");
  cuda::native::norm_grad_sums<T>(ddy.get(), dx.get(), l, dm_ref.get(), ds1.get(), ds2.get(), nullptr);
  check_close(ds1.host(), s1, 1e-12, "norm sum_dy");
  check_close(ds2.host(), s2, 1e-12, "norm sum_dy_xc");
  cuda::native::norm_grad_input<T>(ddy.get(), dx.get(), l, dm_ref.get(), da.get(), db.get(), dk.get(), ddx.get(),
                                   nullptr);
  check_close(ddx.host(), dxr, tol<T>(), "norm_grad_input");
  cuda::native::norm_grad_input<T>(ddy.get(), nullptr, l, dm_ref.get(), da.get(), db.get(), dk.get(), ddxe.get(),
                                   nullptr);
  check_close(ddxe.host(), dxe, tol<T>(), "norm_grad_input (eval)");
}

// ---- pooling, pad, resize ------------------------------------------------------------------

inline int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  const int64_t span = d * (k - 1) + 1, num = in + 2 * p - span;
  int64_t o = (ceil_mode ? (num + s - 1) / s : num / s) + 1;
  if (ceil_mode && (o - 1) * s >= in + p) --o;  // ATen: the last window must start inside
  return o;
}

template <class T>
void check_pool(int64_t planes, int64_t H, int64_t W, uint64_t seed) {
  Generator gen(seed);
  struct Case {
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
    bool ceil;
  };
  const Case cases[] = {{2, 2, 2, 2, 0, 0, 1, 1, false}, {3, 2, 2, 1, 1, 1, 1, 1, true}, {3, 3, 1, 2, 1, 0, 2, 1, false},
                        {2, 3, 3, 2, 1, 1, 1, 2, true}};
  auto xv = random<T>(size_t(planes * H * W), gen);
  xv[3] = std::numeric_limits<T>::quiet_NaN();
  for (const Case& c : cases) {
    PoolGeometry g{H, W, pool_out(H, c.kh, c.sh, c.ph, c.dh, c.ceil), pool_out(W, c.kw, c.sw, c.pw, c.dw, c.ceil),
                   c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw};
    const size_t out = size_t(planes * g.OH * g.OW), in = xv.size();
    INFO("pool " << c.kh << "x" << c.kw << " stride " << c.sh << "," << c.sw << " pad " << c.ph << "," << c.pw
                 << " dil " << c.dh << "," << c.dw << " -> " << g.OH << "x" << g.OW);
    const auto gyv = random<T>(out, gen);
    std::vector<T> y(out), gx(in);
    std::vector<int64_t> idx(out);
    Buf<T> dx(xv), dy(out), dgy(gyv), dgx(in);
    Buf<int64_t> didx(out);
    cpu::max_pool2d_forward<T>(xv.data(), y.data(), idx.data(), planes, g);
    cpu::max_pool2d_backward<T>(gyv.data(), idx.data(), gx.data(), planes, g);
    dy.poison();
    cuda::native::max_pool2d_forward<T>(dx.get(), dy.get(), didx.get(), planes, g, nullptr);
    check_close(dy.host(), y, 0.0, "max_pool2d");
    CHECK(didx.host() == idx);
    dgx.poison();
    cuda::native::max_pool2d_backward<T>(dgy.get(), didx.get(), dgx.get(), planes, g, nullptr);
    check_close(dgx.host(), gx, tol<T>(), "max_pool2d backward");
    if (c.dh != 1 || c.dw != 1) continue;  // average pooling has no dilation
    std::vector<T> xf(xv);
    xf[3] = T(0.25);
    Buf<T> dxf(xf);
    for (int mode = 0; mode < 3; ++mode) {
      const bool cip = mode != 1;
      const std::optional<int64_t> div = mode == 2 ? std::optional<int64_t>(5) : std::nullopt;
      cpu::avg_pool2d_forward<T>(xf.data(), y.data(), planes, g, cip, div);
      cpu::avg_pool2d_backward<T>(gyv.data(), gx.data(), planes, g, cip, div);
      dy.poison();
      dgx.poison();
      cuda::native::avg_pool2d_forward<T>(dxf.get(), dy.get(), planes, g, cip, div.value_or(0), nullptr);
      cuda::native::avg_pool2d_backward<T>(dgy.get(), dgx.get(), planes, g, cip, div.value_or(0), nullptr);
      INFO("avg mode " << mode);
      check_close(dy.host(), y, tol<T>(), "avg_pool2d");
      check_close(dgx.host(), gx, tol<T>(), "avg_pool2d backward");
    }
  }
  for (auto [OH, OW] : {std::pair<int64_t, int64_t>{3, 2}, {H, W}, {H + 2, 1}}) {
    const size_t out = size_t(planes * OH * OW), in = xv.size();
    std::vector<T> xf(xv), y(out), gx(in);
    xf[3] = T(0.5);
    const auto gyv = random<T>(out, gen);
    cpu::adaptive_avg_pool2d_forward<T>(xf.data(), y.data(), planes, H, W, OH, OW);
    cpu::adaptive_avg_pool2d_backward<T>(gyv.data(), gx.data(), planes, H, W, OH, OW);
    Buf<T> dx(xf), dy(out), dgy(gyv), dgx(in);
    dy.poison();
    dgx.poison();
    cuda::native::adaptive_avg_pool2d_forward<T>(dx.get(), dy.get(), planes, H, W, OH, OW, nullptr);
    cuda::native::adaptive_avg_pool2d_backward<T>(dgy.get(), dgx.get(), planes, H, W, OH, OW, nullptr);
    INFO("adaptive " << OH << "x" << OW);
    check_close(dy.host(), y, tol<T>(), "adaptive_avg_pool2d");
    check_close(dgx.host(), gx, tol<T>(), "adaptive_avg_pool2d backward");
  }
}

// Bilinear taps of an align_corners=False resize from `in` to `out` positions.
template <class T>
void linear_taps(int64_t in, int64_t out, std::vector<int64_t>& i0, std::vector<int64_t>& i1, std::vector<T>& l0,
                 std::vector<T>& l1) {
  const double scale = double(in) / double(out);
  for (int64_t j = 0; j < out; ++j) {
    const double src = std::max(0.0, (double(j) + 0.5) * scale - 0.5);
    const int64_t a = std::min<int64_t>(int64_t(src), in - 1), b = std::min<int64_t>(a + 1, in - 1);
    const double f = src - double(a);
    i0.push_back(a), i1.push_back(b), l0.push_back(T(1 - f)), l1.push_back(T(f));
  }
}

template <class T>
void check_pad_resize(int64_t planes, int64_t H, int64_t W, uint64_t seed) {
  Generator gen(seed);
  const auto xv = random<T>(size_t(planes * H * W), gen);
  Buf<T> dx(xv);
  // left: the columns' leading pad, which the CPU twin's contiguous fast path relies on.
  auto run_maps = [&](const std::vector<int64_t>& rows, const std::vector<int64_t>& cols, int64_t left, bool pad,
                      const char* what) {
    const int64_t OH = int64_t(rows.size()), OW = int64_t(cols.size());
    const size_t out = size_t(planes * OH * OW);
    const auto gyv = random<T>(out, gen);
    std::vector<T> y(out), gx(xv.size());
    if (pad) {
      cpu::pad2d_forward<T>(xv.data(), y.data(), planes, H, W, left, rows, cols, T(-3));
      cpu::pad2d_backward<T>(gyv.data(), gx.data(), planes, H, W, left, rows, cols);
    } else {
      cpu::resize_nearest_forward<T>(xv.data(), y.data(), planes, H, W, rows, cols);
      cpu::resize_nearest_backward<T>(gyv.data(), gx.data(), planes, H, W, rows, cols);
    }
    // The twins in backend/cuda/pad.hpp and resize.hpp: maps uploaded, backward through inverted maps.
    const cuda::InvertedMap<T> ir = cuda::invert_map<T>(H, {&rows}, {}), ic = cuda::invert_map<T>(W, {&cols}, {});
    Buf<int64_t> dr(rows), dc(cols), rs(ir.start), ro(ir.out), cs(ic.start), co(ic.out);
    Buf<T> dy(out), dgy(gyv), dgx(xv.size());
    dy.poison();
    dgx.poison();
    cuda::native::gather2d_forward<T>(dx.get(), dy.get(), planes, H, W, dr.get(), OH, dc.get(), OW, T(-3), nullptr);
    cuda::native::gather2d_backward<T>(dgy.get(), dgx.get(), planes, H, W, OH, OW, {rs.get(), ro.get(), nullptr},
                                       {cs.get(), co.get(), nullptr}, nullptr);
    INFO(what);
    check_close(dy.host(), y, 0.0, "forward");
    check_close(dgx.host(), gx, tol<T>(), "backward");
  };
  for (PadIndex kind : {PadIndex::Constant, PadIndex::Reflect, PadIndex::Replicate, PadIndex::Circular}) {
    INFO("pad mode " << int(kind));
    run_maps(pad_index_map(kind, H, 1, 2), pad_index_map(kind, W, 2, 1), 2, true, "pad");
    run_maps(pad_index_map(kind, H, -1, 1), pad_index_map(kind, W, 1, -1), 1, true, "pad with a crop");
  }
  std::vector<int64_t> rows, cols;
  for (int64_t j = 0; j < 2 * H + 1; ++j) rows.push_back(std::min<int64_t>(H - 1, j * H / (2 * H + 1)));
  for (int64_t j = 0; j < W - 1; ++j) cols.push_back(j * W / (W - 1));
  run_maps(rows, cols, 0, false, "nearest");
  // Bilinear, up in H and down in W.
  LinearTaps<T> rt, ct;
  linear_taps<T>(H, 2 * H + 1, rt.i0, rt.i1, rt.l0, rt.l1);
  linear_taps<T>(W, W - 1, ct.i0, ct.i1, ct.l0, ct.l1);
  const int64_t OH = int64_t(rt.i0.size()), OW = int64_t(ct.i0.size());
  const size_t out = size_t(planes * OH * OW);
  const auto gyv = random<T>(out, gen);
  std::vector<T> y(out), gx(xv.size());
  cpu::resize_bilinear_forward<T>(xv.data(), y.data(), planes, H, W, rt, ct);
  cpu::resize_bilinear_backward<T>(gyv.data(), gx.data(), planes, H, W, rt, ct);
  const cuda::InvertedMap<T> ir = cuda::invert_map<T>(H, {&rt.i0, &rt.i1}, {&rt.l0, &rt.l1});
  const cuda::InvertedMap<T> ic = cuda::invert_map<T>(W, {&ct.i0, &ct.i1}, {&ct.l0, &ct.l1});
  Buf<int64_t> r0(rt.i0), r1(rt.i1), c0(ct.i0), c1(ct.i1), rs(ir.start), ro(ir.out), cs(ic.start), co(ic.out);
  Buf<T> rl0(rt.l0), rl1(rt.l1), cl0(ct.l0), cl1(ct.l1), rw(ir.w), cw(ic.w), dy(out), dgy(gyv), dgx(xv.size());
  dy.poison();
  dgx.poison();
  cuda::native::bilinear_forward<T>(dx.get(), dy.get(), planes, H, W, r0.get(), r1.get(), rl0.get(), rl1.get(), OH,
                                    c0.get(), c1.get(), cl0.get(), cl1.get(), OW, nullptr);
  cuda::native::gather2d_backward<T>(dgy.get(), dgx.get(), planes, H, W, OH, OW, {rs.get(), ro.get(), rw.get()},
                                     {cs.get(), co.get(), cw.get()}, nullptr);
  check_close(dy.host(), y, tol<T>(), "bilinear forward");
  check_close(dgx.host(), gx, tol<T>(), "bilinear backward");
}

// ---- optimiser steps -----------------------------------------------------------------------

template <class T>
void check_optim(int64_t n, uint64_t seed) {
  Generator gen(seed);
  for (int variant = 0; variant < 4; ++variant) {
    AdamStep a;
    a.lr = 0.01, a.weight_decay = variant >= 2 ? 0.1 : 0, a.amsgrad = variant % 2 == 1;
    a.maximize = variant == 3, a.decoupled = variant == 2;
    SgdStep s;
    s.lr = 0.05, s.momentum = variant == 0 ? 0 : 0.9, s.dampening = variant == 2 ? 0.3 : 0;
    s.weight_decay = variant >= 2 ? 0.01 : 0, s.nesterov = variant == 1, s.maximize = variant == 3;
    std::vector<T> p = random<T>(size_t(n), gen), m(size_t(n), T(0)), v(m), vmax(m), q(p), buf(m);
    Buf<T> dp(p), dm(m), dv(v), dvmax(vmax), dq(q), dbuf(buf);
    for (int step = 1; step <= 3; ++step) {
      const auto g = random<T>(size_t(n), gen);
      Buf<T> dg(g);
      a.step = step;
      s.first = step == 1;
      cpu::adam_step<T>(p.data(), g.data(), m.data(), v.data(), a.amsgrad ? vmax.data() : nullptr, n, a);
      cuda::native::adam_step<T>(dp.get(), dg.get(), dm.get(), dv.get(), a.amsgrad ? dvmax.get() : nullptr, n, a,
                                 nullptr);
      cpu::sgd_step<T>(q.data(), g.data(), s.momentum != 0 ? buf.data() : nullptr, n, s);
      cuda::native::sgd_step<T>(dq.get(), dg.get(), s.momentum != 0 ? dbuf.get() : nullptr, n, s, nullptr);
    }
    INFO("optimiser variant " << variant);
    check_close(dp.host(), p, tol<T>(), "adam param");
    check_close(dm.host(), m, tol<T>(), "adam exp_avg");
    check_close(dv.host(), v, tol<T>(), "adam exp_avg_sq");
    check_close(dq.host(), q, tol<T>(), "sgd param");
    if (s.momentum != 0) check_close(dbuf.host(), buf, tol<T>(), "sgd momentum_buffer");
  }
}

}  // namespace crisp::kernel_checks
