// batch_norm and instance_norm with PyTorch's semantics: normalisation by batch statistics
// (updating running statistics in place) or by running statistics, optional affine weight and
// bias, and the exact analytic backward through the statistics.
#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include "crisp/backend/cpu/norm.hpp"
#include "crisp/ops/inplace.hpp"
#include "crisp/ops/view.hpp"

namespace crisp {

namespace detail {

// Group g of the layout uses the weight, bias and running statistics of channel g % channels.
struct NormSaved {
  cpu::NormLayout layout;
  int64_t channels = 0;
  bool batch_stats = false;            // normalised by the data's own statistics (gradient flows through them)
  std::vector<double> center, invstd;  // per group
  std::vector<double> weight;          // per channel; empty when affine is off
};

template <class T>
std::vector<double> norm_values(const Tensor<T>& t) {
  const Tensor<T> c = contiguous(t.detach());
  return std::vector<double>(c.data(), c.data() + c.numel());
}

template <class T>
Tensor<T> norm_tensor(const std::vector<double>& v, const Shape& shape) {
  Tensor<T> t = Tensor<T>::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<T>(v[static_cast<size_t>(i)]);
  return t;
}

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
  const cpu::NormLayout& l = s.layout;
  const int64_t G = l.groups, C = s.channels;
  const bool through_stats = need_x && s.batch_stats;
  std::vector<double> sum_dy, sum_dy_xc;
  if (through_stats || need_b) sum_dy.resize(static_cast<size_t>(G));
  if (through_stats || need_w) sum_dy_xc.resize(static_cast<size_t>(G));
  if (!sum_dy.empty() || !sum_dy_xc.empty())
    cpu::norm_grad_sums(dy.data(), x.data(), l, s.center.data(), sum_dy.empty() ? nullptr : sum_dy.data(),
                        sum_dy_xc.empty() ? nullptr : sum_dy_xc.data());

