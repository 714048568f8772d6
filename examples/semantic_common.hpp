// What the semantic face deblurring programs (train_parsing, train_semantic_deblur, deblur,
// evaluate) share: face loading and blurring, weights files that carry their model's shape, the
// frozen parser, batched inference and the parsing-map colours (restorer.hpp: any trained model).
#pragma once

// Weights files: OUT/parsing.safetensors and OUT/deblur.safetensors are plain state_dicts whose
// safetensors metadata records the options the model was built with ("model", "channels", ...),
// so deblur and evaluate rebuild the right shape without shape flags. A file without that
// metadata (e.g. written by hand from PyTorch) gets the API's default options.
#include <crisp/crisp.hpp>
#include <crisp/models/models.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/cli.hpp"

namespace crisp::examples::semantic {

namespace fs = std::filesystem;
using Meta = std::map<std::string, std::string>;

// "13,15,17" -> {13, 15, 17}; `what` names the option in errors.
inline std::vector<int64_t> parse_int_list(const std::string& s, const std::string& what) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    CRISP_CHECK(!item.empty() && item.find_first_not_of("0123456789") == std::string::npos, ValueError, what,
                "expected a comma-separated list of positive integers, got '", s, "'");
    out.push_back(std::stoll(item));
  }
  CRISP_CHECK(!out.empty(), ValueError, what, "expected a comma-separated list of positive integers, got '", s, "'");
  return out;
}

inline std::vector<int64_t> odd_sizes(int64_t lo, int64_t hi) {
  std::vector<int64_t> v;
  for (int64_t s = lo; s <= hi; s += 2) v.push_back(s);
  return v;
}

// Every image of `files` as RGB resized (area) to size x size.
inline std::vector<Tensor<float>> load_faces(const std::vector<std::string>& files, int64_t size) {
  std::vector<Tensor<float>> out;
  out.reserve(files.size());
  for (const auto& f : files) {
    Tensor<float> img = data::load_image(f, data::ImageMode::RGB);
    if (img.size(1) != size || img.size(2) != size)
      img = data::resize(img, {size, size}, data::Interpolation::Area);
    out.push_back(img.contiguous());
  }
  return out;
}

// A blurred / sharp crop pair of side `crop` from `img`: the window is taken with a margin of
// half the kernel, blurred (+ noise), and the margin cut, so no border rule is ever seen.
// center = true takes the central window and no flip (evaluation); else a random window and a
// mirror with probability 1/2.
inline std::pair<Tensor<float>, Tensor<float>> blurred_pair(const Tensor<float>& img, const Tensor<float>& kernel,
                                                            int64_t crop, double noise, Generator& gen,
                                                            bool center) {
  const int64_t m = kernel.size(0) / 2, big = crop + 2 * m;
  Tensor<float> src = img;
  if (img.size(1) < big || img.size(2) < big) {
    const double s = static_cast<double>(big) / static_cast<double>(std::min(img.size(1), img.size(2)));
    src = data::resize(img, {static_cast<int64_t>(std::ceil(img.size(1) * s)),
                             static_cast<int64_t>(std::ceil(img.size(2) * s))});
  }
  Tensor<float> sharp;
  if (center) {
    sharp = data::crop(src, (src.size(1) - big) / 2, (src.size(2) - big) / 2, big, big);
  } else {
    sharp = data::random_crop(src, {big, big}, gen);
    if (gen.uniform() < 0.5) sharp = data::hflip(sharp);
  }
  data::DegradeOptions d;
  d.noise_sigma = noise;
  const Tensor<float> blurred = data::degrade(sharp.contiguous(), kernel, gen, d);
  return {data::crop(blurred, m, m, crop, crop).contiguous(), data::crop(sharp, m, m, crop, crop).contiguous()};
}

// Camera-shake kernels whose trajectory spans the kernel (its size is the blur length).
inline data::KernelBank kernel_bank(const std::vector<int64_t>& sizes, int64_t per_size, uint64_t seed) {
  Generator gen(seed);
  data::MotionBlurOptions mo;
  mo.fill = true;
  return data::make_kernel_bank(sizes, per_size, gen, mo);
}

// ---- weights files ----------------------------------------------------------------------

inline int64_t meta_int(const Meta& m, const std::string& key, int64_t fallback) {
  auto it = m.find(key);
  return it == m.end() ? fallback : std::stoll(it->second);
}
inline bool meta_bool(const Meta& m, const std::string& key, bool fallback) {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second == "true";
}

inline Meta parsing_meta(const models::FaceParsingNetOptions& o) {
  return {{"model", "FaceParsingNet"},
          {"in_channels", std::to_string(o.in_channels())},
          {"num_classes", std::to_string(o.num_classes())},
          {"base_channels", std::to_string(o.base_channels())}};
}
inline Meta deblur_meta(const models::SemanticDeblurNetOptions& o) {
  return {{"model", "SemanticDeblurNet"},
          {"semantics", o.semantics() ? "true" : "false"},
          {"num_classes", std::to_string(o.num_classes())},
          {"channels", std::to_string(o.channels())},
          {"num_resblocks", std::to_string(o.num_resblocks())},
          {"official", o.official() ? "true" : "false"},
          {"residual", o.residual() ? "true" : "false"}};
}

