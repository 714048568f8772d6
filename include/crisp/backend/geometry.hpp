// The geometry types shared by the CPU and CUDA twins of the spatial primitives: one
// vocabulary for a convolution, a pooling window, a normalisation layout, a pad and a resize,
// so that both backends take the same arguments (backend/dispatch.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "crisp/tensor/error.hpp"

namespace crisp {

// One 2-d convolution, NCHW, contiguous: input [N, C, H, W], weight [O, C/groups, kh, kw],
// output [N, O, P, Q]. pad_h / pad_w are the top / left padding; the bottom / right padding is
// implied by P and Q (so "same" with an odd total, which pads the extra at the bottom / right as
// PyTorch does, needs no extra field). Output position (p, q) reads input rows
// p * stride_h - pad_h + i * dil_h for kernel row i; reads outside the input are zeros.
struct Conv2dGeometry {
  int64_t N = 1, C = 1, H = 1, W = 1, O = 1, kh = 1, kw = 1, P = 1, Q = 1;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;

  int64_t Cg() const { return C / groups; }
  int64_t Og() const { return O / groups; }
  double flops() const { return 2.0 * N * O * Cg() * kh * kw * P * Q; }
};

// Throws crisp::ValueError when a geometry cannot be computed safely (the ops check the user's
// arguments with better messages; this guards direct callers of the kernels).
inline void check_geometry(const Conv2dGeometry& g, const char* op) {
  CRISP_CHECK(g.N >= 0 && g.C > 0 && g.H > 0 && g.W > 0 && g.O > 0 && g.kh > 0 && g.kw > 0 && g.P > 0 && g.Q > 0,
              ValueError, op, "expected positive sizes, got N=", g.N, " C=", g.C, " H=", g.H, " W=", g.W, " O=", g.O,
              " kernel ", g.kh, "x", g.kw, " output ", g.P, "x", g.Q);
  CRISP_CHECK(g.stride_h > 0 && g.stride_w > 0 && g.dil_h > 0 && g.dil_w > 0, ValueError, op,
              "expected positive stride and dilation, got stride (", g.stride_h, ", ", g.stride_w, ") dilation (",
              g.dil_h, ", ", g.dil_w, ")");
  CRISP_CHECK(g.groups > 0 && g.C % g.groups == 0 && g.O % g.groups == 0, ValueError, op, "expected groups (",
              g.groups, ") to divide C=", g.C, " and O=", g.O);
}

// A 2-d pooling window over [planes, H, W] planes, with ATen's window rules (ops/pooling.hpp).
struct PoolGeometry {
  int64_t H, W, OH, OW;  // input and output plane sizes
  int64_t kh, kw, sh, sw, ph, pw, dh = 1, dw = 1;
};

// Group g owns the `outer` contiguous runs x[(o * groups + g) * inner + i], i < inner.
struct NormLayout {
  int64_t outer = 1, groups = 1, inner = 1;
  int64_t count() const { return outer * inner; }  // elements per group
};

// How an output coordinate j of a dim padded by `before` finds its source among `in` positions.
enum class PadIndex { Constant, Reflect, Replicate, Circular };

// src[j] for every j < out. `before` may be negative (a crop). For Circular, PyTorch first
// crops the negative sides and then wraps inside what is left, which is what happens here.
inline std::vector<int64_t> pad_index_map(PadIndex kind, int64_t in, int64_t before, int64_t after) {
  const int64_t out = in + before + after;
  std::vector<int64_t> src(static_cast<size_t>(std::max<int64_t>(out, 0)));
  const int64_t crop_lo = std::max<int64_t>(-before, 0);
  const int64_t kept = in - crop_lo - std::max<int64_t>(-after, 0);
  const int64_t lead = std::max<int64_t>(before, 0);
  for (int64_t j = 0; j < out; ++j) {
    const int64_t i = j - before;
    int64_t s = i;
    switch (kind) {
      case PadIndex::Constant: s = (i >= 0 && i < in) ? i : -1; break;
      case PadIndex::Reflect: s = i < 0 ? -i : (i >= in ? 2 * (in - 1) - i : i); break;
      case PadIndex::Replicate: s = std::clamp<int64_t>(i, 0, in - 1); break;
      case PadIndex::Circular: s = crop_lo + (((j - lead) % kept) + kept) % kept; break;
    }
    src[static_cast<size_t>(j)] = s;
  }
  return src;
}

// Linear interpolation taps along one dim: out j reads (1 - l[j]) * in[i0[j]] + l[j] * in[i1[j]].
template <class T>
struct LinearTaps {
  std::vector<int64_t> i0, i1;
  std::vector<T> l0, l1;
};

}  // namespace crisp
