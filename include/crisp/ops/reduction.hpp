// Reductions: sum and mean over dims or all, sum_to (the adjoint of broadcasting), max / min
// with their indices over a dim, over everything, and argmax / argmin.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "crisp/backend/reduce.hpp"
#include "crisp/ops/arithmetic.hpp"

namespace crisp {

namespace detail {
inline std::vector<bool> reduce_mask(const std::vector<int64_t>& dims, int64_t rank, const char* op) {
  std::vector<bool> mask(static_cast<size_t>(rank), dims.empty());  // no dims = all dims
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, rank, op);
    if (rank == 0) continue;
    CRISP_CHECK(!mask[static_cast<size_t>(w)], ShapeError, op, "dim ", w, " appears twice in the reduction dims");
    mask[static_cast<size_t>(w)] = true;
  }
  return mask;
}
inline Shape reduced_shape(const Shape& s, const std::vector<bool>& mask, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < s.size(); ++d) {
    if (!mask[static_cast<size_t>(d)]) out.push_back(s[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}
}  // namespace detail

// Sum over `dims` (all dims when empty).
template <class T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int64_t>& dims, bool keepdim) {
  const auto mask = detail::reduce_mask(dims, x.dim(), "sum");
  Tensor<T> y = Tensor<T>::empty(detail::reduced_shape(x.shape(), mask, keepdim), x.device());
  backend::sum_into(x, mask, y);
  if (autograd::needs_grad(x))
    autograd::record<T>("sum", y, {x}, [in = x.shape(), kept = detail::reduced_shape(x.shape(), mask, true)](const Tensor<T>& g) {
      return std::vector{expand(reshape(g, kept), in)};
    });
  return y;
}
template <class T>
Tensor<T> sum(const Tensor<T>& x) {
  return sum(x, {}, false);
}

template <class T>
Tensor<T> mean(const Tensor<T>& x, const std::vector<int64_t>& dims, bool keepdim = false) {
  const auto mask = detail::reduce_mask(dims, x.dim(), "mean");
  int64_t count = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (mask[static_cast<size_t>(d)]) count *= x.shape()[d];
  return mul(sum(x, dims, keepdim),
             scalar_tensor<T>(count ? T(1) / static_cast<T>(count) : std::numeric_limits<T>::quiet_NaN(), x.device()));
}
template <class T>
Tensor<T> mean(const Tensor<T>& x) {
  return mean(x, {}, false);
}

// Sums x down to `shape`, which x's shape broadcast from (the gradient of a broadcast).
template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  CRISP_CHECK(shape.size() <= x.dim(), ShapeError, "sum_to", "cannot sum shape ", x.shape(), " to ", shape);
  const int64_t lead = x.dim() - shape.size();
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    const int64_t want = shape[d - lead];
    CRISP_CHECK(want == x.shape()[d] || want == 1, ShapeError, "sum_to", "shape ", shape,
                " does not broadcast to ", x.shape());
    if (want == 1 && x.shape()[d] != 1) dims.push_back(d);
  }
  if (dims.empty()) return reshape(x, shape);
  return reshape(sum(x, dims, true), shape);
}

namespace detail {
template <class T>
std::pair<Tensor<T>, Tensor<int64_t>> extremum_dim(const char* op, const Tensor<T>& x, int64_t dim, bool keepdim,
                                                   bool greatest) {
  CRISP_CHECK(x.numel() > 0, ShapeError, op, "expected a non-empty tensor, got shape ", x.shape());
  const Tensor<T> xv = x.dim() == 0 ? reshape(x.detach(), Shape{1}) : x.detach();
  const int64_t d = wrap_dim(dim, xv.dim(), op);
  Shape out = xv.shape();
  out.erase(d);
  Tensor<T> values = Tensor<T>::empty(out, x.device());
  Tensor<int64_t> indices = Tensor<int64_t>::empty(out, x.device());
  backend::arg_extremum(xv, d, greatest, values, indices);
  if (keepdim && x.dim() > 0) {
    Shape k = x.shape();
    k[d] = 1;
    values = reshape(values, k);
    indices = Tensor<int64_t>::view_of(indices.storage(), k, contiguous_strides(k), 0);
  }
  if (autograd::needs_grad(x))
    autograd::record<T>(op, values, {x}, [in = x.shape(), d, keepdim, indices](const Tensor<T>& g) {
      // Scatter g to the chosen index along d.
      Tensor<T> gx = Tensor<T>::empty(in.size() == 0 ? Shape{1} : in, g.device());
      const int64_t n = gx.shape()[d], inner = gx.strides()[d], outer = gx.numel() / std::max<int64_t>(1, n * inner);
      backend::scatter_along(gx, outer, n, inner, contiguous(indices), contiguous(g));
      return std::vector{reshape(gx, in)};
    });
  return {values, indices};
}

// max() / min() over all elements; the gradient is split evenly among tied extrema, as PyTorch.
template <class T>
Tensor<T> extremum_all(const char* op, const Tensor<T>& x, bool greatest) {
  auto [v, i] = extremum_dim(op, reshape(x.detach(), Shape{-1}), 0, false, greatest);
  (void)i;
  Tensor<T> y = v;
  if (autograd::needs_grad(x))
    autograd::record<T>(op, y, {x}, [x = x.detach(), y = y.detach()](const Tensor<T>& g) {
      // ties share the gradient; computed on the device (no value leaves it)
      const Tensor<T> mask = detail::broadcast_map(BinaryOp::Equal, x, y);
      return std::vector{mul(mask, div(g, sum(mask)))};
    });
  return y;
}
}  // namespace detail

// (values, indices) of the maximum along dim.
template <class T>
std::pair<Tensor<T>, Tensor<int64_t>> max(const Tensor<T>& x, int64_t dim, bool keepdim = false) {
  return detail::extremum_dim("max", x, dim, keepdim, true);
}
template <class T>
std::pair<Tensor<T>, Tensor<int64_t>> min(const Tensor<T>& x, int64_t dim, bool keepdim = false) {
  return detail::extremum_dim("min", x, dim, keepdim, false);
}
template <class T>
Tensor<T> max(const Tensor<T>& x) {
  return detail::extremum_all("max", x, true);
}
template <class T>
Tensor<T> min(const Tensor<T>& x) {
  return detail::extremum_all("min", x, false);
}
template <class T>
Tensor<int64_t> argmax(const Tensor<T>& x, int64_t dim, bool keepdim = false) {
  NoGradGuard no_grad;
  return max(x, dim, keepdim).second;
}
// Index into the flattened tensor.
template <class T>
Tensor<int64_t> argmax(const Tensor<T>& x) {
  NoGradGuard no_grad;
  return max(reshape(x.detach(), Shape{-1}), 0, false).second;
}
template <class T>
Tensor<int64_t> argmin(const Tensor<T>& x, int64_t dim, bool keepdim = false) {
  NoGradGuard no_grad;
  return min(x, dim, keepdim).second;
}
template <class T>
Tensor<int64_t> argmin(const Tensor<T>& x) {
  NoGradGuard no_grad;
  return min(reshape(x.detach(), Shape{-1}), 0, false).second;
}

template <class T> Tensor<T> Tensor<T>::sum() const { return crisp::sum(*this); }
template <class T> Tensor<T> Tensor<T>::sum(const std::vector<int64_t>& d, bool k) const { return crisp::sum(*this, d, k); }
template <class T> Tensor<T> Tensor<T>::mean() const { return crisp::mean(*this); }
template <class T> Tensor<T> Tensor<T>::mean(const std::vector<int64_t>& d, bool k) const { return crisp::mean(*this, d, k); }

}  // namespace crisp
