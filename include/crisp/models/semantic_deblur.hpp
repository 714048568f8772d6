// SemanticDeblurNet: the semantic face deblurring paper's two-scale deblurring network, which
// takes the blurred face and the parser's class probabilities and returns the half- and
// full-resolution sharp estimates.
#pragma once

// One scale (DeblurScale), ReLU after every conv but the last, width `channels` (64):
//   conv_in  11x11 pad 5  in -> channels
//   conv1, conv2          5x5 pad 2
//   resblocks.0 .. .{n-1} nn::ResBlock(channels, kernel 5): conv5-ReLU-conv5, + input
//   conv3, conv4          5x5 pad 2
//   conv_out 5x5 pad 2    channels -> 3, no activation
// = 18 convs with the paper's 6 ResBlocks; the official MatConvNet code has 5 ResBlocks with a
// ReLU after the addition (16 convs): options.official(true).
// The net (keys scale1.*, upsample.{weight,bias}, scale2.*):
//   scale1 (H/2 x W/2): cat(avg_pool2d(blurred, 2), max_pool2d(probs, 2))        3 + 11 = 14 ch
//   upsample: ConvTranspose2d(3, 3, 4, stride 2, pad 1) of scale 1's output (H/2 -> H)
//   scale2 (H x W):     cat(upsampled, blurred, probs)                         3 + 3 + 11 = 17 ch
// Without semantics (the paper's ablation) the probabilities are left out: 3 and 6 channels.
// The half-resolution blurred image is its 2x2 average (the box filter a 2x downscale of the
// training data would apply); the probabilities are 2x2-max-pooled, as the paper, so a thin
// component (an eye, a lip) keeps its probability at the coarse scale.
// residual(true) is not in the paper: each scale's output is added to its blurred input (a
// global skip), so the net starts as the identity and learns only the correction. The paper's
// net must first learn to reproduce the face through 18 convs, which takes far longer than a
// CPU run of minutes has (docs/training.md); parameters and keys are the same either way.

#include <ostream>
#include <type_traits>
#include <vector>

#include "crisp/nn/blocks.hpp"
#include "crisp/nn/container.hpp"
#include "crisp/nn/conv.hpp"
#include "crisp/ops/activation.hpp"
#include "crisp/ops/concat.hpp"
#include "crisp/ops/pooling.hpp"

namespace crisp::models {

struct SemanticDeblurNetOptions {
  CRISP_ARG(bool, semantics) = true;
  CRISP_ARG(int64_t, num_classes) = 11;
  CRISP_ARG(int64_t, channels) = 64;
  CRISP_ARG(int64_t, num_resblocks) = 6;
  CRISP_ARG(bool, residual) = false;

 public:
  // true: the official code's block (ReLU after the addition) and count. Switching it on turns a
  // num_resblocks still at the paper's 6 into the official 5 (and off again turns 5 back into
  // 6); any other count is kept, so official(true).num_resblocks(2) and
  // num_resblocks(2).official(true) give the same net.
  SemanticDeblurNetOptions& official(bool on) {
    if (on && !official_ && num_resblocks_ == 6) num_resblocks_ = 5;
    if (!on && official_ && num_resblocks_ == 5) num_resblocks_ = 6;
    official_ = on;
    return *this;
  }
  bool official() const { return official_; }

 private:
  bool official_ = false;
};

struct SemanticDeblurOutput {
  Tensor<float> scale1;  // N x 3 x H/2 x W/2
  Tensor<float> scale2;  // N x 3 x H x W
};

template <class T>
struct SemanticDeblurOutputT {
  Tensor<T> scale1, scale2;
};

namespace detail {
// One scale of the deblurring network (see the table above).
template <class T>
class DeblurScaleImplT : public nn::ModuleT<T> {
 public:
  DeblurScaleImplT(int64_t in, int64_t channels, int64_t num_resblocks, bool relu_after, Generator& gen)
      : nn::ModuleT<T>("DeblurScale") {
    auto conv = [&](const char* name, int64_t i, int64_t o, int64_t k) {
      return this->register_module(name, nn::Conv2dT<T>(nn::Conv2dOptions(i, o, k).padding(k / 2), gen));
    };
    conv_in = conv("conv_in", in, channels, 11);
    conv1 = conv("conv1", channels, channels, 5);
    conv2 = conv("conv2", channels, channels, 5);
    resblocks = this->register_module("resblocks", nn::SequentialT<T>());
    for (int64_t i = 0; i < num_resblocks; ++i)
      resblocks->push_back(nn::ResBlockT<T>(nn::ResBlockOptions(channels).kernel_size(5).relu_after(relu_after), gen));
    conv3 = conv("conv3", channels, channels, 5);
    conv4 = conv("conv4", channels, channels, 5);
    conv_out = conv("conv_out", channels, 3, 5);
  }
  Tensor<T> forward(const Tensor<T>& x) {
    Tensor<T> y = relu(conv2(relu(conv1(relu(conv_in(x))))));
    y = resblocks(y);
    return conv_out(relu(conv4(relu(conv3(y)))));
  }
  nn::Conv2dT<T> conv_in{nullptr}, conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, conv_out{nullptr};
  nn::SequentialT<T> resblocks{nullptr};
};
template <class T> using DeblurScaleT = nn::ModuleHolder<DeblurScaleImplT<T>>;
}  // namespace detail

template <class T>
class SemanticDeblurNetImplT : public nn::ModuleT<T> {
 public:
  using Output = std::conditional_t<std::is_same_v<T, float>, SemanticDeblurOutput, SemanticDeblurOutputT<T>>;

