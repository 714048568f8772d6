// CycleGAN's networks with the official pytorch-CycleGAN-and-pix2pix parameter names, so its
// PyTorch checkpoints load unchanged: ResnetGenerator, the PatchGAN NLayerDiscriminator and the
// official 'normal' weight initialisation.
#pragma once

// Both networks are one nn::Sequential named `model`, laid out index for index as the official
// models/networks.py builds it; layers without parameters (pads, norms, activations) still take
// an index, which is what fixes the key names (model.1.weight, model.10.conv_block.5.bias, ...).
// The classes initialise their convolutions as PyTorch does by default; the official define_G /
// define_D then re-initialise them with init_weights('normal', 0.02) - call init_cyclegan_weights.

#include <ostream>

#include "crisp/nn/activation.hpp"
#include "crisp/nn/blocks.hpp"
#include "crisp/nn/container.hpp"
#include "crisp/nn/conv.hpp"
#include "crisp/nn/init.hpp"
#include "crisp/nn/linear.hpp"
#include "crisp/nn/normalization.hpp"
#include "crisp/nn/padding.hpp"

namespace crisp::models {

namespace detail {
// The official get_norm_layer: InstanceNorm2d(affine=False, track_running_stats=False),
// BatchNorm2d(affine=True, track_running_stats=True) or an identity. It occupies one index of
// the Sequential in every case.
template <class T>
void push_norm(nn::SequentialT<T>& seq, nn::ResnetNorm norm, int64_t channels) {
  switch (norm) {
    case nn::ResnetNorm::Instance: seq->push_back(nn::InstanceNorm2dT<T>(nn::InstanceNorm2dOptions(channels))); break;
    case nn::ResnetNorm::Batch: seq->push_back(nn::BatchNorm2dT<T>(nn::BatchNorm2dOptions(channels))); break;
    default: seq->push_back(nn::FunctionalT<T>([](const Tensor<T>& x) { return x; }));
  }
}
// The official code gives a conv a bias only when the norm after it is InstanceNorm2d (BatchNorm
// has its own shift; norm 'none' is a plain function there, which also yields use_bias = False).
inline bool norm_uses_bias(nn::ResnetNorm norm) { return norm == nn::ResnetNorm::Instance; }

inline const char* norm_name(nn::ResnetNorm norm) {
  static const char* names[] = {"instance", "batch", "none"};
  return names[static_cast<int>(norm)];
}

template <class T>
void check_image_input(const Tensor<T>& x, int64_t channels, const char* model) {
  CRISP_CHECK(x.defined() && x.dim() == 4 && x.size(1) == channels, ShapeError, model,
              "expected input of shape [N, ", channels, ", H, W], got ", x.defined() ? x.shape() : Shape{});
}
}  // namespace detail

// ---- ResnetGenerator ---------------------------------------------------------------------------
// model: ReflectionPad2d(3), Conv 7x7 input_nc->ngf, Norm, ReLU;
//        2 x [Conv 3x3 stride 2 pad 1 (channels x2), Norm, ReLU];
//        n_blocks x nn::ResnetBlock(4 ngf);
//        2 x [ConvTranspose 3x3 stride 2 pad 1 output_padding 1 (channels /2), Norm, ReLU];
//        ReflectionPad2d(3), Conv 7x7 ngf->output_nc (with bias), Tanh.
// 9 blocks: convs at model.1, .4, .7, blocks .10-.18, transposed convs .19, .22, last conv .26
// (11,378,179 parameters at ngf 64); 6 blocks: .16, .19, .23. The first and last pads are
// reflection pads whatever padding_type says (padding_type is the blocks'), as in the official code.
// Input: N x input_nc x H x W in [-1, 1], H and W multiples of 4 and at least 8 (the two
// stride-2 convs must be undone exactly, and the blocks reflect-pad the H/4 x W/4 maps by 1).
struct ResnetGeneratorOptions {
  ResnetGeneratorOptions(int64_t input_nc, int64_t output_nc) : input_nc_(input_nc), output_nc_(output_nc) {}
  CRISP_ARG(int64_t, input_nc);
  CRISP_ARG(int64_t, output_nc);
  CRISP_ARG(int64_t, ngf) = 64;
  CRISP_ARG(int64_t, n_blocks) = 9;
  CRISP_ARG(bool, use_dropout) = false;
  CRISP_ARG(nn::ResnetNorm, norm) = nn::ResnetNorm::Instance;
  CRISP_ARG(nn::ResnetPadding, padding_type) = nn::ResnetPadding::Reflect;
};

template <class T>
class ResnetGeneratorImplT : public nn::ModuleT<T> {
 public:
  ResnetGeneratorImplT(int64_t input_nc, int64_t output_nc, Generator& gen = default_generator())
      : ResnetGeneratorImplT(ResnetGeneratorOptions(input_nc, output_nc), gen) {}
  explicit ResnetGeneratorImplT(const ResnetGeneratorOptions& options, Generator& gen = default_generator())
      : nn::ModuleT<T>("ResnetGenerator"), options(options) {
    const auto& o = options;
    CRISP_CHECK(o.input_nc() > 0 && o.output_nc() > 0 && o.ngf() > 0, ValueError, "ResnetGenerator",
                "expected positive input_nc, output_nc and ngf, got ", o.input_nc(), ", ", o.output_nc(), " and ",
                o.ngf());
    CRISP_CHECK(o.n_blocks() >= 0, ValueError, "ResnetGenerator", "expected n_blocks >= 0, got ", o.n_blocks());
    const bool bias = detail::norm_uses_bias(o.norm());
    const int64_t ngf = o.ngf();
    nn::SequentialT<T> seq;
    seq->push_back(nn::ReflectionPad2dT<T>(3));
    seq->push_back(nn::Conv2dT<T>(nn::Conv2dOptions(o.input_nc(), ngf, 7).bias(bias), gen));
    detail::push_norm(seq, o.norm(), ngf);
    seq->push_back(nn::ReLUT<T>(nn::ReLUOptions(true)));
    for (int64_t mult : {1, 2}) {  // downsampling
      seq->push_back(nn::Conv2dT<T>(nn::Conv2dOptions(ngf * mult, ngf * mult * 2, 3).stride(2).padding(1).bias(bias), gen));
      detail::push_norm(seq, o.norm(), ngf * mult * 2);
      seq->push_back(nn::ReLUT<T>(nn::ReLUOptions(true)));
    }
    for (int64_t i = 0; i < o.n_blocks(); ++i)
      seq->push_back(nn::ResnetBlockT<T>(nn::ResnetBlockOptions(ngf * 4)
                                             .padding_type(o.padding_type())
                                             .norm(o.norm())
                                             .use_dropout(o.use_dropout())
                                             .use_bias(bias),
                                         gen));
    for (int64_t mult : {4, 2}) {  // upsampling
      seq->push_back(nn::ConvTranspose2dT<T>(
          nn::ConvTranspose2dOptions(ngf * mult, ngf * mult / 2, 3).stride(2).padding(1).output_padding(1).bias(bias),
          gen));
      detail::push_norm(seq, o.norm(), ngf * mult / 2);
      seq->push_back(nn::ReLUT<T>(nn::ReLUOptions(true)));
    }
    seq->push_back(nn::ReflectionPad2dT<T>(3));
    seq->push_back(nn::Conv2dT<T>(nn::Conv2dOptions(ngf, o.output_nc(), 7), gen));
    seq->push_back(nn::TanhT<T>());
    model = this->register_module("model", seq);
  }

