// Host memory for Storage: a caching allocator. A training step frees and re-allocates the same
// large activation and gradient buffers every step; handed back to glibc, buffers above its mmap
// threshold are unmapped and the next step pays a page fault and a kernel page-zeroing for every
// 4 KiB (profiled at ~20% of a CycleGAN step). Blocks of 64 KiB and more are therefore kept on
// free lists by size class and reused; smaller ones go straight to aligned_alloc (glibc's heap
// already recycles them).
//
// The cache holds at most `host_cache_limit()` idle bytes (CRISP_CPU_CACHE_MB, default 4096); a
// failed allocation empties it and retries. Under AddressSanitizer it is off by default so that
// use-after-free of a storage is still caught; `set_host_cache_enabled` turns it on or off.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "crisp/tensor/error.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace crisp {

struct HostCacheStats {
  int64_t cached_bytes = 0;  // idle bytes held on the free lists
  int64_t hits = 0;          // allocations served from the cache
  int64_t misses = 0;        // cacheable allocations that went to the system
};

namespace detail {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kHostCacheDefault = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kHostCacheDefault = false;
#else
inline constexpr bool kHostCacheDefault = true;
#endif
#else
inline constexpr bool kHostCacheDefault = true;
#endif

class HostAllocator {
 public:
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kHugePage = size_t(2) << 20;
  static constexpr size_t kMinCached = size_t(64) << 10;

  static HostAllocator& instance() {
    // Never destroyed: storages held by other statics may be freed after main returns.
    static HostAllocator* a = new HostAllocator();
    return *a;
  }

  // CRISP_CPU_CACHE_MB's value: a whole number of MiB in [0, 2^40), nothing else on the line.
  static bool parse_cache_mb(const char* text, int64_t& mb) {
    if (text == nullptr || *text < '0' || *text > '9') return false;
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v >= (1LL << 40)) return false;
    mb = static_cast<int64_t>(v);
    return true;
  }

  // Bytes actually reserved for a request of `raw` bytes (the size class).
  static size_t rounded(size_t raw) {
    const size_t step = raw >= kHugePage ? kHugePage : raw >= kMinCached ? kMinCached : kAlignment;
    return (raw + step - 1) / step * step;
  }

  void* allocate(size_t bytes) {
    if (bytes >= kMinCached) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (enabled_) {
        auto it = free_.find(bytes);
        if (it != free_.end() && !it->second.empty()) {
          void* p = it->second.back();
          it->second.pop_back();
          stats_.cached_bytes -= static_cast<int64_t>(bytes);
          ++stats_.hits;
          return p;
        }
        ++stats_.misses;
      }
    }
    void* p = system_alloc(bytes);
    if (p == nullptr) {
      empty_cache();
      p = system_alloc(bytes);
      if (p == nullptr) throw std::bad_alloc();
    }
    return p;
  }

  void deallocate(void* p, size_t bytes) noexcept {
    if (p == nullptr) return;
    if (bytes >= kMinCached) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (enabled_ && stats_.cached_bytes + static_cast<int64_t>(bytes) <= limit_) {
        try {
          free_[bytes].push_back(p);
          stats_.cached_bytes += static_cast<int64_t>(bytes);
          return;
        } catch (...) {  // no memory for the list entry: release the block instead
        }
      }
    }
    std::free(p);
  }

  void empty_cache() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [bytes, list] : free_)
      for (void* p : list) std::free(p);
    free_.clear();
    stats_.cached_bytes = 0;
  }

  void set_enabled(bool on) {
    if (!on) empty_cache();
    std::lock_guard<std::mutex> lock(mutex_);
    enabled_ = on;
  }
  bool enabled() {
    std::lock_guard<std::mutex> lock(mutex_);
    return enabled_;
  }
  void set_limit(int64_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = bytes < 0 ? 0 : bytes;
    }
    empty_cache();
  }
  int64_t limit() {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
  }
  HostCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  HostAllocator() {
    if (const char* e = std::getenv("CRISP_CPU_CACHE_MB")) {
      int64_t mb = 0;
      if (parse_cache_mb(e, mb)) {
        limit_ = mb << 20;
        if (mb == 0) enabled_ = false;
      } else {
        // The allocator is built inside the first allocation, where an exception would surprise;
        // say so once instead of ignoring the setting silently.
        std::fprintf(stderr, "crisp: CRISP_CPU_CACHE_MB='%s' is not a whole number of MiB in [0, 2^40); keeping %lld\n",
                     e, static_cast<long long>(limit_ >> 20));
      }
    }
  }

  static void* system_alloc(size_t bytes) {
    // Large buffers go on 2 MiB pages: a fresh 64 MB activation otherwise costs more in 4 KiB
    // page faults than the op that fills it.
    const size_t align = bytes >= kHugePage ? kHugePage : kAlignment;
    void* p = std::aligned_alloc(align, bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p != nullptr && align == kHugePage) madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
  }

  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  HostCacheStats stats_;
  bool enabled_ = kHostCacheDefault;
  int64_t limit_ = int64_t(4096) << 20;
};

}  // namespace detail

// A std::allocator over the same cache, for the CPU kernels' large per-call scratch (packed
// weights, im2col matrices, per-thread partial sums): allocated and freed on every call, those
// were mapped and zeroed afresh each time (6% of a PatchGAN step in page zeroing).
template <class T>
struct HostCacheAllocator {
  using value_type = T;
  HostCacheAllocator() noexcept = default;
  template <class U>
  HostCacheAllocator(const HostCacheAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n > size_t(-1) / sizeof(T) / 2) throw std::bad_alloc();
    return static_cast<T*>(detail::HostAllocator::instance().allocate(detail::HostAllocator::rounded(n * sizeof(T))));
  }
  void deallocate(T* p, size_t n) noexcept {
    detail::HostAllocator::instance().deallocate(p, detail::HostAllocator::rounded(n * sizeof(T)));
  }
  template <class U>
  bool operator==(const HostCacheAllocator<U>&) const noexcept {
    return true;
  }
};

// A vector whose buffer comes from the host cache.
template <class T>
using HostVector = std::vector<T, HostCacheAllocator<T>>;

// Whether freed host buffers of 64 KiB and more are kept for reuse (default on; off under ASan).
inline void set_host_cache_enabled(bool on) { detail::HostAllocator::instance().set_enabled(on); }
inline bool host_cache_enabled() { return detail::HostAllocator::instance().enabled(); }
// Most idle bytes the cache keeps; lowering it releases everything cached now.
inline void set_host_cache_limit(int64_t bytes) {
  CRISP_CHECK(bytes >= 0, ValueError, "set_host_cache_limit", "expected a non-negative byte count, got ", bytes);
  detail::HostAllocator::instance().set_limit(bytes);
}
inline int64_t host_cache_limit() { return detail::HostAllocator::instance().limit(); }
// Returns every idle cached block to the system (like torch.cuda.empty_cache for the host).
inline void empty_host_cache() { detail::HostAllocator::instance().empty_cache(); }
inline HostCacheStats host_cache_stats() { return detail::HostAllocator::instance().stats(); }

}  // namespace crisp
