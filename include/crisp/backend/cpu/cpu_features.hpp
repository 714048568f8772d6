// What the running CPU offers (asked once, at run time) and a test hook that hides features, so
// the paths taken on CPUs without them (errors, other kernels) can be tested on any machine.
#pragma once

#include <atomic>
#include <string>

namespace crisp::cpu {

enum CpuFeature : unsigned { kAvx2Fma = 1u << 0, kAvx512F = 1u << 1, kAvx512Bf16 = 1u << 2 };

namespace detail {
inline unsigned detect_cpu_features() {
  unsigned f = 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f |= kAvx2Fma;
  if (__builtin_cpu_supports("avx512f")) f |= kAvx512F;
  // VDPBF16PS / VCVTNE2PS2BF16 (the BF16 kernel also needs AVX512BW for its word permutes).
  if (__builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw")) f |= kAvx512Bf16;
#endif
  return f;
}
inline std::atomic<unsigned>& hidden_cpu_features() {
  static std::atomic<unsigned> h{0};
  return h;
}
}  // namespace detail

// True when the CPU has every feature in `mask` and none of them is hidden.
inline bool cpu_has(unsigned mask) {
  static const unsigned detected = detail::detect_cpu_features();
  return (detected & ~detail::hidden_cpu_features().load() & mask) == mask;
}

// "avx2+fma avx512f avx512_bf16" (what is visible), for error messages.
inline std::string cpu_features_string() {
  std::string s;
  auto add = [&](unsigned f, const char* name) {
    if (cpu_has(f)) s += s.empty() ? name : std::string(" ") + name;
  };
  add(kAvx2Fma, "avx2+fma");
  add(kAvx512F, "avx512f");
  add(kAvx512Bf16, "avx512_bf16");
  return s.empty() ? "none of avx2, avx512f, avx512_bf16" : s;
}

// Tests: pretend the CPU lacks `mask` for a scope.
class HideCpuFeatures {
 public:
  explicit HideCpuFeatures(unsigned mask) : prev_(detail::hidden_cpu_features().load()) {
    detail::hidden_cpu_features() = prev_ | mask;
  }
  ~HideCpuFeatures() { detail::hidden_cpu_features() = prev_; }
  HideCpuFeatures(const HideCpuFeatures&) = delete;
  HideCpuFeatures& operator=(const HideCpuFeatures&) = delete;

 private:
  unsigned prev_;
};

}  // namespace crisp::cpu
