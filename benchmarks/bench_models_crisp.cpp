// bench_models, crisp's side: the papers' networks and the demo's net, each with the train step its
// training program takes (examples/train_*.cpp, examples/demo.cpp) or a no-grad forward.
// bench_models_torch.cpp builds the same networks and steps with torch::nn; keep the two in step.
#include <omp.h>

#include <crisp/crisp.hpp>
#include <crisp/models/models.hpp>

#include <stdexcept>

#include "bench_models.hpp"
#include "demo_net.hpp"  // examples/: the demo's DemoNet

namespace bench_models {
namespace {

using crisp::Generator;
using crisp::Tensor;
namespace models = crisp::models;
namespace loss = crisp::loss;
using crisp::optim::Adam;
using crisp::optim::AdamOptions;
using crisp::optim::Betas;

Tensor<float> scaled(const Tensor<float>& t, float s) { return crisp::mul(t, crisp::scalar_tensor<float>(s)); }
Tensor<float> bce_to(const Tensor<float>& p, float label) { return loss::bce(p, crisp::full<float>(p.shape(), label)); }

// Helen's component masks (eyebrows, eyes, nose, lips, inner mouth) from a random class map: the
// structural loss's input, which the training program computes from the parser (data, not timed).
Tensor<float> component_masks(int64_t n, int64_t h, int64_t w, Generator& gen) {
  Tensor<float> m = crisp::zeros<float>({n, 5, h, w});
  float* p = m.data();
  static const int kComponent[11] = {-1, -1, 0, 0, 1, 1, 2, 3, 4, 3, -1};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < h * w; ++y) {
      const int k = kComponent[gen.uniform_int(11)];
      if (k >= 0) p[(i * 5 + k) * h * w + y] = 1.f;
    }
  return m;
}

int64_t count(const std::vector<Tensor<float>>& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

class Base : public Runner {
 public:
  double last_value() const override {
    if (!value_.defined()) return 0;
    return static_cast<double>(crisp::sum(value_.detach()).item());
  }

 protected:
  Generator gen_{20261202};
  Tensor<float> value_;  // the last loss (train) or output (inference)
};

// ---- SemanticDeblurNet b4@128: the training program's full step -----------------------------
// D step: 0.5 (BCE(D(sharp), 1) + BCE(D(out.detach()), 0)), Adam (betas 0.5, 0.999). G step:
// L1 at both scales + 50 masked L1 at both scales + 1e-5 VGG16 pool2+pool5 MSE + 5e-5 BCE(D(out), 1),
// backward, Adam. Parser probabilities and component masks are inputs (the parser has its own row).
class SemanticDeblur : public Base {
 public:
  int64_t parameters() override { return count(net_->parameters()) + (!disc_.is_empty() ? count(disc_->parameters()) + count(vgg_->parameters()) : 0); }
  explicit SemanticDeblur(Mode mode) : mode_(mode) {
    net_ = models::SemanticDeblurNet(models::SemanticDeblurNetOptions(), gen_);
    blurred_ = crisp::rand<float>({4, 3, 128, 128}, gen_);
    sharp_ = crisp::rand<float>({4, 3, 128, 128}, gen_);
    probs_ = crisp::softmax(crisp::randn<float>({4, 11, 128, 128}, gen_), 1);
    if (mode == Mode::Infer) {
      net_->eval();
      return;
    }
    masks_ = component_masks(4, 128, 128, gen_);
    disc_ = models::DCGANDiscriminator(models::DCGANDiscriminatorOptions().image_size(128), gen_);
    vgg_ = models::VGG16Features(models::VGG16FeaturesOptions(), gen_);
    for (auto& p : vgg_->parameters()) p.requires_grad_(false);
    vgg_->eval();
    adam_ = std::make_unique<Adam>(net_->parameters(), AdamOptions(4e-5));
    adam_d_ = std::make_unique<Adam>(disc_->parameters(), AdamOptions(4e-5).betas(Betas{0.5, 0.999}));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      crisp::NoGradGuard no_grad;
      value_ = net_(blurred_, probs_).scale2;
      return;
    }
    const Tensor<float> sharp1 = crisp::avg_pool2d(sharp_, 2);
    const Tensor<float> masks1 = crisp::max_pool2d(masks_, 2);
    const auto out = net_(blurred_, probs_);
    adam_d_->zero_grad();
    Tensor<float> ld = scaled(crisp::add(bce_to(disc_(sharp_), 1.f), bce_to(disc_(out.scale2.detach()), 0.f)), 0.5f);
    ld.backward();
    adam_d_->step();
    adam_->zero_grad();
    Tensor<float> total = crisp::add(loss::l1(out.scale1, sharp1), loss::l1(out.scale2, sharp_));
    const Tensor<float> t1 = loss::masked_l1(out.scale1, sharp1, masks1, loss::Reduction::Mean);
    const Tensor<float> t2 = loss::masked_l1(out.scale2, sharp_, masks_, loss::Reduction::Mean);
    total = crisp::add(total, scaled(crisp::add(t1, t2), 50.f));
    auto features = [&](const Tensor<float>& x) {
      auto f = vgg_->forward(x, std::vector<std::string>{"pool2", "pool5"});
      return std::vector<Tensor<float>>{f.at("pool2"), f.at("pool5")};
    };
    total = crisp::add(total, scaled(loss::perceptual(out.scale2, sharp_, features), 1e-5f));
    total = crisp::add(total, scaled(bce_to(disc_(out.scale2), 1.f), 5e-5f));
    total.backward();
    adam_->step();
    value_ = total.detach();
  }

 private:
  Mode mode_;
  models::SemanticDeblurNet net_{nullptr};
  models::DCGANDiscriminator disc_{nullptr};
  models::VGG16Features vgg_{nullptr};
  Tensor<float> blurred_, sharp_, probs_, masks_;
  std::unique_ptr<Adam> adam_, adam_d_;
};

// ---- FaceParsingNet b4@128: weighted cross-entropy over Helen's 11 classes, Adam ------------------
class FaceParsing : public Base {
 public:
  int64_t parameters() override { return count(net_->parameters()); }
  explicit FaceParsing(Mode mode) : mode_(mode) {
    net_ = models::FaceParsingNet(models::FaceParsingNetOptions(), gen_);
    x_ = crisp::rand<float>({4, 3, 128, 128}, gen_);
    if (mode == Mode::Infer) {
      net_->eval();
      return;
    }
    std::vector<int64_t> labels(4 * 128 * 128);
    for (auto& l : labels) l = static_cast<int64_t>(gen_.uniform_int(11));
    y_ = crisp::from_vector<int64_t>(labels, {4, 128, 128});
    std::vector<float> w(11);
    for (size_t k = 0; k < w.size(); ++k) w[k] = 1.f + 0.1f * static_cast<float>(k);
    weight_ = crisp::from_vector<float>(w);
    adam_ = std::make_unique<Adam>(net_->parameters(), AdamOptions(1e-3));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      crisp::NoGradGuard no_grad;
      value_ = net_->probabilities(x_);
      return;
    }
    adam_->zero_grad();
    Tensor<float> l = loss::cross_entropy(net_(x_), y_, weight_);
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  models::FaceParsingNet net_{nullptr};
  Tensor<float> x_, weight_;
  Tensor<int64_t> y_;
  std::unique_ptr<Adam> adam_;
};

// ---- DCGAN discriminator b4@128: the semantic program's D step ----------------------------------
class DCGAN : public Base {
 public:
  int64_t parameters() override { return count(disc_->parameters()); }
  explicit DCGAN(Mode mode) : mode_(mode) {
    disc_ = models::DCGANDiscriminator(models::DCGANDiscriminatorOptions().image_size(128), gen_);
    real_ = crisp::rand<float>({4, 3, 128, 128}, gen_);
    fake_ = crisp::rand<float>({4, 3, 128, 128}, gen_);
    if (mode == Mode::Infer) disc_->eval();
    else adam_ = std::make_unique<Adam>(disc_->parameters(), AdamOptions(4e-5).betas(Betas{0.5, 0.999}));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      crisp::NoGradGuard no_grad;
      value_ = disc_(real_);
      return;
    }
    adam_->zero_grad();
    Tensor<float> l = scaled(crisp::add(bce_to(disc_(real_), 1.f), bce_to(disc_(fake_), 0.f)), 0.5f);
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  models::DCGANDiscriminator disc_{nullptr};
  Tensor<float> real_, fake_;
  std::unique_ptr<Adam> adam_;
};

// ---- VGG16 features b4@128: the perceptual loss (frozen; gradient to the input, no optimiser) ----
class VGG : public Base {
 public:
  int64_t parameters() override { return count(vgg_->parameters()); }
  explicit VGG(Mode mode) : mode_(mode) {
    vgg_ = models::VGG16Features(models::VGG16FeaturesOptions(), gen_);
    for (auto& p : vgg_->parameters()) p.requires_grad_(false);
    vgg_->eval();
    x_ = crisp::rand<float>({4, 3, 128, 128}, gen_);
    target_ = crisp::rand<float>({4, 3, 128, 128}, gen_);
  }
  void step() override {
    auto features = [&](const Tensor<float>& x) {
      auto f = vgg_->forward(x, std::vector<std::string>{"pool2", "pool5"});
      return std::vector<Tensor<float>>{f.at("pool2"), f.at("pool5")};
    };
    if (mode_ == Mode::Infer) {
      crisp::NoGradGuard no_grad;
      value_ = features(x_)[1];
      return;
    }
    Tensor<float> x = x_.detach();
    x.requires_grad_(true);
    Tensor<float> l = loss::perceptual(x, target_, features);
    l.backward();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  models::VGG16Features vgg_{nullptr};
  Tensor<float> x_, target_;
};

// ---- SRN b4@256: the multiscale MSE loss, Adam ---------------------------------------------------
class SRN : public Base {
 public:
  int64_t parameters() override { return count(net_->parameters()); }
  explicit SRN(Mode mode) : mode_(mode) {
    net_ = models::SRN(models::SRNOptions(), gen_);
    blurred_ = crisp::rand<float>({4, 3, 256, 256}, gen_);
    sharp_ = crisp::rand<float>({4, 3, 256, 256}, gen_);
    if (mode == Mode::Train) adam_ = std::make_unique<Adam>(net_->parameters(), AdamOptions(1e-4));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      crisp::NoGradGuard no_grad;
      value_ = net_(blurred_).back();
      return;
    }
    adam_->zero_grad();
    Tensor<float> l = models::srn_multiscale_loss(net_(blurred_), sharp_);
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  models::SRN net_{nullptr};
  Tensor<float> blurred_, sharp_;
  std::unique_ptr<Adam> adam_;
};

// ---- CycleGAN ResnetGenerator b1@256: the cycle-consistency term 10 L1(G(x), y), Adam ------------
class CycleGANG : public Base {
 public:
  int64_t parameters() override { return count(g_->parameters()); }
  explicit CycleGANG(Mode mode) : mode_(mode) {
    g_ = models::ResnetGenerator(models::ResnetGeneratorOptions(3, 3), gen_);
    models::init_cyclegan_weights(g_, 0.02, gen_);
    x_ = crisp::rand<float>({1, 3, 256, 256}, gen_, -1.f, 1.f);
    y_ = crisp::rand<float>({1, 3, 256, 256}, gen_, -1.f, 1.f);
    if (mode == Mode::Train) adam_ = std::make_unique<Adam>(g_->parameters(), AdamOptions(2e-4).betas(Betas{0.5, 0.999}));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      crisp::NoGradGuard no_grad;
      value_ = g_(x_);
      return;
    }
    adam_->zero_grad();
    Tensor<float> l = scaled(loss::l1(g_(x_), y_), 10.f);
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  models::ResnetGenerator g_{nullptr};
  Tensor<float> x_, y_;
  std::unique_ptr<Adam> adam_;
};

// ---- PatchGAN NLayerDiscriminator b1@256: the LSGAN D step ---------------------------------------
class PatchGAN : public Base {
 public:
  int64_t parameters() override { return count(d_->parameters()); }
  explicit PatchGAN(Mode mode) : mode_(mode) {
    d_ = models::NLayerDiscriminator(models::NLayerDiscriminatorOptions(3), gen_);
    models::init_cyclegan_weights(d_, 0.02, gen_);
    real_ = crisp::rand<float>({1, 3, 256, 256}, gen_, -1.f, 1.f);
    fake_ = crisp::rand<float>({1, 3, 256, 256}, gen_, -1.f, 1.f);
    if (mode == Mode::Train) adam_ = std::make_unique<Adam>(d_->parameters(), AdamOptions(2e-4).betas(Betas{0.5, 0.999}));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      crisp::NoGradGuard no_grad;
      value_ = d_(real_);
      return;
    }
    adam_->zero_grad();
    Tensor<float> l = loss::gan_discriminator_loss(d_(real_), d_(fake_), loss::GanMode::LeastSquares);
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  models::NLayerDiscriminator d_{nullptr};
  Tensor<float> real_, fake_;
  std::unique_ptr<Adam> adam_;
};

// ---- the demo: DemoNet (32 channels, 4 ResBlocks), 8 crops of 48x48, L1, Adam 2e-3 -------------
class Demo : public Base {
 public:
  int64_t parameters() override { return count(net_->parameters()); }
  explicit Demo(Mode mode) : mode_(mode) {
    net_ = crisp::examples::DemoNet(crisp::examples::DemoNetOptions(), gen_);
    blurred_ = crisp::rand<float>({8, 3, 48, 48}, gen_);
    sharp_ = crisp::rand<float>({8, 3, 48, 48}, gen_);
    if (mode == Mode::Train) adam_ = std::make_unique<Adam>(net_->parameters(), AdamOptions(2e-3));
  }
  void step() override {
    if (mode_ == Mode::Infer) {
      crisp::NoGradGuard no_grad;
      value_ = net_(blurred_);
      return;
    }
    adam_->zero_grad();
    Tensor<float> l = loss::l1(net_(blurred_), sharp_);
    l.backward();
    adam_->step();
    value_ = l.detach();
  }

