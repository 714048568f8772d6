// bench_models, libtorch's side: the same networks as bench_models_crisp.cpp written with torch::nn
// (layer for layer, PyTorch's reference conventions: in-place activations where the reference code
// uses them), the same inputs' shapes and the same steps. Keep the two files in step.
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <stdexcept>

#include "bench_models.hpp"

namespace bench_models {
namespace {

namespace tnn = torch::nn;
namespace F = torch::nn::functional;
using torch::Tensor;

tnn::Conv2dOptions conv_opts(int64_t i, int64_t o, int64_t k, int64_t s = 1, int64_t p = 0, bool bias = true) {
  return tnn::Conv2dOptions(i, o, k).stride(s).padding(p).bias(bias);
}
Tensor bce_to(const Tensor& p, float label) { return F::binary_cross_entropy(p, torch::full_like(p, label)); }
Tensor rand_in(at::IntArrayRef shape, float lo = 0.f, float hi = 1.f) { return torch::rand(shape) * (hi - lo) + lo; }

// conv-ReLU-conv plus the input (crisp::nn::ResBlock: "same" padding, no activation after the sum).
struct ResBlockImpl : tnn::Module {
  ResBlockImpl(int64_t c, int64_t k) {
    conv1 = register_module("conv1", tnn::Conv2d(conv_opts(c, c, k, 1, k / 2)));
    conv2 = register_module("conv2", tnn::Conv2d(conv_opts(c, c, k, 1, k / 2)));
  }
  Tensor forward(const Tensor& x) { return x + conv2(torch::relu(conv1(x))); }
  tnn::Conv2d conv1{nullptr}, conv2{nullptr};
};
TORCH_MODULE(ResBlock);

// ---- SemanticDeblurNet (paper: 6 ResBlocks, semantics) ------------------------------------------
struct DeblurScaleImpl : tnn::Module {
  explicit DeblurScaleImpl(int64_t in) {
    conv_in = register_module("conv_in", tnn::Conv2d(conv_opts(in, 64, 11, 1, 5)));
    conv1 = register_module("conv1", tnn::Conv2d(conv_opts(64, 64, 5, 1, 2)));
    conv2 = register_module("conv2", tnn::Conv2d(conv_opts(64, 64, 5, 1, 2)));
    for (int i = 0; i < 6; ++i) resblocks->push_back(ResBlock(64, 5));
    register_module("resblocks", resblocks);
    conv3 = register_module("conv3", tnn::Conv2d(conv_opts(64, 64, 5, 1, 2)));
    conv4 = register_module("conv4", tnn::Conv2d(conv_opts(64, 64, 5, 1, 2)));
    conv_out = register_module("conv_out", tnn::Conv2d(conv_opts(64, 3, 5, 1, 2)));
  }
  Tensor forward(const Tensor& x) {
    Tensor y = torch::relu(conv2(torch::relu(conv1(torch::relu(conv_in(x))))));
    y = resblocks->forward(y);
    return conv_out(torch::relu(conv4(torch::relu(conv3(y)))));
  }
  tnn::Conv2d conv_in{nullptr}, conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, conv_out{nullptr};
  tnn::Sequential resblocks;
};
TORCH_MODULE(DeblurScale);

struct SemanticDeblurNetImpl : tnn::Module {
  SemanticDeblurNetImpl() {
    scale1 = register_module("scale1", DeblurScale(14));
    upsample = register_module("upsample", tnn::ConvTranspose2d(tnn::ConvTranspose2dOptions(3, 3, 4).stride(2).padding(1)));
    scale2 = register_module("scale2", DeblurScale(17));
  }
  std::pair<Tensor, Tensor> forward(const Tensor& blurred, const Tensor& probs) {
    const Tensor s1 = scale1(torch::cat({F::avg_pool2d(blurred, F::AvgPool2dFuncOptions(2)),
                                         F::max_pool2d(probs, F::MaxPool2dFuncOptions(2))}, 1));
    const Tensor s2 = scale2(torch::cat({upsample(s1), blurred, probs}, 1));
    return {s1, s2};
  }
  DeblurScale scale1{nullptr}, scale2{nullptr};
  tnn::ConvTranspose2d upsample{nullptr};
};
TORCH_MODULE(SemanticDeblurNet);

// ---- DCGAN discriminator at 128 (pytorch/examples netD + one strided stage) -------------------------
tnn::Sequential dcgan_discriminator() {
  tnn::Sequential s;
  s->push_back(tnn::Conv2d(conv_opts(3, 64, 4, 2, 1, false)));
  s->push_back(tnn::LeakyReLU(tnn::LeakyReLUOptions().negative_slope(0.2).inplace(true)));
  for (int64_t c = 64; c < 1024; c *= 2) {
    s->push_back(tnn::Conv2d(conv_opts(c, 2 * c, 4, 2, 1, false)));
    s->push_back(tnn::BatchNorm2d(2 * c));
    s->push_back(tnn::LeakyReLU(tnn::LeakyReLUOptions().negative_slope(0.2).inplace(true)));
  }
  s->push_back(tnn::Conv2d(conv_opts(1024, 1, 4, 1, 0, false)));
  s->push_back(tnn::Sigmoid());
  return s;
}

// ---- VGG16 features (torchvision config D) up to pool5, returning pool2 and pool5 -----------------
struct VGG16Impl : tnn::Module {
  VGG16Impl() {
    const int64_t cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
    int64_t in = 3;
    for (int64_t c : cfg) {
      if (c == 0) {
        features->push_back(tnn::MaxPool2d(tnn::MaxPool2dOptions(2).stride(2)));
        continue;
      }
      features->push_back(tnn::Conv2d(conv_opts(in, c, 3, 1, 1)));
      features->push_back(tnn::ReLU(tnn::ReLUOptions(true)));
      in = c;
    }
    register_module("features", features);
    for (size_t i = 0, pools = 0; i < features->size(); ++i)
      if (features->ptr(i)->as<tnn::MaxPool2d>() != nullptr && (++pools == 2 || pools == 5)) taps.push_back(i);
    mean = register_buffer("mean", torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1}));
    std = register_buffer("std", torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1}));
  }
  std::vector<Tensor> forward(const Tensor& x) {
    Tensor y = (x - mean) / std;
    std::vector<Tensor> out;
    size_t i = 0;
    for (auto& m : *features) {
      y = m.forward(y);
      if (std::find(taps.begin(), taps.end(), i++) != taps.end()) out.push_back(y);
    }
    return out;
  }
  tnn::Sequential features;
  std::vector<size_t> taps;  // pool2 and pool5
  Tensor mean, std;
};
TORCH_MODULE(VGG16);

