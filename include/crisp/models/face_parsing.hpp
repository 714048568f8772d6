// FaceParsingNet: the semantic face deblurring paper's parsing network (a variant of Liu et al.
// 2015): a conv-BN-ReLU encoder / transposed-conv decoder with summed skips, giving per-pixel
// logits of Helen's 11 face classes for the deblurring network's semantic prior.
#pragma once

// Layout (base_channels c = 16 in the paper; feature sizes for a 128 x 128 input):
//   enc1 conv3x3 in->c    BN ReLU  @128   maxpool 2
//   enc2 conv3x3 c->2c    BN ReLU  @64    maxpool 2
//   enc3 conv5x5 2c->4c   BN ReLU  @32    maxpool 2     (the one 5x5 stage)
//   enc4 conv3x3 4c->8c   BN ReLU  @16    maxpool 2
//   enc5 conv3x3 8c->16c  BN ReLU  @8     maxpool 2
//   enc6 conv3x3 16c->32c BN ReLU  @4
//   dec1 deconv4x4/2 32c->16c @8,  + enc5, conv3x3 BN ReLU
//   dec2 deconv4x4/2 16c->8c  @16, + enc4, conv3x3 BN ReLU
//   dec3 deconv4x4/2 8c->4c   @32, + enc3, conv3x3 BN ReLU
//   dec4 deconv4x4/2 4c->2c   @64, + enc2, conv3x3 BN ReLU
//   dec5 deconv4x4/2 2c->c    @128 (no skip), conv3x3 BN ReLU
//   classifier conv3x3 c->num_classes (logits)
// Choices the paper leaves open (docs/models.md): the skip is added to the transposed conv's
// output, before the stage's conv, so that the conv mixes decoder and encoder features; convs
// followed by BN have no bias (BN's shift makes it redundant); the transposed convs and the
// classifier keep theirs. Five poolings: H and W must be divisible by 32.
// Keys: enc{1..6}.conv.weight, enc{k}.bn.{weight,bias,running_mean,running_var,num_batches_tracked},
// dec{1..5}.deconv.{weight,bias}, dec{k}.conv.weight, dec{k}.bn.*, classifier.{weight,bias}.

#include <array>
#include <ostream>

#include "crisp/nn/container.hpp"
#include "crisp/nn/conv.hpp"
#include "crisp/nn/normalization.hpp"
#include "crisp/ops/activation.hpp"
#include "crisp/ops/arithmetic.hpp"
#include "crisp/ops/pooling.hpp"

namespace crisp::models {

struct FaceParsingNetOptions {
  CRISP_ARG(int64_t, in_channels) = 3;
  CRISP_ARG(int64_t, num_classes) = 11;
  CRISP_ARG(int64_t, base_channels) = 16;
};

namespace detail {
// conv (no bias) + BatchNorm2d + ReLU, the parser's unit; keys conv.weight, bn.*.
template <class T>
class ConvBNReLUImplT : public nn::ModuleT<T> {
 public:
  ConvBNReLUImplT(int64_t in, int64_t out, int64_t k, Generator& gen)
      : nn::ModuleT<T>("ConvBNReLU") {
    conv = this->register_module("conv", nn::Conv2dT<T>(nn::Conv2dOptions(in, out, k).padding(k / 2).bias(false), gen));
    bn = this->register_module("bn", nn::BatchNorm2dT<T>(nn::BatchNorm2dOptions(out)));
  }
  Tensor<T> forward(const Tensor<T>& x) { return relu(bn(conv(x))); }
  nn::Conv2dT<T> conv{nullptr};
  nn::BatchNorm2dT<T> bn{nullptr};
};
template <class T> using ConvBNReLUT = nn::ModuleHolder<ConvBNReLUImplT<T>>;

// A decoder stage: 4x4 stride-2 transposed conv (x2), + the skip when given, conv-BN-ReLU.
template <class T>
class ParsingUpImplT : public nn::ModuleT<T> {
 public:
  ParsingUpImplT(int64_t in, int64_t out, Generator& gen) : nn::ModuleT<T>("ParsingUp") {
    deconv = this->register_module(
        "deconv", nn::ConvTranspose2dT<T>(nn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1), gen));
    conv = this->register_module("conv", nn::Conv2dT<T>(nn::Conv2dOptions(out, out, 3).padding(1).bias(false), gen));
    bn = this->register_module("bn", nn::BatchNorm2dT<T>(nn::BatchNorm2dOptions(out)));
  }
  Tensor<T> forward(const Tensor<T>& x, const Tensor<T>& skip = {}) {
    Tensor<T> y = deconv(x);
    if (skip.defined()) y = add(y, skip);
    return relu(bn(conv(y)));
  }
  nn::ConvTranspose2dT<T> deconv{nullptr};
  nn::Conv2dT<T> conv{nullptr};
  nn::BatchNorm2dT<T> bn{nullptr};
};
template <class T> using ParsingUpT = nn::ModuleHolder<ParsingUpImplT<T>>;
}  // namespace detail

