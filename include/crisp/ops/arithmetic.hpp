// Broadcasting arithmetic: add, sub, mul, div, neg, maximum, minimum, and the operators
// + - * / over tensors and scalars. Gradients are summed back to each input's shape.
#pragma once

#include <algorithm>

#include "crisp/ops/view.hpp"

namespace crisp {

namespace detail {
template <class T, class F>
Tensor<T> broadcast_map(const char* op, const Tensor<T>& a, const Tensor<T>& b, F f) {
#if defined(CRISP_WITH_CUDA)
  if (a.is_cuda() || b.is_cuda()) return cuda_binary(op, a, b, broadcast_shapes(a.shape(), b.shape(), op));
#endif
  return cpu::map<T>(broadcast_shapes(a.shape(), b.shape(), op), f, a, b);
}
}  // namespace detail

template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_map("add", a, b, [](T x, T z) { return x + z; });
  if (autograd::needs_grad(a, b))
    autograd::record<T>("add", y, {a, b}, [sa = a.shape(), sb = b.shape(), ga = a.requires_grad(),
                                           gb = b.requires_grad()](const Tensor<T>& g) {
      return std::vector{ga ? sum_to(g, sa) : Tensor<T>(), gb ? sum_to(g, sb) : Tensor<T>()};
    });
  return y;
}

template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_map("sub", a, b, [](T x, T z) { return x - z; });
  if (autograd::needs_grad(a, b))
    autograd::record<T>("sub", y, {a, b}, [sa = a.shape(), sb = b.shape(), ga = a.requires_grad(),
                                           gb = b.requires_grad()](const Tensor<T>& g) {
      return std::vector{ga ? sum_to(g, sa) : Tensor<T>(), gb ? sum_to(neg(g), sb) : Tensor<T>()};
    });
  return y;
}

template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_map("mul", a, b, [](T x, T z) { return x * z; });
  if (autograd::needs_grad(a, b)) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    autograd::record<T>("mul", y, {a, b}, [a = a.detach(), b = b.detach(), ga, gb](const Tensor<T>& g) {
      return std::vector{ga ? sum_to(mul(g, b), a.shape()) : Tensor<T>(),
                         gb ? sum_to(mul(g, a), b.shape()) : Tensor<T>()};
    });
  }
  return y;
}

template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_map("div", a, b, [](T x, T z) { return x / z; });
  if (autograd::needs_grad(a, b)) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    autograd::record<T>("div", y, {a, b}, [a = a.detach(), b = b.detach(), ga, gb](const Tensor<T>& g) {
      Tensor<T> gb_ = gb ? sum_to(cpu::map<T>(g.shape(), [](T gv, T av, T bv) { return -gv * av / (bv * bv); }, g, a, b),
                                  b.shape())
                         : Tensor<T>();
      return std::vector{ga ? sum_to(div(g, b), a.shape()) : Tensor<T>(), gb_};
    });
  }
  return y;
}

template <class T>
Tensor<T> neg(const Tensor<T>& x) {
  Tensor<T> y = cpu::map<T>(x.shape(), [](T v) { return -v; }, x);
  if (autograd::needs_grad(x)) autograd::record<T>("neg", y, {x}, [](const Tensor<T>& g) { return std::vector{neg(g)}; });
  return y;
}

namespace detail {
// maximum/minimum: the gradient goes to the larger (smaller) input, split evenly on ties, as PyTorch.
template <class T, class Pick>
Tensor<T> extremum(const char* op, const Tensor<T>& a, const Tensor<T>& b, Pick pick) {
  Tensor<T> y = broadcast_map(op, a, b, pick);
  if (autograd::needs_grad(a, b))
    autograd::record<T>(op, y, {a, b}, [a = a.detach(), b = b.detach(), pick](const Tensor<T>& g) {
      auto share = [&](bool for_a) {
        return cpu::map<T>(g.shape(), [pick, for_a](T gv, T av, T bv) {
          if (av == bv) return gv / T(2);
          const bool a_wins = pick(av, bv) == av;
          return a_wins == for_a ? gv : T(0);
        }, g, a, b);
      };
      return std::vector{sum_to(share(true), a.shape()), sum_to(share(false), b.shape())};
    });
  return y;
}
}  // namespace detail

template <class T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::extremum("maximum", a, b, [](T x, T z) { return x != x || z != z ? x + z : std::max(x, z); });
}
template <class T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::extremum("minimum", a, b, [](T x, T z) { return x != x || z != z ? x + z : std::min(x, z); });
}

// ---- operators --------------------------------------------------------------------------
template <class T> Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) { return add(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) { return sub(a, b); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) { return mul(a, b); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) { return div(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& x) { return neg(x); }
template <class T> Tensor<T> operator+(const Tensor<T>& a, scalar_t<T> s) { return add(a, scalar_tensor<T>(s)); }
template <class T> Tensor<T> operator+(scalar_t<T> s, const Tensor<T>& a) { return add(scalar_tensor<T>(s), a); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, scalar_t<T> s) { return sub(a, scalar_tensor<T>(s)); }
template <class T> Tensor<T> operator-(scalar_t<T> s, const Tensor<T>& a) { return sub(scalar_tensor<T>(s), a); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, scalar_t<T> s) { return mul(a, scalar_tensor<T>(s)); }
template <class T> Tensor<T> operator*(scalar_t<T> s, const Tensor<T>& a) { return mul(scalar_tensor<T>(s), a); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, scalar_t<T> s) { return div(a, scalar_tensor<T>(s)); }
template <class T> Tensor<T> operator/(scalar_t<T> s, const Tensor<T>& a) { return div(scalar_tensor<T>(s), a); }

}  // namespace crisp
