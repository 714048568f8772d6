// CUDA's execution model on the host, for kernels compiled by g++ under CRISP_CUDA_EMULATION
// (included by kernels/cuda_compat.hpp; never by nvcc). A grid runs block after block; a block
// runs as one std::thread per CUDA thread, so __syncthreads is a real barrier (std::barrier's
// interface, futex-based) and a missing one is a real data race (ThreadSanitizer sees it). Warps are groups of 32 consecutive linear
// thread ids with their own barrier; warp collectives (shuffles, votes, mma.sync) exchange
// values through per-warp slots around one warp barrier.
//
// Rules the emulation enforces (a violation aborts naming the kernel, block and thread):
//  - warp collectives are called by every live lane of the warp, with a mask that holds them all
//    (the converged-warp usage every crisp kernel has); a lane that exited no longer takes part;
//  - a thread that returns early drops out of its block's and warp's barriers, as on sm_70+.
#pragma once

#if defined(__CUDACC__) || !defined(CRISP_CUDA_EMULATION)
#error "kernels/emulation/thread_model.hpp is the host emulation of CUDA (g++ with CRISP_CUDA_EMULATION)"
#endif

#include <algorithm>
#include <atomic>
#include <climits>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

// ---- built-in vector types and thread coordinates (global, as CUDA declares them) -----------
struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

namespace crisp::cuda::emulation {

// std::barrier's interface (arrive_and_wait, arrive_and_drop), tuned for hundreds of threads on a
// few cores: no lock, and a waiter sleeps on a futex at once instead of spinning and yielding
// first (libstdc++'s std::barrier spends most of an emulated kernel's time in sched_yield). The
// arrival counter is a release sequence (acq_rel read-modify-writes) ending at the last arrival,
// which releases the phase counter that every waiter acquires: each thread's writes before the
// barrier happen before every thread's reads after it, which is what ThreadSanitizer checks.
class Barrier {
 public:
  explicit Barrier(int threads) : expected_(threads), next_expected_(threads) {}
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  void arrive_and_wait() { arrive(false); }
  // Arrives at this phase and leaves the barrier for the later ones (a thread that has exited).
  void arrive_and_drop() { arrive(true); }

 private:
  void arrive(bool drop) {
    const uint32_t phase = phase_.load(std::memory_order_acquire);
    if (drop) next_expected_.fetch_sub(1, std::memory_order_relaxed);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == expected_.load(std::memory_order_relaxed)) {
      // Last arrival: nobody else touches the counters until the phase advances.
      arrived_.store(0, std::memory_order_relaxed);
      expected_.store(next_expected_.load(std::memory_order_relaxed), std::memory_order_relaxed);
      phase_.store(phase + 1, std::memory_order_release);
      futex(FUTEX_WAKE_PRIVATE, INT_MAX);
      return;
    }
    if (drop) return;
    while (phase_.load(std::memory_order_acquire) == phase) futex(FUTEX_WAIT_PRIVATE, phase);
  }
  void futex(int op, uint32_t value) {
    static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&phase_), op, value, nullptr, nullptr, 0);
  }

  std::atomic<int> expected_, next_expected_, arrived_{0};
  std::atomic<uint32_t> phase_{0};
};

struct Warp {
  explicit Warp(int lanes) : size(lanes), sync(lanes), live(lanes == 32 ? ~0u : (1u << lanes) - 1u) {}
  const int size;
  Barrier sync;
  std::atomic<unsigned> live;  // bit i: lane i has not returned from the kernel
  // Exchange slots of the collectives, double-buffered: collective number n of a warp uses buffer
  // n % 2, and each lane writes only its own row. One barrier per collective suffices: a lane
  // can reach collective n + 2 (same buffer) only after every lane has arrived at n + 1, that is
  // after every lane has finished reading collective n.
  uint64_t value[2][32] = {};
  uint32_t words[2][32][8] = {};
};