template <class T>
class FaceParsingNetImplT : public nn::ModuleT<T> {
 public:
  explicit FaceParsingNetImplT(const FaceParsingNetOptions& options = {}, Generator& gen = default_generator())
      : nn::ModuleT<T>("FaceParsingNet"), options(options) {
    const int64_t in = options.in_channels(), nc = options.num_classes(), c = options.base_channels();
    CRISP_CHECK(in > 0 && nc > 0 && c > 0, ValueError, "FaceParsingNet",
                "expected positive in_channels, num_classes and base_channels, got ", in, ", ", nc, " and ", c);
    const std::array<int64_t, 7> ch{in, c, 2 * c, 4 * c, 8 * c, 16 * c, 32 * c};
    for (size_t i = 0; i < 6; ++i)
      enc[i] = this->register_module("enc" + std::to_string(i + 1),
                                     detail::ConvBNReLUT<T>(ch[i], ch[i + 1], i == 2 ? 5 : 3, gen));
    for (size_t i = 0; i < 5; ++i)
      dec[i] = this->register_module("dec" + std::to_string(i + 1), detail::ParsingUpT<T>(ch[6 - i], ch[5 - i], gen));
    classifier = this->register_module("classifier", nn::Conv2dT<T>(nn::Conv2dOptions(c, nc, 3).padding(1), gen));
  }

  // x: N x in_channels x H x W (the blurred face in [0, 1]; 128 x 128 in the paper), H and W
  // divisible by 32. Returns N x num_classes x H x W logits.
  Tensor<T> forward(const Tensor<T>& x) {
    check_input(x);
    std::array<Tensor<T>, 6> e;
    e[0] = enc[0](x);
    for (size_t i = 1; i < 6; ++i) e[i] = enc[i](max_pool2d(e[i - 1], 2));
    Tensor<T> y = e[5];
    for (size_t i = 0; i < 5; ++i) y = dec[i](y, i < 4 ? e[4 - i] : Tensor<T>());
    return classifier(y);
  }

  // softmax(forward(x), dim 1): the class probabilities SemanticDeblurNet takes.
  Tensor<T> probabilities(const Tensor<T>& x) { return softmax(forward(x), 1); }

  void pretty_print(std::ostream& os) const override {
    os << "FaceParsingNet(in_channels=" << options.in_channels() << ", num_classes=" << options.num_classes()
       << ", base_channels=" << options.base_channels() << ")";
  }

  FaceParsingNetOptions options;
  std::array<detail::ConvBNReLUT<T>, 6> enc{nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  std::array<detail::ParsingUpT<T>, 5> dec{nullptr, nullptr, nullptr, nullptr, nullptr};
  nn::Conv2dT<T> classifier{nullptr};

 private:
  void check_input(const Tensor<T>& x) const {
    const bool ok = x.defined() && x.dim() == 4 && x.size(1) == options.in_channels() && x.size(2) > 0 &&
                    x.size(3) > 0 && x.size(2) % 32 == 0 && x.size(3) % 32 == 0;
    CRISP_CHECK(ok, ShapeError, "FaceParsingNet", "expected input of shape [N, ", options.in_channels(),
                ", H, W] with H and W positive multiples of 32 (five 2x2 poolings; 128 x 128 in the paper), got ",
                x.defined() ? x.shape() : Shape{});
  }
};

template <class T> using FaceParsingNetT = nn::ModuleHolder<FaceParsingNetImplT<T>>;
using FaceParsingNetImpl = FaceParsingNetImplT<float>;
CRISP_MODULE(FaceParsingNet);

}  // namespace crisp::models
