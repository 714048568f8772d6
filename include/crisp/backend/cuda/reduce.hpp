// CUDA twins of the reduction and index primitives (backend/reduce.hpp): sum over a set of dims,
// arg-extremum along a dim, scatter / gather along a dim. Same signatures as crisp::cpu's
// (backend/cpu/reduce.hpp, backend/cpu/index.hpp); kernels in kernels/reduce.cu.
#pragma once

#include <vector>

#include "crisp/backend/cuda/native/reduce.hpp"
#include "crisp/backend/cuda/runtime.hpp"
#include "crisp/backend/cuda/strided.hpp"

namespace crisp::cuda {

namespace detail {
inline StridedDesc desc_of(const Shape& shape, const Strides& strides) {
  StridedDesc d;
  d.ndim = static_cast<int>(shape.size());
  for (int64_t i = 0; i < shape.size(); ++i) d.shape[i] = shape[i], d.strides[i] = strides[i];
  return d;
}
}  // namespace detail

// out (contiguous, shape = kept dims) = sum of x over the dims where reduce[d] is true, in double.
template <class T>
void sum_into(const Tensor<T>& x, const std::vector<bool>& reduce, const Tensor<T>& out) {
  if constexpr (!is_floating_v<T>) {
    throw Error(::crisp::detail::str_cat("sum_into: expected float or double tensors on the CUDA device, got int64"));
  } else {
    Shape kshape, kstrides, rshape, rstrides;
    for (int64_t d = 0; d < x.dim(); ++d) {
      if (x.shape()[d] == 1) continue;
      (reduce[static_cast<size_t>(d)] ? rshape : kshape).push_back(x.shape()[d]);
      (reduce[static_cast<size_t>(d)] ? rstrides : kstrides).push_back(x.strides()[d]);
    }
    native::sum_reduce<T>(detail::desc_of(kshape, kstrides), detail::desc_of(rshape, rstrides), x.data_ptr(),
                          out.data_ptr(), current_stream());
  }
}

// Along dim d of x: the extreme value (max if greatest, else min) and its first index; NaN wins.
template <class T>
void arg_extremum(const Tensor<T>& x, int64_t d, bool greatest, const Tensor<T>& values,
                  const Tensor<int64_t>& indices) {
  if constexpr (!is_floating_v<T>) {
    throw Error(::crisp::detail::str_cat("arg_extremum: expected float or double tensors on the CUDA device, got int64"));
  } else {
    Shape kshape, kstrides;
    for (int64_t i = 0; i < x.dim(); ++i)
      if (i != d) kshape.push_back(x.shape()[i]), kstrides.push_back(x.strides()[i]);
    native::arg_extremum<T>(detail::desc_of(kshape, kstrides), x.shape()[d], x.strides()[d], greatest, x.data_ptr(),
                            values.data_ptr(), indices.data_ptr(), current_stream());
  }
}

template <class T>
void scatter_along(const Tensor<T>& out, int64_t outer, int64_t n, int64_t inner, const Tensor<int64_t>& index,
                   const Tensor<T>& src) {
  if constexpr (!is_floating_v<T>) {
    throw Error(::crisp::detail::str_cat("scatter_along: expected float or double tensors on the CUDA device, got int64"));
  } else {
    native::scatter_along<T>(out.data_ptr(), outer, n, inner, index.data_ptr(), src.data_ptr(), current_stream());
  }
}

template <class T>
void gather_along(const Tensor<T>& out, const Tensor<T>& x, int64_t outer, int64_t n, int64_t inner,
                  const Tensor<int64_t>& index, int64_t skip) {
  if constexpr (!is_floating_v<T>) {
    throw Error(::crisp::detail::str_cat("gather_along: expected float or double tensors on the CUDA device, got int64"));
  } else {
    native::gather_along<T>(out.data_ptr(), x.data_ptr(), outer, n, inner, index.data_ptr(), skip, current_stream());
  }
}

}  // namespace crisp::cuda
