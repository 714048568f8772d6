// Element-wise CPU kernels: out = f(a), f(a, b), f(a, b, c) over strided operands that broadcast
// to out's shape, and the CPU twins of the element-wise primitives (copy, fill, cast, unary,
// binary; see backend/elementwise.hpp). The output may itself be a strided view (copy_ into a
// slice uses that).
#pragma once

#include <array>

#include "crisp/backend/cpu/strided_loop.hpp"
#include "crisp/backend/elementwise_math.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::cpu {

template <class TOut, class TA, class F>
void map_into(const Tensor<TOut>& out, F f, const Tensor<TA>& a) {
  const Shape& shape = out.shape();
  std::array<Strides, 2> st{out.strides(), broadcast_strides(a.shape(), a.strides(), shape)};
  TOut* o = out.data();
  const TA* pa = a.data();
  for_each_row<2>(shape, st, [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& s) {
    TOut* y = o + off[0];
    const TA* x = pa + off[1];
    if (s[0] == 1 && s[1] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) y[i * s[0]] = f(x[i * s[1]]);
    }
  });
}

template <class TOut, class TA, class TB, class F>
void map_into(const Tensor<TOut>& out, F f, const Tensor<TA>& a, const Tensor<TB>& b) {
  const Shape& shape = out.shape();
  std::array<Strides, 3> st{out.strides(), broadcast_strides(a.shape(), a.strides(), shape),
                            broadcast_strides(b.shape(), b.strides(), shape)};
  TOut* o = out.data();
  const TA* pa = a.data();
  const TB* pb = b.data();
  for_each_row<3>(shape, st, [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& s) {
    TOut* y = o + off[0];
    const TA* x = pa + off[1];
    const TB* z = pb + off[2];
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = f(x[i], z[i]);
    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
      const TB zv = *z;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = f(x[i], zv);
    } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
      const TA xv = *x;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = f(xv, z[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) y[i * s[0]] = f(x[i * s[1]], z[i * s[2]]);
    }
  });
}

template <class TOut, class TA, class TB, class TC, class F>
void map_into(const Tensor<TOut>& out, F f, const Tensor<TA>& a, const Tensor<TB>& b, const Tensor<TC>& c) {
  const Shape& shape = out.shape();
  std::array<Strides, 4> st{out.strides(), broadcast_strides(a.shape(), a.strides(), shape),
                            broadcast_strides(b.shape(), b.strides(), shape),
                            broadcast_strides(c.shape(), c.strides(), shape)};
  TOut* o = out.data();
  const TA* pa = a.data();
  const TB* pb = b.data();
  const TC* pc = c.data();
  for_each_row<4>(shape, st, [&](const std::array<int64_t, 4>& off, int64_t n, const std::array<int64_t, 4>& s) {
    for (int64_t i = 0; i < n; ++i)
      o[off[0] + i * s[0]] = f(pa[off[1] + i * s[1]], pb[off[2] + i * s[2]], pc[off[3] + i * s[3]]);
  });
}

// Fresh contiguous result of f over inputs broadcast to `shape`.
template <class TOut, class F, class... TIn>
Tensor<TOut> map(const Shape& shape, F f, const Tensor<TIn>&... in) {
  Tensor<TOut> out = Tensor<TOut>::empty(shape);
  map_into(out, f, in...);
  return out;
}

template <class T>
void fill(const Tensor<T>& out, T value) {
  if (out.is_contiguous()) {
    T* p = out.data();
    parallel_for(0, out.numel(), 65536, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = value;
    });
    return;
  }
  std::array<Strides, 1> st{out.strides()};
  T* o = out.data();
  for_each_row<1>(out.shape(), st, [&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& s) {
    for (int64_t i = 0; i < n; ++i) o[off[0] + i * s[0]] = value;
  });
}

// ---- twins of crisp::cuda (backend/cuda/elementwise.hpp) -----------------------------------

// out = src broadcast to out's shape; out may be a strided view. The operands must not overlap.
template <class T>
void copy(const Tensor<T>& out, const Tensor<T>& src) {
  map_into(out, [](T v) { return v; }, src);
}

template <class U, class T>
void cast(const Tensor<U>& out, const Tensor<T>& src) {
  map_into(out, [](T v) { return static_cast<U>(v); }, src);
}

// out = f(x), x broadcast to out's shape.
template <class T>
void unary(const UnaryFn& f, const Tensor<T>& out, const Tensor<T>& x) {
  const T a = static_cast<T>(f.a), b = static_cast<T>(f.b);
  visit(f.op, [&]<UnaryOp Op>() { map_into(out, [a, b](T v) { return math::unary<Op>(v, a, b); }, x); });
}

// out = op(x, y), both broadcast to out's shape.
template <class T>
void binary(BinaryOp op, const Tensor<T>& out, const Tensor<T>& x, const Tensor<T>& y) {
  visit(op, [&]<BinaryOp Op>() { map_into(out, [](T u, T v) { return math::binary<Op>(u, v); }, x, y); });
}

}  // namespace crisp::cpu
