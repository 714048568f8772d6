// batch_norm and instance_norm with PyTorch's semantics: normalisation by batch statistics
// (updating running statistics in place) or by running statistics, optional affine weight and
// bias, and the exact analytic backward through the statistics.
#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include "crisp/backend/norm.hpp"
#include "crisp/ops/reduction.hpp"
#include "crisp/ops/inplace.hpp"
#include "crisp/ops/view.hpp"

namespace crisp {

namespace detail {

// The per-group vectors (center, inverse std, weight) are double tensors on the data's device, so
// that the statistics never leave it. Group g uses the parameters of channel g % channels.
struct NormSaved {
  NormLayout layout;
  int64_t channels = 0;
  bool batch_stats = false;      // normalised by the data's own statistics (gradient flows through them)
  Tensor<double> center, invstd; // [groups]
  Tensor<double> weight;         // [groups]; undefined when affine is off
};

// Per-channel values as a [groups] double tensor (channel c repeated for groups c, c + C, ...).
template <class T>
Tensor<double> per_group(const Tensor<T>& v, int64_t groups, int64_t channels) {
  const Tensor<double> d = cast<double>(contiguous(reshape(v.detach(), Shape{channels})));
  if (groups == channels) return d;
  return contiguous(reshape(expand(reshape(d, Shape{1, channels}), Shape{groups / channels, channels}), Shape{groups}));
}

// Per-group values summed into their channels: [groups] -> [channels], cast to T and shaped.
template <class T>
Tensor<T> per_channel(const Tensor<double>& v, int64_t channels, const Shape& shape) {
  const int64_t groups = v.numel();
  const Tensor<double> c = groups == channels ? v : sum(reshape(v, Shape{groups / channels, channels}), {0});
  return reshape(cast<T>(c), shape);
}

inline Tensor<double> scalar_like(const Tensor<double>& t, double v) { return scalar_tensor<double>(v, t.device()); }

template <class T>
void check_norm_param(const char* op, const char* what, const Tensor<T>& p, int64_t channels, const Shape& input) {
  if (!p.defined()) return;
  CRISP_CHECK(p.numel() == channels, ShapeError, op, "expected ", what, " with ", channels,
              " elements (one per channel of input ", input, "), got shape ", p.shape());
}

template <class T>
void check_running_stat(const char* op, const char* what, const Tensor<T>& p, int64_t channels, const Shape& input) {
  check_norm_param(op, what, p, channels, input);
  CRISP_CHECK(!p.defined() || !p.requires_grad(), ValueError, op, "expected ", what,
              " that does not require grad (running statistics are buffers), got one that does, shape ", p.shape());
}

template <class T>
void check_norm_input(const char* op, const Tensor<T>& input) {
  CRISP_CHECK(input.dim() >= 2, ShapeError, op, "expected an input of rank >= 2 ([N, C, ...]), got shape ",
              input.shape());
}

// Gradients for (input, weight, bias) of y = (x - center) * invstd * w + b. Through batch
// statistics: dx = w * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)).
template <class T>
std::vector<Tensor<T>> norm_backward(const NormSaved& s, const Tensor<T>& x, const Tensor<T>& dy, bool need_x,
                                     bool need_w, bool need_b, const Shape& wshape, const Shape& bshape) {
  const NormLayout& l = s.layout;
  const int64_t G = l.groups, C = s.channels;
  const Device dev = x.device();
  const bool through_stats = need_x && s.batch_stats;
  Tensor<double> sum_dy, sum_dy_xc;
  if (through_stats || need_b) sum_dy = Tensor<double>::empty(Shape{G}, dev);
  if (through_stats || need_w) sum_dy_xc = Tensor<double>::empty(Shape{G}, dev);
  if (sum_dy.defined() || sum_dy_xc.defined()) backend::norm_grad_sums(dy, x, l, s.center, sum_dy, sum_dy_xc);

  Tensor<T> gx, gw, gb;
  if (need_x) {
    const Tensor<double> m = scalar_like(s.invstd, static_cast<double>(l.count()));
    const Tensor<double> k = s.weight.defined() ? mul(s.invstd, s.weight) : s.invstd;
    const Tensor<double> a = through_stats ? div(sum_dy, m) : zeros<double>(Shape{G}, dev);
    const Tensor<double> b = through_stats ? div(mul(mul(sum_dy_xc, s.invstd), s.invstd), m) : zeros<double>(Shape{G}, dev);
    gx = Tensor<T>::empty(x.shape(), dev);
    backend::norm_grad_input(dy, through_stats ? x : Tensor<T>(), l, s.center, a, b, k, gx);
  }
  if (need_w) gw = per_channel<T>(mul(sum_dy_xc, s.invstd), C, wshape);
  if (need_b) gb = per_channel<T>(sum_dy, C, bshape);
  return {gx, gw, gb};
}

// Normalises x (contiguous) group by group. With batch_stats, center / var are computed here
// (biased variance) and returned through them; otherwise they come in per group (the running
// statistics).
template <class T>
Tensor<T> normalize(const char* op, const Tensor<T>& input, const Tensor<T>& x, const NormLayout& layout,
                    int64_t channels, bool batch_stats, const Tensor<T>& weight, const Tensor<T>& bias,
                    Tensor<double>& center, Tensor<double>& var, double eps) {
  const int64_t G = layout.groups;
  const Device dev = x.device();
  auto s = std::make_shared<NormSaved>();
  s->layout = layout;
  s->channels = channels;
  s->batch_stats = batch_stats;
  if (batch_stats) {
    center = Tensor<double>::empty(Shape{G}, dev);
    var = Tensor<double>::empty(Shape{G}, dev);
    backend::norm_stats(x, layout, center, var);
  }
  s->center = center;
  s->invstd = Tensor<double>::empty(Shape{G}, dev);
  backend::unary(UnaryFn{UnaryOp::Affine, 1.0, eps}, s->invstd, var);
  backend::unary(UnaryFn{UnaryOp::Rsqrt}, s->invstd, s->invstd);
  if (weight.defined()) s->weight = per_group(weight, G, channels);
  const Tensor<double> scale = s->weight.defined() ? mul(s->invstd, s->weight) : s->invstd;
  const Tensor<double> offset = bias.defined() ? per_group(bias, G, channels) : zeros<double>(Shape{G}, dev);
  Tensor<T> y = Tensor<T>::empty(x.shape(), dev);
  backend::norm_apply(x, layout, s->center, scale, offset, y);

  if (autograd::needs_grad(input, weight, bias)) {
    const bool need_x = input.requires_grad(), need_w = weight.defined() && weight.requires_grad(),
               need_b = bias.defined() && bias.requires_grad();
    const Shape wshape = weight.defined() ? weight.shape() : Shape{}, bshape = bias.defined() ? bias.shape() : Shape{};
    autograd::record<T>(op, y, {input, weight, bias},
                        [s, x = x.detach(), need_x, need_w, need_b, wshape, bshape](const Tensor<T>& grad) {
                          return norm_backward(*s, x, contiguous(grad), need_x, need_w, need_b, wshape, bshape);
                        });
  }
  return y;
}

// running = (1 - momentum) * running + momentum * stat, where stat is the mean over the groups of
// each channel of the per-group statistic times `correction` (PyTorch's rule for instance norm,
// which averages the per-instance updates; batch norm has one group per channel).
template <class T>
void update_running(const Tensor<T>& running, const Tensor<double>& stat, int64_t channels, double correction,
                    double momentum) {
  if (!running.defined()) return;
  NoGradGuard no_grad;
  const int64_t per = stat.numel() / channels;
  const Tensor<double> old = cast<double>(contiguous(reshape(running, Shape{channels})));
  const Tensor<double> next = per_channel<double>(mul(stat, scalar_like(stat, correction)), channels, Shape{channels});
  const Tensor<double> updated = add(mul(old, scalar_like(old, 1.0 - momentum)),
                                     mul(div(next, scalar_like(next, static_cast<double>(per))), scalar_like(next, momentum)));
  Tensor<T> target = running;  // a second handle to the caller's buffer
  target.copy_(reshape(cast<T>(updated), running.shape()));
}

template <class T>
Tensor<T> empty_norm_result(const char* op, const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias) {
  Tensor<T> y = zeros<T>(input.shape(), input.device());
  if (autograd::needs_grad(input, weight, bias))
    autograd::record<T>(
        op, y, {input, weight, bias},
        [in = input.shape(), w = weight.defined(), b = bias.defined(),
         wshape = weight.defined() ? weight.shape() : Shape{},
         bshape = bias.defined() ? bias.shape() : Shape{}](const Tensor<T>& g) {
          return std::vector{zeros<T>(in, g.device()), w ? zeros<T>(wshape, g.device()) : Tensor<T>(),
                             b ? zeros<T>(bshape, g.device()) : Tensor<T>()};
        });
  return y;
}

inline int64_t spatial_size(const Shape& s) {
  int64_t n = 1;
  for (int64_t d = 2; d < s.size(); ++d) n *= s[d];
  return n;
}

}  // namespace detail

// Batch normalisation over dim 1 of input [N, C, ...]. training: normalise by the batch mean and
// biased variance and, when running statistics are given, update them in place (no grad):
// running = (1 - momentum) * running + momentum * batch_stat, with the unbiased variance for
// running_var. eval: normalise by running_mean / running_var. weight / bias undefined = affine off.
template <class T>
Tensor<T> batch_norm(const Tensor<T>& input, const Tensor<T>& running_mean, const Tensor<T>& running_var,
                     const Tensor<T>& weight = {}, const Tensor<T>& bias = {}, bool training = false,
                     double momentum = 0.1, double eps = 1e-5) {
  constexpr const char* op = "batch_norm";
  detail::check_norm_input(op, input);
  const Shape& shape = input.shape();
  const int64_t N = shape[0], C = shape[1], S = detail::spatial_size(shape);
  detail::check_running_stat(op, "running_mean", running_mean, C, shape);
  detail::check_running_stat(op, "running_var", running_var, C, shape);
  detail::check_norm_param(op, "weight", weight, C, shape);
  detail::check_norm_param(op, "bias", bias, C, shape);
  CRISP_CHECK(training || (running_mean.defined() && running_var.defined()), ValueError, op,
              "expected running_mean and running_var in evaluation mode (training = false), got ",
              running_mean.defined() ? "no running_var" : "no running_mean", " for input ", shape);
  CRISP_CHECK(!training || N * S != 1, ValueError, op,
              "Expected more than 1 value per channel when training, got input size ", shape);
  if (input.numel() == 0) return detail::empty_norm_result(op, input, weight, bias);

  const Tensor<T> x = contiguous(input.detach());
  const NormLayout layout{N, C, S};
  Tensor<double> center, var;
  if (!training) {
    center = detail::per_group(running_mean, C, C);
    var = detail::per_group(running_var, C, C);
  }
  Tensor<T> y = detail::normalize(op, input, x, layout, C, training, weight, bias, center, var, eps);
  if (training) {
    const double m = static_cast<double>(N * S);
    detail::update_running(running_mean, center, C, 1.0, momentum);
    detail::update_running(running_var, var, C, m / (m - 1.0), momentum);
  }
  return y;
}

// Instance normalisation: each sample's channel normalised by its own statistics over the spatial
// dims (use_input_stats), or by the running statistics. As in PyTorch, running statistics given
// with use_input_stats are updated with the per-sample statistics averaged over the batch.
template <class T>
Tensor<T> instance_norm(const Tensor<T>& input, const Tensor<T>& running_mean = {}, const Tensor<T>& running_var = {},
                        const Tensor<T>& weight = {}, const Tensor<T>& bias = {}, bool use_input_stats = true,
                        double momentum = 0.1, double eps = 1e-5) {
  constexpr const char* op = "instance_norm";
  detail::check_norm_input(op, input);
  const Shape& shape = input.shape();
  const int64_t N = shape[0], C = shape[1], S = detail::spatial_size(shape);
  detail::check_running_stat(op, "running_mean", running_mean, C, shape);
  detail::check_running_stat(op, "running_var", running_var, C, shape);
  detail::check_norm_param(op, "weight", weight, C, shape);
  detail::check_norm_param(op, "bias", bias, C, shape);
  CRISP_CHECK(use_input_stats || (running_mean.defined() && running_var.defined()), ValueError, op,
              "expected running_mean and running_var when use_input_stats is false, got ",
              running_mean.defined() ? "no running_var" : "no running_mean", " for input ", shape);
  CRISP_CHECK(!use_input_stats || S != 1, ValueError, op,
              "Expected more than 1 spatial element when training, got input size ", shape);
  if (input.numel() == 0) return detail::empty_norm_result(op, input, weight, bias);

  const Tensor<T> x = contiguous(input.detach());
  const NormLayout layout{1, N * C, S};
  Tensor<double> center, var;
  if (!use_input_stats) {
    center = detail::per_group(running_mean, N * C, C);
    var = detail::per_group(running_var, N * C, C);
  }
  Tensor<T> y = detail::normalize(op, input, x, layout, C, use_input_stats, weight, bias, center, var, eps);
  if (use_input_stats) {
    const double m = static_cast<double>(S);
    detail::update_running(running_mean, center, C, 1.0, momentum);
    detail::update_running(running_var, var, C, m / (m - 1.0), momentum);
  }
  return y;
}

}  // namespace crisp
