// Reduction kernels: sums over any set of dims (accumulated in double) and arg-extremum over
// one dim. Work is split over output elements, or over the reduced range when there are few.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::cpu {

namespace detail {
// Sum of the elements with linear indices [b, e) of the index space (shape, strides) from p.
template <class T>
double strided_sum(const T* p, const Shape& shape, const Strides& strides, int64_t b, int64_t e) {
  const int64_t rank = shape.size();
  if (rank == 0) return b < e ? static_cast<double>(*p) : 0.0;
  std::array<int64_t, Shape::kMaxDims> idx{};
  int64_t off = 0, r = b;
  for (int64_t d = rank - 1; d >= 0; --d) {
    idx[d] = r % shape[d];
    r /= shape[d];
    off += idx[d] * strides[d];
  }
  const int64_t n = shape[rank - 1], s = strides[rank - 1];
  double acc = 0;
  int64_t i = b;
  while (i < e) {
    const int64_t run = std::min(n - idx[rank - 1], e - i);
    const T* q = p + off;
    if (s == 1) {
#pragma omp simd reduction(+ : acc)
      for (int64_t j = 0; j < run; ++j) acc += static_cast<double>(q[j]);
    } else {
      for (int64_t j = 0; j < run; ++j) acc += static_cast<double>(q[j * s]);
    }
    i += run;
    off += run * s;
    idx[rank - 1] += run;
    for (int64_t d = rank - 1; d > 0 && idx[d] == shape[d]; --d) {  // carry
      off -= idx[d] * strides[d];
      idx[d] = 0;
      ++idx[d - 1];
      off += strides[d - 1];
    }
  }
  return acc;
}
}  // namespace detail

// out (contiguous, shape = kept dims) = sum of x over the dims where `reduce[d]` is true.
template <class T>
void sum_into(const Tensor<T>& x, const std::vector<bool>& reduce, const Tensor<T>& out) {
  Shape kshape, kstrides, rshape, rstrides;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (x.shape()[d] == 1) continue;
    (reduce[static_cast<size_t>(d)] ? rshape : kshape).push_back(x.shape()[d]);
    (reduce[static_cast<size_t>(d)] ? rstrides : kstrides).push_back(x.strides()[d]);
  }
  const int64_t K = kshape.numel(), R = rshape.numel();
  if (K == 0) return;
  if (R == 0) {
    std::fill(out.data(), out.data() + K, T(0));
    return;
  }
  const T* px = x.data();
  T* po = out.data();
  auto kept_offset = [&](int64_t k) {
    int64_t off = 0;
    for (int64_t d = kshape.size() - 1; d >= 0; --d) {
      off += (k % kshape[d]) * kstrides[d];
      k /= kshape[d];
    }
    return off;
  };
  const int threads = max_threads();
  if (K >= threads || R < 65536) {
    parallel_for(0, K, std::max<int64_t>(1, 32768 / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k)
        po[k] = static_cast<T>(detail::strided_sum(px + kept_offset(k), rshape, rstrides, 0, R));
    });
    return;
  }
  // Few outputs, long reductions: split each reduction over the threads.
  for (int64_t k = 0; k < K; ++k) {
    std::vector<double> partial(static_cast<size_t>(threads), 0.0);
    const T* base = px + kept_offset(k);
    parallel_for(0, threads, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t)
        partial[static_cast<size_t>(t)] =
            detail::strided_sum(base, rshape, rstrides, R * t / threads, R * (t + 1) / threads);
    });
    double acc = 0;
    for (double v : partial) acc += v;
    po[k] = static_cast<T>(acc);
  }
}

// Along dim d of x: the extreme value (max if `greatest`, else min) and its first index;
// NaN wins, as in PyTorch. values and indices have x's shape without d (contiguous).
template <class T>
void arg_extremum(const Tensor<T>& x, int64_t d, bool greatest, const Tensor<T>& values,
                  const Tensor<int64_t>& indices) {
  const int64_t n = x.shape()[d], s = x.strides()[d];
  Shape kshape, kstrides;
  for (int64_t i = 0; i < x.dim(); ++i)
    if (i != d) {
      kshape.push_back(x.shape()[i]);
      kstrides.push_back(x.strides()[i]);
    }
  const T* px = x.data();
  T* pv = values.data();
  int64_t* pi = indices.data();
  parallel_for(0, kshape.numel(), std::max<int64_t>(1, 32768 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t off = 0, r = k;
      for (int64_t i = kshape.size() - 1; i >= 0; --i) {
        off += (r % kshape[i]) * kstrides[i];
        r /= kshape[i];
      }
      T best = px[off];
      int64_t at = 0;
      for (int64_t j = 1; j < n && !std::isnan(best); ++j) {
        const T v = px[off + j * s];
        if (std::isnan(v) || (greatest ? v > best : v < best)) {
          best = v;
          at = j;
        }
      }
      pv[k] = best;
      pi[k] = at;
    }
  });
}

}  // namespace crisp::cpu