Tensor perceptual(VGG16& vgg, const Tensor& input, const Tensor& target) {
  const std::vector<Tensor> fi = vgg(input);
  std::vector<Tensor> ft;
  {
    torch::NoGradGuard no_grad;
    ft = vgg(target);
  }
  Tensor total = F::mse_loss(fi[0], ft[0]);
  for (size_t l = 1; l < fi.size(); ++l) total = total + F::mse_loss(fi[l], ft[l]);
  return total;
}

// ---- FaceParsingNet ------------------------------------------------------------------------------
struct ConvBNReLUImpl : tnn::Module {
  ConvBNReLUImpl(int64_t in, int64_t out, int64_t k) {
    conv = register_module("conv", tnn::Conv2d(conv_opts(in, out, k, 1, k / 2, false)));
    bn = register_module("bn", tnn::BatchNorm2d(out));
  }
  Tensor forward(const Tensor& x) { return torch::relu(bn(conv(x))); }
  tnn::Conv2d conv{nullptr};
  tnn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ConvBNReLU);

struct ParsingUpImpl : tnn::Module {
  ParsingUpImpl(int64_t in, int64_t out) {
    deconv = register_module("deconv", tnn::ConvTranspose2d(tnn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1)));
    conv = register_module("conv", ConvBNReLU(out, out, 3));
  }
  Tensor forward(const Tensor& x, const Tensor& skip) {
    Tensor y = deconv(x);
    if (skip.defined()) y = y + skip;
    return conv(y);
  }
  tnn::ConvTranspose2d deconv{nullptr};
  ConvBNReLU conv{nullptr};
};
TORCH_MODULE(ParsingUp);

