// The papers' building blocks: ResBlock (conv-ReLU-conv + identity, the deblurring networks'),
// CycleGAN's ResnetBlock (official parameter names) and ConvLSTMCell (SRN-DeblurNet's recurrence).
#pragma once

#include <optional>
#include <ostream>
#include <tuple>

#include "crisp/nn/activation.hpp"
#include "crisp/nn/container.hpp"
#include "crisp/nn/conv.hpp"
#include "crisp/nn/dropout.hpp"
#include "crisp/nn/normalization.hpp"
#include "crisp/nn/padding.hpp"
#include "crisp/ops/concat.hpp"

namespace crisp::nn {

// ---- ResBlock ------------------------------------------------------------------------------
// y = x + conv2(relu(conv1(x))), both convs channels -> channels with "same" zero padding
// (kernel / 2) and no normalisation: SRN-DeblurNet's and the semantic-deblurring paper's block.
// relu_after = true applies a ReLU to the sum, as the official semantic-deblur code does.
// Parameters: conv1.weight, conv1.bias, conv2.weight, conv2.bias.
struct ResBlockOptions {
  ResBlockOptions(int64_t channels) : channels_(channels) {}  // NOLINT: implicit, as libtorch
  CRISP_ARG(int64_t, channels);
  CRISP_ARG(int64_t, kernel_size) = 5;
  CRISP_ARG(bool, bias) = true;
  CRISP_ARG(bool, relu_after) = false;
};

template <class T>
class ResBlockImplT : public ModuleT<T> {
 public:
  explicit ResBlockImplT(const ResBlockOptions& options, Generator& gen = default_generator())
      : ModuleT<T>("ResBlock"), options(options) {
    const int64_t c = options.channels(), k = options.kernel_size();
    CRISP_CHECK(c > 0, ValueError, "ResBlock", "expected positive channels, got ", c);
    CRISP_CHECK(k > 0 && k % 2 == 1, ValueError, "ResBlock",
                "expected an odd kernel_size (the block keeps the spatial size), got ", k);
    auto conv = [&] { return Conv2dT<T>(Conv2dOptions(c, c, k).padding(k / 2).bias(options.bias()), gen); };
    conv1 = this->register_module("conv1", conv());
    conv2 = this->register_module("conv2", conv());
  }

  Tensor<T> forward(const Tensor<T>& x) {
    Tensor<T> y = add(x, conv2(relu(conv1(x))));
    return options.relu_after() ? relu(y) : y;
  }

  void pretty_print(std::ostream& os) const override {
    os << "ResBlock(" << options.channels() << ", kernel_size=" << options.kernel_size()
       << (options.relu_after() ? ", relu_after=True" : "") << ")";
  }

  ResBlockOptions options;
  Conv2dT<T> conv1{nullptr}, conv2{nullptr};
};

// ---- ResnetBlock (CycleGAN) -------------------------------------------------------------------
// out = x + conv_block(x), conv_block an nn::Sequential laid out exactly as
// pytorch-CycleGAN-and-pix2pix's build_conv_block, so a PyTorch state_dict loads unchanged:
//   reflect / replicate: [Pad(1), Conv3x3, Norm, ReLU, (Dropout 0.5), Pad(1), Conv3x3, Norm]
//                        -> conv_block.1.* and conv_block.5.* (conv_block.6.* with dropout)
//   zero:                [Conv3x3 pad 1, Norm, ReLU, (Dropout 0.5), Conv3x3 pad 1, Norm]
//                        -> conv_block.0.* and conv_block.3.* (conv_block.4.* with dropout)
// Norm is InstanceNorm2d(affine=False, track_running_stats=False) by default (no parameters;
// the official code then uses conv bias, use_bias = true), BatchNorm2d (norm "batch"; the
// official code passes use_bias = false with it) or an identity (norm "none").
enum class ResnetPadding { Reflect, Replicate, Zero };
enum class ResnetNorm { Instance, Batch, None };

struct ResnetBlockOptions {
  ResnetBlockOptions(int64_t dim) : dim_(dim) {}  // NOLINT: implicit, as libtorch
  CRISP_ARG(int64_t, dim);
  CRISP_ARG(ResnetPadding, padding_type) = ResnetPadding::Reflect;
  CRISP_ARG(ResnetNorm, norm) = ResnetNorm::Instance;
  CRISP_ARG(bool, use_dropout) = false;
  CRISP_ARG(bool, use_bias) = true;
};

template <class T>
class ResnetBlockImplT : public ModuleT<T> {
 public:
  explicit ResnetBlockImplT(const ResnetBlockOptions& options, Generator& gen = default_generator())
      : ModuleT<T>("ResnetBlock"), options(options) {
    const int64_t d = options.dim();
    CRISP_CHECK(d > 0, ValueError, "ResnetBlock", "expected a positive dim, got ", d);
    SequentialT<T> seq;
    const bool zero = options.padding_type() == ResnetPadding::Zero;
    auto add_pad = [&] {
      if (options.padding_type() == ResnetPadding::Reflect) seq->push_back(ReflectionPad2dT<T>(1));
      else if (options.padding_type() == ResnetPadding::Replicate) seq->push_back(ReplicationPad2dT<T>(1));
    };
    auto add_conv = [&] {
      seq->push_back(Conv2dT<T>(Conv2dOptions(d, d, 3).padding(zero ? 1 : 0).bias(options.use_bias()), gen));
    };
    auto add_norm = [&] {
      switch (options.norm()) {
        case ResnetNorm::Instance: seq->push_back(InstanceNorm2dT<T>(InstanceNorm2dOptions(d))); break;
        case ResnetNorm::Batch: seq->push_back(BatchNorm2dT<T>(BatchNorm2dOptions(d))); break;
        default: seq->push_back(FunctionalT<T>([](const Tensor<T>& x) { return x; }));
      }
    };
    add_pad();
    add_conv();
    add_norm();
    seq->push_back(ReLUT<T>(ReLUOptions(true)));
    if (options.use_dropout()) seq->push_back(DropoutT<T>(DropoutOptions(0.5)));
    add_pad();
    add_conv();
    add_norm();
    conv_block = this->register_module("conv_block", seq);
  }