  explicit SemanticDeblurNetImplT(const SemanticDeblurNetOptions& options = {}, Generator& gen = default_generator())
      : nn::ModuleT<T>("SemanticDeblurNet"), options(options) {
    const auto& o = options;
    CRISP_CHECK(o.channels() > 0 && o.num_resblocks() >= 0 && (!o.semantics() || o.num_classes() > 0), ValueError,
                "SemanticDeblurNet", "expected positive channels and num_classes and num_resblocks >= 0, got channels ",
                o.channels(), ", num_classes ", o.num_classes(), ", num_resblocks ", o.num_resblocks());
    const int64_t sem = o.semantics() ? o.num_classes() : 0;
    scale1 = this->register_module(
        "scale1", detail::DeblurScaleT<T>(3 + sem, o.channels(), o.num_resblocks(), o.official(), gen));
    upsample = this->register_module(
        "upsample", nn::ConvTranspose2dT<T>(nn::ConvTranspose2dOptions(3, 3, 4).stride(2).padding(1), gen));
    scale2 = this->register_module(
        "scale2", detail::DeblurScaleT<T>(6 + sem, o.channels(), o.num_resblocks(), o.official(), gen));
  }

  // blurred: N x 3 x H x W in [0, 1], H and W even; probs: N x num_classes x H x W softmax
  // probabilities (FaceParsingNet::probabilities), required iff options.semantics().
  Output forward(const Tensor<T>& blurred, const Tensor<T>& probs = {}) {
    check_inputs(blurred, probs);
    const bool sem = options.semantics();
    const Tensor<T> blurred_half = avg_pool2d(blurred, 2);
    std::vector<Tensor<T>> in1{blurred_half};
    if (sem) in1.push_back(max_pool2d(probs, 2));
    Output out;
    out.scale1 = scale1(sem ? cat(in1, 1) : in1[0]);
    if (options.residual()) out.scale1 = out.scale1 + blurred_half;
    std::vector<Tensor<T>> in2{upsample(out.scale1), blurred};
    if (sem) in2.push_back(probs);
    out.scale2 = scale2(cat(in2, 1));
    if (options.residual()) out.scale2 = out.scale2 + blurred;
    return out;
  }

  void pretty_print(std::ostream& os) const override {
    os << "SemanticDeblurNet(semantics=" << (options.semantics() ? "True" : "False")
       << ", num_classes=" << options.num_classes() << ", channels=" << options.channels()
       << ", num_resblocks=" << options.num_resblocks() << (options.official() ? ", official=True" : "")
       << (options.residual() ? ", residual=True" : "") << ")";
  }

  SemanticDeblurNetOptions options;
  detail::DeblurScaleT<T> scale1{nullptr};
  nn::ConvTranspose2dT<T> upsample{nullptr};
  detail::DeblurScaleT<T> scale2{nullptr};

 private:
  void check_inputs(const Tensor<T>& b, const Tensor<T>& p) const {
    const char* op = "SemanticDeblurNet";
    CRISP_CHECK(b.defined() && b.dim() == 4 && b.size(1) == 3 && b.size(2) >= 2 && b.size(3) >= 2 &&
                    b.size(2) % 2 == 0 && b.size(3) % 2 == 0,
                ShapeError, op, "expected blurred of shape [N, 3, H, W] with H and W even and >= 2 (two scales), got ",
                b.defined() ? b.shape() : Shape{});
    if (!options.semantics()) {
      CRISP_CHECK(!p.defined(), ValueError, op,
                  "expected no probabilities (semantics is false: the net takes the blurred image only), got probs of "
                  "shape ",
                  p.shape());
      return;
    }
    CRISP_CHECK(p.defined(), ValueError, op, "expected probs of shape [", b.size(0), ", ", options.num_classes(), ", ",
                b.size(2), ", ", b.size(3), "] (semantics is true), got none");
    const Shape want{b.size(0), options.num_classes(), b.size(2), b.size(3)};
    CRISP_CHECK(p.shape() == want, ShapeError, op, "expected probs of shape ", want,
                " (N x num_classes x H x W, as blurred ", b.shape(), "), got ", p.shape());
  }
};

template <class T> using SemanticDeblurNetT = nn::ModuleHolder<SemanticDeblurNetImplT<T>>;
using SemanticDeblurNetImpl = SemanticDeblurNetImplT<float>;
CRISP_MODULE(SemanticDeblurNet);

}  // namespace crisp::models