struct FaceParsingNetImpl : tnn::Module {
  FaceParsingNetImpl() {
    const int64_t ch[] = {3, 16, 32, 64, 128, 256, 512};
    for (int i = 0; i < 6; ++i)
      enc.push_back(register_module("enc" + std::to_string(i + 1), ConvBNReLU(ch[i], ch[i + 1], i == 2 ? 5 : 3)));
    for (int i = 0; i < 5; ++i) dec.push_back(register_module("dec" + std::to_string(i + 1), ParsingUp(ch[6 - i], ch[5 - i])));
    classifier = register_module("classifier", tnn::Conv2d(conv_opts(16, 11, 3, 1, 1)));
  }
  Tensor forward(const Tensor& x) {
    std::vector<Tensor> e(6);
    e[0] = enc[0](x);
    for (size_t i = 1; i < 6; ++i) e[i] = enc[i](F::max_pool2d(e[i - 1], F::MaxPool2dFuncOptions(2)));
    Tensor y = e[5];
    for (size_t i = 0; i < 5; ++i) y = dec[i](y, i < 4 ? e[4 - i] : Tensor());
    return classifier(y);
  }
  std::vector<ConvBNReLU> enc;
  std::vector<ParsingUp> dec;
  tnn::Conv2d classifier{nullptr};
};
TORCH_MODULE(FaceParsingNet);

// ---- SRN (jiangsutx/SRN-Deblur, --model lstm): 3 scales, shared weights, ConvLSTM ----------------
Tensor bilinear(const Tensor& x, int64_t h, int64_t w) {
  if (x.size(2) == h && x.size(3) == w) return x;
  return F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
}

struct SRNImpl : tnn::Module {
  SRNImpl() {
    auto stage = [&](const std::string& name, int64_t in, int64_t out, int64_t stride) {
      tnn::Sequential s;
      s->push_back(tnn::Conv2d(conv_opts(in, out, 5, stride, 2)));
      s->push_back(tnn::Functional(torch::relu));
      for (int i = 0; i < 3; ++i) s->push_back(ResBlock(out, 5));
      return register_module(name, s);
    };
    auto blocks = [&](const std::string& name, int64_t c) {
      tnn::Sequential s;
      for (int i = 0; i < 3; ++i) s->push_back(ResBlock(c, 5));
      return register_module(name, s);
    };
    enc1 = stage("enc1", 6, 32, 1);
    enc2 = stage("enc2", 32, 64, 2);
    enc3 = stage("enc3", 64, 128, 2);
    lstm = register_module("convlstm", tnn::Conv2d(conv_opts(256, 512, 3, 1, 1)));
    dec3 = blocks("dec3", 128);
    deconv3 = register_module("deconv3", tnn::ConvTranspose2d(tnn::ConvTranspose2dOptions(128, 64, 4).stride(2).padding(1)));
    dec2 = blocks("dec2", 64);
    deconv2 = register_module("deconv2", tnn::ConvTranspose2d(tnn::ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1)));
    dec1 = blocks("dec1", 32);
    out = register_module("out", tnn::Conv2d(conv_opts(32, 3, 5, 1, 2)));
    for (auto& p : named_parameters()) {  // Xavier-uniform weights, zero biases, as crisp's SRN
      torch::NoGradGuard no_grad;
      if (p.key().size() >= 4 && p.key().compare(p.key().size() - 4, 4, "bias") == 0) p.value().zero_();
      else tnn::init::xavier_uniform_(p.value());
    }
  }
  std::vector<Tensor> forward(const Tensor& blurred) {
    std::vector<Tensor> preds;
    Tensor previous = blurred, h, c;
    for (int64_t level = 0; level < 3; ++level) {
      const int64_t H = blurred.size(2) >> (2 - level), W = blurred.size(3) >> (2 - level);
      const Tensor b = bilinear(blurred, H, W), p = bilinear(previous.detach(), H, W);
      if (h.defined()) {
        h = bilinear(h, H / 4, W / 4);
        c = bilinear(c, H / 4, W / 4);
      } else {
        h = torch::zeros({blurred.size(0), 128, H / 4, W / 4});
        c = torch::zeros({blurred.size(0), 128, H / 4, W / 4});
      }
      const Tensor e1 = enc1->forward(torch::cat({b, p}, 1));
      const Tensor e2 = enc2->forward(e1);
      const Tensor e3 = enc3->forward(e2);
      const std::vector<Tensor> a = lstm(torch::cat({e3, h}, 1)).split(128, 1);  // gates i, j, f, o
      c = torch::sigmoid(a[2] + 1.0) * c + torch::sigmoid(a[0]) * torch::tanh(a[1]);
      h = torch::sigmoid(a[3]) * torch::tanh(c);
      const Tensor d2 = torch::relu(deconv3(dec3->forward(h))) + e2;
      const Tensor d1 = torch::relu(deconv2(dec2->forward(d2))) + e1;
      previous = out(dec1->forward(d1));
      preds.push_back(previous);
    }
    return preds;
  }
  tnn::Sequential enc1{nullptr}, enc2{nullptr}, enc3{nullptr}, dec3{nullptr}, dec2{nullptr}, dec1{nullptr};
  tnn::Conv2d lstm{nullptr}, out{nullptr};
  tnn::ConvTranspose2d deconv3{nullptr}, deconv2{nullptr};
};
TORCH_MODULE(SRN);

