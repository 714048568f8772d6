// FaceRecognitionNet: face-api.js's face recognition network (a dlib-style ResNet-34 variant:
// 150 x 150 RGB face in, 128-D descriptor out; faces of one person lie within ~0.6 of each other
// in Euclidean distance), with strict loading of the package's TensorFlow.js weights.
#pragma once

// Layout (face-api.js src/faceRecognitionNet), sizes for a 150 x 150 input:
//   normalise: (RGB * 255 - mean RGB (122.782, 117.001, 104.298)) / 255; inputs here are [0, 1]
//   conv32_down   conv 7x7/2 valid 3->32, + bias, * scale + shift, ReLU              -> 72
//   max-pool 3x3/2 valid                                                              -> 35
//   conv32_1..3   residual: [conv 3x3 same, scale, ReLU, conv 3x3 same, scale] + x, ReLU
//   conv64_down   residual down: first conv 3x3/2 valid; shortcut avg-pool 2x2/2 valid,
//                 zero channels appended when the width doubles; when the conv path is one
//                 smaller, a zero row and column are appended to it (bottom / right)     -> 17
//   conv64_1..3, conv128_down (-> 8), conv128_1..2, conv256_down (-> 4), conv256_1..2,
//   conv256_down_out (-> 2)
//   mean over H, W -> 256; fc (no bias) -> 128: the descriptor (not normalised)
// Each "conv" is a Conv2d with bias followed by a per-channel scale (weight * x + bias): the
// scale layers are dlib's affine layers (folded batch norm), kept separate so that the
// arithmetic is the package's. Parameter names: <block>.conv.weight|bias, <block>.scale.weight|
// bias for conv32_down; <block>.conv1|conv2.conv|scale.weight|bias for residual blocks; fc.weight.
// Weights: tools/fetch_face_api.sh, then load_tfjs("third_party/face-api/model/
// face_recognition_model-weights_manifest.json"). Any input size works for which every stage
// stays at least 3 x 3 (>= 103 x 103), e.g. 128 x 128 faces for a perceptual loss; face-api.js
// itself always uses 150 x 150 (descriptor() prepares an image so).

#include <algorithm>
#include <array>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "crisp/autograd/grad_mode.hpp"
#include "crisp/io/tfjs_weights.hpp"
#include "crisp/models/face_api_input.hpp"
#include "crisp/nn/conv.hpp"
#include "crisp/nn/linear.hpp"
#include "crisp/ops/activation.hpp"
#include "crisp/ops/concat.hpp"
#include "crisp/ops/pooling.hpp"
#include "crisp/ops/reduction.hpp"
#include "crisp/ops/view.hpp"
#include "crisp/tensor/factory.hpp"