 private:
  Mode mode_;
  crisp::examples::DemoNet net_{nullptr};
  Tensor<float> blurred_, sharp_;
  std::unique_ptr<Adam> adam_;
};

}  // namespace

std::vector<std::string> model_names() {
  return {"semantic_deblur", "face_parsing", "dcgan_d", "vgg16", "srn", "cyclegan_g", "patchgan_d", "demo"};
}

std::string model_size(const std::string& model) {
  if (model == "srn") return "b4@256";
  if (model == "cyclegan_g" || model == "patchgan_d") return "b1@256";
  if (model == "demo") return "b8@48";
  return "b4@128";
}

std::unique_ptr<Runner> make_crisp(const std::string& model, Mode mode) {
  if (model == "semantic_deblur") return std::make_unique<SemanticDeblur>(mode);
  if (model == "face_parsing") return std::make_unique<FaceParsing>(mode);
  if (model == "dcgan_d") return std::make_unique<DCGAN>(mode);
  if (model == "vgg16") return std::make_unique<VGG>(mode);
  if (model == "srn") return std::make_unique<SRN>(mode);
  if (model == "cyclegan_g") return std::make_unique<CycleGANG>(mode);
  if (model == "patchgan_d") return std::make_unique<PatchGAN>(mode);
  if (model == "demo") return std::make_unique<Demo>(mode);
  throw std::invalid_argument("bench_models: unknown model '" + model + "'");
}

void crisp_set_threads(int n) { omp_set_num_threads(n); }

}  // namespace bench_models
