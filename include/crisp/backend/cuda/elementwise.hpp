// CUDA twins of the element-wise primitives (backend/elementwise.hpp): copy with broadcasting, fill,
// cast, unary and binary functions, on device tensors, on the current stream. Same signatures as
// crisp::cpu's (backend/cpu/elementwise.hpp); kernels in kernels/elementwise.cu.
#pragma once

#include "crisp/backend/cuda/native/elementwise.hpp"
#include "crisp/backend/cuda/runtime.hpp"
#include "crisp/backend/cuda/strided.hpp"

namespace crisp::cuda {

// out = src broadcast to out's shape; out may be a strided view. The operands must not overlap.
template <class T>
void copy(const Tensor<T>& out, const Tensor<T>& src) {
  const auto d = detail::describe_over(out, src);
  native::copy_strided<T>(d[0], out.data_ptr(), d[1], src.data_ptr(), current_stream());
}

template <class T>
void fill(const Tensor<T>& out, T value) {
  const auto d = detail::describe_over(out);
  native::fill_strided<T>(d[0], out.data_ptr(), value, current_stream());
}

template <class U, class T>
void cast(const Tensor<U>& out, const Tensor<T>& src) {
  const auto d = detail::describe_over(out, src);
  native::cast_strided<U, T>(d[0], out.data_ptr(), d[1], src.data_ptr(), current_stream());
}

// out = f(x), x broadcast to out's shape.
template <class T>
void unary(const UnaryFn& f, const Tensor<T>& out, const Tensor<T>& x) {
  if constexpr (!is_floating_v<T>) {
    throw Error(::crisp::detail::str_cat(to_string(f.op), ": expected float or double tensors on ", out.device(),
                                         " (the element-wise kernels are instantiated for those), got int64"));
  } else {
    const auto d = detail::describe_over(out, x);
    native::unary<T>(f, d[0], out.data_ptr(), d[1], x.data_ptr(), current_stream());
  }
}

// out = op(x, y), both broadcast to out's shape.
template <class T>
void binary(BinaryOp op, const Tensor<T>& out, const Tensor<T>& x, const Tensor<T>& y) {
  if constexpr (!is_floating_v<T>) {
    throw Error(::crisp::detail::str_cat(to_string(op), ": expected float or double tensors on ", out.device(),
                                         " (the element-wise kernels are instantiated for those), got int64"));
  } else {
    const auto d = detail::describe_over(out, x, y);
    native::binary<T>(op, d[0], out.data_ptr(), d[1], x.data_ptr(), d[2], y.data_ptr(), current_stream());
  }
}

}  // namespace crisp::cuda
