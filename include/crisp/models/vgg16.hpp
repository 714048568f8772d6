// VGG16's convolutional part (torchvision's vgg16().features, configuration D) as a feature
// extractor for perceptual losses: named layers (conv3_1, relu2_2, pool5, ...), ImageNet input
// normalisation, and strict loading of torchvision's weights exported to safetensors.
#pragma once

// Layout and keys are torchvision's: `features` is a Sequential of 31 modules, convs 3x3 pad 1 at
// indices 0, 2 | 5, 7 | 10, 12, 14 | 17, 19, 21 | 24, 26, 28, each followed by a ReLU, and 2x2
// max-pools at 4, 9, 16, 23, 30; parameters features.N.weight [out, in, 3, 3] and features.N.bias
// (14,714,688 in all). torchvision's ReLUs are in place, so a PyTorch forward hook on a conv sees
// the ReLU'd values; crisp computes out of place and "convX_Y" is the conv's output before ReLU.
// Weights: tools/export_vgg16.py turns torchvision's vgg16-397923af.pth into safetensors.

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "crisp/io/safetensors.hpp"
#include "crisp/nn/activation.hpp"
#include "crisp/nn/container.hpp"
#include "crisp/nn/conv.hpp"
#include "crisp/nn/pooling.hpp"

namespace crisp::models {

struct VGG16FeaturesOptions {
  // Subtract ImageNet's mean (0.485, 0.456, 0.406) and divide by its std (0.229, 0.224, 0.225)
  // first, so that inputs are RGB in [0, 1] as torchvision's pretrained weights expect.
  CRISP_ARG(bool, normalize_input) = true;
  // Divides every width (64 ... 512) by this: a narrow replica with torchvision's layout and key
  // names, for tests and quick experiments. Pretrained weights need 1.
  CRISP_ARG(int64_t, width_divisor) = 1;
};

namespace detail {
// Configuration D: channel counts, 0 = max-pool.
inline constexpr std::array<int64_t, 18> kVgg16Cfg{64, 64, 0, 128, 128, 0, 256, 256, 256, 0,
                                                   512, 512, 512, 0, 512, 512, 512, 0};

// The layer names in `features` index order: conv1_1, relu1_1, conv1_2, relu1_2, pool1, ...
inline const std::vector<std::string>& vgg16_layer_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    int block = 1, conv = 1;
    for (int64_t c : kVgg16Cfg) {
      if (c == 0) {
        v.push_back("pool" + std::to_string(block++));
        conv = 1;
      } else {
        const std::string id = std::to_string(block) + "_" + std::to_string(conv++);
        v.push_back("conv" + id);
        v.push_back("relu" + id);
      }
    }
    return v;
  }();
  return names;
}
}  // namespace detail

template <class T>
class VGG16FeaturesImplT : public nn::ModuleT<T> {
 public:
  explicit VGG16FeaturesImplT(const VGG16FeaturesOptions& options = {}, Generator& gen = default_generator())
      : nn::ModuleT<T>("VGG16Features"), options(options) {
    const int64_t div = options.width_divisor();
    CRISP_CHECK(div >= 1 && 64 % div == 0, ValueError, "VGG16Features",
                "expected a width_divisor that divides 64 (1, 2, 4, ..., 64), got ", div);
    nn::SequentialT<T> seq;
    int64_t in = 3;
    for (int64_t c : detail::kVgg16Cfg) {
      if (c == 0) {
        auto pool = nn::MaxPool2dT<T>(nn::MaxPool2dOptions(2).stride(2));
        seq->push_back(pool);
        run_.push_back([p = pool.ptr()](const Tensor<T>& x) { return p->forward(x); });
        continue;
      }
      auto conv = nn::Conv2dT<T>(nn::Conv2dOptions(in, c / div, 3).padding(1), gen);
      auto relu = nn::ReLUT<T>(nn::ReLUOptions(true));
      seq->push_back(conv);
      seq->push_back(relu);
      run_.push_back([p = conv.ptr()](const Tensor<T>& x) { return p->forward(x); });
      run_.push_back([p = relu.ptr()](const Tensor<T>& x) { return p->forward(x); });
      in = c / div;
    }
    features = this->register_module("features", seq);
    // ImageNet's statistics: non-persistent buffers (torchvision's keys stay as they are), moved
    // by to(device) with the weights.
    mean_ = this->register_buffer("mean", from_vector<T>({T(0.485), T(0.456), T(0.406)}, Shape{1, 3, 1, 1}), false);
    std_ = this->register_buffer("std", from_vector<T>({T(0.229), T(0.224), T(0.225)}, Shape{1, 3, 1, 1}), false);
  }

