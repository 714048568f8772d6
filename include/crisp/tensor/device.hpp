// crisp::Device: where a tensor's storage lives. CPU today; CUDA arrives with the CUDA backend.
#pragma once

#include <ostream>

namespace crisp {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }

  friend bool operator==(const Device&, const Device&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Device& d) {
    if (d.is_cpu()) return os << "cpu";
    return os << "cuda:" << d.index;
  }
};

}  // namespace crisp
