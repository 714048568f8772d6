// Perceptual loss (Johnson et al. 2016; the semantic-deblurring paper's eq. 3): squared
// distances between feature maps of a fixed network at chosen layers, as crisp::loss::perceptual.
#pragma once

// `features` is any callable mapping an image batch to the chosen layers' feature maps,
// std::vector<Tensor<T>> (e.g. a VGG16 run up to pool5 returning {pool2, pool5}). Then
//   Mean (default): sum_l w_l * mean((phi_l(input) - phi_l(target))^2)   (per-layer MSE)
//   Sum:            sum_l w_l * sum((phi_l(input) - phi_l(target))^2)    (eq. 3's ||.||_2^2)
// with w_l = 1 unless layer_weights is given. The target's features are computed under
// NoGradGuard (the target is ground truth; no graph is kept for it) unless detach_target is
// false. The feature network's parameters receive gradients like any others: freeze them
// (requires_grad_(false)) for a fixed loss network.

#include <vector>

#include "crisp/autograd/grad_mode.hpp"
#include "crisp/loss/regression.hpp"

namespace crisp::loss {

template <class T, class Features>
Tensor<T> perceptual(const Tensor<T>& input, const Tensor<T>& target, Features&& features,
                     Reduction reduction = Reduction::Mean, const std::vector<double>& layer_weights = {},
                     bool detach_target = true) {
  const char* op = "loss::perceptual";
  detail::check_same_shape(op, input, target);
  CRISP_CHECK(reduction != Reduction::None, ValueError, op, "expected reduction Mean or Sum, got None");
  const std::vector<Tensor<T>> fi = features(input);
  std::vector<Tensor<T>> ft;
  if (detach_target) {
    NoGradGuard no_grad;
    ft = features(target);
  } else {
    ft = features(target);
  }
  CRISP_CHECK(!fi.empty() && fi.size() == ft.size(), ValueError, op,
              "expected the feature network to return the same non-zero number of layers for input and target, got ",
              fi.size(), " and ", ft.size());
  CRISP_CHECK(layer_weights.empty() || layer_weights.size() == fi.size(), ValueError, op, "expected ", fi.size(),
              " layer_weights (one per feature layer), got ", layer_weights.size());
  Tensor<T> total;
  for (size_t l = 0; l < fi.size(); ++l) {
    CRISP_CHECK(fi[l].shape() == ft[l].shape(), ShapeError, op, "feature layer ", l, " has shape ", fi[l].shape(),
                " for the input and ", ft[l].shape(), " for the target");
    Tensor<T> term = mse(fi[l], ft[l], reduction);
    if (!layer_weights.empty()) term = mul(term, scalar_tensor<T>(static_cast<T>(layer_weights[l]), term.device()));
    total = total.defined() ? add(total, term) : term;
  }
  return total;
}

}  // namespace crisp::loss
