// Views and copies: reshape, view, permute, transpose, expand, squeeze/unsqueeze, flatten,
// slice, narrow, select, contiguous, clone. Views share storage with their input; the
// gradient of a view is the inverse re-indexing of the output gradient.
#pragma once

#include <algorithm>
#include <optional>
#include <vector>

#include "crisp/autograd/node.hpp"
#include "crisp/backend/elementwise.hpp"
#include "crisp/ops/fwd.hpp"
#include "crisp/tensor/factory.hpp"

namespace crisp {

namespace detail {

template <class T>
Tensor<T> alias(const Tensor<T>& x, const Shape& shape, const Strides& strides, int64_t offset) {
  return Tensor<T>::view_of(x.storage(), shape, strides, offset);
}

// Strides that let `shape` view memory laid out as (old_shape, old_strides), if any exist
// (the rule of PyTorch's view: only dims that are contiguous with each other may merge or split).
inline std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides, const Shape& shape) {
  if (old_shape.size() == 0 || old_shape.numel() == 0) return contiguous_strides(shape);
  Strides out = contiguous_strides(shape);
  int64_t view_d = shape.size() - 1;
  int64_t chunk_base = old_strides.back(), tensor_numel = 1, view_numel = 1;
  for (int64_t d = old_shape.size() - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    if (d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

// Resolves one -1 extent and checks the element count.
inline Shape infer_shape(const Shape& shape, int64_t numel, const char* op, const Shape& from) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (int64_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      CRISP_CHECK(infer < 0, ShapeError, op, "only one dim may be -1, got ", shape);
      infer = i;
    } else {
      CRISP_CHECK(out[i] >= 0, ShapeError, op, "invalid extent ", out[i], " in ", shape);
      known *= out[i];
    }
  }
  if (infer >= 0) {
    CRISP_CHECK(known != 0 && numel % known == 0, ShapeError, op, "shape ", shape, " is invalid for input of shape ",
                from);
    out[infer] = numel / known;
  }
  CRISP_CHECK(out.numel() == numel, ShapeError, op, "shape ", shape, " is invalid for input of shape ", from, " (",
              numel, " elements)");
  return out;
}

template <class T>
void copy_into(const Tensor<T>& dst, const Tensor<T>& src) {
  backend::copy(dst, src);
}

}  // namespace detail

template <class T>
Tensor<T> view(const Tensor<T>& x, const Shape& shape) {
  const Shape s = detail::infer_shape(shape, x.numel(), "view", x.shape());
  const auto st = detail::view_strides(x.shape(), x.strides(), s);
  CRISP_CHECK(st.has_value(), ShapeError, "view", "shape ", s, " is not compatible with the strides ", x.strides(),
              " of input of shape ", x.shape(), "; use reshape");
  Tensor<T> y = detail::alias(x, s, *st, x.storage_offset());
  if (autograd::needs_grad(x))
    autograd::record<T>("view", y, {x}, [in = x.shape()](const Tensor<T>& g) { return std::vector{reshape(g, in)}; });
  return y;
}

template <class T>
Tensor<T> reshape(const Tensor<T>& x, const Shape& shape) {
  const Shape s = detail::infer_shape(shape, x.numel(), "reshape", x.shape());
  if (detail::view_strides(x.shape(), x.strides(), s)) return view(x, s);
  return view(contiguous(x), s);
}

template <class T>
Tensor<T> clone(const Tensor<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  detail::copy_into(y, x);
  if (autograd::needs_grad(x)) autograd::record<T>("clone", y, {x}, [](const Tensor<T>& g) { return std::vector{g}; });
  return y;
}

template <class T>
Tensor<T> contiguous(const Tensor<T>& x) {
  return x.is_contiguous() ? x : clone(x);
}

template <class T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<int64_t>& dims) {
  const int64_t r = x.dim();
  CRISP_CHECK(static_cast<int64_t>(dims.size()) == r, ShapeError, "permute", "expected ", r,
              " dims for input of shape ", x.shape(), ", got ", dims.size());
  Shape shape, strides;
  std::vector<int64_t> inverse(static_cast<size_t>(r), -1);
  for (int64_t i = 0; i < r; ++i) {
    const int64_t d = wrap_dim(dims[static_cast<size_t>(i)], r, "permute");
    CRISP_CHECK(inverse[static_cast<size_t>(d)] < 0, ShapeError, "permute", "dim ", d, " repeats in the permutation");
    inverse[static_cast<size_t>(d)] = i;
    shape.push_back(x.shape()[d]);
    strides.push_back(x.strides()[d]);
  }
  Tensor<T> y = detail::alias(x, shape, strides, x.storage_offset());
  if (autograd::needs_grad(x))
    autograd::record<T>("permute", y, {x}, [inverse](const Tensor<T>& g) { return std::vector{permute(g, inverse)}; });
  return y;
}