Tensor srn_loss(const std::vector<Tensor>& preds, const Tensor& sharp) {
  Tensor total;
  for (const Tensor& p : preds) {
    Tensor t = F::mse_loss(p, bilinear(sharp, p.size(2), p.size(3)));
    total = total.defined() ? total + t : t;
  }
  return total;
}

// ---- CycleGAN (pytorch-CycleGAN-and-pix2pix networks.py): resnet_9blocks G, 70x70 PatchGAN D ------
tnn::InstanceNorm2d instance_norm(int64_t c) {
  return tnn::InstanceNorm2d(tnn::InstanceNorm2dOptions(c).affine(false).track_running_stats(false));
}

struct ResnetBlockImpl : tnn::Module {
  explicit ResnetBlockImpl(int64_t d) {
    conv_block->push_back(tnn::ReflectionPad2d(1));
    conv_block->push_back(tnn::Conv2d(conv_opts(d, d, 3)));
    conv_block->push_back(instance_norm(d));
    conv_block->push_back(tnn::ReLU(tnn::ReLUOptions(true)));
    conv_block->push_back(tnn::ReflectionPad2d(1));
    conv_block->push_back(tnn::Conv2d(conv_opts(d, d, 3)));
    conv_block->push_back(instance_norm(d));
    register_module("conv_block", conv_block);
  }
  Tensor forward(const Tensor& x) { return x + conv_block->forward(x); }
  tnn::Sequential conv_block;
};
TORCH_MODULE(ResnetBlock);

tnn::Sequential resnet_generator() {
  tnn::Sequential s;
  s->push_back(tnn::ReflectionPad2d(3));
  s->push_back(tnn::Conv2d(conv_opts(3, 64, 7)));
  s->push_back(instance_norm(64));
  s->push_back(tnn::ReLU(tnn::ReLUOptions(true)));
  for (int64_t c = 64; c < 256; c *= 2) {
    s->push_back(tnn::Conv2d(conv_opts(c, 2 * c, 3, 2, 1)));
    s->push_back(instance_norm(2 * c));
    s->push_back(tnn::ReLU(tnn::ReLUOptions(true)));
  }
  for (int i = 0; i < 9; ++i) s->push_back(ResnetBlock(256));
  for (int64_t c = 256; c > 64; c /= 2) {
    s->push_back(tnn::ConvTranspose2d(tnn::ConvTranspose2dOptions(c, c / 2, 3).stride(2).padding(1).output_padding(1)));
    s->push_back(instance_norm(c / 2));
    s->push_back(tnn::ReLU(tnn::ReLUOptions(true)));
  }
  s->push_back(tnn::ReflectionPad2d(3));
  s->push_back(tnn::Conv2d(conv_opts(64, 3, 7)));
  s->push_back(tnn::Tanh());
  return s;
}

