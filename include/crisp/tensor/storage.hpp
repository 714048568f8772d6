// crisp::Storage<T>: a reference-counted, 64-byte-aligned buffer that tensors and their views share,
// in host memory or (in builds with CRISP_WITH_CUDA) in device memory from the CUDA caching allocator.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "crisp/tensor/device.hpp"
#include "crisp/tensor/error.hpp"

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
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kHugePage = size_t(2) << 20;

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
    const size_t raw = static_cast<size_t>(n) * sizeof(T);
    // Large buffers go on 2 MiB pages: a fresh 64 MB activation otherwise costs more in
    // 4 KiB page faults than the op that fills it.
    const size_t align = raw >= kHugePage ? kHugePage : kAlignment;
    const size_t bytes = (raw + align - 1) / align * align;
    if (bytes > 0) {
      data_ = static_cast<T*>(std::aligned_alloc(align, bytes));
      if (!data_) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
      if (align == kHugePage) madvise(data_, bytes, MADV_HUGEPAGE);
#endif
    }
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
  T* data_ = nullptr;
  int64_t numel_ = 0;
  size_t bytes_ = 0;
  Device device_;
};

}  // namespace crisp
