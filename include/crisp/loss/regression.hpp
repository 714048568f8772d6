// Regression losses: crisp::loss::l1 and crisp::loss::mse, as torch.nn.functional.l1_loss and
// mse_loss, with the reductions Mean (default), Sum and None.
#pragma once

// input and target must have the same shape: PyTorch broadcasts them with only a warning
// ("will likely lead to incorrect results"), crisp refuses. Gradients flow to both.

#include "crisp/ops/reduction.hpp"
#include "crisp/ops/unary.hpp"

namespace crisp::loss {

enum class Reduction { None, Mean, Sum };

namespace detail {
template <class T>
void check_same_shape(const char* op, const Tensor<T>& input, const Tensor<T>& target) {
  CRISP_CHECK(input.defined() && target.defined(), ValueError, op, "expected defined input and target tensors");
  CRISP_CHECK(input.shape() == target.shape(), ShapeError, op, "expected target of the input's shape ", input.shape(),
              ", got ", target.shape());
}
template <class T>
Tensor<T> reduce(const Tensor<T>& elementwise, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return elementwise;
    case Reduction::Sum: return sum(elementwise);
    default: return mean(elementwise);
  }
}
}  // namespace detail

// |input - target|, reduced. The gradient at input == target is 0, as PyTorch's sign().
template <class T>
Tensor<T> l1(const Tensor<T>& input, const Tensor<T>& target, Reduction reduction = Reduction::Mean) {
  detail::check_same_shape("loss::l1", input, target);
  return detail::reduce(abs(sub(input, target)), reduction);
}

// (input - target)^2, reduced.
template <class T>
Tensor<T> mse(const Tensor<T>& input, const Tensor<T>& target, Reduction reduction = Reduction::Mean) {
  detail::check_same_shape("loss::mse", input, target);
  return detail::reduce(square(sub(input, target)), reduction);
}

}  // namespace crisp::loss
