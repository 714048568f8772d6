// BatchNorm2d and InstanceNorm2d modules with libtorch's options and PyTorch's parameters,
// buffers (running_mean, running_var, num_batches_tracked) and train/eval behaviour.
#pragma once

// num_batches_tracked: PyTorch keeps it as an int64 0-d tensor. A module holds tensors of one
// scalar type, so crisp keeps it as a 0-d Tensor<T> holding the count (exact up to 2^24 batches
// in float). It is saved as F32 (F64 for double modules); a PyTorch file's I64 value loads
// into it through io::load_safetensors' conversion, and PyTorch's load_state_dict copies a
// crisp-saved float back into its int64 buffer.

#include <optional>
#include <ostream>

#include "crisp/nn/init.hpp"
#include "crisp/nn/module_holder.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/ops/normalization.hpp"
#include "crisp/ops/view.hpp"

namespace crisp::nn {

struct BatchNorm2dOptions {
  BatchNorm2dOptions(int64_t num_features) : num_features_(num_features) {}  // NOLINT: implicit, as libtorch
  CRISP_ARG(int64_t, num_features);
  CRISP_ARG(double, eps) = 1e-5;
  // nullopt = cumulative moving average (momentum 1 / num_batches_tracked), as PyTorch's None.
  CRISP_ARG(std::optional<double>, momentum) = 0.1;
  CRISP_ARG(bool, affine) = true;
  CRISP_ARG(bool, track_running_stats) = true;
};

struct InstanceNorm2dOptions {
  InstanceNorm2dOptions(int64_t num_features) : num_features_(num_features) {}  // NOLINT: implicit, as libtorch
  CRISP_ARG(int64_t, num_features);
  CRISP_ARG(double, eps) = 1e-5;
  CRISP_ARG(double, momentum) = 0.1;
  CRISP_ARG(bool, affine) = false;
  CRISP_ARG(bool, track_running_stats) = false;
};

namespace detail {
// The parameters and buffers PyTorch's _NormBase registers, in its order.
template <class T>
struct NormState {
  Tensor<T> weight, bias, running_mean, running_var, num_batches_tracked;

  void make(ModuleT<T>& m, const char* op, int64_t c, bool affine, bool track) {
    CRISP_CHECK(c > 0, ValueError, op, "expected a positive num_features, got ", c);
    if (affine) {
      weight = m.register_parameter("weight", Tensor<T>::empty({c}));
      bias = m.register_parameter("bias", Tensor<T>::empty({c}));
    }
    if (track) {
      running_mean = m.register_buffer("running_mean", Tensor<T>::empty({c}));
      running_var = m.register_buffer("running_var", Tensor<T>::empty({c}));
      num_batches_tracked = m.register_buffer("num_batches_tracked", Tensor<T>::empty(Shape{}));
    }
    reset_parameters();
  }
  void reset_running_stats() {
    if (!running_mean.defined()) return;
    init::zeros_(running_mean);
    init::ones_(running_var);
    init::zeros_(num_batches_tracked);
  }
  void reset_parameters() {
    reset_running_stats();
    if (weight.defined()) {
      init::ones_(weight);
      init::zeros_(bias);
    }
  }
};

template <class T>
void check_channels(const char* op, const Tensor<T>& input, int64_t dim, int64_t expected) {
  CRISP_CHECK(input.size(dim) == expected, ShapeError, op, "expected input with ", expected, " channels (dim ", dim,
              "), got shape ", input.shape());
}
}  // namespace detail

template <class T>
class BatchNorm2dImplT : public ModuleT<T> {
 public:
  explicit BatchNorm2dImplT(const BatchNorm2dOptions& options) : ModuleT<T>("BatchNorm2d"), options(options) {
    state_.make(*this, "BatchNorm2d", options.num_features(), options.affine(), options.track_running_stats());
    bind();
  }

