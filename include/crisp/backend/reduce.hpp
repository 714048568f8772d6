// Reduction and index primitives of the dispatch layer: sum over a set of dims, the extreme value
// and its index along a dim, and the scatter / gather of one element per row along a dim.
#pragma once

#include "crisp/backend/cpu/index.hpp"
#include "crisp/backend/cpu/reduce.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/reduce.hpp"
#endif

namespace crisp::backend {

// out (contiguous, shape = kept dims) = sum of x over the dims where reduce[d] is true, accumulated
// in double.
template <class T>
void sum_into(const Tensor<T>& x, const std::vector<bool>& reduce, const Tensor<T>& out) {
  CRISP_DISPATCH(common_device("sum", x, out), sum_into, x, reduce, out);
}

// Along dim d of x: the extreme value (max if greatest, else min) and its first index; NaN wins.
template <class T>
void arg_extremum(const Tensor<T>& x, int64_t d, bool greatest, const Tensor<T>& values,
                  const Tensor<int64_t>& indices) {
  CRISP_DISPATCH(common_device(greatest ? "max" : "min", x, values, indices), arg_extremum, x, d, greatest, values,
                 indices);
}

// out [outer, n, inner] = 0 except out[o, index[o, i], i] = src[o, i] (all contiguous).
template <class T>
void scatter_along(const Tensor<T>& out, int64_t outer, int64_t n, int64_t inner, const Tensor<int64_t>& index,
                   const Tensor<T>& src) {
  CRISP_DISPATCH(common_device("scatter", out, index, src), scatter_along, out, outer, n, inner, index, src);
}

// out[o, i] = index[o, i] == skip ? 0 : x[o, index[o, i], i] (all contiguous).
template <class T>
void gather_along(const Tensor<T>& out, const Tensor<T>& x, int64_t outer, int64_t n, int64_t inner,
                  const Tensor<int64_t>& index, int64_t skip) {
  CRISP_DISPATCH(common_device("gather", out, x, index), gather_along, out, x, outer, n, inner, index, skip);
}

}  // namespace crisp::backend