  // The names forward accepts, in the order the network computes them.
  static const std::vector<std::string>& layer_names() { return detail::vgg16_layer_names(); }
  // The `features` index of a named layer; throws ValueError listing the valid names.
  static int64_t layer_index(const std::string& layer) {
    const auto& names = layer_names();
    const auto it = std::find(names.begin(), names.end(), layer);
    if (it == names.end()) {
      std::ostringstream os;
      for (size_t i = 0; i < names.size(); ++i) os << (i ? ", " : "") << names[i];
      throw ValueError(::crisp::detail::str_cat("VGG16Features: unknown layer \"", layer, "\"; expected one of ",
                                                os.str()));
    }
    return it - names.begin();
  }

  // x: N x 3 x H x W RGB in [0, 1] (normalised here when normalize_input). Returns the requested
  // layers' outputs by name; the network stops after the deepest one. Each max-pool up to it
  // halves (floors) the size, so H and W must be at least 2^(number of those pools).
  std::map<std::string, Tensor<T>> forward(const Tensor<T>& x, const std::vector<std::string>& layers) {
    CRISP_CHECK(!layers.empty(), ValueError, "VGG16Features",
                "expected at least one layer name (e.g. {\"pool2\", \"pool5\"}), got none");
    std::map<int64_t, std::string> wanted;
    for (const auto& l : layers) wanted.emplace(layer_index(l), l);
    const int64_t last = wanted.rbegin()->first;
    CRISP_CHECK(x.defined() && x.dim() == 4 && x.size(1) == 3, ShapeError, "VGG16Features",
                "expected RGB input of shape [N, 3, H, W], got ", x.defined() ? x.shape() : Shape{});
    int64_t pools = 0;
    for (int64_t i = 0; i <= last; ++i) pools += layer_names()[static_cast<size_t>(i)][0] == 'p';
    const int64_t need = int64_t{1} << pools;
    CRISP_CHECK(x.size(2) >= need && x.size(3) >= need, ShapeError, "VGG16Features",
                "expected H and W of at least ", need, " to reach layer \"", wanted.rbegin()->second, "\" (", pools,
                " 2x2 max-pools), got ", x.size(2), " x ", x.size(3));
    Tensor<T> y = options.normalize_input() ? div(sub(x, mean_), std_) : x;
    std::map<std::string, Tensor<T>> out;
    for (int64_t i = 0; i <= last; ++i) {
      y = run_[static_cast<size_t>(i)](y);
      if (auto it = wanted.find(i); it != wanted.end()) out.emplace(it->second, y);
    }
    return out;
  }

  // Loads torchvision's features weights from safetensors (tools/export_vgg16.py): keys
  // features.N.weight / features.N.bias, all of them, shapes exact (strict). classifier.* entries
  // (a whole vgg16 state dict) are ignored; anything else missing, extra or misshapen throws one
  // crisp::Error naming the file and listing every problem, and leaves the weights unchanged.
  void load_torchvision(const std::string& safetensors_path) {
    std::map<std::string, Tensor<T>> state = io::load_safetensors<T>(safetensors_path);
    std::erase_if(state, [](const auto& kv) { return kv.first.rfind("classifier.", 0) == 0; });
    try {
      this->load_state_dict(state, true);
    } catch (const Error& e) {
      throw Error(::crisp::detail::str_cat("VGG16Features::load_torchvision(\"", safetensors_path,
                                           "\"): expected torchvision vgg16 features.N.weight / features.N.bias",
                                           options.width_divisor() == 1 ? "" : " (of a width-reduced replica)",
                                           "; ", e.what()));
    }
  }

  void pretty_print(std::ostream& os) const override {
    os << "VGG16Features(normalize_input=" << (options.normalize_input() ? "True" : "False");
    if (options.width_divisor() != 1) os << ", width_divisor=" << options.width_divisor();
    os << ")";
  }

  VGG16FeaturesOptions options;
  nn::SequentialT<T> features{nullptr};

 private:
  std::vector<std::function<Tensor<T>(const Tensor<T>&)>> run_;  // features[i].forward, typed
  Tensor<T> mean_, std_;
};

template <class T> using VGG16FeaturesT = nn::ModuleHolder<VGG16FeaturesImplT<T>>;
using VGG16FeaturesImpl = VGG16FeaturesImplT<float>;
CRISP_MODULE(VGG16Features);

}  // namespace crisp::models