struct Block {
  Block(int threads, size_t dynamic_smem_bytes) : sync(threads), dynamic_smem(dynamic_smem_bytes + 16) {
    for (int w = 0; w < (threads + 31) / 32; ++w) warps.push_back(std::make_unique<Warp>(std::min(32, threads - 32 * w)));
  }
  Barrier sync;  // __syncthreads
  std::vector<std::unique_ptr<Warp>> warps;
  std::vector<std::max_align_t> dynamic_smem;  // extern __shared__ (CRISP_DYNAMIC_SHARED)
  std::atomic<int> count{0};                   // __syncthreads_count / _and / _or
};

// Per emulated CUDA thread.
struct ThreadState {
  Block* block = nullptr;
  int linear = 0, lane = 0;
  unsigned collectives = 0;  // warp collectives this thread has entered in the current block
};
inline thread_local ThreadState this_thread;

inline const char*& current_kernel() {
  static const char* name = "";
  return name;
}

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr,
               "crisp CUDA emulation: %s in kernel %s, block (%u,%u,%u), thread (%u,%u,%u)\n", what,
               current_kernel(), blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
  std::fflush(stderr);
  std::abort();
}

inline Warp& this_warp() { return *this_thread.block->warps[size_t(this_thread.linear / 32)]; }

// The warp's lanes must all be here and named by the mask (see the header comment). Returns the
// warp; the caller uses exchange buffer `*buffer`. `*live_lanes`: the lanes taking part (read on
// entry: after the warp barrier a lane may already have returned from the kernel).
inline Warp& enter_collective(unsigned mask, const char* op, int* buffer = nullptr, unsigned* live_lanes = nullptr) {
  if (buffer) *buffer = int(this_thread.collectives++ & 1u);
  Warp& w = this_warp();
  const unsigned live = w.live.load(std::memory_order_acquire);
  if (live_lanes) *live_lanes = live;
  if ((mask & live) != live || !(mask >> this_thread.lane & 1u)) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "%s with mask 0x%08x while the warp's live lanes are 0x%08x (partial-warp "
                  "collectives are not emulated)", op, mask, live);
    fail(msg);
  }
  return w;
}

inline void* dynamic_shared_memory() { return this_thread.block->dynamic_smem.data(); }

// Runs `body` once per CUDA thread of every block of the grid. Blocks run one at a time (static
// __shared__ arrays are then per block), on a team of blockDim threads reused from block to block.
template <class Body>
void run_grid(dim3 grid, dim3 block, size_t dynamic_smem, const Body& body) {
  const int threads = int(block.x * block.y * block.z);
  Barrier start(threads + 1), done(threads + 1);
  std::unique_ptr<Block> current;
  uint3 current_index;
  bool stop = false;  // written by this thread before `start`, read by the team after it

  std::vector<std::thread> team;
  team.reserve(size_t(threads));
  for (int t = 0; t < threads; ++t)
    team.emplace_back([&, t] {
      threadIdx = uint3{unsigned(t) % block.x, unsigned(t) / block.x % block.y, unsigned(t) / (block.x * block.y)};
      blockDim = block;
      gridDim = grid;
      this_thread.linear = t, this_thread.lane = t % 32;
      for (;;) {
        start.arrive_and_wait();
        if (stop) break;
        blockIdx = current_index;
        this_thread.block = current.get();
        this_thread.collectives = 0;
        body();
        // Returned from the kernel: leave the block's and the warp's barriers.
        Warp& w = this_warp();
        w.live.fetch_and(~(1u << this_thread.lane), std::memory_order_acq_rel);
        w.sync.arrive_and_drop();
        this_thread.block->sync.arrive_and_drop();
        done.arrive_and_wait();
      }
    });

  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        current = std::make_unique<Block>(threads, dynamic_smem);
        current_index = uint3{x, y, z};
        start.arrive_and_wait();
        done.arrive_and_wait();
      }
  stop = true;
  start.arrive_and_wait();
  for (auto& th : team) th.join();
}