tnn::Sequential patchgan_discriminator() {
  auto lrelu = [] { return tnn::LeakyReLU(tnn::LeakyReLUOptions().negative_slope(0.2).inplace(true)); };
  tnn::Sequential s;
  s->push_back(tnn::Conv2d(conv_opts(3, 64, 4, 2, 1)));
  s->push_back(lrelu());
  const int64_t ch[] = {64, 128, 256, 512};
  for (int i = 1; i < 4; ++i) {
    s->push_back(tnn::Conv2d(conv_opts(ch[i - 1], ch[i], 4, i < 3 ? 2 : 1, 1)));
    s->push_back(instance_norm(ch[i]));
    s->push_back(lrelu());
  }
  s->push_back(tnn::Conv2d(conv_opts(512, 1, 4, 1, 1)));
  return s;
}

void init_normal(tnn::Module& m, double gain) {  // init_weights('normal', 0.02)
  torch::NoGradGuard no_grad;
  for (auto& p : m.named_parameters()) {
    const std::string& k = p.key();
    if (k.size() >= 4 && k.compare(k.size() - 4, 4, "bias") == 0) p.value().zero_();
    else p.value().normal_(0.0, gain);
  }
}

// ---- the demo's DemoNet (examples/demo_net.hpp) ---------------------------------------------------
struct DemoNetImpl : tnn::Module {
  DemoNetImpl() {
    head = register_module("head", tnn::Conv2d(conv_opts(3, 32, 3, 1, 1)));
    down = register_module("down", tnn::Conv2d(conv_opts(32, 64, 3, 2, 1)));
    for (int i = 0; i < 4; ++i) body->push_back(ResBlock(64, 3));
    register_module("body", body);
    up = register_module("up", tnn::ConvTranspose2d(tnn::ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1)));
    tail = register_module("tail", tnn::Conv2d(conv_opts(32, 3, 3, 1, 1)));
  }
  Tensor forward(const Tensor& b) {
    const Tensor h = torch::relu(head(b - 0.5));
    const Tensor u = torch::relu(up(body->forward(torch::relu(down(h)))) + h);
    return b + tail(u);
  }
  tnn::Conv2d head{nullptr}, down{nullptr}, tail{nullptr};
  tnn::ConvTranspose2d up{nullptr};
  tnn::Sequential body;
};
TORCH_MODULE(DemoNet);

// ---- runners: the same steps as bench_models_crisp.cpp ----------------------------------------------
using torch::optim::Adam;
using torch::optim::AdamOptions;

int64_t count(const std::vector<Tensor>& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

class Base : public Runner {
 public:
  double last_value() const override { return value_.defined() ? value_.sum().item<double>() : 0.0; }

 protected:
  Tensor value_;
};

class SemanticDeblur : public Base {
 public:
  int64_t parameters() override { return count(net_->parameters()) + (adam_d_ ? count(disc_->parameters()) + count(vgg_->parameters()) : 0); }
  explicit SemanticDeblur(Mode mode) : mode_(mode) {
    blurred_ = rand_in({4, 3, 128, 128});
    sharp_ = rand_in({4, 3, 128, 128});
    probs_ = torch::softmax(torch::randn({4, 11, 128, 128}), 1);
    if (mode == Mode::Infer) {
      net_->eval();
      return;
    }
    // component masks: 5 channels, each pixel in at most one (classes 2..9 of 11)
    const Tensor cls = torch::randint(11, {4, 128, 128});
    const Tensor comp = torch::tensor({-1, -1, 0, 0, 1, 1, 2, 3, 4, 3, -1}).index_select(0, cls.flatten()).view({4, 1, 128, 128});
    masks_ = (comp == torch::arange(5).view({1, 5, 1, 1})).to(torch::kFloat);
    for (auto& p : vgg_->parameters()) p.requires_grad_(false);
    vgg_->eval();
    adam_ = std::make_unique<Adam>(net_->parameters(), AdamOptions(4e-5));
    adam_d_ = std::make_unique<Adam>(disc_->parameters(), AdamOptions(4e-5).betas({0.5, 0.999}));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      torch::NoGradGuard no_grad;
      value_ = net_(blurred_, probs_).second;
      return;
    }
    const Tensor sharp1 = F::avg_pool2d(sharp_, F::AvgPool2dFuncOptions(2));
    const Tensor masks1 = F::max_pool2d(masks_, F::MaxPool2dFuncOptions(2));
    const auto [s1, s2] = net_(blurred_, probs_);
    disc_->zero_grad(true);
    Tensor ld = (bce_to(disc_->forward(sharp_), 1.f) + bce_to(disc_->forward(s2.detach()), 0.f)) * 0.5;
    ld.backward();
    adam_d_->step();
    net_->zero_grad(true);
    auto masked_l1 = [](const Tensor& a, const Tensor& b, const Tensor& m) {  // crisp::loss::masked_l1, Mean
      return (m.abs().sum(1, true) * (a - b).abs()).sum() / static_cast<double>(a.numel());
    };
    Tensor total = F::l1_loss(s1, sharp1) + F::l1_loss(s2, sharp_);
    total = total + (masked_l1(s1, sharp1, masks1) + masked_l1(s2, sharp_, masks_)) * 50.0;
    total = total + perceptual(vgg_, s2, sharp_) * 1e-5;
    total = total + bce_to(disc_->forward(s2), 1.f) * 5e-5;
    total.backward();
    adam_->step();
    value_ = total.detach();
  }

 private:
  Mode mode_;
  SemanticDeblurNet net_;
  tnn::Sequential disc_ = dcgan_discriminator();
  VGG16 vgg_;
  Tensor blurred_, sharp_, probs_, masks_;
  std::unique_ptr<Adam> adam_, adam_d_;
};

