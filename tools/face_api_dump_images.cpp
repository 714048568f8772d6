// Decodes images with crisp's own reader (crisp::data::load_image, stb) and writes their pixels as
// 0..255 values to one safetensors file ("image.<i>" [3, H, W] F32, metadata "name.<i>"), so that
// tools/face_api_reference.js runs face-api.js on exactly the pixels crisp's tests decode.
// Built and run by tools/face_api_goldens.sh; not part of the library or its tests.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "crisp/data/image_io.hpp"
#include "crisp/io/safetensors.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: face_api_dump_images OUT.safetensors IMAGE...\n";
    return 2;
  }
  std::map<std::string, crisp::Tensor<float>> tensors;
  std::map<std::string, std::string> meta;
  for (int i = 2; i < argc; ++i) {
    crisp::Tensor<float> img = crisp::data::load_image(argv[i], crisp::data::ImageMode::RGB);
    for (int64_t k = 0; k < img.numel(); ++k) img.data()[k] = std::round(img.data()[k] * 255.f);
    tensors.emplace("image." + std::to_string(i - 2), img);
    meta.emplace("name." + std::to_string(i - 2), std::filesystem::path(argv[i]).filename().string());
  }
  crisp::io::save_safetensors(argv[1], tensors, meta);
  std::cout << "face_api_dump_images: " << argc - 2 << " images -> " << argv[1] << "\n";
  return 0;
}
