// Declarations of the differentiable ops, so that one op's backward rule can call another op
// defined in a sibling header. Include <crisp/ops/ops.hpp> (or crisp.hpp) to get them all.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "crisp/tensor/tensor.hpp"

namespace crisp {

template <class T>
using scalar_t = std::type_identity_t<T>;  // keeps `x * 2` from failing template deduction

// views and copies (view.hpp)
template <class T> Tensor<T> reshape(const Tensor<T>& x, const Shape& shape);
template <class T> Tensor<T> view(const Tensor<T>& x, const Shape& shape);
template <class T> Tensor<T> permute(const Tensor<T>& x, const std::vector<int64_t>& dims);
template <class T> Tensor<T> transpose(const Tensor<T>& x, int64_t d0, int64_t d1);
template <class T> Tensor<T> expand(const Tensor<T>& x, const Shape& shape);
template <class T> Tensor<T> slice(const Tensor<T>& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
template <class T> Tensor<T> narrow(const Tensor<T>& x, int64_t dim, int64_t start, int64_t length);
template <class T> Tensor<T> contiguous(const Tensor<T>& x);
template <class T> Tensor<T> clone(const Tensor<T>& x);
template <class T> Tensor<T> cat(const std::vector<Tensor<T>>& xs, int64_t dim = 0);

// arithmetic (arithmetic.hpp)
template <class T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> neg(const Tensor<T>& x);

// reductions (reduction.hpp)
template <class T> Tensor<T> sum(const Tensor<T>& x, const std::vector<int64_t>& dims, bool keepdim = false);
template <class T> Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape);

// unary math (unary.hpp)
template <class T> Tensor<T> exp(const Tensor<T>& x);

// matmul (matmul.hpp)
template <class T> Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b);

}  // namespace crisp
