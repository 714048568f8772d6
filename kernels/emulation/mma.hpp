// Warp-level tensor-core instructions on the host, for kernels compiled by g++ under
// CRISP_CUDA_EMULATION: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 and
// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32, plus the operand conversions
// (cvt.rna.tf32.f32, float -> bf16x2 round-to-nearest-even). Included by kernels/cuda_compat.hpp,
// whose wrappers (crisp::cuda::mma_m16n8k8_tf32, ...) are the inline PTX under nvcc.
//
// Each lane deposits its fragment registers, the warp meets at a barrier, and every lane rebuilds
// the whole A and B tiles from all 32 lanes' registers using the PTX ISA's fragment tables
// ("Matrix Fragments for mma.m16n8k8" (.tf32) and "for mma.m16n8k16 with floating point type"),
// written below as functions of groupID = lane >> 2 and threadID_in_group = lane % 4; it then
// computes its own four D elements from the accumulator table. A kernel that puts an element in
// the wrong register therefore gets the wrong product here, as it would on the device.
//
// Arithmetic: operands as the tensor cores read them (a .tf32 register's low 13 bits are ignored;
// bf16 widens exactly), products exact in FP32 (at most 11 x 11 significant bits), summed in FP32
// in k order starting from C. The hardware's summation order and internal precision are not
// specified; tests allow for that in their tolerances.
#pragma once

#if defined(__CUDACC__) || !defined(CRISP_CUDA_EMULATION)
#error "kernels/emulation/mma.hpp is the host emulation of CUDA (g++ with CRISP_CUDA_EMULATION)"
#endif

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace crisp::cuda::emulation {

// cvt.rna.tf32.f32: round to nearest, ties away from zero, to 10 explicit mantissa bits; the
// result is a .b32 whose low 13 bits are zero. NaN stays NaN (canonical), overflow rounds to inf.
inline uint32_t cvt_rna_tf32(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return 0x7fffffffu & ~0x1fffu;
  if (std::isinf(f)) return u;
  return (u + 0x1000u) & ~0x1fffu;  // adding half an ulp to the magnitude rounds ties away from zero
}
inline float tf32_operand(uint32_t r) { return std::bit_cast<float>(r & ~0x1fffu); }

// float -> bf16, round to nearest even (__float2bfloat16_rn); NaN stays a quiet NaN.
inline uint16_t bf16_rn(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return uint16_t((u >> 16) | 0x40u);
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
inline uint32_t pack_bf16x2(float lo, float hi) { return uint32_t(bf16_rn(lo)) | uint32_t(bf16_rn(hi)) << 16; }
inline float bf16_operand(uint32_t r, int half) { return std::bit_cast<float>(((r >> (16 * half)) & 0xffffu) << 16); }

// ---- fragment tables (PTX ISA), lane = 4 * groupID + threadID_in_group ------------------------
struct RowCol {
  int row, col;
};
// m16n8k8 .tf32, A (16 x 8): a0..a3, one element per register.
inline RowCol m16n8k8_tf32_a(int lane, int i) {
  const int g = lane >> 2, t = lane % 4;
  return {(i == 0 || i == 2) ? g : g + 8, i < 2 ? t : t + 4};
}
// m16n8k8 .tf32, B (8 x 8): b0, b1.
inline RowCol m16n8k8_tf32_b(int lane, int i) {
  const int g = lane >> 2, t = lane % 4;
  return {i == 0 ? t : t + 4, g};
}
// m16n8k16 .bf16, A (16 x 16): elements a0..a7, two per register (a0,a1 in register 0, low half first).
inline RowCol m16n8k16_bf16_a(int lane, int i) {
  const int g = lane >> 2, t = lane % 4;
  return {(i < 2 || (i >= 4 && i < 6)) ? g : g + 8, t * 2 + (i & 1) + (i >= 4 ? 8 : 0)};
}
// m16n8k16 .bf16, B (16 x 8): b0..b3, two per register.
inline RowCol m16n8k16_bf16_b(int lane, int i) {
  const int g = lane >> 2, t = lane % 4;
  return {t * 2 + (i & 1) + (i >= 2 ? 8 : 0), g};
}
// Accumulators C / D (16 x 8) of both shapes: c0..c3.
inline RowCol m16n8_c(int lane, int i) {
  const int g = lane >> 2, t = lane % 4;
  return {i < 2 ? g : g + 8, t * 2 + (i & 1)};
}

// acc (C in, D out) of this lane; a: 4 registers, b: 2 registers. Kind: 0 = tf32 m16n8k8,
// 1 = bf16 m16n8k16.
inline void mma_sync(int kind, float* acc, const uint32_t* a, const uint32_t* b) {
  int buf;
  Warp& w = enter_collective(0xffffffffu, kind == 0 ? "mma.sync.m16n8k8.tf32" : "mma.sync.m16n8k16.bf16", &buf);
  if (w.size != 32) fail("mma.sync in a warp of fewer than 32 threads");
  const int lane = this_thread.lane;
  for (int r = 0; r < 4; ++r) w.words[buf][lane][r] = a[r];
  for (int r = 0; r < 2; ++r) w.words[buf][lane][4 + r] = b[r];
  w.sync.arrive_and_wait();

  const int K = kind == 0 ? 8 : 16;
  float A[16][16], B[16][8];
  for (int l = 0; l < 32; ++l) {
    const uint32_t* reg = w.words[buf][l];
    if (kind == 0) {
      for (int i = 0; i < 4; ++i) {
        const RowCol p = m16n8k8_tf32_a(l, i);
        A[p.row][p.col] = tf32_operand(reg[i]);
      }
      for (int i = 0; i < 2; ++i) {
        const RowCol p = m16n8k8_tf32_b(l, i);
        B[p.row][p.col] = tf32_operand(reg[4 + i]);
      }
    } else {
      for (int i = 0; i < 8; ++i) {
        const RowCol p = m16n8k16_bf16_a(l, i);
        A[p.row][p.col] = bf16_operand(reg[i / 2], i & 1);
      }
      for (int i = 0; i < 4; ++i) {
        const RowCol p = m16n8k16_bf16_b(l, i);
        B[p.row][p.col] = bf16_operand(reg[4 + i / 2], i & 1);
      }
    }
  }
  for (int i = 0; i < 4; ++i) {
    const RowCol d = m16n8_c(lane, i);
    float s = acc[i];
    for (int k = 0; k < K; ++k) s += A[d.row][k] * B[k][d.col];  // exact product, FP32 sum
    acc[i] = s;
  }
}

}  // namespace crisp::cuda::emulation