class FaceParsing : public Base {
 public:
  int64_t parameters() override { return count(net_->parameters()); }
  explicit FaceParsing(Mode mode) : mode_(mode) {
    x_ = rand_in({4, 3, 128, 128});
    if (mode == Mode::Infer) {
      net_->eval();
      return;
    }
    y_ = torch::randint(11, {4, 128, 128});
    weight_ = 1.0 + 0.1 * torch::arange(11, torch::kFloat);
    adam_ = std::make_unique<Adam>(net_->parameters(), AdamOptions(1e-3));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      torch::NoGradGuard no_grad;
      value_ = torch::softmax(net_(x_), 1);
      return;
    }
    net_->zero_grad(true);
    Tensor l = F::cross_entropy(net_(x_), y_, F::CrossEntropyFuncOptions().weight(weight_));
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  FaceParsingNet net_;
  Tensor x_, y_, weight_;
  std::unique_ptr<Adam> adam_;
};

class DCGAN : public Base {
 public:
  int64_t parameters() override { return count(disc_->parameters()); }
  explicit DCGAN(Mode mode) : mode_(mode) {
    real_ = rand_in({4, 3, 128, 128});
    fake_ = rand_in({4, 3, 128, 128});
    if (mode == Mode::Infer) disc_->eval();
    else adam_ = std::make_unique<Adam>(disc_->parameters(), AdamOptions(4e-5).betas({0.5, 0.999}));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      torch::NoGradGuard no_grad;
      value_ = disc_->forward(real_).view({-1, 1});
      return;
    }
    disc_->zero_grad(true);
    Tensor l = (bce_to(disc_->forward(real_), 1.f) + bce_to(disc_->forward(fake_), 0.f)) * 0.5;
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  tnn::Sequential disc_ = dcgan_discriminator();
  Tensor real_, fake_;
  std::unique_ptr<Adam> adam_;
};

class VGG : public Base {
 public:
  int64_t parameters() override { return count(vgg_->parameters()); }
  explicit VGG(Mode mode) : mode_(mode) {
    for (auto& p : vgg_->parameters()) p.requires_grad_(false);
    vgg_->eval();
    x_ = rand_in({4, 3, 128, 128});
    target_ = rand_in({4, 3, 128, 128});
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      torch::NoGradGuard no_grad;
      value_ = vgg_(x_)[1];
      return;
    }
    const Tensor x = x_.detach().requires_grad_(true);
    Tensor l = perceptual(vgg_, x, target_);
    l.backward();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  VGG16 vgg_;
  Tensor x_, target_;
};

