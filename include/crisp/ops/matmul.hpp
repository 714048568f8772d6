// matmul with PyTorch's semantics: 1-d operands are promoted and the added dim removed,
// batch dims broadcast, and the products run on the batched-GEMM primitive (backend/matmul.hpp:
// the packed CPU GEMM or cuBLAS; transposed views are passed to GEMM as such, never copied).
#pragma once

#include "crisp/backend/matmul.hpp"
#include "crisp/ops/reduction.hpp"

namespace crisp {

namespace detail {
// How one matrix of a batch is handed to GEMM.
struct GemmOperand {
  bool trans;
  int64_t ld;
};
inline std::optional<GemmOperand> gemm_layout(int64_t rows, int64_t cols, int64_t s_row, int64_t s_col) {
  if (s_col == 1 || cols == 1) return GemmOperand{false, std::max<int64_t>({s_row, cols, 1})};
  if (s_row == 1 || rows == 1) return GemmOperand{true, std::max<int64_t>({s_col, rows, 1})};
  return std::nullopt;
}

template <class T>
Tensor<T> matmul_batched(const Tensor<T>& a_in, const Tensor<T>& b_in) {
  const int64_t ra = a_in.dim(), rb = b_in.dim();
  const int64_t M = a_in.shape()[ra - 2], K = a_in.shape()[ra - 1], N = b_in.shape()[rb - 1];
  CRISP_CHECK(b_in.shape()[rb - 2] == K, ShapeError, "matmul", "inner dims differ: shapes ", a_in.shape(), " and ",
              b_in.shape());
  const Shape ba(a_in.shape().begin(), a_in.shape().end() - 2), bb(b_in.shape().begin(), b_in.shape().end() - 2);
  const Shape batch = broadcast_shapes(ba, bb, "matmul");
  Tensor<T> a = a_in, b = b_in;
  auto la = gemm_layout(M, K, a.strides()[ra - 2], a.strides()[ra - 1]);
  if (!la) a = contiguous(a.detach()), la = gemm_layout(M, K, K, 1);
  auto lb = gemm_layout(K, N, b.strides()[rb - 2], b.strides()[rb - 1]);
  if (!lb) b = contiguous(b.detach()), lb = gemm_layout(K, N, N, 1);
  // Per product, the element offsets of its A and B (a broadcast batch dim repeats them).
  const int64_t lead_a = batch.size() - ba.size(), lead_b = batch.size() - bb.size();
  GemmBatch g;
  g.M = M, g.N = N, g.K = K;
  g.trans_a = la->trans, g.trans_b = lb->trans;
  g.lda = la->ld, g.ldb = lb->ld;
  const int64_t nb = batch.numel();
  g.offset_a.resize(static_cast<size_t>(nb));
  g.offset_b.resize(static_cast<size_t>(nb));
  for (int64_t i = 0; i < nb; ++i) {
    int64_t oa = 0, ob = 0, r = i;
    for (int64_t d = batch.size() - 1; d >= 0; --d) {
      const int64_t idx = r % batch[d];
      r /= batch[d];
      if (d >= lead_a && ba[d - lead_a] != 1) oa += idx * a.strides()[d - lead_a];
      if (d >= lead_b && bb[d - lead_b] != 1) ob += idx * b.strides()[d - lead_b];
    }
    g.offset_a[static_cast<size_t>(i)] = oa;
    g.offset_b[static_cast<size_t>(i)] = ob;
  }
  Shape out = batch;
  out.push_back(M);
  out.push_back(N);
  Tensor<T> y = Tensor<T>::empty(out, a.device());
  backend::gemm_batched(g, a, b, y);
  return y;
}

template <class T>
Tensor<T> matmul_nd(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = matmul_batched(a, b);
  if (autograd::needs_grad(a, b)) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    autograd::record<T>("matmul", y, {a, b}, [a = a.detach(), b = b.detach(), ga, gb](const Tensor<T>& g) {
      return std::vector{ga ? sum_to(matmul_batched(g, transpose(b, -2, -1)), a.shape()) : Tensor<T>(),
                         gb ? sum_to(matmul_batched(transpose(a, -2, -1), g), b.shape()) : Tensor<T>()};
    });
  }
  return y;
}
}  // namespace detail

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  CRISP_CHECK(a.dim() >= 1 && b.dim() >= 1, ShapeError, "matmul", "expected operands of rank >= 1, got shapes ",
              a.shape(), " and ", b.shape());
  const bool va = a.dim() == 1, vb = b.dim() == 1;
  Tensor<T> y = detail::matmul_nd(va ? unsqueeze(a, 0) : a, vb ? unsqueeze(b, -1) : b);
  if (va && vb) return reshape(y, Shape{});
  if (vb) return squeeze(y, -1);
  if (va) return squeeze(y, -2);
  return y;
}

// Batched matrix product of two rank-3 tensors [B, M, K] x [B, K, N], as torch.bmm.
template <class T>
Tensor<T> bmm(const Tensor<T>& a, const Tensor<T>& b) {
  CRISP_CHECK(a.dim() == 3 && b.dim() == 3 && a.shape()[0] == b.shape()[0], ShapeError, "bmm",
              "expected [B, M, K] and [B, K, N], got shapes ", a.shape(), " and ", b.shape());
  return matmul(a, b);
}

}  // namespace crisp
