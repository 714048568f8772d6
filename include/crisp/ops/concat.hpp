// Joining and splitting along a dim: cat, stack, split, chunk.
#pragma once

#include <vector>

#include "crisp/ops/view.hpp"

namespace crisp {

template <class T>
Tensor<T> cat(const std::vector<Tensor<T>>& xs, int64_t dim) {
  CRISP_CHECK(!xs.empty(), ShapeError, "cat", "expected at least one tensor, got none");
  const Tensor<T>& first = xs.front();
  CRISP_CHECK(first.dim() > 0, ShapeError, "cat", "cannot concatenate 0-d tensors");
  const int64_t d = wrap_dim(dim, first.dim(), "cat");
  Shape out = first.shape();
  out[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Shape& s = xs[i].shape();
    bool ok = s.size() == first.dim();
    for (int64_t k = 0; ok && k < s.size(); ++k) ok = k == d || s[k] == first.shape()[k];
    CRISP_CHECK(ok, ShapeError, "cat", "tensor ", i, " has shape ", s, ", expected ", first.shape(),
                " in every dim but ", d);
    out[d] += s[d];
    CRISP_CHECK(xs[i].device() == first.device(), Error, "cat", "expected all tensors on one device, got ",
                first.device(), " and ", xs[i].device(), " (tensor ", i, ")");
  }
  Tensor<T> y = Tensor<T>::empty(out, first.device());
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const auto& x : xs) {
    detail::copy_into(detail::alias(y, x.shape(), y.strides(), at * y.strides()[d]), x);
    sizes.push_back(x.shape()[d]);
    at += x.shape()[d];
  }
  if (autograd::needs_grad(xs))
    autograd::record<T>("cat", y, xs, [d, sizes](const Tensor<T>& g) {
      std::vector<Tensor<T>> gs;
      int64_t start = 0;
      for (int64_t n : sizes) {
        gs.push_back(narrow(g, d, start, n));
        start += n;
      }
      return gs;
    });
  return y;
}

template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& xs, int64_t dim = 0) {
  CRISP_CHECK(!xs.empty(), ShapeError, "stack", "expected at least one tensor, got none");
  const int64_t d = wrap_dim(dim, xs.front().dim() + 1, "stack");
  std::vector<Tensor<T>> us;
  for (size_t i = 0; i < xs.size(); ++i) {
    CRISP_CHECK(xs[i].shape() == xs.front().shape(), ShapeError, "stack", "expected every tensor of shape ",
                xs.front().shape(), ", got ", xs[i].shape(), " at position ", i);
    us.push_back(unsqueeze(xs[i], d));
  }
  return cat(us, d);
}

// Pieces of `split_size` along dim (the last may be shorter), as views.
template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& x, int64_t split_size, int64_t dim = 0) {
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  CRISP_CHECK(split_size > 0, ValueError, "split", "expected a positive split_size, got ", split_size);
  std::vector<Tensor<T>> out;
  for (int64_t s = 0; s < x.shape()[d]; s += split_size)
    out.push_back(narrow(x, d, s, std::min(split_size, x.shape()[d] - s)));
  return out;
}

// Pieces of the given sizes along dim, which must add up to its extent.
template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& x, const std::vector<int64_t>& sizes, int64_t dim = 0) {
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  CRISP_CHECK(total == x.shape()[d], ShapeError, "split", "sizes add up to ", total, ", expected size ", x.shape()[d],
              " of dim ", d, " of shape ", x.shape());
  std::vector<Tensor<T>> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(x, d, start, s));
    start += s;
  }
  return out;
}

template <class T>
std::vector<Tensor<T>> chunk(const Tensor<T>& x, int64_t chunks, int64_t dim = 0) {
  CRISP_CHECK(chunks > 0, ValueError, "chunk", "expected a positive number of chunks, got ", chunks);
  const int64_t n = x.shape()[wrap_dim(dim, x.dim(), "chunk")];
  return split(x, std::max<int64_t>(1, (n + chunks - 1) / chunks), dim);
}

}  // namespace crisp