class SRNRunner : public Base {
 public:
  int64_t parameters() override { return count(net_->parameters()); }
  explicit SRNRunner(Mode mode) : mode_(mode) {
    blurred_ = rand_in({4, 3, 256, 256});
    sharp_ = rand_in({4, 3, 256, 256});
    if (mode == Mode::Train) adam_ = std::make_unique<Adam>(net_->parameters(), AdamOptions(1e-4));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      torch::NoGradGuard no_grad;
      value_ = net_(blurred_).back();
      return;
    }
    net_->zero_grad(true);
    Tensor l = srn_loss(net_(blurred_), sharp_);
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  SRN net_;
  Tensor blurred_, sharp_;
  std::unique_ptr<Adam> adam_;
};

class CycleGANG : public Base {
 public:
  int64_t parameters() override { return count(g_->parameters()); }
  explicit CycleGANG(Mode mode) : mode_(mode) {
    init_normal(*g_, 0.02);
    x_ = rand_in({1, 3, 256, 256}, -1.f, 1.f);
    y_ = rand_in({1, 3, 256, 256}, -1.f, 1.f);
    if (mode == Mode::Train) adam_ = std::make_unique<Adam>(g_->parameters(), AdamOptions(2e-4).betas({0.5, 0.999}));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      torch::NoGradGuard no_grad;
      value_ = g_->forward(x_);
      return;
    }
    g_->zero_grad(true);
    Tensor l = F::l1_loss(g_->forward(x_), y_) * 10.0;
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  tnn::Sequential g_ = resnet_generator();
  Tensor x_, y_;
  std::unique_ptr<Adam> adam_;
};

class PatchGAN : public Base {
 public:
  int64_t parameters() override { return count(d_->parameters()); }
  explicit PatchGAN(Mode mode) : mode_(mode) {
    init_normal(*d_, 0.02);
    real_ = rand_in({1, 3, 256, 256}, -1.f, 1.f);
    fake_ = rand_in({1, 3, 256, 256}, -1.f, 1.f);
    if (mode == Mode::Train) adam_ = std::make_unique<Adam>(d_->parameters(), AdamOptions(2e-4).betas({0.5, 0.999}));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      torch::NoGradGuard no_grad;
      value_ = d_->forward(real_);
      return;
    }
    d_->zero_grad(true);
    const Tensor r = d_->forward(real_), f = d_->forward(fake_);
    Tensor l = (F::mse_loss(r, torch::ones_like(r)) + F::mse_loss(f, torch::zeros_like(f))) * 0.5;
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  tnn::Sequential d_ = patchgan_discriminator();
  Tensor real_, fake_;
  std::unique_ptr<Adam> adam_;
};

class Demo : public Base {
 public:
  int64_t parameters() override { return count(net_->parameters()); }
  explicit Demo(Mode mode) : mode_(mode) {
    blurred_ = rand_in({8, 3, 48, 48});
    sharp_ = rand_in({8, 3, 48, 48});
    if (mode == Mode::Train) adam_ = std::make_unique<Adam>(net_->parameters(), AdamOptions(2e-3));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      torch::NoGradGuard no_grad;
      value_ = net_(blurred_);
      return;
    }
    net_->zero_grad(true);
    Tensor l = F::l1_loss(net_(blurred_), sharp_);
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  DemoNet net_;
  Tensor blurred_, sharp_;
  std::unique_ptr<Adam> adam_;
};

}  // namespace

std::unique_ptr<Runner> make_torch(const std::string& model, Mode mode) {
  torch::manual_seed(20261202);
  if (model == "semantic_deblur") return std::make_unique<SemanticDeblur>(mode);
  if (model == "face_parsing") return std::make_unique<FaceParsing>(mode);
  if (model == "dcgan_d") return std::make_unique<DCGAN>(mode);
  if (model == "vgg16") return std::make_unique<VGG>(mode);
  if (model == "srn") return std::make_unique<SRNRunner>(mode);
  if (model == "cyclegan_g") return std::make_unique<CycleGANG>(mode);
  if (model == "patchgan_d") return std::make_unique<PatchGAN>(mode);
  if (model == "demo") return std::make_unique<Demo>(mode);
  throw std::invalid_argument("bench_models: unknown model '" + model + "'");
}

void torch_set_threads(int n) { at::set_num_threads(n); }
std::string torch_version() { return TORCH_VERSION; }

}  // namespace bench_models