  // N x input_nc x H x W (in [-1, 1]) -> N x output_nc x H x W in (-1, 1).
  Tensor<T> forward(const Tensor<T>& x) {
    detail::check_image_input(x, options.input_nc(), "ResnetGenerator");
    const int64_t h = x.size(2), w = x.size(3);
    CRISP_CHECK(h % 4 == 0 && w % 4 == 0 && h >= 8 && w >= 8, ShapeError, "ResnetGenerator",
                "expected H and W multiples of 4 and at least 8 (two stride-2 convs, undone exactly), got ", h, " x ",
                w, " (input shape ", x.shape(), ")");
    return model(x);
  }

  void pretty_print(std::ostream& os) const override {
    const auto& o = options;
    os << "ResnetGenerator(" << o.input_nc() << ", " << o.output_nc() << ", ngf=" << o.ngf()
       << ", n_blocks=" << o.n_blocks() << ", norm=" << detail::norm_name(o.norm())
       << (o.use_dropout() ? ", use_dropout=True" : "") << ")";
  }

  ResnetGeneratorOptions options;
  nn::SequentialT<T> model{nullptr};
};

// ---- NLayerDiscriminator (PatchGAN) ------------------------------------------------------------
// All convs 4x4 pad 1, LeakyReLU 0.2. model: Conv input_nc->ndf stride 2 (with bias), LReLU;
// for n in 1 .. n_layers-1: Conv (ndf min(2^(n-1), 8) -> ndf min(2^n, 8)) stride 2, Norm, LReLU;
// Conv stride 1 (-> ndf min(2^n_layers, 8)), Norm, LReLU; Conv -> 1 stride 1 (with bias).
// n_layers 3 (the 70x70 PatchGAN): convs at model.0, .2, .5, .8, .11; 2,764,737 parameters at
// ndf 64; 256 x 256 in -> 30 x 30 patch logits. Each stride-2 conv floors the size by 2, each
// stride-1 conv takes 1 off, so H and W must be at least 3 * 2^max(1, n_layers) (24 for n_layers 3).
struct NLayerDiscriminatorOptions {
  NLayerDiscriminatorOptions(int64_t input_nc) : input_nc_(input_nc) {}  // NOLINT: implicit, as libtorch
  CRISP_ARG(int64_t, input_nc);
  CRISP_ARG(int64_t, ndf) = 64;
  CRISP_ARG(int64_t, n_layers) = 3;
  CRISP_ARG(nn::ResnetNorm, norm) = nn::ResnetNorm::Instance;
};

template <class T>
class NLayerDiscriminatorImplT : public nn::ModuleT<T> {
 public:
  explicit NLayerDiscriminatorImplT(const NLayerDiscriminatorOptions& options, Generator& gen = default_generator())
      : nn::ModuleT<T>("NLayerDiscriminator"), options(options) {
    const auto& o = options;
    CRISP_CHECK(o.input_nc() > 0 && o.ndf() > 0, ValueError, "NLayerDiscriminator",
                "expected positive input_nc and ndf, got ", o.input_nc(), " and ", o.ndf());
    CRISP_CHECK(o.n_layers() >= 0 && o.n_layers() <= 16, ValueError, "NLayerDiscriminator",
                "expected n_layers in [0, 16], got ", o.n_layers());
    const bool bias = detail::norm_uses_bias(o.norm());
    const int64_t ndf = o.ndf();
    auto conv = [&](int64_t in, int64_t out, int64_t stride, bool b) {
      return nn::Conv2dT<T>(nn::Conv2dOptions(in, out, 4).stride(stride).padding(1).bias(b), gen);
    };
    auto lrelu = [] { return nn::LeakyReLUT<T>(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true)); };
    nn::SequentialT<T> seq;
    seq->push_back(conv(o.input_nc(), ndf, 2, true));
    seq->push_back(lrelu());
    int64_t mult = 1, prev = 1;
    for (int64_t n = 1; n < o.n_layers(); ++n) {
      prev = mult, mult = std::min<int64_t>(int64_t{1} << n, 8);
      seq->push_back(conv(ndf * prev, ndf * mult, 2, bias));
      detail::push_norm(seq, o.norm(), ndf * mult);
      seq->push_back(lrelu());
    }
    prev = mult, mult = std::min<int64_t>(int64_t{1} << o.n_layers(), 8);
    seq->push_back(conv(ndf * prev, ndf * mult, 1, bias));
    detail::push_norm(seq, o.norm(), ndf * mult);
    seq->push_back(lrelu());
    seq->push_back(conv(ndf * mult, 1, 1, true));
    model = this->register_module("model", seq);
  }