// Serialises emulated launches: blocks share static __shared__ storage, so two grids (say from
// two host threads) must not run at once.
inline std::mutex& launch_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace crisp::cuda::emulation

// ---- synchronisation ------------------------------------------------------------------------
inline void __syncthreads() { crisp::cuda::emulation::this_thread.block->sync.arrive_and_wait(); }
inline int __syncthreads_count(int predicate) {
  auto& b = *crisp::cuda::emulation::this_thread.block;
  b.sync.arrive_and_wait();  // everyone has read the previous result
  if (predicate) b.count.fetch_add(1, std::memory_order_relaxed);
  b.sync.arrive_and_wait();
  const int n = b.count.load(std::memory_order_relaxed);
  b.sync.arrive_and_wait();
  if (crisp::cuda::emulation::this_thread.linear == 0) b.count.store(0, std::memory_order_relaxed);
  return n;
}
inline int __syncthreads_or(int predicate) { return __syncthreads_count(predicate) != 0; }
inline int __syncthreads_and(int predicate) {
  return __syncthreads_count(predicate != 0) == int(blockDim.x * blockDim.y * blockDim.z);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  crisp::cuda::emulation::enter_collective(mask, "__syncwarp").sync.arrive_and_wait();
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
[[noreturn]] inline void __trap() { crisp::cuda::emulation::fail("__trap()"); }

// ---- warp collectives -----------------------------------------------------------------------
namespace crisp::cuda::emulation {
// Every lane publishes `v`, then reads lane src(lane)'s value (or keeps its own when src < 0).
template <class T, class Src>
T warp_exchange(unsigned mask, T v, const char* op, Src src) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(uint64_t), "shuffle of a type over 8 bytes");
  int buf;
  unsigned live;
  Warp& w = enter_collective(mask, op, &buf, &live);
  const int lane = this_thread.lane;
  std::memcpy(&w.value[buf][lane], &v, sizeof(T));
  w.sync.arrive_and_wait();
  const int from = src(lane);
  if (from >= 0) {
    if (from >= w.size || !(live >> from & 1u)) fail("shuffle from an inactive lane");
    std::memcpy(&v, &w.value[buf][from], sizeof(T));
  }
  return v;
}
}  // namespace crisp::cuda::emulation

template <class T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = warpSize) {
  return crisp::cuda::emulation::warp_exchange(mask, v, "__shfl_sync", [&](int lane) {
    return (lane & ~(width - 1)) + (src_lane & (width - 1));
  });
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize) {
  return crisp::cuda::emulation::warp_exchange(mask, v, "__shfl_xor_sync", [&](int lane) {
    const int src = lane ^ lane_mask;
    return src / width > lane / width ? -1 : src;  // a later segment: keep the own value
  });
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  return crisp::cuda::emulation::warp_exchange(mask, v, "__shfl_down_sync", [&](int lane) {
    return (lane & (width - 1)) + int(delta) >= width ? -1 : lane + int(delta);
  });
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  return crisp::cuda::emulation::warp_exchange(mask, v, "__shfl_up_sync", [&](int lane) {
    return (lane & (width - 1)) < int(delta) ? -1 : lane - int(delta);
  });
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  using namespace crisp::cuda::emulation;
  int buf;
  unsigned live;
  Warp& w = enter_collective(mask, "__ballot_sync", &buf, &live);
  w.value[buf][this_thread.lane] = predicate != 0;
  w.sync.arrive_and_wait();
  unsigned bits = 0;
  for (int l = 0; l < w.size; ++l)
    if ((mask & live) >> l & 1u && w.value[buf][l]) bits |= 1u << l;
  return bits;
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) == __ballot_sync(mask, 1); }
inline unsigned __activemask() { return crisp::cuda::emulation::this_warp().live.load(std::memory_order_acquire); }