template <class T>
Tensor<T> transpose(const Tensor<T>& x, int64_t d0, int64_t d1) {
  const int64_t r = x.dim();
  if (r == 0) return x;
  std::vector<int64_t> dims(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) dims[static_cast<size_t>(i)] = i;
  std::swap(dims[static_cast<size_t>(wrap_dim(d0, r, "transpose"))], dims[static_cast<size_t>(wrap_dim(d1, r, "transpose"))]);
  return permute(x, dims);
}

// Broadcasts x to `shape` without copying (-1 keeps an extent); new dims come first.
template <class T>
Tensor<T> expand(const Tensor<T>& x, const Shape& shape) {
  CRISP_CHECK(shape.size() >= x.dim(), ShapeError, "expand", "cannot expand shape ", x.shape(), " to fewer dims ", shape);
  const int64_t lead = shape.size() - x.dim();
  Shape out, strides;
  for (int64_t i = 0; i < shape.size(); ++i) {
    const int64_t j = i - lead;
    int64_t n = shape[i];
    if (j < 0) {
      CRISP_CHECK(n >= 0, ShapeError, "expand", "-1 is not allowed for a new leading dim in ", shape);
      out.push_back(n);
      strides.push_back(0);
      continue;
    }
    const int64_t have = x.shape()[j];
    if (n == -1) n = have;
    CRISP_CHECK(have == n || have == 1, ShapeError, "expand", "cannot expand shape ", x.shape(), " to ", shape,
                " (dim ", i, ": ", have, " vs ", n, ")");
    out.push_back(n);
    strides.push_back(have == n ? x.strides()[j] : 0);
  }
  Tensor<T> y = detail::alias(x, out, strides, x.storage_offset());
  if (autograd::needs_grad(x))
    autograd::record<T>("expand", y, {x}, [in = x.shape()](const Tensor<T>& g) { return std::vector{sum_to(g, in)}; });
  return y;
}

template <class T>
Tensor<T> squeeze(const Tensor<T>& x, int64_t dim) {
  if (x.dim() == 0) return x;
  const int64_t d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.shape()[d] != 1) return x;
  Shape s = x.shape();
  s.erase(d);
  return view(x, s);
}

template <class T>
Tensor<T> unsqueeze(const Tensor<T>& x, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape s = x.shape();
  s.insert(d, 1);
  return reshape(x, s);
}

