// SRN-DeblurNet (Tao et al., CVPR 2018; jiangsutx/SRN-Deblur): a scale-recurrent encoder-decoder
// that deblurs coarse to fine with one set of weights, plus its multi-scale MSE training loss.
#pragma once

// Topology (c = channels, b = base_channels = 32, k = kernel_size = 5, R = num_resblocks = 3):
//   enc1: conv k×k 2c→b + ReLU, R ResBlock(b)            (full scale of this level)
//   enc2: conv k×k s2 b→2b + ReLU, R ResBlock(2b)        (1/2)
//   enc3: conv k×k s2 2b→4b + ReLU, R ResBlock(4b)       (1/4)
//   convlstm: ConvLSTMCell::srn(4b, 4b, 3) over enc3, its h feeds the decoder
//   dec3: R ResBlock(4b), deconv 4×4 s2 4b→2b + ReLU, then + enc2
//   dec2: R ResBlock(2b), deconv 4×4 s2 2b→b + ReLU, then + enc1
//   dec1: R ResBlock(b);  out: conv k×k b→c (no activation)
// Level i (coarsest first) runs at round(H·s^(L−1−i)) × round(W·s^(L−1−i)) on
// cat(blurred resized, previous prediction resized and detached); the coarsest level's
// "previous prediction" is the blurred input. The LSTM state starts at zero and is carried from
// level to level, bilinearly resized to each level's H/4 × W/4 (with gradient, as the TF code).
//
// Choices where the TF code and PyTorch differ (documented in docs/models.md, SRN section):
// - Resizes are crisp::interpolate bilinear, align_corners = false (PyTorch's half-pixel rule).
//   TF1's tf.image.resize_images uses neither convention (src = dst·in/out, no half-pixel
//   offset); for the factor-2 downscales here half-pixel sampling is exactly a 2×2 mean, where
//   TF's would drop every other pixel.
// - Stride-2 5×5 convs pad 2 on every side (PyTorch-symmetric); TF 'SAME' pads 1 before and 2
//   after, a one-pixel phase shift. The 4×4 s2 deconvs pad 1, which equals TF 'SAME'.
// Init: Xavier-uniform weights (gain 1) and zero biases everywhere, as slim's arg_scope and the
// LSTM's tf.get_variable default (glorot_uniform).

#include <cmath>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "crisp/loss/regression.hpp"
#include "crisp/nn/blocks.hpp"
#include "crisp/nn/container.hpp"
#include "crisp/nn/conv.hpp"
#include "crisp/nn/init.hpp"
#include "crisp/ops/concat.hpp"
#include "crisp/ops/resize.hpp"

namespace crisp::models {

struct SRNOptions {
  CRISP_ARG(int64_t, channels) = 3;         // 3 = RGB, 1 = gray
  CRISP_ARG(int64_t, scales) = 3;           // levels of the pyramid
  CRISP_ARG(double, scale_factor) = 0.5;    // size ratio between neighbouring levels
  CRISP_ARG(int64_t, base_channels) = 32;   // enc1 / dec1 width; enc2 2×, enc3 4×
  CRISP_ARG(int64_t, num_resblocks) = 3;    // ResBlocks per encoder / decoder stage
  CRISP_ARG(int64_t, kernel_size) = 5;      // of every conv except the LSTM's (3) and deconvs (4)
};

namespace detail {

// One encoder stage: conv (stride 1 or 2) + ReLU, then ResBlocks. Parameters conv.*,
// resblocks.N.conv{1,2}.*.
template <class T>
class SRNEncoderImplT : public nn::ModuleT<T> {
 public:
  SRNEncoderImplT(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t num_resblocks, Generator& gen)
      : nn::ModuleT<T>("SRNEncoder") {
    conv = this->register_module("conv", nn::Conv2dT<T>(nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2), gen));
    nn::SequentialT<T> seq;
    for (int64_t i = 0; i < num_resblocks; ++i) seq->push_back(nn::ResBlockT<T>(nn::ResBlockOptions(out).kernel_size(k), gen));
    resblocks = this->register_module("resblocks", seq);
  }
  Tensor<T> forward(const Tensor<T>& x) { return resblocks(relu(conv(x))); }
  void pretty_print(std::ostream& os) const override { os << "SRNEncoder"; }