  Tensor<T> gx, gw, gb;
  if (need_x) {
    const double m = static_cast<double>(l.count());
    std::vector<double> a(static_cast<size_t>(G), 0.0), b(static_cast<size_t>(G), 0.0), k(static_cast<size_t>(G));
    for (int64_t g = 0; g < G; ++g) {
      const double is = s.invstd[g];
      k[g] = is * (s.weight.empty() ? 1.0 : s.weight[static_cast<size_t>(g % C)]);
      if (through_stats) {
        a[g] = sum_dy[g] / m;
        b[g] = sum_dy_xc[g] * is * is / m;
      }
    }
    gx = Tensor<T>::empty(x.shape());
    cpu::norm_grad_input(dy.data(), through_stats ? x.data() : static_cast<const T*>(nullptr), l, s.center.data(),
                         a.data(), b.data(), k.data(), gx.data());
  }
  if (need_w) {
    std::vector<double> w(static_cast<size_t>(C), 0.0);
    for (int64_t g = 0; g < G; ++g) w[static_cast<size_t>(g % C)] += sum_dy_xc[g] * s.invstd[g];
    gw = norm_tensor<T>(w, wshape);
  }
  if (need_b) {
    std::vector<double> b(static_cast<size_t>(C), 0.0);
    for (int64_t g = 0; g < G; ++g) b[static_cast<size_t>(g % C)] += sum_dy[g];
    gb = norm_tensor<T>(b, bshape);
  }
  return {gx, gw, gb};
}

// Normalises x (contiguous) group by group. With batch_stats, center/var are computed here (biased
// variance) and returned through them; otherwise they come in per group (the running statistics).
template <class T>
Tensor<T> normalize(const char* op, const Tensor<T>& input, const Tensor<T>& x, const cpu::NormLayout& layout,
                    int64_t channels, bool batch_stats, const Tensor<T>& weight, const Tensor<T>& bias,
                    std::vector<double>& center, std::vector<double>& var, double eps) {
  const int64_t G = layout.groups;
  auto s = std::make_shared<NormSaved>();
  s->layout = layout;
  s->channels = channels;
  s->batch_stats = batch_stats;
  if (batch_stats) {
    center.assign(static_cast<size_t>(G), 0.0);
    var.assign(static_cast<size_t>(G), 0.0);
    cpu::norm_stats(x.data(), layout, center.data(), var.data());
  }
  s->center = center;
  s->invstd.resize(static_cast<size_t>(G));
  for (int64_t g = 0; g < G; ++g) s->invstd[g] = 1.0 / std::sqrt(var[g] + eps);
  if (weight.defined()) s->weight = norm_values(weight);
  const std::vector<double> b = bias.defined() ? norm_values(bias) : std::vector<double>();

  std::vector<double> scale(static_cast<size_t>(G)), offset(static_cast<size_t>(G), 0.0);
  for (int64_t g = 0; g < G; ++g) {
    const size_t c = static_cast<size_t>(g % channels);
    scale[g] = s->invstd[g] * (s->weight.empty() ? 1.0 : s->weight[c]);
    if (!b.empty()) offset[g] = b[c];
  }
  Tensor<T> y = Tensor<T>::empty(x.shape());
  cpu::norm_apply(x.data(), layout, s->center.data(), scale.data(), offset.data(), y.data());

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

// Repeats per-channel values over `groups` groups (group g takes channel g % channels).
inline std::vector<double> per_group(const std::vector<double>& v, int64_t groups) {
  std::vector<double> out(static_cast<size_t>(groups));
  for (int64_t g = 0; g < groups; ++g) out[g] = v[static_cast<size_t>(g % static_cast<int64_t>(v.size()))];
  return out;
}

// running = (1 - momentum) * running + momentum * stat, where stat is the mean over the groups of
// each channel of the per-group statistic times `correction` (PyTorch's rule for instance norm,
// which averages the per-instance updates; batch norm has one group per channel).
template <class T>
void update_running(const Tensor<T>& running, const std::vector<double>& stat, int64_t channels, double correction,
                    double momentum) {
  if (!running.defined()) return;
  NoGradGuard no_grad;
  const std::vector<double> old = norm_values(running);
  const int64_t per = static_cast<int64_t>(stat.size()) / channels;
  std::vector<double> next(static_cast<size_t>(channels), 0.0);
  for (int64_t g = 0; g < static_cast<int64_t>(stat.size()); ++g) next[g % channels] += stat[g] * correction;
  for (int64_t c = 0; c < channels; ++c) next[c] = (1.0 - momentum) * old[c] + momentum * (next[c] / per);
  Tensor<T> target = running;  // a second handle to the caller's buffer
  target.copy_(norm_tensor<T>(next, running.shape()));
}

template <class T>
Tensor<T> empty_norm_result(const char* op, const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias) {
  Tensor<T> y = zeros<T>(input.shape());
  if (autograd::needs_grad(input, weight, bias))
    autograd::record<T>(
        op, y, {input, weight, bias},
        [in = input.shape(), w = weight.defined(), b = bias.defined(),
         wshape = weight.defined() ? weight.shape() : Shape{},
         bshape = bias.defined() ? bias.shape() : Shape{}](const Tensor<T>&) {
          return std::vector{zeros<T>(in), w ? zeros<T>(wshape) : Tensor<T>(), b ? zeros<T>(bshape) : Tensor<T>()};
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
  const cpu::NormLayout layout{N, C, S};
  std::vector<double> center, var;
  if (!training) {
    center = detail::norm_values(running_mean);
    var = detail::norm_values(running_var);
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
  const cpu::NormLayout layout{1, N * C, S};
  std::vector<double> center, var;
  if (!use_input_stats) {
    center = detail::per_group(detail::norm_values(running_mean), N * C);
    var = detail::per_group(detail::norm_values(running_var), N * C);
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