namespace crisp::models {

// Per-channel affine map weight[c] * x + bias[c] (dlib's affine layer; Caffe's Scale layer).
template <class T>
class ChannelScaleImplT : public nn::ModuleT<T> {
 public:
  explicit ChannelScaleImplT(int64_t channels) : nn::ModuleT<T>("ChannelScale"), channels(channels) {
    CRISP_CHECK(channels > 0, ValueError, "ChannelScale", "expected a positive channel count, got ", channels);
    weight = this->register_parameter("weight", ones<T>({channels}));
    bias = this->register_parameter("bias", zeros<T>({channels}));
  }
  Tensor<T> forward(const Tensor<T>& x) {
    CRISP_CHECK(x.defined() && x.dim() == 4 && x.size(1) == channels, ShapeError, "ChannelScale",
                "expected input [N, ", channels, ", H, W], got ", x.defined() ? x.shape() : Shape{});
    return add(mul(x, weight.view({1, channels, 1, 1})), bias.view({1, channels, 1, 1}));
  }
  void pretty_print(std::ostream& os) const override { os << "ChannelScale(" << channels << ")"; }
  int64_t channels;
  Tensor<T> weight, bias;
};
template <class T> using ChannelScaleT = nn::ModuleHolder<ChannelScaleImplT<T>>;

// Conv2d (with bias) then ChannelScale: face-api.js's convLayer without its ReLU.
template <class T>
class ConvScaleImplT : public nn::ModuleT<T> {
 public:
  ConvScaleImplT(int64_t in, int64_t out, int64_t kernel, int64_t stride, bool same_padding, Generator& gen)
      : nn::ModuleT<T>("ConvScale") {
    auto o = nn::Conv2dOptions(in, out, kernel).stride(stride);
    if (same_padding) o.padding(kernel / 2);
    conv = this->register_module("conv", nn::Conv2dT<T>(o, gen));
    scale = this->register_module("scale", ChannelScaleT<T>(out));
  }
  Tensor<T> forward(const Tensor<T>& x) { return scale(conv(x)); }
  nn::Conv2dT<T> conv{nullptr};
  ChannelScaleT<T> scale{nullptr};
};
template <class T> using ConvScaleT = nn::ModuleHolder<ConvScaleImplT<T>>;

// face-api.js's residual / residualDown block.
template <class T>
class FaceResidualBlockImplT : public nn::ModuleT<T> {
 public:
  FaceResidualBlockImplT(int64_t in, int64_t out, bool down, Generator& gen)
      : nn::ModuleT<T>("FaceResidualBlock"), in(in), out(out), down(down) {
    CRISP_CHECK(down || in == out, ValueError, "FaceResidualBlock", "a block that keeps the size keeps the width, got ",
                in, " -> ", out);
    CRISP_CHECK(out == in || out == 2 * in, ValueError, "FaceResidualBlock",
                "expected the width to stay or double, got ", in, " -> ", out);
    conv1 = this->register_module("conv1", ConvScaleT<T>(in, out, 3, down ? 2 : 1, !down, gen));
    conv2 = this->register_module("conv2", ConvScaleT<T>(out, out, 3, 1, true, gen));
  }

  Tensor<T> forward(const Tensor<T>& x) {
    CRISP_CHECK(x.defined() && x.dim() == 4 && x.size(1) == in, ShapeError, "FaceResidualBlock",
                "expected input [N, ", in, ", H, W], got ", x.defined() ? x.shape() : Shape{});
    CRISP_CHECK(!down || (x.size(2) >= 3 && x.size(3) >= 3), ShapeError, "FaceResidualBlock",
                "a down-sampling block needs at least 3 x 3 input, got ", x.size(2), " x ", x.size(3),
                " (the network's input is too small)");
    Tensor<T> y = conv2(relu(conv1(x)));
    if (!down) return relu(add(y, x));
    Tensor<T> pooled = avg_pool2d(x, 2, 2);
    if (out != in) pooled = cat<T>({pooled, zeros<T>(pooled.shape())}, 1);
    // The strided 3x3 valid conv is one smaller than the 2x2 pool on even sizes: face-api.js
    // appends a zero row and column to the conv path.
    const int64_t dh = pooled.size(2) - y.size(2), dw = pooled.size(3) - y.size(3);
    if (dh != 0 || dw != 0) {
      CRISP_CHECK(dh >= 0 && dh <= 1 && dw >= 0 && dw <= 1, ShapeError, "FaceResidualBlock",
                  "unexpected path sizes ", y.shape(), " and ", pooled.shape());
      // face-api.js pads both dims whenever either differs.
      y = cat<T>({y, zeros<T>({y.size(0), y.size(1), 1, y.size(3)})}, 2);
      y = cat<T>({y, zeros<T>({y.size(0), y.size(1), y.size(2), 1})}, 3);
    }
    return relu(add(pooled, y));
  }
  void pretty_print(std::ostream& os) const override {
    os << "FaceResidualBlock(" << in << ", " << out << (down ? ", down" : "") << ")";
  }
  int64_t in, out;
  bool down;
  ConvScaleT<T> conv1{nullptr}, conv2{nullptr};
};
template <class T> using FaceResidualBlockT = nn::ModuleHolder<FaceResidualBlockImplT<T>>;

template <class T>
class FaceRecognitionNetImplT : public nn::ModuleT<T> {
 public:
  static constexpr int64_t kInputSize = 150;
  static constexpr int64_t kDescriptorSize = 128;
  static constexpr std::array<double, 3> kMeanRgb{122.782, 117.001, 104.298};

