// Launchers of the normalisation CUDA kernels (kernels/norm.cu): per-group statistics and
// backward sums (one block per group, fixed-order sums in double: deterministic), the per-group
// affine map and the input gradient. Device pointers, per-group arrays in double; float and double data.
#pragma once

#include "crisp/backend/cuda/runtime_api.hpp"

#include "crisp/backend/geometry.hpp"

namespace crisp::cuda::native {

template <class T>
void norm_stats(const T* x, const NormLayout& l, double* mean, double* var, cudaStream_t stream);
template <class T>
void norm_apply(const T* x, const NormLayout& l, const double* center, const double* scale, const double* offset, T* y,
                cudaStream_t stream);
template <class T>
void norm_grad_sums(const T* dy, const T* x, const NormLayout& l, const double* center, double* sum_dy,
                    double* sum_dy_xc, cudaStream_t stream);
template <class T>
void norm_grad_input(const T* dy, const T* x, const NormLayout& l, const double* center, const double* a,
                     const double* b, const double* k, T* dx, cudaStream_t stream);

}  // namespace crisp::cuda::native
