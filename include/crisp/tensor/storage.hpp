// crisp::Storage<T>: a reference-counted, 64-byte-aligned buffer that tensors and their views share.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "crisp/tensor/device.hpp"
#include "crisp/tensor/error.hpp"

namespace crisp {

namespace detail {
// Bytes held by all live storages; lets tests prove that graphs and buffers are released.
inline std::atomic<int64_t>& live_storage_bytes() {
  static std::atomic<int64_t> bytes{0};
  return bytes;
}
}  // namespace detail

template <class T>
class Storage {
 public:
  static constexpr size_t kAlignment = 64;

  // Uninitialised storage of n elements.
  explicit Storage(int64_t n, Device device = Device::cpu()) : numel_(n), device_(device) {
    CRISP_CHECK(n >= 0, ValueError, "Storage", "expected a non-negative element count, got ", n);
    CRISP_CHECK(device.is_cpu(), Error, "Storage",
                "expected a CPU device, got ", device, " (this build has no CUDA backend)");
    const size_t bytes = round_up(static_cast<size_t>(n) * sizeof(T));
    if (bytes > 0) {
      data_ = static_cast<T*>(std::aligned_alloc(kAlignment, bytes));
      if (!data_) throw std::bad_alloc();
    }
    detail::live_storage_bytes() += static_cast<int64_t>(bytes);
    bytes_ = bytes;
  }
  ~Storage() {
    std::free(data_);
    detail::live_storage_bytes() -= static_cast<int64_t>(bytes_);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  int64_t numel() const { return numel_; }
  Device device() const { return device_; }

 private:
  static size_t round_up(size_t b) { return (b + kAlignment - 1) / kAlignment * kAlignment; }
  T* data_ = nullptr;
  int64_t numel_ = 0;
  size_t bytes_ = 0;
  Device device_;
};

}  // namespace crisp
