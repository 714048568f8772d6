// Argument types of the 2-d image ops, as in ATen: a pair of ints that a single int also
// converts to (stride 2 = {2, 2}), and a conv padding that is a pair or "same" / "valid".
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "crisp/tensor/error.hpp"

namespace crisp {

struct Pair2 {
  int64_t h = 0, w = 0;
  Pair2() = default;
  Pair2(int64_t v) : h(v), w(v) {}  // NOLINT: implicit, like IntArrayRef from one int
  Pair2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  friend bool operator==(const Pair2&, const Pair2&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Pair2& p) { return os << '(' << p.h << ", " << p.w << ')'; }
};

// Convolution padding: explicit per side (symmetric), or PyTorch's "same" (stride 1 only;
// an odd total goes to the bottom/right) and "valid" (= 0).
struct ConvPadding {
  enum class Mode { Explicit, Same, Valid };
  Mode mode = Mode::Explicit;
  Pair2 size{0, 0};
  ConvPadding() = default;
  ConvPadding(int64_t v) : size(v) {}         // NOLINT
  ConvPadding(int v) : size(int64_t(v)) {}    // NOLINT: a literal 0 would be ambiguous with const char*
  ConvPadding(Pair2 p) : size(p) {}           // NOLINT
  ConvPadding(int64_t h, int64_t w) : size(h, w) {}
  ConvPadding(const char* s) : ConvPadding(std::string(s)) {}  // NOLINT
  ConvPadding(const std::string& s) {                            // NOLINT
    if (s == "same") mode = Mode::Same;
    else if (s == "valid") mode = Mode::Valid;
    else throw ValueError("conv2d: padding expected an int, a pair, \"same\" or \"valid\", got \"" + s + "\"");
  }
};

}  // namespace crisp
