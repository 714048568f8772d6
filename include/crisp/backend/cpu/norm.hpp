// Kernels of the normalisation ops (batch norm, instance norm): per-group statistics accumulated
// in double, the per-group affine normalisation, and its backward. Data is contiguous and viewed
// as [outer, groups, inner]; batch norm is (N, C, H*W), instance norm (1, N*C, H*W).
#pragma once

#include <algorithm>
#include <cstdint>

#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/backend/geometry.hpp"

namespace crisp::cpu {

using crisp::NormLayout;

namespace detail {
// Work per thread below which splitting costs more than it saves.
inline constexpr int64_t kNormGrain = 1 << 15;
inline int64_t group_grain(const NormLayout& l) {
  return std::max<int64_t>(1, kNormGrain / std::max<int64_t>(1, l.count()));
}
inline int64_t row_grain(const NormLayout& l) {
  return std::max<int64_t>(1, kNormGrain / std::max<int64_t>(1, l.inner));
}

template <class T>
double run_sum(const T* p, int64_t n) {
  double acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(p[i]);
  return acc;
}
// Sum of (p - c)^2: the second pass of a two-pass variance, exact where a one-pass E[x^2] - m^2 cancels.
template <class T>
double run_sq_dev(const T* p, int64_t n, double c) {
  double acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(p[i]) - c;
    acc += d * d;
  }
  return acc;
}
}  // namespace detail

// mean[g] and biased variance var[g] of every group, two passes over the data in double.
template <class T>
void norm_stats(const T* x, const NormLayout& l, double* mean, double* var) {
  const double count = static_cast<double>(l.count());
  parallel_for(0, l.groups, detail::group_grain(l), [&](int64_t gb, int64_t ge) {
    for (int64_t g = gb; g < ge; ++g) {
      double s = 0;
      for (int64_t o = 0; o < l.outer; ++o) s += detail::run_sum(x + (o * l.groups + g) * l.inner, l.inner);
      const double m = s / count;
      double q = 0;
      for (int64_t o = 0; o < l.outer; ++o) q += detail::run_sq_dev(x + (o * l.groups + g) * l.inner, l.inner, m);
      mean[g] = m;
      var[g] = q / count;
    }
  });
}

// y = (x - center[g]) * scale[g] + offset[g]. Centring first keeps float accurate when |mean| >> std.
template <class T>
void norm_apply(const T* x, const NormLayout& l, const double* center, const double* scale, const double* offset,
                T* y) {
  parallel_for(0, l.outer * l.groups, detail::row_grain(l), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      const int64_t g = r % l.groups;
      const T c = static_cast<T>(center[g]), a = static_cast<T>(scale[g]), b = static_cast<T>(offset[g]);
      const T* px = x + r * l.inner;
      T* py = y + r * l.inner;
#pragma omp simd
      for (int64_t i = 0; i < l.inner; ++i) py[i] = (px[i] - c) * a + b;
    }
  });
}

// Per-group sums for the backward: sum_dy[g] = sum(dy), sum_dy_xc[g] = sum(dy * (x - center[g])),
// in one pass. Either output may be null (then it is not computed).
template <class T>
void norm_grad_sums(const T* dy, const T* x, const NormLayout& l, const double* center, double* sum_dy,
                    double* sum_dy_xc) {
  parallel_for(0, l.groups, detail::group_grain(l), [&](int64_t gb, int64_t ge) {
    for (int64_t g = gb; g < ge; ++g) {
      const double c = center[g];
      double s = 0, q = 0;
      for (int64_t o = 0; o < l.outer; ++o) {
        const int64_t base = (o * l.groups + g) * l.inner;
        const T* pd = dy + base;
        const T* px = x + base;
        if (sum_dy_xc) {
#pragma omp simd reduction(+ : s, q)
          for (int64_t i = 0; i < l.inner; ++i) {
            const double d = static_cast<double>(pd[i]);
            s += d;
            q += d * (static_cast<double>(px[i]) - c);
          }
        } else {
          s += detail::run_sum(pd, l.inner);
        }
      }
      if (sum_dy) sum_dy[g] = s;
      if (sum_dy_xc) sum_dy_xc[g] = q;
    }
  });
}

// dx = (dy - a[g] - (x - center[g]) * b[g]) * k[g]: the gradient through batch statistics.
// With x == nullptr, dx = dy * k[g] (statistics held constant, the eval rule).
template <class T>
void norm_grad_input(const T* dy, const T* x, const NormLayout& l, const double* center, const double* a,
                     const double* b, const double* k, T* dx) {
  parallel_for(0, l.outer * l.groups, detail::row_grain(l), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      const int64_t g = r % l.groups;
      const T kg = static_cast<T>(k[g]);
      const T* pd = dy + r * l.inner;
      T* po = dx + r * l.inner;
      if (!x) {
#pragma omp simd
        for (int64_t i = 0; i < l.inner; ++i) po[i] = pd[i] * kg;
        continue;
      }
      const T c = static_cast<T>(center[g]), ag = static_cast<T>(a[g]), bg = static_cast<T>(b[g]);
      const T* px = x + r * l.inner;
#pragma omp simd
      for (int64_t i = 0; i < l.inner; ++i) po[i] = (pd[i] - ag - (px[i] - c) * bg) * kg;
    }
  });
}

}  // namespace crisp::cpu
