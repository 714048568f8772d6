// CPU twins of the index primitives (backend/reduce.hpp): scatter one value per row along a dim
// (the backward of max / min over a dim) and gather one value per row along a dim (what the NLL
// loss reads), with contiguous operands.
#pragma once

#include <cstdint>

#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::cpu {

// out [outer, n, inner] (contiguous) = 0 except out[o, index[o, i], i] = src[o, i]; index and src are
// contiguous [outer, inner].
template <class T>
void scatter_along(const Tensor<T>& out, int64_t outer, int64_t n, int64_t inner, const Tensor<int64_t>& index,
                   const Tensor<T>& src) {
  T* po = out.data();
  const int64_t* pi = index.data();
  const T* ps = src.data();
  parallel_for(0, outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, n * inner)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      T* row = po + o * n * inner;
      std::fill(row, row + n * inner, T(0));
      for (int64_t i = 0; i < inner; ++i) row[pi[o * inner + i] * inner + i] = ps[o * inner + i];
    }
  });
}

// out[o, i] = index[o, i] == skip ? 0 : x[o, index[o, i], i] for x [outer, n, inner] contiguous.
template <class T>
void gather_along(const Tensor<T>& out, const Tensor<T>& x, int64_t outer, int64_t n, int64_t inner,
                  const Tensor<int64_t>& index, int64_t skip) {
  T* po = out.data();
  const int64_t* pi = index.data();
  const T* px = x.data();
  parallel_for(0, outer * inner, 32768, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t o = k / inner, i = k % inner, c = pi[k];
      po[k] = c == skip ? T(0) : px[(o * n + c) * inner + i];
    }
  });
}

}  // namespace crisp::cpu
