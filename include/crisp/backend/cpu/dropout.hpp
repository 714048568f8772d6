// Dropout kernels: a keep/drop mask drawn from a seed in fixed-size chunks (so the mask depends on
// the seed alone, not on the thread count), and y = x * (kept ? scale : 0).
#pragma once

#include <algorithm>
#include <cstdint>

#include "crisp/backend/cpu/parallel.hpp"
#include "crisp/tensor/generator.hpp"

namespace crisp::cpu {

// Elements per independently seeded chunk of the mask; part of the mask's definition.
inline constexpr int64_t kDropoutChunk = 1 << 14;

// mask[i] = 1 (keep) with probability 1 - p, else 0. Chunk k draws from Generator(seed + k), two
// 32-bit uniforms per 64-bit draw; an element is dropped when its uniform is below p * 2^32. The
// CUDA twin (backend/cuda/dropout.hpp) draws the same numbers.
template <class T>
void dropout_mask(T* mask, int64_t n, uint64_t seed, double p) {
  const uint64_t threshold = static_cast<uint64_t>(p * 4294967296.0);
  const int64_t chunks = (n + kDropoutChunk - 1) / kDropoutChunk;
  parallel_for(0, chunks, 2, [&](int64_t cb, int64_t ce) {
    for (int64_t k = cb; k < ce; ++k) {
      Generator gen(seed + static_cast<uint64_t>(k));
      const int64_t b = k * kDropoutChunk, e = std::min(n, b + kDropoutChunk);
      for (int64_t i = b; i < e; i += 2) {
        const uint64_t r = gen.next_u64();
        mask[i] = (r & 0xffffffffu) >= threshold ? T(1) : T(0);
        if (i + 1 < e) mask[i + 1] = (r >> 32) >= threshold ? T(1) : T(0);
      }
    }
  });
}

}  // namespace crisp::cpu
