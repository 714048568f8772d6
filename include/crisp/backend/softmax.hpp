// The softmax primitive of the dispatch layer: softmax or log-softmax along the middle dim of a
// contiguous tensor viewed as [outer, n, inner].
#pragma once

#include "crisp/backend/cpu/softmax.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/softmax.hpp"
#endif

namespace crisp::backend {

template <class T>
void softmax(const Tensor<T>& out, const Tensor<T>& x, int64_t outer, int64_t n, int64_t inner, bool log) {
  CRISP_DISPATCH(common_device(log ? "log_softmax" : "softmax", out, x), softmax, out, x, outer, n, inner, log);
}

}  // namespace crisp::backend