  // Training: normalise by batch statistics and, when tracking, update the running statistics
  // and count the batch. Eval: normalise by the running statistics (or, without them, by the
  // batch statistics, as PyTorch).
  Tensor<T> forward(const Tensor<T>& input) {
    CRISP_CHECK(input.dim() == 4, ShapeError, "BatchNorm2d", "expected a 4-d (N, C, H, W) input, got shape ",
                input.shape());
    detail::check_channels("BatchNorm2d", input, 1, options.num_features());
    const bool update = this->is_training() && options.track_running_stats();
    double momentum = options.momentum().value_or(0.0);
    if (update && !options.momentum()) {  // the cumulative average needs the count on the host
      const T count = num_batches_tracked.to(Device::cpu()).item() + T(1);
      momentum = 1.0 / static_cast<double>(count);
    }
    const bool use_batch_stats = this->is_training() || !running_mean.defined();
    const bool pass_running = !this->is_training() || options.track_running_stats();
    Tensor<T> y = batch_norm(input, pass_running ? running_mean : Tensor<T>(), pass_running ? running_var : Tensor<T>(),
                             weight, bias, use_batch_stats, momentum, options.eps());
    if (update) {  // counted once the batch went through, on the buffer's device
      NoGradGuard no_grad;
      num_batches_tracked.add_(ones<T>(Shape{}, num_batches_tracked.device()));
    }
    return y;
  }

  void reset_running_stats() { state_.reset_running_stats(); }
  void reset_parameters() { state_.reset_parameters(); }

  void pretty_print(std::ostream& os) const override {
    os << "BatchNorm2d(" << options.num_features() << ", eps=" << options.eps() << ", momentum=";
    if (options.momentum()) os << *options.momentum();
    else os << "None";
    os << ", affine=" << (options.affine() ? "True" : "False")
       << ", track_running_stats=" << (options.track_running_stats() ? "True" : "False") << ")";
  }

  BatchNorm2dOptions options;
  Tensor<T> weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  void bind() {
    weight = state_.weight, bias = state_.bias, running_mean = state_.running_mean, running_var = state_.running_var;
    num_batches_tracked = state_.num_batches_tracked;
  }
  detail::NormState<T> state_;
};

template <class T>
class InstanceNorm2dImplT : public ModuleT<T> {
 public:
  explicit InstanceNorm2dImplT(const InstanceNorm2dOptions& options) : ModuleT<T>("InstanceNorm2d"), options(options) {
    state_.make(*this, "InstanceNorm2d", options.num_features(), options.affine(), options.track_running_stats());
    weight = state_.weight, bias = state_.bias, running_mean = state_.running_mean, running_var = state_.running_var;
    num_batches_tracked = state_.num_batches_tracked;
  }

  // Per-sample statistics in training or when not tracking; the running statistics otherwise.
  // Takes (N, C, H, W) or unbatched (C, H, W). As PyTorch's InstanceNorm, num_batches_tracked
  // is registered with the running statistics but never incremented. A channel count other than
  // num_features throws even without affine / running stats (PyTorch only warns there).
  Tensor<T> forward(const Tensor<T>& input) {
    CRISP_CHECK(input.dim() == 3 || input.dim() == 4, ShapeError, "InstanceNorm2d",
                "expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got shape ", input.shape());
    detail::check_channels("InstanceNorm2d", input, input.dim() - 3, options.num_features());
    if (input.dim() == 3) return forward(input.unsqueeze(0)).squeeze(0);
    return instance_norm(input, running_mean, running_var, weight, bias,
                         this->is_training() || !options.track_running_stats(), options.momentum(), options.eps());
  }

  void reset_running_stats() { state_.reset_running_stats(); }
  void reset_parameters() { state_.reset_parameters(); }

  void pretty_print(std::ostream& os) const override {
    os << "InstanceNorm2d(" << options.num_features() << ", eps=" << options.eps() << ", momentum="
       << options.momentum() << ", affine=" << (options.affine() ? "True" : "False")
       << ", track_running_stats=" << (options.track_running_stats() ? "True" : "False") << ")";
  }

  InstanceNorm2dOptions options;
  Tensor<T> weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  detail::NormState<T> state_;
};

template <class T> using BatchNorm2dT = ModuleHolder<BatchNorm2dImplT<T>>;
template <class T> using InstanceNorm2dT = ModuleHolder<InstanceNorm2dImplT<T>>;
using BatchNorm2dImpl = BatchNorm2dImplT<float>;
using InstanceNorm2dImpl = InstanceNorm2dImplT<float>;
using BatchNorm2d = BatchNorm2dT<float>;
using InstanceNorm2d = InstanceNorm2dT<float>;

}  // namespace crisp::nn
