// Launchers of the reduction and index CUDA kernels (kernels/reduce.cu): sums over a set of dims
// (deterministic: fixed-order block sums in double), the extreme value and its index along a dim,
// and the scatter / gather of one element per row along a dim. Device pointers; float and double.
#pragma once

#include "crisp/backend/cuda/runtime_api.hpp"

#include <cstdint>

#include "crisp/backend/cuda/native/elementwise.hpp"

namespace crisp::cuda::native {

// out[k] (contiguous, K = numel(kept)) = sum over r of x[offset(kept, k) + offset(reduced, r)].
// kept.ndim == 0 means one output; reduced.ndim == 0 means nothing is summed (out = x).
template <class T>
void sum_reduce(const StridedDesc& kept, const StridedDesc& reduced, const T* x, T* out, cudaStream_t stream);

// For each k of `kept`: the extreme of x[offset(kept, k) + j * stride], j < n (NaN wins, first
// index), into values[k] and indices[k] (contiguous).
template <class T>
void arg_extremum(const StridedDesc& kept, int64_t n, int64_t stride, bool greatest, const T* x, T* values,
                  int64_t* indices, cudaStream_t stream);

// out [outer, n, inner] = 0 except out[o, index[o, i], i] = src[o, i].
template <class T>
void scatter_along(T* out, int64_t outer, int64_t n, int64_t inner, const int64_t* index, const T* src,
                   cudaStream_t stream);

// out[o, i] = index[o, i] == skip ? 0 : x[o, index[o, i], i].
template <class T>
void gather_along(T* out, const T* x, int64_t outer, int64_t n, int64_t inner, const int64_t* index, int64_t skip,
                  cudaStream_t stream);

}  // namespace crisp::cuda::native
