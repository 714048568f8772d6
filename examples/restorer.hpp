// Restorer: any restoring model crisp's examples train, behind one call, for deblur and evaluate -
// the semantic face deblurring net (train_semantic_deblur), SRN (train_srn), CycleGAN's
// blurred -> sharp generator (train_cyclegan's G_B, the second paper's "Zhu et al." row) and the
// demo's DemoNet (demo). The kind is read from the weights' metadata ("model"), so one
// --weights FILE is enough; --model names it for files without metadata (e.g. exported from
// PyTorch), and a file whose metadata says otherwise is an error.
#pragma once

#include <crisp/crisp.hpp>
#include <crisp/models/models.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "demo_net.hpp"
#include "semantic_common.hpp"

namespace crisp::examples {

namespace restorer_detail {
namespace sem = crisp::examples::semantic;

inline int64_t meta_int(const sem::Meta& m, const std::string& key, int64_t fallback, const std::string& path,
                        const std::string& who) {
  auto it = m.find(key);
  if (it == m.end()) return fallback;
  try {
    size_t used = 0;
    const int64_t v = std::stoll(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  throw IoError(who + ": '" + path + "' has the metadata " + key + " = '" + it->second + "', expected an integer");
}

// metadata "model" -> the --model name.
inline std::string kind_of(const std::string& metadata_model) {
  if (metadata_model == "SemanticDeblurNet") return "semantic";
  if (metadata_model == "SRN") return "srn";
  if (metadata_model == "ResnetGenerator") return "cyclegan";
  if (metadata_model == "DemoNet") return "demo";
  return "";
}
}  // namespace restorer_detail

// The restoring models this header rebuilds, as --model names.
inline const std::vector<std::string>& restorer_kinds() {
  static const std::vector<std::string> k{"semantic", "srn", "cyclegan", "demo"};
  return k;
}

// [N, 3, H, W] blurred in [0, 1] -> restored, clamped to [0, 1]. Inputs of any size: each image is
// replicate-padded to the size the model needs and the output cropped back. model "auto" (or "")
// reads the kind from the metadata. `parsing` ("" = the path recorded in the semantic net's
// metadata) feeds the semantic net's parser. Models run on `device`; inputs and outputs are CPU.
class Restorer {
 public:
  Restorer(std::string model, const std::string& weights, std::string parsing, const std::string& who,
           Device device = Device::cpu())
      : device_(device) {
    namespace sem = restorer_detail::sem;
    const auto& kinds = restorer_kinds();
    CRISP_CHECK(model.empty() || model == "auto" || std::find(kinds.begin(), kinds.end(), model) != kinds.end(),
                ValueError, who, "expected --model auto, semantic, srn, cyclegan or demo, got '", model, "'");
    CRISP_CHECK(sem::fs::is_regular_file(weights), IoError, who, "--weights '", weights,
                "' does not exist (train one with train_semantic_deblur, train_srn, train_cyclegan or demo)");
    const sem::Meta m = io::load_safetensors_metadata(weights);
    auto it = m.find("model");
    const std::string recorded = it == m.end() ? "" : restorer_detail::kind_of(it->second);
    if (it != m.end())
      CRISP_CHECK(!recorded.empty(), ValueError, who, "'", weights, "' holds a ", it->second,
                  ", not a restoring model; expected the weights of SemanticDeblurNet (train_semantic_deblur), SRN "
                  "(train_srn), ResnetGenerator (train_cyclegan's G_B) or DemoNet (demo)");
    if (model.empty() || model == "auto") {
      CRISP_CHECK(!recorded.empty(), ValueError, who, "'", weights,
                  "' has no \"model\" metadata to tell what it is; pass --model semantic, srn, cyclegan or demo");
      model = recorded;
    }
    CRISP_CHECK(recorded.empty() || recorded == model, ValueError, who, "--model ", model, " but '", weights,
                "' holds ", it == m.end() ? "" : it->second, " weights (--model ", recorded, ")");
    kind_ = model;
    if (model == "semantic") {
      net_ = std::make_unique<models::SemanticDeblurNet>(sem::load_deblur_net(weights, who));
      if (parsing.empty())
        if (auto p = m.find("parsing"); p != m.end()) parsing = p->second;
      if ((*net_)->options.semantics()) {
        CRISP_CHECK(!parsing.empty(), ValueError, who, "the semantic model '", weights,
                    "' needs --parsing weights.safetensors (its metadata names none)");
        parser_ = std::make_unique<models::FaceParsingNet>(sem::load_parser(parsing, who));
      }
      multiple_ = parser_ ? 32 : 2;
      description_ = "SemanticDeblurNet" + std::string(parser_ ? " + FaceParsingNet" : " (no semantics)");
    } else if (model == "srn") {
      models::SRNOptions o;
      o.channels(restorer_detail::meta_int(m, "channels", 3, weights, who))
          .scales(restorer_detail::meta_int(m, "scales", 3, weights, who));
      o.base_channels(restorer_detail::meta_int(m, "base_channels", 32, weights, who))
          .num_resblocks(restorer_detail::meta_int(m, "num_resblocks", 3, weights, who));
      o.kernel_size(restorer_detail::meta_int(m, "kernel_size", 5, weights, who));
      if (auto s = m.find("scale_factor"); s != m.end()) o.scale_factor(std::stod(s->second));
      CRISP_CHECK(o.channels() == 1 || o.channels() == 3, ValueError, who, "expected an SRN of 1 or 3 channels, '",
                  weights, "' has ", o.channels());
      srn_ = std::make_unique<models::SRN>(o);
      load(**srn_, weights, who);
      multiple_ = int64_t{4} << (o.scales() - 1);
      description_ = "SRN (" + std::to_string(o.scales()) + " scales, " + std::to_string(o.channels()) + " channels)";
    } else if (model == "cyclegan") {
      if (auto d = m.find("direction"); d != m.end())
        CRISP_CHECK(d->second.rfind("B->A", 0) == 0, ValueError, who, "'", weights, "' is CycleGAN's ", d->second,
                    " generator; deblurring needs the blurred -> sharp one (train_cyclegan's G_B.safetensors)");
      if (auto n = m.find("norm"); n != m.end())
        CRISP_CHECK(n->second == "instance", ValueError, who, "'", weights, "' uses norm '", n->second,
                    "', expected an instance-norm ResnetGenerator");
      auto o = models::ResnetGeneratorOptions(restorer_detail::meta_int(m, "input_nc", 3, weights, who),
                                              restorer_detail::meta_int(m, "output_nc", 3, weights, who))
                   .ngf(restorer_detail::meta_int(m, "ngf", 64, weights, who))
                   .n_blocks(restorer_detail::meta_int(m, "n_blocks", 9, weights, who));
      CRISP_CHECK(o.input_nc() == 3 && o.output_nc() == 3, ValueError, who, "'", weights, "' maps ", o.input_nc(),
                  " to ", o.output_nc(), " channels, expected an RGB -> RGB generator");
      gen_ = std::make_unique<models::ResnetGenerator>(o);
      load(**gen_, weights, who);
      multiple_ = 4;
      description_ = "CycleGAN ResnetGenerator B->A (ngf " + std::to_string(o.ngf()) + ", " +
                     std::to_string(o.n_blocks()) + " blocks)";
    } else if (model == "demo") {
      DemoNetOptions o;
      o.channels(restorer_detail::meta_int(m, "channels", 32, weights, who))
          .blocks(restorer_detail::meta_int(m, "blocks", 4, weights, who));
      Generator init(0);
      demo_ = std::make_unique<DemoNet>(o, init);
      load(**demo_, weights, who);
      multiple_ = 2;
      description_ =
          "DemoNet (" + std::to_string(o.channels()) + " channels, " + std::to_string(o.blocks()) + " blocks)";
    } else {
      throw ValueError(who + ": expected --model auto, semantic, srn, cyclegan or demo, got '" + model + "'");
    }
    for (nn::Module* mod : modules()) {
      mod->eval();
      if (!device_.is_cpu()) mod->to(device_);
    }
  }

  bool has_parser() const { return parser_ != nullptr; }
  const std::string& kind() const { return kind_; }
  const std::string& description() const { return description_; }
  Device device() const { return device_; }

  // Restores `blurred` one image at a time (batch 1: memory, and what Table 4 times); `labels`
  // (when given and the model has a parser) receives the parser's classes [N, H, W].
  Tensor<float> operator()(const Tensor<float>& blurred, Tensor<int64_t>* labels = nullptr) {
    CRISP_CHECK(blurred.dim() == 4 && blurred.size(1) == 3, ShapeError, "Restorer",
                "expected [N, 3, H, W] images, got ", blurred.shape());
    NoGradGuard no_grad;
    std::vector<Tensor<float>> out;
    std::vector<Tensor<int64_t>> labs;
    const int64_t H = blurred.size(2), W = blurred.size(3);
    const int64_t ph = (multiple_ - H % multiple_) % multiple_, pw = (multiple_ - W % multiple_) % multiple_;
    for (int64_t i = 0; i < blurred.size(0); ++i) {
      Tensor<float> b = blurred.slice(0, i, i + 1).contiguous();
      if (ph || pw) b = pad(b, {pw / 2, pw - pw / 2, ph / 2, ph - ph / 2}, PadMode::Replicate);
      if (!device_.is_cpu()) b = b.to(device_);
      Tensor<float> r;
      if (net_) {
        Tensor<float> p;
        if (parser_) {
          p = (*parser_)->probabilities(b);
          if (labels)
            labs.push_back(
                argmax(p, 1).to(Device::cpu()).slice(1, ph / 2, ph / 2 + H).slice(2, pw / 2, pw / 2 + W).contiguous());
        }
        r = (*net_)->forward(b, (*net_)->options.semantics() ? p : Tensor<float>{}).scale2;
      } else if (srn_ && (*srn_)->options.channels() == 3) {
        r = (*srn_)->forward(b).back();
      } else if (srn_) {
        std::vector<Tensor<float>> planes;
        for (int64_t c = 0; c < 3; ++c) planes.push_back((*srn_)->forward(b.slice(1, c, c + 1).contiguous()).back());
        r = cat(planes, 1);
      } else if (gen_) {
        r = (*gen_)->forward(b * 2.f + (-1.f)) * 0.5f + 0.5f;  // the generators work on [-1, 1]
      } else {
        r = (*demo_)->forward(b);
      }
      r = clamp<float>(r, 0.f, 1.f);
      if (!device_.is_cpu()) r = r.to(Device::cpu());  // also waits for the device
      out.push_back(r.slice(2, ph / 2, ph / 2 + H).slice(3, pw / 2, pw / 2 + W).contiguous());
    }
    if (labels && !labs.empty()) *labels = cat(labs, 0);
    return cat(out, 0);
  }

 private:
  template <class Impl>
  static void load(Impl& module, const std::string& weights, const std::string& who) {
    try {
      module.load_state_dict(io::load_safetensors<float>(weights));
    } catch (const Error& e) {
      throw IoError(who + ": '" + weights + "' does not fit the model its metadata describes: " + e.what());
    }
  }
  std::vector<nn::Module*> modules() {
    std::vector<nn::Module*> v;
    if (net_) v.push_back(&**net_);
    if (parser_) v.push_back(&**parser_);
    if (srn_) v.push_back(&**srn_);
    if (gen_) v.push_back(&**gen_);
    if (demo_) v.push_back(&**demo_);
    return v;
  }

  std::string kind_, description_;
  Device device_;
  std::unique_ptr<models::SemanticDeblurNet> net_;
  std::unique_ptr<models::FaceParsingNet> parser_;
  std::unique_ptr<models::SRN> srn_;
  std::unique_ptr<models::ResnetGenerator> gen_;
  std::unique_ptr<DemoNet> demo_;
  int64_t multiple_ = 1;
};

}  // namespace crisp::examples