  nn::Conv2dT<T> conv{nullptr};
  nn::SequentialT<T> resblocks{nullptr};
};

// One decoder stage: ResBlocks, then (dec3, dec2) a 4×4 stride-2 deconv + ReLU. Parameters
// resblocks.N.conv{1,2}.*, deconv.*.
template <class T>
class SRNDecoderImplT : public nn::ModuleT<T> {
 public:
  SRNDecoderImplT(int64_t channels, int64_t out, int64_t k, int64_t num_resblocks, Generator& gen)
      : nn::ModuleT<T>("SRNDecoder") {
    nn::SequentialT<T> seq;
    for (int64_t i = 0; i < num_resblocks; ++i)
      seq->push_back(nn::ResBlockT<T>(nn::ResBlockOptions(channels).kernel_size(k), gen));
    resblocks = this->register_module("resblocks", seq);
    if (out > 0)
      deconv = this->register_module(
          "deconv", nn::ConvTranspose2dT<T>(nn::ConvTranspose2dOptions(channels, out, 4).stride(2).padding(1), gen));
  }
  Tensor<T> forward(const Tensor<T>& x) {
    Tensor<T> y = resblocks(x);
    return deconv ? relu(deconv(y)) : y;
  }
  void pretty_print(std::ostream& os) const override { os << "SRNDecoder"; }

  nn::SequentialT<T> resblocks{nullptr};
  nn::ConvTranspose2dT<T> deconv{nullptr};
};

template <class T>
Tensor<T> bilinear(const Tensor<T>& x, int64_t h, int64_t w) {
  if (x.size(2) == h && x.size(3) == w) return x;
  return interpolate(x, Pair2{h, w}, std::nullopt, InterpolateMode::Bilinear, false);
}

}  // namespace detail

template <class T> using SRNEncoderT = nn::ModuleHolder<detail::SRNEncoderImplT<T>>;
template <class T> using SRNDecoderT = nn::ModuleHolder<detail::SRNDecoderImplT<T>>;

template <class T>
class SRNImplT : public nn::ModuleT<T> {
 public:
  using State = typename nn::ConvLSTMCellImplT<T>::State;  // (h, c) at the level's H/4 × W/4

  explicit SRNImplT(const SRNOptions& options = {}, Generator& gen = default_generator())
      : nn::ModuleT<T>("SRN"), options(options) {
    const char* op = "SRN";
    const int64_t c = options.channels(), b = options.base_channels(), k = options.kernel_size(),
                  r = options.num_resblocks();
    CRISP_CHECK(c > 0, ValueError, op, "expected positive channels (3 = RGB, 1 = gray), got ", c);
    CRISP_CHECK(options.scales() >= 1, ValueError, op, "expected scales >= 1, got ", options.scales());
    CRISP_CHECK(options.scale_factor() > 0.0 && options.scale_factor() <= 1.0, ValueError, op,
                "expected scale_factor in (0, 1], got ", options.scale_factor());
    CRISP_CHECK(b > 0, ValueError, op, "expected positive base_channels, got ", b);
    CRISP_CHECK(r >= 0, ValueError, op, "expected num_resblocks >= 0, got ", r);
    CRISP_CHECK(k > 0 && k % 2 == 1, ValueError, op, "expected an odd kernel_size, got ", k);
    enc1 = this->register_module("enc1", SRNEncoderT<T>(2 * c, b, k, 1, r, gen));
    enc2 = this->register_module("enc2", SRNEncoderT<T>(b, 2 * b, k, 2, r, gen));
    enc3 = this->register_module("enc3", SRNEncoderT<T>(2 * b, 4 * b, k, 2, r, gen));
    convlstm = this->register_module("convlstm", nn::ConvLSTMCellT<T>(nn::ConvLSTMCellOptions::srn(4 * b, 4 * b, 3), gen));
    dec3 = this->register_module("dec3", SRNDecoderT<T>(4 * b, 2 * b, k, r, gen));
    dec2 = this->register_module("dec2", SRNDecoderT<T>(2 * b, b, k, r, gen));
    dec1 = this->register_module("dec1", SRNDecoderT<T>(b, 0, k, r, gen));
    out = this->register_module("out", nn::Conv2dT<T>(nn::Conv2dOptions(b, c, k).padding(k / 2), gen));
    reset_parameters(gen);
  }