  explicit FaceRecognitionNetImplT(Generator& gen = default_generator()) : nn::ModuleT<T>("FaceRecognitionNet") {
    conv32_down = this->register_module("conv32_down", ConvScaleT<T>(3, 32, 7, 2, false, gen));
    for (const auto& b : blocks_spec()) blocks_.push_back(this->register_module(b.name, FaceResidualBlockT<T>(b.in, b.out, b.down, gen)));
    fc = this->register_module("fc", nn::LinearT<T>(nn::LinearOptions(256, kDescriptorSize).bias(false), gen));
  }

  // The names forward_features accepts, in the order the network computes them.
  static const std::vector<std::string>& layer_names() {
    static const std::vector<std::string> names = [] {
      std::vector<std::string> v{"conv32_down", "pool"};
      for (const auto& b : blocks_spec()) v.push_back(b.name);
      v.push_back("average");
      v.push_back("descriptor");
      return v;
    }();
    return names;
  }

  // x: N x 3 x H x W RGB in [0, 1] (150 x 150 for face-api.js's descriptors). Returns N x 128.
  Tensor<T> forward(const Tensor<T>& x) { return forward_features(x, {"descriptor"}).at("descriptor"); }

  // The named layers' outputs (see layer_names; each block's is after its final ReLU, "average"
  // is N x 256), computing only as far as the deepest one: features for a perceptual loss.
  std::map<std::string, Tensor<T>> forward_features(const Tensor<T>& x, const std::vector<std::string>& layers) {
    const auto& names = layer_names();
    CRISP_CHECK(!layers.empty(), ValueError, "FaceRecognitionNet", "expected at least one layer name, got none");
    std::map<size_t, std::string> wanted;
    for (const auto& l : layers) {
      const auto it = std::find(names.begin(), names.end(), l);
      if (it == names.end()) {
        std::ostringstream os;
        for (size_t i = 0; i < names.size(); ++i) os << (i ? ", " : "") << names[i];
        throw ValueError(::crisp::detail::str_cat("FaceRecognitionNet: unknown layer \"", l, "\"; expected one of ", os.str()));
      }
      wanted.emplace(static_cast<size_t>(it - names.begin()), l);
    }
    CRISP_CHECK(x.defined() && x.dim() == 4 && x.size(1) == 3, ShapeError, "FaceRecognitionNet",
                "expected RGB input of shape [N, 3, H, W], got ", x.defined() ? x.shape() : Shape{});
    CRISP_CHECK(x.size(2) >= 103 && x.size(3) >= 103, ShapeError, "FaceRecognitionNet",
                "expected H and W of at least 103 (150 for face-api.js's descriptors), got ", x.size(2), " x ", x.size(3));
    std::map<std::string, Tensor<T>> out;
    const size_t last = wanted.rbegin()->first;
    auto keep = [&](size_t i, const Tensor<T>& y) {
      if (auto it = wanted.find(i); it != wanted.end()) out.emplace(it->second, y);
      return i >= last;
    };
    // (x * 255 - mean) / 255 = x - mean / 255.
    Tensor<T> mean = Tensor<T>::empty({1, 3, 1, 1});
    for (int c = 0; c < 3; ++c) mean.data()[c] = static_cast<T>(kMeanRgb[static_cast<size_t>(c)] / 255.0);
    Tensor<T> y = relu(conv32_down(sub(x, mean)));
    size_t i = 0;
    if (keep(i++, y)) return out;
    y = max_pool2d(y, 3, 2);
    if (keep(i++, y)) return out;
    for (auto& b : blocks_) {
      y = b(y);
      if (keep(i++, y)) return out;
    }
    y = mean_hw(y);
    if (keep(i++, y)) return out;
    keep(i, fc(y));
    return out;
  }

