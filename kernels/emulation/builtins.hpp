// CUDA's qualifiers and device built-ins on the host, for kernels compiled by g++ under
// CRISP_CUDA_EMULATION (included by kernels/cuda_compat.hpp after thread_model.hpp): the
// function / variable qualifiers, __ldg, atomics (real atomics: the emulated threads do run
// concurrently), min / max overloads, bit and float intrinsics. The float math functions
// (expf, fmaxf, ...) are the C library's, as <cmath> declares them.
#pragma once

#if defined(__CUDACC__) || !defined(CRISP_CUDA_EMULATION)
#error "kernels/emulation/builtins.hpp is the host emulation of CUDA (g++ with CRISP_CUDA_EMULATION)"
#endif

#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#define __global__
#define __device__
#define __host__
#define __noinline__ __attribute__((noinline))
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __constant__
// A block's threads share it; blocks run one at a time, so a function-local static serves.
#define __shared__ static

// ---- memory ---------------------------------------------------------------------------------
template <class T>
inline T __ldg(const T* p) {
  return *p;
}

// Plain overloads (not templates), so atomicAdd(float_ptr, 1) converts as under nvcc.
#define CRISP_EMULATED_ATOMIC_ADD(T)                                              \
  inline T atomicAdd(T* address, T v) {                                           \
    return std::atomic_ref<T>(*address).fetch_add(v, std::memory_order_relaxed); \
  }
CRISP_EMULATED_ATOMIC_ADD(int)
CRISP_EMULATED_ATOMIC_ADD(unsigned)
CRISP_EMULATED_ATOMIC_ADD(unsigned long long)
CRISP_EMULATED_ATOMIC_ADD(float)
CRISP_EMULATED_ATOMIC_ADD(double)
#undef CRISP_EMULATED_ATOMIC_ADD
inline int atomicSub(int* address, int v) { return std::atomic_ref<int>(*address).fetch_sub(v, std::memory_order_relaxed); }
inline unsigned atomicSub(unsigned* address, unsigned v) {
  return std::atomic_ref<unsigned>(*address).fetch_sub(v, std::memory_order_relaxed);
}
template <class T>
inline T atomicExch(T* address, T v) {
  return std::atomic_ref<T>(*address).exchange(v, std::memory_order_relaxed);
}
template <class T>
inline T atomicCAS(T* address, T expected, T desired) {
  std::atomic_ref<T>(*address).compare_exchange_strong(expected, desired, std::memory_order_relaxed);
  return expected;  // the old value either way
}
template <class T>
inline T atomicMax(T* address, T v) {
  std::atomic_ref<T> a(*address);
  T old = a.load(std::memory_order_relaxed);
  while (old < v && !a.compare_exchange_weak(old, v, std::memory_order_relaxed)) {
  }
  return old;
}
template <class T>
inline T atomicMin(T* address, T v) {
  std::atomic_ref<T> a(*address);
  T old = a.load(std::memory_order_relaxed);
  while (v < old && !a.compare_exchange_weak(old, v, std::memory_order_relaxed)) {
  }
  return old;
}

// ---- min / max: CUDA's overload set (same-type integers, float, double, mixed -> common type) --
template <class T>
  requires std::is_integral_v<T>
inline T min(T a, T b) {
  return b < a ? b : a;
}
template <class T>
  requires std::is_integral_v<T>
inline T max(T a, T b) {
  return a < b ? b : a;
}
template <class A, class B>
  requires(std::is_arithmetic_v<A> && std::is_arithmetic_v<B> && !std::is_same_v<A, B>)
inline std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  return ::min(C(a), C(b));
}
template <class A, class B>
  requires(std::is_arithmetic_v<A> && std::is_arithmetic_v<B> && !std::is_same_v<A, B>)
inline std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  return ::max(C(a), C(b));
}
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// ---- bits and float intrinsics ----------------------------------------------------------------
inline int __popc(unsigned x) { return std::popcount(x); }
inline int __popcll(unsigned long long x) { return std::popcount(x); }
inline int __clz(int x) { return std::countl_zero(unsigned(x)); }
inline int __ffs(int x) { return x == 0 ? 0 : std::countr_zero(unsigned(x)) + 1; }
inline unsigned __float_as_uint(float f) { return std::bit_cast<unsigned>(f); }
inline float __uint_as_float(unsigned u) { return std::bit_cast<float>(u); }
inline int __float_as_int(float f) { return std::bit_cast<int>(f); }
inline float __int_as_float(int i) { return std::bit_cast<float>(i); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __saturatef(float x) { return x != x ? 0.f : fminf(fmaxf(x, 0.f), 1.f); }
