// DCGANDiscriminator: the semantic face deblurring paper's adversary, pytorch/examples' DCGAN
// discriminator extended to 128 x 128 faces: strided 4x4 convs with BatchNorm, then one 4x4 conv
// to a single real/fake probability (or logit).
#pragma once

// Layout for image_size 128 (ndf 64), as pytorch/examples dcgan's `main` Sequential, one more
// strided stage than its 64 x 64 net:
//   main.0  conv 3->64     4/2/1 no bias          main.1  LeakyReLU(0.2)          -> 64
//   main.2  conv 64->128   4/2/1   main.3  BN      main.4  LeakyReLU              -> 32
//   main.5  conv 128->256  ...     main.6  BN      main.7  LeakyReLU              -> 16
//   main.8  conv 256->512          main.9  BN      main.10 LeakyReLU              -> 8
//   main.11 conv 512->1024         main.12 BN      main.13 LeakyReLU              -> 4
//   main.14 conv 1024->1   4/1/0                   main.15 Sigmoid (not with logits)  -> 1
// Sizes: image_size = 4 * 2^k for k >= 1 (8, 16, ..., 64, 128, 256, ...): k strided convs of
// widths ndf * 2^i (i < k), the first without BN, then the 4x4 valid conv; k = 5 at 128 (the
// paper's "6 strided convolutional layers" counts the last one), k = 4 at 64 (pytorch/examples).
// leaky(false) uses ReLU instead (the paper's text says ReLU); logits(true) drops the sigmoid,
// for loss::bce_with_logits. Init: DCGAN's weights_init, conv weights N(0, 0.02), BN weights
// N(1, 0.02), BN biases 0 (reset_parameters).

#include <ostream>

#include "crisp/nn/activation.hpp"
#include "crisp/nn/container.hpp"
#include "crisp/nn/conv.hpp"
#include "crisp/nn/init.hpp"
#include "crisp/nn/normalization.hpp"
#include "crisp/ops/view.hpp"

namespace crisp::models {

struct DCGANDiscriminatorOptions {
  CRISP_ARG(int64_t, in_channels) = 3;
  CRISP_ARG(int64_t, ndf) = 64;
  CRISP_ARG(int64_t, image_size) = 128;
  CRISP_ARG(bool, leaky) = true;
  CRISP_ARG(bool, logits) = false;
};

// pytorch/examples dcgan's weights_init on every Conv*/BatchNorm* of `module`: conv weights
// N(0, 0.02), BatchNorm weights N(1, 0.02) and biases 0.
template <class T>
void init_dcgan_weights(nn::ModuleT<T>& module, Generator& gen = default_generator()) {
  module.apply([&](nn::ModuleT<T>& m) {
    if (auto* c = dynamic_cast<nn::Conv2dImplT<T>*>(&m)) {
      nn::init::normal_(c->weight, 0.0, 0.02, gen);
      if (c->bias.defined()) nn::init::zeros_(c->bias);
    } else if (auto* t = dynamic_cast<nn::ConvTranspose2dImplT<T>*>(&m)) {
      nn::init::normal_(t->weight, 0.0, 0.02, gen);
      if (t->bias.defined()) nn::init::zeros_(t->bias);
    } else if (auto* b = dynamic_cast<nn::BatchNorm2dImplT<T>*>(&m)) {
      if (b->weight.defined()) {
        nn::init::normal_(b->weight, 1.0, 0.02, gen);
        nn::init::zeros_(b->bias);
      }
    }
  });
}

template <class T>
class DCGANDiscriminatorImplT : public nn::ModuleT<T> {
 public:
  explicit DCGANDiscriminatorImplT(const DCGANDiscriminatorOptions& options = {}, Generator& gen = default_generator())
      : nn::ModuleT<T>("DCGANDiscriminator"), options(options) {
    const auto& o = options;
    CRISP_CHECK(o.in_channels() > 0 && o.ndf() > 0, ValueError, "DCGANDiscriminator",
                "expected positive in_channels and ndf, got ", o.in_channels(), " and ", o.ndf());
    const int64_t k = strided_layers(o.image_size());
    CRISP_CHECK(k >= 1, ValueError, "DCGANDiscriminator",
                "expected image_size = 4 * 2^k with k >= 1 (8, 16, 32, 64, 128, 256, ...; 128 in the paper), got ",
                o.image_size());
    nn::SequentialT<T> seq;
    auto act = [&] {
      if (o.leaky()) seq->push_back(nn::LeakyReLUT<T>(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true)));
      else seq->push_back(nn::ReLUT<T>(nn::ReLUOptions(true)));
    };
    int64_t in = o.in_channels(), out = o.ndf();
    for (int64_t i = 0; i < k; ++i, in = out, out *= 2) {
      seq->push_back(nn::Conv2dT<T>(nn::Conv2dOptions(in, out, 4).stride(2).padding(1).bias(false), gen));
      if (i > 0) seq->push_back(nn::BatchNorm2dT<T>(nn::BatchNorm2dOptions(out)));
      act();
    }
    seq->push_back(nn::Conv2dT<T>(nn::Conv2dOptions(in, 1, 4).stride(1).padding(0).bias(false), gen));
    if (!o.logits()) seq->push_back(nn::SigmoidT<T>());
    main = this->register_module("main", seq);
    reset_parameters(gen);
  }

  // DCGAN's initialisation (see init_dcgan_weights).
  void reset_parameters(Generator& gen = default_generator()) { init_dcgan_weights<T>(*this, gen); }

  // x: N x in_channels x image_size x image_size. Returns N x 1: the probability that each
  // image is real, or its logit when options.logits().
  Tensor<T> forward(const Tensor<T>& x) {
    const int64_t s = options.image_size();
    CRISP_CHECK(x.defined() && x.dim() == 4 && x.size(1) == options.in_channels() && x.size(2) == s && x.size(3) == s,
                ShapeError, "DCGANDiscriminator", "expected input of shape [N, ", options.in_channels(), ", ", s, ", ",
                s, "] (image_size ", s, "), got ", x.defined() ? x.shape() : Shape{});
    return main(x).reshape({x.size(0), 1});
  }

  // The number of stride-2 convs for an image size 4 * 2^k (k), or 0 when it is not one.
  static int64_t strided_layers(int64_t image_size) {
    int64_t k = 0, s = image_size;
    while (s > 4 && s % 2 == 0) s /= 2, ++k;
    return s == 4 ? k : 0;
  }

  void pretty_print(std::ostream& os) const override {
    os << "DCGANDiscriminator(in_channels=" << options.in_channels() << ", ndf=" << options.ndf()
       << ", image_size=" << options.image_size() << (options.leaky() ? "" : ", leaky=False")
       << (options.logits() ? ", logits=True" : "") << ")";
  }

  DCGANDiscriminatorOptions options;
  nn::SequentialT<T> main{nullptr};
};

template <class T> using DCGANDiscriminatorT = nn::ModuleHolder<DCGANDiscriminatorImplT<T>>;
using DCGANDiscriminatorImpl = DCGANDiscriminatorImplT<float>;
CRISP_MODULE(DCGANDiscriminator);

}  // namespace crisp::models