  // The smallest H (and W) the network takes.
  int64_t min_input_size() const { return int64_t{3} << std::max<int64_t>(1, options.n_layers()); }

  // N x input_nc x H x W -> N x 1 x h x w patch logits (no sigmoid: CycleGAN's lsgan takes them raw).
  Tensor<T> forward(const Tensor<T>& x) {
    detail::check_image_input(x, options.input_nc(), "NLayerDiscriminator");
    const int64_t m = min_input_size();
    CRISP_CHECK(x.size(2) >= m && x.size(3) >= m, ShapeError, "NLayerDiscriminator",
                "expected H and W of at least ", m, " with n_layers ", options.n_layers(),
                " (its 4x4 convs shrink the image below one patch otherwise), got ", x.size(2), " x ", x.size(3),
                " (input shape ", x.shape(), ")");
    return model(x);
  }

  void pretty_print(std::ostream& os) const override {
    const auto& o = options;
    os << "NLayerDiscriminator(" << o.input_nc() << ", ndf=" << o.ndf() << ", n_layers=" << o.n_layers()
       << ", norm=" << detail::norm_name(o.norm()) << ")";
  }

  NLayerDiscriminatorOptions options;
  nn::SequentialT<T> model{nullptr};
};

// ---- initialisation ----------------------------------------------------------------------------
// The official init_weights(net, 'normal', gain): every Conv2d / ConvTranspose2d / Linear weight
// ~ N(0, gain) and bias = 0; every BatchNorm2d weight ~ N(1, gain) and bias = 0. Modules are
// visited in registration order, so one Generator gives the same weights run to run.
template <class T>
void init_cyclegan_weights(nn::ModuleT<T>& module, double gain = 0.02, Generator& gen = default_generator()) {
  CRISP_CHECK(gain > 0, ValueError, "init_cyclegan_weights", "expected a positive gain, got ", gain);
  auto init = [&](Tensor<T>& weight, Tensor<T>& bias, double mean) {
    if (weight.defined()) nn::init::normal_(weight, mean, gain, gen);
    if (bias.defined()) nn::init::zeros_(bias);
  };
  module.apply([&](nn::ModuleT<T>& m) {
    if (auto* c = dynamic_cast<nn::Conv2dImplT<T>*>(&m)) init(c->weight, c->bias, 0.0);
    else if (auto* t = dynamic_cast<nn::ConvTranspose2dImplT<T>*>(&m)) init(t->weight, t->bias, 0.0);
    else if (auto* l = dynamic_cast<nn::LinearImplT<T>*>(&m)) init(l->weight, l->bias, 0.0);
    else if (auto* b = dynamic_cast<nn::BatchNorm2dImplT<T>*>(&m)) init(b->weight, b->bias, 1.0);
  });
}
template <class Impl>
void init_cyclegan_weights(const nn::ModuleHolder<Impl>& module, double gain = 0.02,
                           Generator& gen = default_generator()) {
  nn::ModuleT<typename Impl::scalar_type>& base = *module;
  init_cyclegan_weights(base, gain, gen);
}

template <class T> using ResnetGeneratorT = nn::ModuleHolder<ResnetGeneratorImplT<T>>;
template <class T> using NLayerDiscriminatorT = nn::ModuleHolder<NLayerDiscriminatorImplT<T>>;
using ResnetGeneratorImpl = ResnetGeneratorImplT<float>;
using NLayerDiscriminatorImpl = NLayerDiscriminatorImplT<float>;
CRISP_MODULE(ResnetGenerator);
CRISP_MODULE(NLayerDiscriminator);

}  // namespace crisp::models