  Tensor<T> forward(const Tensor<T>& x) { return add(x, conv_block(x)); }

  void pretty_print(std::ostream& os) const override {
    static const char* pads[] = {"reflect", "replicate", "zero"};
    os << "ResnetBlock(" << options.dim() << ", padding_type=" << pads[static_cast<int>(options.padding_type())]
       << (options.use_dropout() ? ", use_dropout=True" : "") << ")";
  }

  ResnetBlockOptions options;
  SequentialT<T> conv_block{nullptr};
};

// ---- ConvLSTMCell ------------------------------------------------------------------------------
// One convolution over cat([x, h], 1) (in + hidden -> 4 * hidden channels, kernel k, "same" zero
// padding k / 2) gives the four gate pre-activations, split in channel blocks of `hidden`:
//   GateOrder::IFOG (default): i, f, o, g   (the common PyTorch ConvLSTM layout)
//   GateOrder::IJFO:           i, g, f, o   (SRN-DeblurNet / TensorFlow BasicConvLSTMCell, "i, j, f, o")
// then c' = sigmoid(f + forget_bias) * c + sigmoid(i) * tanh(g), h' = sigmoid(o) * tanh(c').
// SRN's cell: ConvLSTMCellOptions::srn(in, hidden, k) = gate_order(IJFO).forget_bias(1.0).
// Parameters: conv.weight [4 hidden, in + hidden, k, k], conv.bias [4 hidden].
enum class GateOrder { IFOG, IJFO };

struct ConvLSTMCellOptions {
  ConvLSTMCellOptions(int64_t input_channels, int64_t hidden_channels, int64_t kernel_size = 3)
      : input_channels_(input_channels), hidden_channels_(hidden_channels), kernel_size_(kernel_size) {}
  // SRN-DeblurNet's cell: gate order i, j, f, o and forget bias 1.
  static ConvLSTMCellOptions srn(int64_t input_channels, int64_t hidden_channels, int64_t kernel_size = 3) {
    return ConvLSTMCellOptions(input_channels, hidden_channels, kernel_size).gate_order(GateOrder::IJFO).forget_bias(1.0);
  }
  CRISP_ARG(int64_t, input_channels);
  CRISP_ARG(int64_t, hidden_channels);
  CRISP_ARG(int64_t, kernel_size);
  CRISP_ARG(bool, bias) = true;
  CRISP_ARG(GateOrder, gate_order) = GateOrder::IFOG;
  CRISP_ARG(double, forget_bias) = 0.0;
};

template <class T>
class ConvLSTMCellImplT : public ModuleT<T> {
 public:
  using State = std::tuple<Tensor<T>, Tensor<T>>;  // (h, c)

