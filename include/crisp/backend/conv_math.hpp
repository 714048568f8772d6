// The arithmetic of the convolutions' multiply-adds, one run-time switch for every device (like
// torch.backends.cuda.matmul.allow_tf32 plus an autocast for convolutions). FP32 (exact IEEE
// float) by default. TF32 (10-bit mantissas) is a CUDA tensor-core mode; BF16 rounds both
// operands to bfloat16 (8 significant bits, round to nearest even) and accumulates in FP32, on
// CUDA tensor cores or on CPUs with AVX512_BF16. Tensors, master weights and optimiser state stay
// float: only the operands of a convolution's products are rounded. Double convolutions are never
// rounded (double is the reference / gradcheck type); the switch applies to float tensors.
// Plain C++ (no CUDA types): nvcc and the host compiler both include it.
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

namespace detail {
inline std::atomic<ConvMath>& conv_math_ref() {
  static std::atomic<ConvMath> m{ConvMath::FP32};
  return m;
}
}  // namespace detail

// Process-wide; set it before a step, not while another thread is inside a convolution.
inline void set_conv_math(ConvMath m) { detail::conv_math_ref() = m; }
inline ConvMath conv_math() { return detail::conv_math_ref(); }

// Sets the math for a scope and restores the previous one on exit (exceptions included).
class ConvMathScope {
 public:
  explicit ConvMathScope(ConvMath m) : prev_(conv_math()) { set_conv_math(m); }
  ~ConvMathScope() { set_conv_math(prev_); }
  ConvMathScope(const ConvMathScope&) = delete;
  ConvMathScope& operator=(const ConvMathScope&) = delete;

 private:
  ConvMath prev_;
};

}  // namespace crisp