template <class T>
Tensor<T> flatten(const Tensor<T>& x, int64_t start_dim = 0, int64_t end_dim = -1) {
  if (x.dim() == 0) return reshape(x, Shape{1});
  const int64_t a = wrap_dim(start_dim, x.dim(), "flatten"), b = wrap_dim(end_dim, x.dim(), "flatten");
  CRISP_CHECK(a <= b, ShapeError, "flatten", "start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape s;
  for (int64_t i = 0; i < a; ++i) s.push_back(x.shape()[i]);
  int64_t n = 1;
  for (int64_t i = a; i <= b; ++i) n *= x.shape()[i];
  s.push_back(n);
  for (int64_t i = b + 1; i < x.dim(); ++i) s.push_back(x.shape()[i]);
  return reshape(x, s);
}

// x[..., start:end:step, ...] along `dim`, with Python's clamping of start and end.
template <class T>
Tensor<T> slice(const Tensor<T>& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  CRISP_CHECK(x.dim() > 0, ShapeError, "slice", "cannot slice a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "slice");
  CRISP_CHECK(step > 0, ValueError, "slice", "expected a positive step, got ", step);
  const int64_t n = x.shape()[d];
  auto clampi = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
  const int64_t b = clampi(start), e = std::max(b, clampi(end));
  Shape shape = x.shape();
  Strides strides = x.strides();
  shape[d] = (e - b + step - 1) / step;
  strides[d] *= step;
  Tensor<T> y = detail::alias(x, shape, strides, x.storage_offset() + b * x.strides()[d]);
  if (autograd::needs_grad(x))
    autograd::record<T>("slice", y, {x}, [in = x.shape(), d, b, e, step](const Tensor<T>& g) {
      Tensor<T> gx = zeros<T>(in, g.device());
      detail::copy_into(slice(gx, d, b, e, step), g);
      return std::vector{gx};
    });
  return y;
}

template <class T>
Tensor<T> narrow(const Tensor<T>& x, int64_t dim, int64_t start, int64_t length) {
  CRISP_CHECK(x.dim() > 0, ShapeError, "narrow", "cannot narrow a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "narrow");
  const int64_t n = x.shape()[d];
  CRISP_CHECK(start >= -n && start <= n, ShapeError, "narrow", "start ", start, " is out of range for dim ", d,
              " of shape ", x.shape());
  const int64_t s = start < 0 ? start + n : start;
  CRISP_CHECK(length >= 0 && s + length <= n, ShapeError, "narrow", "start ", s, " + length ", length,
              " exceeds size ", n, " of dim ", d, " of shape ", x.shape());
  return slice(x, d, s, s + length, 1);
}

// x[..., index, ...]: removes `dim`.
template <class T>
Tensor<T> select(const Tensor<T>& x, int64_t dim, int64_t index) {
  CRISP_CHECK(x.dim() > 0, ShapeError, "select", "cannot select from a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "select");
  const int64_t n = x.shape()[d];
  CRISP_CHECK(index >= -n && index < n, ShapeError, "select", "index ", index, " is out of range for dim ", d,
              " of shape ", x.shape());
  return squeeze(narrow(x, d, index < 0 ? index + n : index, 1), d);
}

// ---- member forms ---------------------------------------------------------------------
template <class T> Tensor<T> Tensor<T>::contiguous() const { return crisp::contiguous(*this); }
template <class T> Tensor<T> Tensor<T>::clone() const { return crisp::clone(*this); }
template <class T> Tensor<T> Tensor<T>::reshape(const Shape& s) const { return crisp::reshape(*this, s); }
template <class T> Tensor<T> Tensor<T>::view(const Shape& s) const { return crisp::view(*this, s); }
template <class T> Tensor<T> Tensor<T>::permute(const std::vector<int64_t>& d) const { return crisp::permute(*this, d); }
template <class T> Tensor<T> Tensor<T>::transpose(int64_t a, int64_t b) const { return crisp::transpose(*this, a, b); }
template <class T> Tensor<T> Tensor<T>::slice(int64_t d, int64_t s, int64_t e, int64_t st) const { return crisp::slice(*this, d, s, e, st); }
template <class T> Tensor<T> Tensor<T>::narrow(int64_t d, int64_t s, int64_t l) const { return crisp::narrow(*this, d, s, l); }
template <class T> Tensor<T> Tensor<T>::select(int64_t d, int64_t i) const { return crisp::select(*this, d, i); }
template <class T> Tensor<T> Tensor<T>::squeeze(int64_t d) const { return crisp::squeeze(*this, d); }
template <class T> Tensor<T> Tensor<T>::unsqueeze(int64_t d) const { return crisp::unsqueeze(*this, d); }
template <class T> Tensor<T> Tensor<T>::flatten(int64_t a, int64_t b) const { return crisp::flatten(*this, a, b); }
template <class T> Tensor<T> Tensor<T>::expand(const Shape& s) const { return crisp::expand(*this, s); }

}  // namespace crisp
