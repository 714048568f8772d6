// The semantic face-deblurring paper's local structural loss (Shen et al. 2018, eq. 2):
// Ls = sum_k || M_k ⊙ (G - I) ||_1 over per-component masks M_k (eyebrows, eyes, nose, lips,
// teeth from the parsing network), as crisp::loss::masked_l1.
#pragma once

// Shapes: input G and target I [N, C, H, W]; masks [N, K, H, W] (one channel per component,
// shared by the C image channels) or a list of K masks each [N, 1, H, W] or [N, H, W].
// Reductions (the paper's ||.||_1 is a plain sum, so Sum is the default):
//   Sum  = sum over k, n, c, h, w of |M_k[n, h, w] (G - I)[n, c, h, w]|        (eq. 2)
//   Mean = the Sum divided by N*C*H*W, i.e. sum_k l1(M_k ⊙ G, M_k ⊙ I) with l1's mean, the
//          same scale as loss::l1(G, I) (the content loss Lc) for one all-ones mask
//   None = the elementwise terms, shape [N, K, C, H, W]
// Gradients flow to input, target and masks (masks from a frozen parsing network carry none).

#include <vector>

#include "crisp/loss/regression.hpp"
#include "crisp/ops/concat.hpp"

namespace crisp::loss {

template <class T>
Tensor<T> masked_l1(const Tensor<T>& input, const Tensor<T>& target, const Tensor<T>& masks,
                    Reduction reduction = Reduction::Sum) {
  const char* op = "loss::masked_l1";
  detail::check_same_shape(op, input, target);
  CRISP_CHECK(input.dim() == 4, ShapeError, op, "expected input and target of shape [N, C, H, W], got ", input.shape());
  CRISP_CHECK(masks.defined(), ValueError, op, "expected a defined masks tensor");
  CRISP_CHECK(masks.dim() == 4 && masks.size(0) == input.size(0) && masks.size(2) == input.size(2) &&
                  masks.size(3) == input.size(3) && masks.size(1) > 0,
              ShapeError, op, "expected masks of shape [", input.size(0), ", K, ", input.size(2), ", ", input.size(3),
              "] (K >= 1 components) for input of shape ", input.shape(), ", got ", masks.shape());
  const Tensor<T> d = abs(sub(input, target));  // [N, C, H, W]
  if (reduction == Reduction::None) return mul(abs(unsqueeze(masks, 2)), unsqueeze(d, 1));
  // |M_k d| = |M_k| |d|, so the sum over k folds into one weight map and costs no K-fold tensor.
  const Tensor<T> total = sum(mul(sum(abs(masks), {1}, true), d));
  if (reduction == Reduction::Sum) return total;
  return mul(total, scalar_tensor<T>(T(1) / static_cast<T>(input.numel()), total.device()));
}

template <class T>
Tensor<T> masked_l1(const Tensor<T>& input, const Tensor<T>& target, const std::vector<Tensor<T>>& masks,
                    Reduction reduction = Reduction::Sum) {
  const char* op = "loss::masked_l1";
  CRISP_CHECK(!masks.empty(), ValueError, op, "expected at least one mask, got an empty list");
  std::vector<Tensor<T>> ms;
  for (size_t k = 0; k < masks.size(); ++k) {
    const Tensor<T>& m = masks[k];
    CRISP_CHECK(m.defined() && (m.dim() == 3 || (m.dim() == 4 && m.size(1) == 1)), ShapeError, op, "mask ", k,
                ": expected shape [N, H, W] or [N, 1, H, W], got ", m.defined() ? m.shape() : Shape{});
    ms.push_back(m.dim() == 3 ? unsqueeze(m, 1) : m);
  }
  for (size_t k = 1; k < ms.size(); ++k)
    CRISP_CHECK(ms[k].shape() == ms[0].shape(), ShapeError, op, "mask ", k, " has shape ", masks[k].shape(),
                ", expected the shape of mask 0, ", masks[0].shape());
  return masked_l1(input, target, cat(ms, 1), reduction);
}

}  // namespace crisp::loss
