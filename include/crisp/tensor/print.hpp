// operator<< for tensors, in PyTorch's layout: nested brackets, aligned columns, and "..." past
// a thousand elements (three at each edge of every dim).
#pragma once

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "crisp/tensor/factory.hpp"

namespace crisp {

namespace detail {
template <class T>
std::string format_value(T v, int precision) {
  std::ostringstream os;
  if constexpr (std::is_integral_v<T>) {
    os << v;
  } else {
    os << std::fixed << std::setprecision(precision) << v;
  }
  return os.str();
}

template <class T>
void print_dim(std::ostream& os, const std::vector<T>& v, const Shape& shape, int64_t d, int64_t offset,
               bool summarize, size_t width, int precision) {
  const int64_t n = shape[d];
  int64_t inner = 1;
  for (int64_t i = d + 1; i < shape.size(); ++i) inner *= shape[i];
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 6 && i == 3) {
      os << (d + 1 == shape.size() ? "..., " : "...,\n" + std::string(static_cast<size_t>(8 + d), ' '));
      i = n - 3;
    }
    if (d + 1 == shape.size()) {
      const std::string s = format_value(v[static_cast<size_t>(offset + i)], precision);
      os << std::string(width > s.size() ? width - s.size() : 0, ' ') << s;
    } else {
      print_dim(os, v, shape, d + 1, offset + i * inner, summarize, width, precision);
    }
    if (i + 1 < n) {
      if (d + 1 == shape.size()) {
        os << ", ";
      } else {
        os << ',' << std::string(static_cast<size_t>(shape.size() - d - 1), '\n')
           << std::string(static_cast<size_t>(8 + d), ' ');
      }
    }
  }
  os << ']';
}
}  // namespace detail

template <class T>
std::ostream& operator<<(std::ostream& os, const Tensor<T>& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const std::vector<T> v = t.to_vector();
  const int precision = 4;
  size_t width = 1;
  for (T x : v) width = std::max(width, detail::format_value(x, precision).size());
  os << "tensor(";
  if (t.dim() == 0) {
    os << detail::format_value(v[0], precision);
  } else if (t.numel() == 0) {
    os << "[]";
  } else {
    detail::print_dim(os, v, t.shape(), 0, 0, t.numel() > 1000, width, precision);
  }
  os << ", shape=" << t.shape();
  if (t.requires_grad()) os << ", requires_grad=true";
  return os << ')';
}

}  // namespace crisp
