// The CUDA caching allocator: device memory for tensors without a cudaMalloc / cudaFree per op.
// Freed blocks go to size-bucketed free lists per (device, stream) and are reused by the next
// request of that bucket on the same stream, which is safe without events because work on one
// stream runs in order. Stats and empty_cache() mirror torch.cuda.memory_allocated / _reserved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "crisp/backend/cuda/runtime.hpp"

namespace crisp::cuda {

struct MemoryStats {
  int64_t allocated_bytes = 0;       // in blocks handed out (rounded sizes)
  int64_t reserved_bytes = 0;        // cudaMalloc'ed and not yet cudaFree'd (allocated + cached)
  int64_t peak_allocated_bytes = 0;
  int64_t num_cuda_mallocs = 0;      // how often the cache missed
  int64_t num_cache_hits = 0;
  int64_t cached_bytes() const { return reserved_bytes - allocated_bytes; }
};

class CachingAllocator {
 public:
  // Requests round up to 512 B below 1 MiB and to 2 MiB above, so a bucket serves every size
  // that rounds to it and fragmentation stays bounded (a block is at most 2 MiB too large).
  static size_t round_size(size_t bytes) {
    constexpr size_t kSmall = 512, kLarge = size_t(2) << 20, kSmallLimit = size_t(1) << 20;
    if (bytes == 0) bytes = 1;
    const size_t q = bytes < kSmallLimit ? kSmall : kLarge;
    return (bytes + q - 1) / q * q;
  }

  void* allocate(size_t bytes, int device, cudaStream_t stream) {
    const size_t size = round_size(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    auto& bucket = free_[Key{device, stream, size}];
    void* p = nullptr;
    if (!bucket.empty()) {
      p = bucket.back();
      bucket.pop_back();
      ++stats_.num_cache_hits;
    } else {
      DeviceGuard guard(device);
      cudaError_t e = cudaMalloc(&p, size);
      if (e == cudaErrorMemoryAllocation) {  // give the cache back to the driver and try once more
        cudaGetLastError();
        release_cached_locked();
        e = cudaMalloc(&p, size);
      }
      if (e != cudaSuccess)
        detail::throw_cuda(e, ::crisp::detail::str_cat("cudaMalloc(", size, " bytes on cuda:", device, ")").c_str(),
                           __FILE__, __LINE__);
      stats_.reserved_bytes += static_cast<int64_t>(size);
      ++stats_.num_cuda_mallocs;
    }
    live_[p] = Key{device, stream, size};
    stats_.allocated_bytes += static_cast<int64_t>(size);
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes) stats_.peak_allocated_bytes = stats_.allocated_bytes;
    return p;
  }

  // Returns a block to its (device, stream, size) free list. Work already enqueued on that
  // stream may still read it; the next user on the same stream is ordered after that work.
  void deallocate(void* p) noexcept {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    if (it == live_.end()) return;  // not ours: never happens for Storage
    const Key key = it->second;
    live_.erase(it);
    stats_.allocated_bytes -= static_cast<int64_t>(key.size);
    free_[key].push_back(p);
  }

  // torch.cuda.empty_cache(): cudaFree every cached block (blocks in use stay). Synchronises
  // the devices first, since a cached block may still be read by enqueued work.
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached_locked();
  }

  MemoryStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }
  void reset_peak_stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }

 private:
  struct Key {
    int device = 0;
    cudaStream_t stream = nullptr;
    size_t size = 0;
    friend bool operator<(const Key& a, const Key& b) {
      return std::tie(a.device, a.stream, a.size) < std::tie(b.device, b.stream, b.size);
    }
  };

  void release_cached_locked() noexcept {
    int previous = 0;
    const bool restore = cudaGetDevice(&previous) == cudaSuccess;
    for (auto& [key, blocks] : free_) {
      if (blocks.empty()) continue;
      cudaSetDevice(key.device);
      cudaDeviceSynchronize();
      for (void* p : blocks) {
        cudaFree(p);
        stats_.reserved_bytes -= static_cast<int64_t>(key.size);
      }
      blocks.clear();
    }
    free_.clear();
    if (restore) cudaSetDevice(previous);
  }

  mutable std::mutex mutex_;
  std::map<Key, std::vector<void*>> free_;
  std::unordered_map<void*, Key> live_;
  MemoryStats stats_;
};

// The process-wide allocator (never destroyed: storages may outlive static destruction order).
inline CachingAllocator& caching_allocator() {
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}

inline MemoryStats memory_stats() { return caching_allocator().stats(); }
inline int64_t memory_allocated() { return memory_stats().allocated_bytes; }
inline int64_t memory_reserved() { return memory_stats().reserved_bytes; }
inline void empty_cache() { caching_allocator().empty_cache(); }

}  // namespace crisp::cuda
