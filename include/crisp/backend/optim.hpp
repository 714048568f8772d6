// Optimiser-step primitives of the dispatch layer: one fused Adam / AdamW or SGD update of a
// parameter and its state tensors, on the device they share (backend/dispatch.hpp). All tensors
// contiguous and of the parameter's shape.
#pragma once

#include "crisp/backend/cpu/optim.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/optim.hpp"
#endif

namespace crisp::backend {

namespace detail {
template <class T>
void check_state(const char* op, const Tensor<T>& param, const Tensor<T>& t, const char* name) {
  if (!t.defined()) return;
  CRISP_CHECK(t.is_contiguous() && t.shape() == param.shape(), ValueError, op, "expected ", name,
              " contiguous with the parameter's shape ", param.shape(), ", got shape ", t.shape(),
              t.is_contiguous() ? "" : " (non-contiguous)");
}
}  // namespace detail

// max_exp_avg_sq is undefined unless args.amsgrad.
template <class T>
void adam_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& exp_avg, const Tensor<T>& exp_avg_sq,
               const Tensor<T>& max_exp_avg_sq, const AdamStep& args) {
  const char* op = args.decoupled ? "AdamW.step" : "Adam.step";
  const Device d = common_device(op, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq);
  CRISP_CHECK(param.is_contiguous(), ValueError, op, "expected a contiguous parameter, got strides ", param.strides());
  detail::check_state(op, param, grad, "the gradient");
  detail::check_state(op, param, exp_avg, "exp_avg");
  detail::check_state(op, param, exp_avg_sq, "exp_avg_sq");
  detail::check_state(op, param, max_exp_avg_sq, "max_exp_avg_sq");
  CRISP_CHECK(!args.amsgrad || max_exp_avg_sq.defined(), ValueError, op, "expected max_exp_avg_sq with amsgrad");
  CRISP_DISPATCH(d, adam_step, param.data_ptr(), static_cast<const T*>(grad.data_ptr()), exp_avg.data_ptr(),
                 exp_avg_sq.data_ptr(), args.amsgrad ? max_exp_avg_sq.data_ptr() : static_cast<T*>(nullptr),
                 param.numel(), args);
}

// momentum_buffer is undefined when args.momentum is 0.
template <class T>
void sgd_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& momentum_buffer, const SgdStep& args) {
  const char* op = "SGD.step";
  const Device d = common_device(op, param, grad, momentum_buffer);
  CRISP_CHECK(param.is_contiguous(), ValueError, op, "expected a contiguous parameter, got strides ", param.strides());
  detail::check_state(op, param, grad, "the gradient");
  detail::check_state(op, param, momentum_buffer, "momentum_buffer");
  CRISP_CHECK(args.momentum == 0 || momentum_buffer.defined(), ValueError, op,
              "expected a momentum buffer with momentum ", args.momentum);
  CRISP_DISPATCH(d, sgd_step, param.data_ptr(), static_cast<const T*>(grad.data_ptr()),
                 momentum_buffer.defined() ? momentum_buffer.data_ptr() : static_cast<T*>(nullptr), param.numel(),
                 args);
}

}  // namespace crisp::backend