  // Xavier-uniform weights, zero biases (the TF code's initialisers).
  void reset_parameters(Generator& gen = default_generator()) {
    for (auto& [name, p] : this->named_parameters()) {
      if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) nn::init::zeros_(p);
      else nn::init::xavier_uniform_(p, 1.0, gen);
    }
  }

  // {height, width} of every level, coarsest first: round(size · scale_factor^(scales − 1 − i)).
  std::vector<std::pair<int64_t, int64_t>> level_sizes(int64_t height, int64_t width) const {
    std::vector<std::pair<int64_t, int64_t>> s;
    for (int64_t i = 0; i < options.scales(); ++i) {
      const double f = std::pow(options.scale_factor(), double(options.scales() - 1 - i));
      s.emplace_back(std::llround(double(height) * f), std::llround(double(width) * f));
    }
    return s;
  }

  // blurred [N, channels, H, W] → one prediction per level, coarsest first, the last [N, channels,
  // H, W]. Every level's size must be a positive multiple of 4 (for factor 0.5: H, W divisible by
  // 4·2^(scales − 1)).
  std::vector<Tensor<T>> forward(const Tensor<T>& blurred) {
    check_input(blurred);
    const auto sizes = level_sizes(blurred.size(2), blurred.size(3));
    std::vector<Tensor<T>> preds;
    Tensor<T> previous = blurred;
    std::optional<State> state;
    for (const auto& [h, w] : sizes) {
      const Tensor<T> blurred_s = detail::bilinear(blurred, h, w);
      const Tensor<T> previous_s = detail::bilinear(previous.detach(), h, w);
      if (state)
        state = State{detail::bilinear(std::get<0>(*state), h / 4, w / 4), detail::bilinear(std::get<1>(*state), h / 4, w / 4)};
      else
        state = convlstm->zero_state(blurred.size(0), h / 4, w / 4, blurred.device());
      auto [pred, next] = forward_level(blurred_s, previous_s, *state);
      preds.push_back(pred);
      previous = pred;
      state = next;
    }
    return preds;
  }

  // One level of the pyramid: the blurred image and the previous prediction at this level's
  // size, and the LSTM state at a quarter of it → (prediction, new state). forward() is this in
  // a loop; it is public for custom schedules and for tests that hold the previous predictions
  // fixed (the derivative forward() computes, since it detaches them).
  std::pair<Tensor<T>, State> forward_level(const Tensor<T>& blurred_s, const Tensor<T>& previous_s, const State& state) {
    check_input(blurred_s, true);
    CRISP_CHECK(previous_s.defined() && previous_s.shape() == blurred_s.shape(), ShapeError, "SRN::forward_level",
                "expected the previous prediction with the blurred input's shape ", blurred_s.shape(), ", got ",
                previous_s.defined() ? previous_s.shape() : Shape{});
    const Tensor<T> e1 = enc1(cat(std::vector<Tensor<T>>{blurred_s, previous_s}, 1));
    const Tensor<T> e2 = enc2(e1);
    const Tensor<T> e3 = enc3(e2);
    State next = convlstm(e3, state);
    const Tensor<T> d2 = add(dec3(std::get<0>(next)), e2);
    const Tensor<T> d1 = add(dec2(d2), e1);
    return {out(dec1(d1)), std::move(next)};
  }

  void pretty_print(std::ostream& os) const override {
    os << "SRN(channels=" << options.channels() << ", scales=" << options.scales()
       << ", scale_factor=" << options.scale_factor() << ", base_channels=" << options.base_channels()
       << ", num_resblocks=" << options.num_resblocks() << ", kernel_size=" << options.kernel_size() << ")";
  }

  SRNOptions options;
  SRNEncoderT<T> enc1{nullptr}, enc2{nullptr}, enc3{nullptr};
  nn::ConvLSTMCellT<T> convlstm{nullptr};
  SRNDecoderT<T> dec3{nullptr}, dec2{nullptr}, dec1{nullptr};
  nn::Conv2dT<T> out{nullptr};

 private:
  // The whole pyramid's sizes, or (level = true) one level's: a positive multiple of 4.
  void check_input(const Tensor<T>& x, bool level = false) const {
    const char* op = level ? "SRN::forward_level" : "SRN";
    CRISP_CHECK(x.defined() && x.dim() == 4 && x.size(1) == options.channels(), ShapeError, op,
                "expected a blurred image of shape [N, ", options.channels(), ", H, W], got ",
                x.defined() ? x.shape() : Shape{});
    if (level) {
      CRISP_CHECK(x.size(2) > 0 && x.size(3) > 0 && x.size(2) % 4 == 0 && x.size(3) % 4 == 0, ShapeError, op,
                  "expected a level's H and W to be positive multiples of 4, got ", x.size(2), "×", x.size(3));
      return;
    }
    for (const auto& [h, w] : level_sizes(x.size(2), x.size(3)))
      CRISP_CHECK(h > 0 && w > 0 && h % 4 == 0 && w % 4 == 0, ShapeError, op, "expected H and W whose every level (",
                  options.scales(), " scales, factor ", options.scale_factor(),
                  ") is a positive multiple of 4 — for factor 0.5, H and W divisible by ",
                  4 * (int64_t(1) << (options.scales() - 1)), " — got ", x.size(2), "×", x.size(3), " with a level of ",
                  h, "×", w);
  }
};

