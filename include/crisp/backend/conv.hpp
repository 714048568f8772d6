// Convolution primitives of the dispatch layer: forward, backward-data and backward-weight of one
// NCHW convolution (Conv2dGeometry), the per-channel bias add and the bias gradient. Operands are
// contiguous; an undefined bias / dw / db is a null pointer.
#pragma once

#include "crisp/backend/cpu/conv.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/conv.hpp"
#endif

namespace crisp::backend {

namespace detail {
template <class T>
T* ptr_or_null(const Tensor<T>& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}
}  // namespace detail

template <class T>
void conv2d_forward(const Conv2dGeometry& g, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias,
                    const Tensor<T>& y) {
  CRISP_DISPATCH(common_device("conv2d", x, w, bias, y), conv2d_forward, g, x.data_ptr(), w.data_ptr(),
                 static_cast<const T*>(detail::ptr_or_null(bias)), y.data_ptr());
}

template <class T>
void conv2d_backward_data(const Conv2dGeometry& g, const Tensor<T>& dy, const Tensor<T>& w, const Tensor<T>& dx) {
  CRISP_DISPATCH(common_device("conv2d backward", dy, w, dx), conv2d_backward_data, g, dy.data_ptr(), w.data_ptr(),
                 dx.data_ptr());
}

// dw and / or db (either may be undefined).
template <class T>
void conv2d_backward_weight(const Conv2dGeometry& g, const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>& dw,
                            const Tensor<T>& db) {
  const Device d = common_device("conv2d backward", x, dy, dw, db);
  if (dw.defined())
    CRISP_DISPATCH(d, conv2d_backward_weight, g, x.data_ptr(), dy.data_ptr(), dw.data_ptr(), detail::ptr_or_null(db));
  else if (db.defined())
    CRISP_DISPATCH(d, channel_sum, g.N, g.O, g.P * g.Q, static_cast<const T*>(dy.data_ptr()), db.data_ptr());
}

// out[c] = sum over n and HW of g[n][c][:].
template <class T>
void channel_sum(int64_t N, int64_t C, int64_t HW, const Tensor<T>& g, const Tensor<T>& out) {
  CRISP_DISPATCH(common_device("channel_sum", g, out), channel_sum, N, C, HW, static_cast<const T*>(g.data_ptr()),
                 out.data_ptr());
}

// y[n][c][:] += bias[c].
template <class T>
void add_channel_bias(int64_t N, int64_t C, int64_t HW, const Tensor<T>& bias, const Tensor<T>& y) {
  CRISP_DISPATCH(common_device("add_channel_bias", bias, y), add_channel_bias, N, C, HW,
                 static_cast<const T*>(bias.data_ptr()), y.data_ptr());
}

}  // namespace crisp::backend
