// Shared helpers for the op tests: random double inputs that require grad, and a one-line
// gradcheck over a lambda of those inputs.
#pragma once

#include <catch2/catch.hpp>

#include "crisp/crisp.hpp"

namespace crisp::test {

using T = Tensor<double>;
using Inputs = std::vector<T>;

inline T leaf(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Generator g(seed);
  return rand<double>(shape, g, lo, hi).requires_grad_();
}

// Inputs kept away from kinks (|x| >= margin) so that finite differences are meaningful.
inline T leaf_away_from_zero(const Shape& shape, uint64_t seed, double margin = 0.1) {
  Generator g(seed);
  T x = rand<double>(shape, g, margin, 1.0);
  T sign = rand<double>(shape, g);
  for (int64_t i = 0; i < x.numel(); ++i)
    if (sign.data()[i] < 0.5) x.data()[i] = -x.data()[i];
  return x.requires_grad_();
}

template <class F>
bool check_grad(F f, const Inputs& inputs, GradcheckOptions opt = {}) {
  return gradcheck([&](const Inputs& v) { return f(v); }, inputs, opt);
}

}  // namespace crisp::test
