// Element-wise primitives of the dispatch layer: copy (with broadcasting), fill, cast, and the
// unary and binary functions of backend/elementwise_math.hpp. Each checks that its tensors share a
// device and runs the cpu:: or cuda:: twin (backend/dispatch.hpp). Outputs are written in place and
// may be strided views; inputs broadcast to the output's shape.
#pragma once

#include "crisp/backend/cpu/elementwise.hpp"
#include "crisp/backend/dispatch.hpp"
#if defined(CRISP_WITH_CUDA)
#include "crisp/backend/cuda/elementwise.hpp"
#endif

namespace crisp::backend {

template <class T>
void copy(const Tensor<T>& out, const Tensor<T>& src) {
  CRISP_DISPATCH(common_device("copy", out, src), copy, out, src);
}

template <class T>
void fill(const Tensor<T>& out, T value) {
  CRISP_DISPATCH(out.device(), fill, out, value);
}

template <class U, class T>
void cast(const Tensor<U>& out, const Tensor<T>& src) {
  CRISP_DISPATCH(common_device("cast", out, src), cast, out, src);
}

template <class T>
void unary(const UnaryFn& f, const Tensor<T>& out, const Tensor<T>& x) {
  CRISP_DISPATCH(common_device(to_string(f.op), out, x), unary, f, out, x);
}

template <class T>
void binary(BinaryOp op, const Tensor<T>& out, const Tensor<T>& x, const Tensor<T>& y) {
  CRISP_DISPATCH(common_device(to_string(op), out, x, y), binary, op, out, x, y);
}

}  // namespace crisp::backend