  ConvLSTMCellImplT(int64_t input_channels, int64_t hidden_channels, int64_t kernel_size = 3,
                    Generator& gen = default_generator())
      : ConvLSTMCellImplT(ConvLSTMCellOptions(input_channels, hidden_channels, kernel_size), gen) {}
  explicit ConvLSTMCellImplT(const ConvLSTMCellOptions& options, Generator& gen = default_generator())
      : ModuleT<T>("ConvLSTMCell"), options(options) {
    const int64_t in = options.input_channels(), hid = options.hidden_channels(), k = options.kernel_size();
    CRISP_CHECK(in > 0 && hid > 0, ValueError, "ConvLSTMCell",
                "expected positive input_channels and hidden_channels, got ", in, " and ", hid);
    CRISP_CHECK(k > 0 && k % 2 == 1, ValueError, "ConvLSTMCell",
                "expected an odd kernel_size (the state keeps the spatial size), got ", k);
    conv = this->register_module("conv", Conv2dT<T>(Conv2dOptions(in + hid, 4 * hid, k).padding(k / 2).bias(options.bias()), gen));
  }

  // Zero (h, c) of shape [batch, hidden, height, width].
  State zero_state(int64_t batch, int64_t height, int64_t width, Device device = Device::cpu()) const {
    const Shape s{batch, options.hidden_channels(), height, width};
    return {zeros<T>(s, device), zeros<T>(s, device)};
  }
  // Zero (h, c) for input x [N, C, H, W], on x's device.
  State zero_state(const Tensor<T>& x) const {
    check_input(x);
    return zero_state(x.size(0), x.size(2), x.size(3), x.device());
  }

  // One step: returns (h', c'). Without a state, (h, c) start at zero.
  State forward(const Tensor<T>& x, const std::optional<State>& state = std::nullopt) {
    check_input(x);
    const State s = state ? *state : zero_state(x);
    const Tensor<T>&h = std::get<0>(s), &c = std::get<1>(s);
    const Shape want{x.size(0), options.hidden_channels(), x.size(2), x.size(3)};
    CRISP_CHECK(h.defined() && c.defined() && h.shape() == want && c.shape() == want, ShapeError, "ConvLSTMCell",
                "expected h and c of shape ", want, " for input of shape ", x.shape(), ", got ",
                h.defined() ? h.shape() : Shape{}, " and ", c.defined() ? c.shape() : Shape{});
    const std::vector<Tensor<T>> a = split(conv(cat(std::vector<Tensor<T>>{x, h}, 1)), options.hidden_channels(), 1);
    const bool ifog = options.gate_order() == GateOrder::IFOG;
    const Tensor<T>& ai = a[0];
    const Tensor<T>& af = ifog ? a[1] : a[2];
    const Tensor<T>& ao = ifog ? a[2] : a[3];
    const Tensor<T>& ag = ifog ? a[3] : a[1];
    const Tensor<T> f = sigmoid(options.forget_bias() != 0.0 ? add(af, scalar_tensor<T>(static_cast<T>(options.forget_bias()), af.device()))
                                                           : af);
    const Tensor<T> c2 = add(mul(f, c), mul(sigmoid(ai), crisp::tanh(ag)));
    const Tensor<T> h2 = mul(sigmoid(ao), crisp::tanh(c2));
    return {h2, c2};
  }

  void pretty_print(std::ostream& os) const override {
    os << "ConvLSTMCell(" << options.input_channels() << ", " << options.hidden_channels()
       << ", kernel_size=" << options.kernel_size() << ", gate_order="
       << (options.gate_order() == GateOrder::IFOG ? "ifog" : "ijfo") << ", forget_bias=" << options.forget_bias()
       << ")";
  }

  ConvLSTMCellOptions options;
  Conv2dT<T> conv{nullptr};

 private:
  void check_input(const Tensor<T>& x) const {
    CRISP_CHECK(x.defined() && x.dim() == 4 && x.size(1) == options.input_channels(), ShapeError, "ConvLSTMCell",
                "expected input of shape [N, ", options.input_channels(), ", H, W], got ",
                x.defined() ? x.shape() : Shape{});
  }
};

template <class T> using ResBlockT = ModuleHolder<ResBlockImplT<T>>;
template <class T> using ResnetBlockT = ModuleHolder<ResnetBlockImplT<T>>;
template <class T> using ConvLSTMCellT = ModuleHolder<ConvLSTMCellImplT<T>>;
using ResBlockImpl = ResBlockImplT<float>;
using ResnetBlockImpl = ResnetBlockImplT<float>;
using ConvLSTMCellImpl = ConvLSTMCellImplT<float>;
using ResBlock = ResBlockT<float>;
using ResnetBlock = ResnetBlockT<float>;
using ConvLSTMCell = ConvLSTMCellT<float>;

}  // namespace crisp::nn
