// crisp::Shape: the extents (or strides) of a tensor, a small inline vector of int64.
// Comparable with ==, printable as [2, 3, 32, 32].
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <vector>

#include "crisp/tensor/error.hpp"

namespace crisp {

class Shape {
 public:
  static constexpr int kMaxDims = 8;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.end()); }
  explicit Shape(const std::vector<int64_t>& dims) { assign(dims.begin(), dims.end()); }
  template <class It>
  Shape(It first, It last) {
    assign(first, last);
  }

  int64_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t& operator[](int64_t i) { return d_[static_cast<size_t>(i)]; }
  int64_t operator[](int64_t i) const { return d_[static_cast<size_t>(i)]; }
  int64_t* begin() { return d_.data(); }
  int64_t* end() { return d_.data() + n_; }
  const int64_t* begin() const { return d_.data(); }
  const int64_t* end() const { return d_.data() + n_; }
  const int64_t* data() const { return d_.data(); }
  int64_t back() const { return d_[static_cast<size_t>(n_ - 1)]; }

  void push_back(int64_t v) {
    CRISP_CHECK(n_ < kMaxDims, ShapeError, "Shape", "at most ", kMaxDims, " dims are supported, got ", n_ + 1);
    d_[static_cast<size_t>(n_++)] = v;
  }
  void insert(int64_t pos, int64_t v) {
    push_back(0);
    for (int64_t i = n_ - 1; i > pos; --i) d_[i] = d_[i - 1];
    d_[pos] = v;
  }
  void erase(int64_t pos) {
    for (int64_t i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
    --n_;
  }

  // Product of the extents (1 for a 0-d shape).
  int64_t numel() const {
    int64_t p = 1;
    for (int64_t i = 0; i < n_; ++i) p *= d_[i];
    return p;
  }
  std::vector<int64_t> vec() const { return {begin(), end()}; }

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.n_ != b.n_) return false;
    for (int64_t i = 0; i < a.n_; ++i)
      if (a.d_[i] != b.d_[i]) return false;
    return true;
  }
  friend std::ostream& operator<<(std::ostream& os, const Shape& s) {
    os << '[';
    for (int64_t i = 0; i < s.n_; ++i) os << (i ? ", " : "") << s.d_[i];
    return os << ']';
  }

 private:
  template <class It>
  void assign(It first, It last) {
    n_ = 0;
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }
  std::array<int64_t, kMaxDims> d_{};
  int64_t n_ = 0;
};

using Strides = Shape;

// Row-major (C-contiguous) strides for a shape.
inline Strides contiguous_strides(const Shape& shape) {
  Strides s;
  for (int64_t i = 0; i < shape.size(); ++i) s.push_back(1);
  for (int64_t i = shape.size() - 2; i >= 0; --i) s[i] = s[i + 1] * std::max<int64_t>(shape[i + 1], 1);
  return s;
}

// Wraps a possibly negative dim into [0, rank); throws naming `op` when out of range.
inline int64_t wrap_dim(int64_t dim, int64_t rank, const char* op) {
  const int64_t r = std::max<int64_t>(rank, 1);
  CRISP_CHECK(dim >= -r && dim < r, ShapeError, op, "dim expected in [", -r, ", ", r - 1, "], got ", dim);
  return dim < 0 ? dim + r : dim;
}

// NumPy/PyTorch broadcasting of two shapes; throws naming `op` when they do not broadcast.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int64_t n = std::max(a.size(), b.size());
  Shape out;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t da = i - (n - a.size()) >= 0 ? a[i - (n - a.size())] : 1;
    const int64_t db = i - (n - b.size()) >= 0 ? b[i - (n - b.size())] : 1;
    CRISP_CHECK(da == db || da == 1 || db == 1, ShapeError, op, "shapes ", a, " and ", b,
                " are not broadcastable (dim ", i, ": ", da, " vs ", db, ")");
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

}  // namespace crisp
