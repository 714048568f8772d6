// CUDA twins of the normalisation primitives (backend/norm.hpp), same signatures as crisp::cpu's
// (backend/cpu/norm.hpp): device data, per-group double arrays on the same device. Kernels in
// kernels/norm.cu.
#pragma once

#include "crisp/backend/cuda/native/norm.hpp"
#include "crisp/backend/cuda/runtime.hpp"

namespace crisp::cuda {

template <class T>
void norm_stats(const T* x, const NormLayout& l, double* mean, double* var) {
  native::norm_stats<T>(x, l, mean, var, current_stream());
}
template <class T>
void norm_apply(const T* x, const NormLayout& l, const double* center, const double* scale, const double* offset,
                T* y) {
  native::norm_apply<T>(x, l, center, scale, offset, y, current_stream());
}
template <class T>
void norm_grad_sums(const T* dy, const T* x, const NormLayout& l, const double* center, double* sum_dy,
                    double* sum_dy_xc) {
  native::norm_grad_sums<T>(dy, x, l, center, sum_dy, sum_dy_xc, current_stream());
}
template <class T>
void norm_grad_input(const T* dy, const T* x, const NormLayout& l, const double* center, const double* a,
                     const double* b, const double* k, T* dx) {
  native::norm_grad_input<T>(dy, x, l, center, a, b, k, dx, current_stream());
}

}  // namespace crisp::cuda