  // face-api.js's computeFaceDescriptor for one image [3, H, W] (or [1, 3, H, W]) RGB in [0, 1]:
  // padded to a centred square, resized to 150 x 150 (face_api_square_resize), run without
  // gradients. Returns the 128 values.
  Tensor<T> descriptor(const Tensor<T>& image) {
    NoGradGuard no_grad;
    return forward(face_api_square_resize(image, kInputSize, /*centre=*/true)).reshape({kDescriptorSize});
  }

  // Loads face-api.js's face_recognition_model-weights_manifest.json (+ shard), strictly: every
  // weight present with its exact shape, none left over; otherwise one crisp::Error lists every
  // problem and the network is unchanged.
  void load_tfjs(const std::string& manifest_path) {
    io::TfjsWeightMapper<T> m(io::load_tfjs_weights<T>(manifest_path),
                              ::crisp::detail::str_cat("FaceRecognitionNet::load_tfjs(\"", manifest_path, "\")"));
    auto conv_scale = [&](const std::string& tf, const std::string& key, int64_t k, int64_t in, int64_t out) {
      m.map(tf + "/conv/filters", {k, k, in, out}, key + ".conv.weight", io::TfjsLayout::ConvHWIO);
      m.map(tf + "/conv/bias", {out}, key + ".conv.bias", io::TfjsLayout::AsIs);
      m.map(tf + "/scale/weights", {out}, key + ".scale.weight", io::TfjsLayout::AsIs);
      m.map(tf + "/scale/biases", {out}, key + ".scale.bias", io::TfjsLayout::AsIs);
    };
    conv_scale("conv32_down", "conv32_down", 7, 3, 32);
    for (const auto& b : blocks_spec()) {
      conv_scale(b.name + "/conv1", b.name + ".conv1", 3, b.in, b.out);
      conv_scale(b.name + "/conv2", b.name + ".conv2", 3, b.out, b.out);
    }
    m.map("fc", {256, kDescriptorSize}, "fc.weight", io::TfjsLayout::Dense);
    this->load_state_dict(m.finish(), true);
  }

  void pretty_print(std::ostream& os) const override { os << "FaceRecognitionNet(150x150 RGB -> 128)"; }

  ConvScaleT<T> conv32_down{nullptr};
  nn::LinearT<T> fc{nullptr};

 private:
  struct BlockSpec {
    std::string name;
    int64_t in, out;
    bool down;
  };
  static const std::vector<BlockSpec>& blocks_spec() {
    static const std::vector<BlockSpec> spec{
        {"conv32_1", 32, 32, false},       {"conv32_2", 32, 32, false},     {"conv32_3", 32, 32, false},
        {"conv64_down", 32, 64, true},     {"conv64_1", 64, 64, false},     {"conv64_2", 64, 64, false},
        {"conv64_3", 64, 64, false},       {"conv128_down", 64, 128, true}, {"conv128_1", 128, 128, false},
        {"conv128_2", 128, 128, false},    {"conv256_down", 128, 256, true}, {"conv256_1", 256, 256, false},
        {"conv256_2", 256, 256, false},    {"conv256_down_out", 256, 256, true}};
    return spec;
  }
  static Tensor<T> mean_hw(const Tensor<T>& y) { return mean(y, {2, 3}); }

  std::vector<FaceResidualBlockT<T>> blocks_;
};

template <class T> using FaceRecognitionNetT = nn::ModuleHolder<FaceRecognitionNetImplT<T>>;
using FaceRecognitionNetImpl = FaceRecognitionNetImplT<float>;
CRISP_MODULE(FaceRecognitionNet);

}  // namespace crisp::models
