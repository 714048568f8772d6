// The one loop every element-wise CPU kernel runs on: walks an N-d index space over K strided
// operands row by row (innermost dim as a tight loop), after merging dims that are contiguous
// for every operand, in parallel over rows.
#pragma once

#include <array>
#include <cstdint>

#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/tensor/shape.hpp"

namespace crisp::cpu {

template <size_t K>
struct RowPlan {
  Shape shape;                    // coalesced extents; the last one is the row length
  std::array<Strides, K> strides; // per operand, matching `shape`
};

template <size_t K>
RowPlan<K> coalesce(const Shape& shape, const std::array<Strides, K>& strides) {
  RowPlan<K> p;
  for (int64_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    const int64_t n = p.shape.size();
    bool merge = n > 0;
    for (size_t k = 0; k < K && merge; ++k) merge = p.strides[k][n - 1] == strides[k][i] * shape[i];
    if (merge) {
      p.shape[n - 1] *= shape[i];
      for (size_t k = 0; k < K; ++k) p.strides[k][n - 1] = strides[k][i];
    } else {
      p.shape.push_back(shape[i]);
      for (size_t k = 0; k < K; ++k) p.strides[k].push_back(strides[k][i]);
    }
  }
  if (p.shape.empty()) {  // a single element
    p.shape.push_back(1);
    for (size_t k = 0; k < K; ++k) p.strides[k].push_back(0);
  }
  return p;
}

// Calls row(offsets, n, inner_strides) for every row of `shape`: offsets are the element
// offsets of each operand at the row's start, n the row length. Long rows are cut into pieces
// so that a large contiguous tensor (one row after coalescing) still spreads over the threads.
template <size_t K, class RowFn>
void for_each_row(const Shape& shape, const std::array<Strides, K>& strides, RowFn&& row) {
  if (shape.numel() == 0) return;
  const RowPlan<K> p = coalesce<K>(shape, strides);
  const int64_t rank = p.shape.size();
  const int64_t len = p.shape[rank - 1];
  constexpr int64_t kPiece = 16384;  // elements per work item, at least
  const int64_t pieces = std::max<int64_t>(1, len / kPiece);
  const int64_t piece_len = (len + pieces - 1) / pieces;
  std::array<int64_t, K> inner;
  for (size_t k = 0; k < K; ++k) inner[k] = p.strides[k][rank - 1];
  const int64_t rows = p.shape.numel() / len;
  const int64_t items = rows * pieces;
  const int64_t grain = std::max<int64_t>(1, kPiece / std::min(len, piece_len));
  parallel_for(0, items, grain, [&](int64_t i0, int64_t i1) {
    for (int64_t item = i0; item < i1; ++item) {
      int64_t r = item / pieces;
      const int64_t start = (item % pieces) * piece_len;
      std::array<int64_t, K> off{};
      for (int64_t d = rank - 2; d >= 0; --d) {
        const int64_t idx = r % p.shape[d];
        r /= p.shape[d];
        for (size_t k = 0; k < K; ++k) off[k] += idx * p.strides[k][d];
      }
      for (size_t k = 0; k < K; ++k) off[k] += start * inner[k];
      row(off, std::min(piece_len, len - start), inner);
    }
  });
}

// Strides of a tensor of `shape`/`strides` broadcast to `out` (0 along broadcast dims).
inline Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& out) {
  Strides s;
  const int64_t lead = out.size() - shape.size();
  for (int64_t i = 0; i < out.size(); ++i) {
    const int64_t j = i - lead;
    s.push_back(j < 0 || shape[j] == 1 ? 0 : strides[j]);
  }
  return s;
}

}  // namespace crisp::cpu