template <class T> using SRNT = nn::ModuleHolder<SRNImplT<T>>;
using SRNImpl = SRNImplT<float>;
CRISP_MODULE(SRN);

// SRN's training loss: Σ over levels of mean((sharp_s − pred_s)²), sharp_s = `sharp` resized
// bilinearly (align_corners = false) to each prediction's size; preds in any order.
template <class T>
Tensor<T> srn_multiscale_loss(const std::vector<Tensor<T>>& preds, const Tensor<T>& sharp) {
  const char* op = "srn_multiscale_loss";
  CRISP_CHECK(!preds.empty(), ValueError, op, "expected at least one prediction, got none");
  CRISP_CHECK(sharp.defined() && sharp.dim() == 4, ShapeError, op, "expected a sharp image [N, C, H, W], got ",
              sharp.defined() ? sharp.shape() : Shape{});
  Tensor<T> total;
  for (size_t i = 0; i < preds.size(); ++i) {
    const Tensor<T>& p = preds[i];
    CRISP_CHECK(p.defined() && p.dim() == 4 && p.size(0) == sharp.size(0) && p.size(1) == sharp.size(1), ShapeError, op,
                "expected prediction ", i, " of shape [", sharp.size(0), ", ", sharp.size(1), ", h, w] (the sharp image's N, C), got ",
                p.defined() ? p.shape() : Shape{});
    Tensor<T> term = loss::mse(p, detail::bilinear(sharp, p.size(2), p.size(3)));
    total = total.defined() ? add(total, term) : term;
  }
  return total;
}

}  // namespace crisp::models
