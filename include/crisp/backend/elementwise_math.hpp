// The element-wise functions of the ops, defined once for both backends: the CPU twins
// instantiate them inside their strided loops and the CUDA kernels inside theirs (the functions
// are __host__ __device__ under nvcc), so the two devices compute the same formula. Ops name a
// function by enum plus up to two scalar parameters; no lambdas cross the dispatch layer.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define CRISP_HD __host__ __device__ __forceinline__
#else
#define CRISP_HD inline
#endif

namespace crisp {

enum class UnaryOp : int {
  Identity,
  Neg,
  Abs,
  Sign,        // -1, 0, 1 (NaN stays NaN)
  Relu,
  LeakyRelu,   // a = negative slope
  Sigmoid,
  Tanh,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Square,
  Reciprocal,
  PowScalar,   // x ** a
  Clamp,       // to [a, b] (NaN stays NaN)
  Affine,      // a * x + b
  GreaterThan, // x > a ? 1 : 0
  InRange,     // a <= x <= b ? 1 : 0
  LeakyStep,   // x > 0 ? 1 : a   (the derivative of leaky_relu)
  Softplus,    // log(1 + exp(x)), stable
  Log1p,       // log(1 + x)
};
inline constexpr int kUnaryOpCount = static_cast<int>(UnaryOp::Log1p) + 1;

enum class BinaryOp : int {
  Add,
  Sub,
  Mul,
  Div,
  Maximum,     // NaN propagates, as torch.maximum
  Minimum,
  Pow,         // a ** b
  PowBaseGrad, // d(a ** b)/da = b * a ** (b - 1); 0 where b == 0
  PowExpGrad,  // d(a ** b)/db = a ** b * log(a); 0 where a == 0
  Equal,       // a == b ? 1 : 0
  Greater,     // a > b ? 1 : 0
};
inline constexpr int kBinaryOpCount = static_cast<int>(BinaryOp::Greater) + 1;

inline const char* to_string(UnaryOp op) {
  static constexpr const char* names[] = {"identity", "neg",     "abs",     "sign",    "relu",     "leaky_relu",
                                          "sigmoid",  "tanh",    "exp",     "log",     "sqrt",     "rsqrt",
                                          "square",   "reciprocal", "pow",  "clamp",   "affine",   "greater_than",
                                          "in_range", "leaky_step", "softplus", "log1p"};
  return names[static_cast<int>(op)];
}
inline const char* to_string(BinaryOp op) {
  static constexpr const char* names[] = {"add", "sub", "mul", "div", "maximum", "minimum", "pow", "pow_base_grad",
                                          "pow_exp_grad", "equal", "greater"};
  return names[static_cast<int>(op)];
}

// A unary function with its scalar parameters (unused ones are 0).
struct UnaryFn {
  UnaryOp op = UnaryOp::Identity;
  double a = 0, b = 0;
};

namespace math {

template <class T>
CRISP_HD bool is_nan(T v) {
  return v != v;
}

// y = op(x; a, b). Op is a template argument so that every instantiation is a branch-free loop body.
template <UnaryOp Op, class T>
CRISP_HD T unary(T x, T a, T b) {
  using std::abs, std::exp, std::log, std::sqrt, std::tanh, std::pow, std::log1p;
  if constexpr (Op == UnaryOp::Identity) return x;
  else if constexpr (Op == UnaryOp::Neg) return -x;
  else if constexpr (Op == UnaryOp::Abs) return abs(x);
  else if constexpr (Op == UnaryOp::Sign) return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x);
  else if constexpr (Op == UnaryOp::Relu) return x > T(0) ? x : (is_nan(x) ? x : T(0));
  else if constexpr (Op == UnaryOp::LeakyRelu) return x > T(0) ? x : x * a;
  else if constexpr (Op == UnaryOp::Sigmoid) {
    if (x >= T(0)) return T(1) / (T(1) + exp(-x));  // stable for large |x|
    const T e = exp(x);
    return e / (T(1) + e);
  } else if constexpr (Op == UnaryOp::Tanh) return tanh(x);
  else if constexpr (Op == UnaryOp::Exp) return exp(x);
  else if constexpr (Op == UnaryOp::Log) return log(x);
  else if constexpr (Op == UnaryOp::Sqrt) return sqrt(x);
  else if constexpr (Op == UnaryOp::Rsqrt) return T(1) / sqrt(x);
  else if constexpr (Op == UnaryOp::Square) return x * x;
  else if constexpr (Op == UnaryOp::Reciprocal) return T(1) / x;
  else if constexpr (Op == UnaryOp::PowScalar) return a == T(2) ? x * x : (a == T(1) ? x : pow(x, a));
  else if constexpr (Op == UnaryOp::Clamp) return is_nan(x) ? x : (x < a ? a : (x > b ? b : x));
  else if constexpr (Op == UnaryOp::Affine) return a * x + b;
  else if constexpr (Op == UnaryOp::GreaterThan) return x > a ? T(1) : T(0);
  else if constexpr (Op == UnaryOp::InRange) return x >= a && x <= b ? T(1) : T(0);
  else if constexpr (Op == UnaryOp::LeakyStep) return x > T(0) ? T(1) : a;
  else if constexpr (Op == UnaryOp::Softplus) return (x > T(0) ? x : T(0)) + log1p(exp(-abs(x)));
  else if constexpr (Op == UnaryOp::Log1p) return log1p(x);
  else static_assert(Op != Op, "unhandled UnaryOp");
}

template <BinaryOp Op, class T>
CRISP_HD T binary(T x, T y) {
  using std::pow, std::log;
  if constexpr (Op == BinaryOp::Add) return x + y;
  else if constexpr (Op == BinaryOp::Sub) return x - y;
  else if constexpr (Op == BinaryOp::Mul) return x * y;
  else if constexpr (Op == BinaryOp::Div) return x / y;
  else if constexpr (Op == BinaryOp::Maximum) return is_nan(x) || is_nan(y) ? x + y : (x > y ? x : y);
  else if constexpr (Op == BinaryOp::Minimum) return is_nan(x) || is_nan(y) ? x + y : (x < y ? x : y);
  else if constexpr (Op == BinaryOp::Pow) return pow(x, y);
  else if constexpr (Op == BinaryOp::PowBaseGrad) return y == T(0) ? T(0) : y * pow(x, y - T(1));
  else if constexpr (Op == BinaryOp::PowExpGrad) return x == T(0) ? T(0) : pow(x, y) * log(x);
  else if constexpr (Op == BinaryOp::Equal) return x == y ? T(1) : T(0);
  else if constexpr (Op == BinaryOp::Greater) return x > y ? T(1) : T(0);
  else static_assert(Op != Op, "unhandled BinaryOp");
}

}  // namespace math

