// CPU twin of the softmax primitive (backend/softmax.hpp): softmax or log-softmax along one dim of
// a contiguous tensor viewed as [outer, n, inner], the exponentials summed in double.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::cpu {

template <class T>
void softmax(const Tensor<T>& out, const Tensor<T>& x, int64_t outer, int64_t n, int64_t inner, bool log) {
  const T* px = x.data();
  T* py = out.data();
  cpu::parallel_for(0, outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t base = (r / inner) * n * inner + r % inner;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t i = 0; i < n; ++i) m = std::max(m, px[base + i * inner]);
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += std::exp(static_cast<double>(px[base + i * inner] - m));
      if (log) {
        const T lse = m + static_cast<T>(std::log(s));
        for (int64_t i = 0; i < n; ++i) py[base + i * inner] = px[base + i * inner] - lse;
      } else {
        for (int64_t i = 0; i < n; ++i)
          py[base + i * inner] = static_cast<T>(std::exp(static_cast<double>(px[base + i * inner] - m)) / s);
      }
    }
  });
}

}  // namespace crisp::cpu
