// DemoNet: the demo's small deblurring CNN (examples/demo.cpp trains it), shared with deblur and
// evaluate, which rebuild it from the metadata demo writes into demo_net.safetensors.
#pragma once

#include <crisp/crisp.hpp>

#include <map>
#include <string>

namespace crisp::examples {

// A small U-shaped residual net: most of the work runs at half resolution, where 3x3 convs see
// twice as far for a quarter of the cost, which is what a 13 px blur needs on two CPU cores.
//   head  conv 3x3 3->C, ReLU                         (full resolution, kept as a skip)
//   down  conv 3x3 C->2C stride 2, ReLU               (half resolution)
//   body  B x ResBlock(2C, 3x3)
//   up    conv_transpose 4x4 2C->C stride 2, + head, ReLU
//   tail  conv 3x3 C->3
// output = blurred + tail(...), so the net learns only the correction.
struct DemoNetOptions {
  CRISP_ARG(int64_t, channels) = 32;
  CRISP_ARG(int64_t, blocks) = 4;
};

class DemoNetImpl : public nn::Module {
 public:
  explicit DemoNetImpl(const DemoNetOptions& o, Generator& gen) : nn::Module("DemoNet"), options(o) {
    const int64_t c = o.channels();
    head = register_module("head", nn::Conv2d(nn::Conv2dOptions(3, c, 3).padding(1), gen));
    down = register_module("down", nn::Conv2d(nn::Conv2dOptions(c, 2 * c, 3).stride(2).padding(1), gen));
    for (int64_t i = 0; i < o.blocks(); ++i)
      body->push_back(nn::ResBlock(nn::ResBlockOptions(2 * c).kernel_size(3), gen));
    register_module("body", body);
    up = register_module("up", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(2 * c, c, 4).stride(2).padding(1), gen));
    tail = register_module("tail", nn::Conv2d(nn::Conv2dOptions(c, 3, 3).padding(1), gen));
    // He-normal weights and zero biases: PyTorch's default init shrinks the signal layer by layer,
    // which here costs hundreds of steps on a plateau before the net starts to sharpen. The
    // residual branches (each ResBlock's second conv, the tail) start small, so the untrained
    // net is close to the identity.
    crisp::NoGradGuard no_grad;
    for (auto& [name, p] : named_parameters()) {
      if (p.dim() != 4) {
        nn::init::zeros_(p);
        continue;
      }
      nn::init::kaiming_normal_(p, 0.0, nn::init::FanMode::FanIn, nn::init::Nonlinearity::ReLU, gen);
      if (name.find("conv2") != std::string::npos || name.rfind("tail", 0) == 0) p.mul_(0.1f);
    }
  }
  Tensor<float> forward(const Tensor<float>& blurred) {
    const Tensor<float> h = crisp::relu(head(blurred - 0.5f));  // centred input
    const Tensor<float> u = crisp::relu(crisp::add(up(body(crisp::relu(down(h)))), h));
    return crisp::add(blurred, tail(u));
  }
  DemoNetOptions options;
  nn::Conv2d head{nullptr}, down{nullptr}, tail{nullptr};
  nn::ConvTranspose2d up{nullptr};
  nn::Sequential body;
};
CRISP_MODULE(DemoNet);

// The metadata deblur / evaluate read to rebuild the net ("model" = "DemoNet").
inline std::map<std::string, std::string> demo_net_metadata(const DemoNetOptions& o) {
  return {{"model", "DemoNet"},
          {"channels", std::to_string(o.channels())},
          {"blocks", std::to_string(o.blocks())},
          {"range", "[0,1]"},
          {"program", "demo"}};
}

}  // namespace crisp::examples
