// pad: PyTorch's F.pad over the last one or two dims, in constant (zeros), reflect, replicate
// and circular modes, with its size rules, negative pads (crops) included.
#pragma once

#include <cstdint>
#include <vector>

#include "crisp/backend/pad.hpp"
#include "crisp/ops/view.hpp"

namespace crisp {

enum class PadMode { Constant, Reflect, Replicate, Circular };

inline const char* pad_mode_name(PadMode m) {
  switch (m) {
    case PadMode::Constant: return "constant";
    case PadMode::Reflect: return "reflect";
    case PadMode::Replicate: return "replicate";
    case PadMode::Circular: return "circular";
  }
  return "?";
}

namespace detail {
inline std::string pads_str(const std::vector<int64_t>& p) {
  std::string s = "(";
  for (size_t i = 0; i < p.size(); ++i) s += (i ? ", " : "") + std::to_string(p[i]);
  return s + ")";
}

// Checks one padded dim of `in` elements padded by (before, after) under `mode`; `what` names it.
inline void check_pad_dim(PadMode mode, int64_t in, int64_t before, int64_t after, const char* what, const Shape& shape,
                          const std::vector<int64_t>& pads) {
  const auto m = pad_mode_name(mode);
  CRISP_CHECK(in + before + after >= 0, ShapeError, "pad", "padding ", pads_str(pads), " would make ", what,
              " of input ", shape, " negative (", in, " + ", before, " + ", after, ")");
  if (mode == PadMode::Constant) return;
  CRISP_CHECK(in > 0, ShapeError, "pad", m, " padding needs a non-empty ", what, ", got input ", shape);
  if (mode == PadMode::Reflect) {
    CRISP_CHECK(before < in && after < in, ShapeError, "pad",
                "reflect padding must be smaller than the padded dim, got padding (", before, ", ", after, ") for ",
                what, " ", in, " of input ", shape);
  } else if (mode == PadMode::Circular) {
    // PyTorch crops the negative sides first, then wraps at most once around what is left.
    const int64_t kept = in - std::max<int64_t>(-before, 0) - std::max<int64_t>(-after, 0);
    CRISP_CHECK(before <= kept && after <= kept, ShapeError, "pad",
                "circular padding may wrap around at most once, got padding (", before, ", ", after, ") for ", what,
                " ", in, " of input ", shape, " (", kept, " after cropping)");
  }
}

inline PadIndex pad_index_kind(PadMode m) {
  switch (m) {
    case PadMode::Reflect: return PadIndex::Reflect;
    case PadMode::Replicate: return PadIndex::Replicate;
    case PadMode::Circular: return PadIndex::Circular;
    default: return PadIndex::Constant;
  }
}
}  // namespace detail

// Pads the last dim by pads = {left, right}, or the last two by {left, right, top, bottom},
// as F.pad. Negative pads crop (any mode, as PyTorch). Constant mode takes any rank that has
// the padded dims; reflect / replicate / circular take PyTorch's ranks: 2-d or 3-d input for
// two pads, 3-d (CHW) or 4-d (NCHW) for four. Reflect needs each pad < the dim's size;
// circular may wrap around at most once.
template <class T>
Tensor<T> pad(const Tensor<T>& x, const std::vector<int64_t>& pads, PadMode mode = PadMode::Constant,
              scalar_t<T> value = 0) {
  CRISP_CHECK(pads.size() == 2 || pads.size() == 4, ValueError, "pad",
              "expected 2 pads {left, right} or 4 pads {left, right, top, bottom}, got ", pads.size(), " values ",
              detail::pads_str(pads));
  const bool two_d = pads.size() == 4;
  const int64_t rank = x.dim();
  if (mode == PadMode::Constant) {
    CRISP_CHECK(rank >= (two_d ? 2 : 1), ShapeError, "pad", "padding ", pads.size(), " values needs an input with at least ",
                two_d ? 2 : 1, " dims, got shape ", x.shape());
  } else {
    const int64_t lo = two_d ? 3 : 2;
    CRISP_CHECK(rank == lo || rank == lo + 1, ShapeError, "pad", pad_mode_name(mode), " padding with ", pads.size(),
                " values expects a ", lo, "-d or ", lo + 1, "-d input, got shape ", x.shape());
  }
  const int64_t W = x.shape()[rank - 1], H = two_d ? x.shape()[rank - 2] : 1;
  const int64_t left = pads[0], right = pads[1], top = two_d ? pads[2] : 0, bottom = two_d ? pads[3] : 0;
  detail::check_pad_dim(mode, W, left, right, "width", x.shape(), pads);
  if (two_d) detail::check_pad_dim(mode, H, top, bottom, "height", x.shape(), pads);

  const auto kind = detail::pad_index_kind(mode);
  auto rows = pad_index_map(kind, H, top, bottom);
  auto cols = pad_index_map(kind, W, left, right);
  Shape out = x.shape();
  out[rank - 1] = W + left + right;
  if (two_d) out[rank - 2] = H + top + bottom;
  const int64_t planes = H * W > 0 ? x.numel() / (H * W) : [&] {
    int64_t p = 1;
    for (int64_t d = 0; d < rank - (two_d ? 2 : 1); ++d) p *= x.shape()[d];
    return p;
  }();

  const Tensor<T> xc = contiguous(x.detach());
  Tensor<T> y = Tensor<T>::empty(out, x.device());
  backend::pad2d_forward(xc, y, planes, H, W, left, rows, cols, static_cast<T>(value));
  if (autograd::needs_grad(x))
    autograd::record<T>("pad", y, {x},
                        [in = x.shape(), planes, H, W, left, rows = std::move(rows), cols = std::move(cols)](const Tensor<T>& g) {
                          const Tensor<T> gc = contiguous(g);
                          Tensor<T> gx = Tensor<T>::empty(in, g.device());
                          backend::pad2d_backward(gc, gx, planes, H, W, left, rows, cols);
                          return std::vector{gx};
                        });
  return y;
}

}  // namespace crisp