// Calls f.template operator()<Op>() with the run-time op as a compile-time constant: the one
// switch that turns an enum into an instantiated loop, used by both backends' twins.
template <class F>
decltype(auto) visit(UnaryOp op, F&& f) {
  switch (op) {
#define CRISP_UNARY_CASE(name) \
  case UnaryOp::name: return f.template operator()<UnaryOp::name>();
    CRISP_UNARY_CASE(Identity) CRISP_UNARY_CASE(Neg) CRISP_UNARY_CASE(Abs) CRISP_UNARY_CASE(Sign)
    CRISP_UNARY_CASE(Relu) CRISP_UNARY_CASE(LeakyRelu) CRISP_UNARY_CASE(Sigmoid) CRISP_UNARY_CASE(Tanh)
    CRISP_UNARY_CASE(Exp) CRISP_UNARY_CASE(Log) CRISP_UNARY_CASE(Sqrt) CRISP_UNARY_CASE(Rsqrt)
    CRISP_UNARY_CASE(Square) CRISP_UNARY_CASE(Reciprocal) CRISP_UNARY_CASE(PowScalar) CRISP_UNARY_CASE(Clamp)
    CRISP_UNARY_CASE(Affine) CRISP_UNARY_CASE(GreaterThan) CRISP_UNARY_CASE(InRange) CRISP_UNARY_CASE(LeakyStep)
    CRISP_UNARY_CASE(Softplus) CRISP_UNARY_CASE(Log1p)
#undef CRISP_UNARY_CASE
  }
  return f.template operator()<UnaryOp::Identity>();  // unreachable: every enumerator is a case
}

template <class F>
decltype(auto) visit(BinaryOp op, F&& f) {
  switch (op) {
#define CRISP_BINARY_CASE(name) \
  case BinaryOp::name: return f.template operator()<BinaryOp::name>();
    CRISP_BINARY_CASE(Add) CRISP_BINARY_CASE(Sub) CRISP_BINARY_CASE(Mul) CRISP_BINARY_CASE(Div)
    CRISP_BINARY_CASE(Maximum) CRISP_BINARY_CASE(Minimum) CRISP_BINARY_CASE(Pow) CRISP_BINARY_CASE(PowBaseGrad)
    CRISP_BINARY_CASE(PowExpGrad) CRISP_BINARY_CASE(Equal) CRISP_BINARY_CASE(Greater)
#undef CRISP_BINARY_CASE
  }
  return f.template operator()<BinaryOp::Add>();
}

}  // namespace crisp
