// The arithmetic of the convolutions' multiply-adds. FP32 (exact IEEE float) by default. TF32
// (10-bit mantissas) is a CUDA tensor-core mode; BF16 rounds both operands of every product to
// bfloat16 (8 significant bits, round to nearest even) and accumulates in FP32, on CUDA tensor
// cores or on CPUs with AVX512_BF16. Tensors, master weights and optimiser state stay float:
// only a convolution's operands are rounded. Double convolutions are never rounded (double is the
// reference / gradcheck type). Plain C++ (no CUDA types): nvcc and the host compiler include it.
//
// One switch per device kind, twins like the primitives: crisp::cpu::set_conv_math (here) and
// crisp::cuda::set_conv_math (backend/cuda/conv.hpp), as PyTorch keeps autocast per device type,
// so that a CPU reference computed beside a TF32 / BF16 GPU run stays FP32.
#pragma once

#include <atomic>

namespace crisp {

enum class ConvMath { FP32, TF32, BF16 };

inline const char* to_string(ConvMath m) {
  switch (m) {
    case ConvMath::FP32: return "fp32";
    case ConvMath::TF32: return "tf32";
    case ConvMath::BF16: return "bf16";
  }
  return "?";
}

namespace cpu {

namespace detail {
inline std::atomic<ConvMath>& conv_math_ref() {
  static std::atomic<ConvMath> m{ConvMath::FP32};
  return m;
}
}  // namespace detail

// The CPU convolutions' math: FP32 or BF16 (TF32 throws at the first convolution). Process-wide;
// set it between steps, not while another thread is inside a convolution.
inline void set_conv_math(ConvMath m) { detail::conv_math_ref() = m; }
inline ConvMath conv_math() { return detail::conv_math_ref(); }

// Sets the CPU convolutions' math for a scope and restores the previous one on exit.
class ConvMathScope {
 public:
  explicit ConvMathScope(ConvMath m) : prev_(conv_math()) { set_conv_math(m); }
  ~ConvMathScope() { set_conv_math(prev_); }
  ConvMathScope(const ConvMathScope&) = delete;
  ConvMathScope& operator=(const ConvMathScope&) = delete;

 private:
  ConvMath prev_;
};

}  // namespace cpu
}  // namespace crisp