template <class Model>
void save_weights(const std::string& path, const Model& model, const Meta& meta) {
  const auto dir = fs::path(path).parent_path();
  if (!dir.empty()) fs::create_directories(dir);
  io::save_safetensors(path, model->state_dict(), meta);
}

inline void check_model_meta(const Meta& m, const std::string& want, const std::string& path, const std::string& who) {
  auto it = m.find("model");
  CRISP_CHECK(it == m.end() || it->second == want, ValueError, who, "'", path, "' holds a ", it->second,
              ", expected ", want, " weights");
}

// A FaceParsingNet from a weights file, frozen and in eval mode (BN uses its running statistics).
inline models::FaceParsingNet load_parser(const std::string& path, const std::string& who) {
  CRISP_CHECK(fs::exists(path), IoError, who, "parsing weights '", path, "' do not exist (train them with train_parsing)");
  const Meta m = io::load_safetensors_metadata(path);
  check_model_meta(m, "FaceParsingNet", path, who);
  models::FaceParsingNetOptions o;
  o.num_classes(meta_int(m, "num_classes", 11)).base_channels(meta_int(m, "base_channels", 16));
  models::FaceParsingNet net(o);
  net->load_state_dict(io::load_safetensors(path));
  for (auto& p : net->parameters()) p.requires_grad_(false);
  net->eval();
  return net;
}

inline models::SemanticDeblurNet load_deblur_net(const std::string& path, const std::string& who) {
  CRISP_CHECK(fs::exists(path), IoError, who, "deblurring weights '", path,
              "' do not exist (train them with train_semantic_deblur)");
  const Meta m = io::load_safetensors_metadata(path);
  check_model_meta(m, "SemanticDeblurNet", path, who);
  models::SemanticDeblurNetOptions o;
  o.semantics(meta_bool(m, "semantics", true)).num_classes(meta_int(m, "num_classes", 11));
  o.official(meta_bool(m, "official", false)).residual(meta_bool(m, "residual", false));
  o.channels(meta_int(m, "channels", 64)).num_resblocks(meta_int(m, "num_resblocks", o.num_resblocks()));
  models::SemanticDeblurNet net(o);
  net->load_state_dict(io::load_safetensors(path));
  net->eval();
  return net;
}

// ---- inference --------------------------------------------------------------------------

// Runs the parser and the deblurring net over a [N, 3, H, W] batch in chunks of `chunk`, without a
// graph; returns the restored batch clamped to [0, 1] and, when `probs_out`, the probabilities.
// H and W must suit the models (even; divisible by 32 with a parser).
inline Tensor<float> restore_semantic(models::SemanticDeblurNet& net, models::FaceParsingNet* parser,
                                      const Tensor<float>& blurred, int64_t chunk = 4,
                                      Tensor<float>* probs_out = nullptr) {
  NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  std::vector<Tensor<float>> out, probs;
  for (int64_t i = 0; i < blurred.size(0); i += chunk) {
    // On the net's device; results come back to the CPU (metrics and image files read them there).
    const Tensor<float> b = blurred.slice(0, i, std::min(blurred.size(0), i + chunk)).contiguous().to(net->device());
    Tensor<float> p;
    if (parser) p = (*parser)->probabilities(b);
    out.push_back(clamp<float>(net->forward(b, net->options.semantics() ? p : Tensor<float>{}).scale2, 0.f, 1.f)
                      .to(Device::cpu()));
    if (probs_out && p.defined()) probs.push_back(p.to(Device::cpu()));
  }
  if (was_training) net->train();
  if (probs_out && !probs.empty()) *probs_out = cat(probs, 0);
  return cat(out, 0);
}

// ---- parsing maps -----------------------------------------------------------------------

// One colour per Helen class (background black, skin tan, hair brown, components saturated).
inline Tensor<float> label_colors(const Tensor<int64_t>& labels) {
  static const float pal[11][3] = {{0, 0, 0},       {.93f, .76f, .62f}, {.55f, .27f, .07f}, {.80f, .40f, .10f},
                                   {0, .6f, 1},      {0, .2f, .9f},      {1, .85f, 0},       {.9f, 0, .2f},
                                   {1, .5f, .7f},    {.6f, 0, .4f},      {.35f, .2f, .1f}};
  const Tensor<int64_t> l = labels.contiguous();
  const int64_t H = l.size(-2), W = l.size(-1);
  Tensor<float> out = Tensor<float>::empty({3, H, W});
  for (int64_t i = 0; i < H * W; ++i) {
    const int64_t c = std::clamp<int64_t>(l.data()[i], 0, 10);
    for (int k = 0; k < 3; ++k) out.data()[k * H * W + i] = pal[c][k];
  }
  return out;
}
// [N, H, W] -> [N, 3, H, W] colour maps.
inline Tensor<float> label_colors_batch(const Tensor<int64_t>& labels) {
  std::vector<Tensor<float>> v;
  for (int64_t n = 0; n < labels.size(0); ++n) v.push_back(label_colors(labels.select(0, n)));
  return stack(v, 0);
}

inline double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

}  // namespace crisp::examples::semantic
