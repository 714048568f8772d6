// Normalisation primitives of the dispatch layer (batch norm, instance norm): per-group statistics,
// the per-group affine map and the two backward passes, over a contiguous tensor viewed as
// [outer, groups, inner] (NormLayout). The per-group vectors are double tensors on the data's
// device, so that nothing leaves the device between the passes.
#pragma once

#include "crisp/backend/cpu/norm.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/norm.hpp"
#endif

namespace crisp::backend {

namespace detail {
inline double* dptr(const Tensor<double>& t) { return t.defined() ? t.data_ptr() : nullptr; }
}  // namespace detail

// mean[g] and biased var[g] of each group.
template <class T>
void norm_stats(const Tensor<T>& x, const NormLayout& l, const Tensor<double>& mean, const Tensor<double>& var) {
  CRISP_DISPATCH(common_device("norm statistics", x, mean, var), norm_stats, static_cast<const T*>(x.data_ptr()), l,
                 mean.data_ptr(), var.data_ptr());
}
// y = (x - center[g]) * scale[g] + offset[g].
template <class T>
void norm_apply(const Tensor<T>& x, const NormLayout& l, const Tensor<double>& center, const Tensor<double>& scale,
                const Tensor<double>& offset, const Tensor<T>& y) {
  CRISP_DISPATCH(common_device("norm", x, center, scale, offset, y), norm_apply, static_cast<const T*>(x.data_ptr()), l,
                 static_cast<const double*>(center.data_ptr()), static_cast<const double*>(scale.data_ptr()),
                 static_cast<const double*>(offset.data_ptr()), y.data_ptr());
}
// sum_dy[g] = sum(dy), sum_dy_xc[g] = sum(dy * (x - center[g])); either output may be undefined.
template <class T>
void norm_grad_sums(const Tensor<T>& dy, const Tensor<T>& x, const NormLayout& l, const Tensor<double>& center,
                    const Tensor<double>& sum_dy, const Tensor<double>& sum_dy_xc) {
  CRISP_DISPATCH(common_device("norm backward", dy, x, center, sum_dy, sum_dy_xc), norm_grad_sums,
                 static_cast<const T*>(dy.data_ptr()), static_cast<const T*>(x.data_ptr()), l,
                 static_cast<const double*>(center.data_ptr()), detail::dptr(sum_dy), detail::dptr(sum_dy_xc));
}
// dx = (dy - a[g] - (x - center[g]) * b[g]) * k[g]; with x undefined, dx = dy * k[g].
template <class T>
void norm_grad_input(const Tensor<T>& dy, const Tensor<T>& x, const NormLayout& l, const Tensor<double>& center,
                     const Tensor<double>& a, const Tensor<double>& b, const Tensor<double>& k, const Tensor<T>& dx) {
  CRISP_DISPATCH(common_device("norm backward", dy, x, center, a, b, k, dx), norm_grad_input,
                 static_cast<const T*>(dy.data_ptr()), x.defined() ? static_cast<const T*>(x.data_ptr()) : nullptr, l,
                 static_cast<const double*>(center.data_ptr()), static_cast<const double*>(a.data_ptr()),
                 static_cast<const double*>(b.data_ptr()), static_cast<const double*>(k.data_ptr()), dx.data_ptr());
}

}  // namespace crisp::backend
