// Classical face detectors for `evaluate --detect`: OpenCV's Haar and LBP cascades and dlib's HOG
// frontal face detector, behind one interface that takes an 8-bit RGB image. They are compiled in
// their own translation unit (face_detectors.cpp), which is the only code that sees OpenCV or dlib
// and which never includes crisp, so the header-only core stays free of both.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace crisp::examples::detect {

// A detection in pixels of the image it was found in: top-left corner, width and height.
struct Box {
  double x = 0, y = 0, w = 0, h = 0;
  double score = 0;  // the detector's own confidence (cascades: neighbours; HOG: SVM margin)
};

// Intersection over union of two boxes (0 when either is empty).
double iou(const Box& a, const Box& b);

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  virtual std::string name() const = 0;
  // rgb: height * width * 3 bytes, row-major, interleaved. Returns every face found.
  virtual std::vector<Box> detect(const std::vector<std::uint8_t>& rgb, int height, int width) = 0;
};

// The detectors this build has ("haar", "lbp" with OpenCV; "hog" with dlib), in that order.
std::vector<std::string> built_detectors();

// "haar" | "lbp" | "hog". cascade_dir: the folder holding OpenCV's haarcascades/ and lbpcascades/
// ("" = where Debian's opencv-data puts them, found when crisp was configured). Throws
// std::invalid_argument for an unknown name and std::runtime_error when this build lacks the
// library (naming the Debian package to install) or a cascade file is missing.
std::unique_ptr<FaceDetector> make_detector(const std::string& name, const std::string& cascade_dir = "");

}  // namespace crisp::examples::detect
