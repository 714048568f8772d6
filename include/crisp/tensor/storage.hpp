// crisp::Storage<T>: a reference-counted, 64-byte-aligned buffer that tensors and their views share,
// in host memory from the caching host allocator, or (in builds with CRISP_WITH_CUDA) in device
// memory from the CUDA caching allocator.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstddef>

#include "crisp/tensor/device.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/host_allocator.hpp"

namespace crisp {

#if defined(CRISP_WITH_CUDA)
// Device memory for Storage, defined by the crisp::cuda library (its caching allocator), which
// every program built with CRISP_WITH_CUDA links: the tensor layer needs no CUDA header.
namespace cuda::detail {
void* storage_alloc(size_t bytes, int device);
void storage_free(void* ptr, size_t bytes, int device) noexcept;
}  // namespace cuda::detail
#endif

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
  static constexpr size_t kAlignment = detail::HostAllocator::kAlignment;

  // Uninitialised storage of n elements.
  explicit Storage(int64_t n, Device device = Device::cpu()) : numel_(n), device_(device) {
    CRISP_CHECK(n >= 0, ValueError, "Storage", "expected a non-negative element count, got ", n);
    if (device.is_cuda()) {
#if defined(CRISP_WITH_CUDA)
      bytes_ = static_cast<size_t>(n) * sizeof(T);
      if (bytes_ > 0) data_ = static_cast<T*>(cuda::detail::storage_alloc(bytes_, device.index));
      return;
#else
      throw Error(detail::str_cat("Storage: crisp was built without CUDA (CRISP_WITH_CUDA=OFF): cannot allocate ",
                                  n, " elements on ", device));
#endif
    }
    const size_t bytes = detail::HostAllocator::rounded(static_cast<size_t>(n) * sizeof(T));
    if (bytes > 0) data_ = static_cast<T*>(detail::HostAllocator::instance().allocate(bytes));
    detail::live_storage_bytes() += static_cast<int64_t>(bytes);
    bytes_ = bytes;
  }
  ~Storage() {
#if defined(CRISP_WITH_CUDA)
    if (device_.is_cuda()) {
      if (data_) cuda::detail::storage_free(data_, bytes_, device_.index);
      return;
    }
#endif
    detail::HostAllocator::instance().deallocate(data_, bytes_);
    detail::live_storage_bytes() -= static_cast<int64_t>(bytes_);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  int64_t numel() const { return numel_; }
  Device device() const { return device_; }

 private:
  T* data_ = nullptr;
  int64_t numel_ = 0;
  size_t bytes_ = 0;
  Device device_;
};

}  // namespace crisp
