// OpenCV cascades and dlib's HOG detector behind crisp::examples::detect::FaceDetector. Built with
// whichever of the two libraries CMake found (CRISP_EVAL_HAVE_OPENCV / CRISP_EVAL_HAVE_DLIB); a
// detector whose library is absent throws a runtime_error that names the package to install.
#include "face_detectors.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#ifdef CRISP_EVAL_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#endif
#ifdef CRISP_EVAL_HAVE_DLIB
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#endif

#ifndef CRISP_EVAL_OPENCV_DATA_DIR
#define CRISP_EVAL_OPENCV_DATA_DIR "/usr/share/opencv4"
#endif

namespace crisp::examples::detect {

double iou(const Box& a, const Box& b) {
  const double x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const double x1 = std::min(a.x + a.w, b.x + b.w), y1 = std::min(a.y + a.h, b.y + b.h);
  const double inter = std::max(0.0, x1 - x0) * std::max(0.0, y1 - y0);
  const double uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0.0;
}

namespace {

void check_image(const std::string& who, const std::vector<std::uint8_t>& rgb, int height, int width) {
  if (height <= 0 || width <= 0 || rgb.size() != static_cast<size_t>(height) * static_cast<size_t>(width) * 3)
    throw std::invalid_argument(who + ": expected an RGB image of height * width * 3 bytes, got " +
                                std::to_string(rgb.size()) + " bytes for " + std::to_string(height) + "x" +
                                std::to_string(width));
}

#ifdef CRISP_EVAL_HAVE_OPENCV
// OpenCV's face-detection sample settings: grey, histogram-equalised, scale step 1.1, 3
// neighbours; faces from 20 px up (an aligned face in a 128 x 128 crop spans ~70 px).
class CascadeDetector final : public FaceDetector {
 public:
  CascadeDetector(std::string name, const std::string& file) : name_(std::move(name)) {
    if (!std::filesystem::is_regular_file(file))
      throw std::runtime_error("--detect " + name_ + ": the cascade '" + file +
                               "' does not exist (Debian: apt-get install opencv-data, or pass --cascade-dir)");
    if (!cascade_.load(file))
      throw std::runtime_error("--detect " + name_ + ": OpenCV cannot read the cascade '" + file + "'");
  }
  std::string name() const override { return name_; }
  std::vector<Box> detect(const std::vector<std::uint8_t>& rgb, int height, int width) override {
    check_image("--detect " + name_, rgb, height, width);
    const cv::Mat img(height, width, CV_8UC3, const_cast<std::uint8_t*>(rgb.data()));
    cv::Mat gray;
    cv::cvtColor(img, gray, cv::COLOR_RGB2GRAY);
    cv::equalizeHist(gray, gray);
    std::vector<cv::Rect> faces;
    std::vector<int> neighbours;
    cascade_.detectMultiScale(gray, faces, neighbours, 1.1, 3, 0, cv::Size(20, 20));
    std::vector<Box> out;
    for (size_t i = 0; i < faces.size(); ++i)
      out.push_back({double(faces[i].x), double(faces[i].y), double(faces[i].width), double(faces[i].height),
                     i < neighbours.size() ? double(neighbours[i]) : 0.0});
    return out;
  }

 private:
  std::string name_;
  cv::CascadeClassifier cascade_;
};
#endif

#ifdef CRISP_EVAL_HAVE_DLIB
// dlib's HOG + linear SVM detector. Its sliding window is 80 x 80, so the image is upsampled once
// (as dlib's face_detection_ex and face_recognition's default do) to see faces from ~40 px.
class HogDetector final : public FaceDetector {
 public:
  HogDetector() : detector_(dlib::get_frontal_face_detector()) {}
  std::string name() const override { return "hog"; }
  std::vector<Box> detect(const std::vector<std::uint8_t>& rgb, int height, int width) override {
    check_image("--detect hog", rgb, height, width);
    dlib::array2d<dlib::rgb_pixel> img(height, width);
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        const std::uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
        img[y][x] = dlib::rgb_pixel(p[0], p[1], p[2]);
      }
    dlib::pyramid_up(img);
    std::vector<dlib::rect_detection> dets;
    detector_(img, dets);
    std::vector<Box> out;
    for (const auto& d : dets)
      out.push_back({d.rect.left() / 2.0, d.rect.top() / 2.0, d.rect.width() / 2.0, d.rect.height() / 2.0,
                     d.detection_confidence});
    return out;
  }

 private:
  dlib::frontal_face_detector detector_;
};
#endif

}  // namespace

std::vector<std::string> built_detectors() {
  std::vector<std::string> v;
#ifdef CRISP_EVAL_HAVE_OPENCV
  v.push_back("haar");
  v.push_back("lbp");
#endif
#ifdef CRISP_EVAL_HAVE_DLIB
  v.push_back("hog");
#endif
  return v;
}

std::unique_ptr<FaceDetector> make_detector(const std::string& name, const std::string& cascade_dir) {
  const std::filesystem::path dir =
      std::filesystem::path(cascade_dir.empty() ? std::string(CRISP_EVAL_OPENCV_DATA_DIR) : cascade_dir);
  if (name == "haar" || name == "lbp") {
#ifdef CRISP_EVAL_HAVE_OPENCV
    return std::make_unique<CascadeDetector>(
        name, (name == "haar" ? dir / "haarcascades" / "haarcascade_frontalface_alt2.xml"
                              : dir / "lbpcascades" / "lbpcascade_frontalface_improved.xml")
                  .string());
#else
    throw std::runtime_error("--detect " + name +
                             ": this build of the examples has no OpenCV (Debian: apt-get install libopencv-dev "
                             "opencv-data, then reconfigure crisp)");
#endif
  }
  if (name == "hog") {
#ifdef CRISP_EVAL_HAVE_DLIB
    return std::make_unique<HogDetector>();
#else
    throw std::runtime_error(
        "--detect hog: this build of the examples has no dlib (Debian: apt-get install libdlib-dev, then reconfigure "
        "crisp)");
#endif
  }
  throw std::invalid_argument("--detect: expected haar, lbp, hog or tiny, got '" + name + "'");
}

}  // namespace crisp::examples::detect
