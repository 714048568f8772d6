// face-api.js's networks as the examples use them: FaceIdentity (the face recognition net's 128-D
// descriptor of a face, for evaluate --identity), TinyFaceDetection (the tiny face detector's
// boxes, for evaluate --detect tiny) and FacePerceptualFeatures (the recognition net's
// intermediate features, for train_semantic_deblur --perceptual faceid). They load the TensorFlow.js
// weights tools/fetch_face_api.sh puts in third_party/face-api/model (--face-api DIR, or the
// environment variable CRISP_FACE_API_DIR). A build of crisp without the imported networks (no
// crisp/models/face_recognition.hpp) compiles too; asking for them is then a clear error.
#pragma once

#include <crisp/crisp.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "evaluation/face_detectors.hpp"
#include "evaluation/face_scores.hpp"
#include "evaluation/test_set.hpp"

#if __has_include(<crisp/models/face_recognition.hpp>) && __has_include(<crisp/models/tiny_face_detector.hpp>)
#include <crisp/models/face_recognition.hpp>
#include <crisp/models/tiny_face_detector.hpp>
#define CRISP_EXAMPLES_HAVE_FACE_API 1
#endif

namespace crisp::examples {

namespace faceid_detail {

// DIR/<name>-weights_manifest.json, DIR from --face-api or CRISP_FACE_API_DIR; errors name both.
inline std::string manifest(std::string dir, const std::string& name, const std::string& who, const std::string& what) {
  if (dir.empty())
    if (const char* env = std::getenv("CRISP_FACE_API_DIR")) dir = env;
  CRISP_CHECK(!dir.empty(), ValueError, who, what,
              ": needs face-api.js's weights: pass --face-api DIR (or set CRISP_FACE_API_DIR), the folder holding ",
              name, "-weights_manifest.json (tools/fetch_face_api.sh puts them in third_party/face-api/model)");
  const std::string path = (std::filesystem::path(dir) / (name + "-weights_manifest.json")).string();
  CRISP_CHECK(std::filesystem::is_regular_file(path), IoError, who, what, ": '", path,
              "' does not exist (tools/fetch_face_api.sh fetches face-api.js's weights into third_party/face-api/model)");
  return path;
}

#ifndef CRISP_EXAMPLES_HAVE_FACE_API
[[noreturn]] inline void unavailable(const std::string& who, const std::string& what) {
  throw ValueError(who + " " + what +
                   ": needs face-api.js's networks (crisp::models::FaceRecognitionNet / TinyFaceDetector), which this "
                   "build of crisp does not have");
}
#endif

}  // namespace faceid_detail

#ifdef CRISP_EXAMPLES_HAVE_FACE_API

// Descriptors of faces: the square crop around the face box (evaluation::face_crop, 1.2 x its
// larger side) at 150 x 150, through the recognition net. face-api.js describes the face chips its
// landmark net aligns; aligned test faces make the box crop the same kind of chip.
class FaceIdentity {
 public:
  FaceIdentity(const std::string& dir, Device device, const std::string& who) : device_(device) {
    const std::string m = faceid_detail::manifest(dir, "face_recognition_model", who, "--identity");
    net_->load_tfjs(m);
    net_->eval();
    if (!device_.is_cpu()) net_->to(device_);
  }
  std::string description() const { return "face-api.js FaceRecognitionNet, 128-D"; }
  std::vector<float> describe(const Tensor<float>& img, const evaluation::RelativeBox& box) {
    NoGradGuard no_grad;
    const int64_t s = models::FaceRecognitionNetImpl::kInputSize;
    Tensor<float> x = unsqueeze(evaluation::face_crop(img, box, s), 0).contiguous();
    if (!device_.is_cpu()) x = x.to(device_);
    const Tensor<float> d = net_->forward(x).to(Device::cpu()).contiguous();
    return std::vector<float>(d.data(), d.data() + d.numel());
  }

 private:
  Device device_;
  models::FaceRecognitionNet net_;
};

// face-api.js's tiny face detector (score threshold 0.5, NMS 0.4) at `input_size`: its largest
// anchor spans ~10.7 of the 32-px cells, so faces that fill the image want a small input (on the
// 32 faces at 128x128 the faceapi branch measured 32/32 found at 160 and 224, 22/32 at the
// default 416; docs/models.md).
class TinyFaceDetection {
 public:
  TinyFaceDetection(const std::string& dir, Device device, const std::string& who, int64_t input_size = 224)
      : net_(models::TinyFaceDetectorOptions().input_size(input_size)) {
    const std::string m = faceid_detail::manifest(dir, "tiny_face_detector_model", who, "--detect tiny");
    net_->load_tfjs(m);
    net_->eval();
    CRISP_CHECK(device.is_cpu(), ValueError, who, " --detect tiny: runs on the CPU (its decoding reads the head's values)");
  }
  std::vector<detect::Box> operator()(const Tensor<float>& img) {
    std::vector<detect::Box> out;
    for (const auto& d : net_->detect(img)) out.push_back({d.x, d.y, d.width, d.height, d.score});
    return out;
  }

 private:
  models::TinyFaceDetector net_;
};

// The recognition net's block outputs conv64_3 and conv256_2 (mid- and high-level, as VGG16's
// pool2 and pool5 in the VGG perceptual loss) of a [N, 3, H, W] batch, H and W >= 103;
// differentiable with respect to the batch, the net's own weights frozen.
class FacePerceptualFeatures {
 public:
  FacePerceptualFeatures(const std::string& dir, const std::string& who) {
    const std::string m = faceid_detail::manifest(dir, "face_recognition_model", who, "--perceptual faceid");
    net_->load_tfjs(m);
    for (auto& p : net_->parameters()) p.requires_grad_(false);
    net_->eval();
  }
  std::string description() const { return "face-api.js FaceRecognitionNet conv64_3+conv256_2"; }
  void to(Device device) { net_->to(device); }
  std::vector<Tensor<float>> features(const Tensor<float>& x) {
    auto f = net_->forward_features(x, {"conv64_3", "conv256_2"});
    return {f.at("conv64_3"), f.at("conv256_2")};
  }

 private:
  models::FaceRecognitionNet net_;
};

#else

class FaceIdentity {
 public:
  FaceIdentity(const std::string&, Device, const std::string& who) { faceid_detail::unavailable(who, "--identity"); }
  std::string description() const { return ""; }
  std::vector<float> describe(const Tensor<float>&, const evaluation::RelativeBox&) { return {}; }
};

class TinyFaceDetection {
 public:
  TinyFaceDetection(const std::string&, Device, const std::string& who, int64_t = 224) {
    faceid_detail::unavailable(who, "--detect tiny");
  }
  std::vector<detect::Box> operator()(const Tensor<float>&) { return {}; }
};

class FacePerceptualFeatures {
 public:
  FacePerceptualFeatures(const std::string&, const std::string& who) {
    faceid_detail::unavailable(who, "--perceptual faceid");
  }
  std::string description() const { return ""; }
  void to(Device) {}
  std::vector<Tensor<float>> features(const Tensor<float>&) { return {}; }
};

#endif

}  // namespace crisp::examples
