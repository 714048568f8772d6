// Element-wise CUDA kernels: strided (broadcasting) copy, fill and cast, and the unary / binary
// functions of backend/elementwise_math.hpp, one instantiation per op (visit), so both devices
// compute the same formula. CPU twins: cpu::copy / fill / cast / unary / binary
// (backend/cpu/elementwise.hpp); tests/backend/cuda/test_elementwise_cuda.cpp compares them.
#include "kernel_common.cuh"  // first: launch() and, emulated, CUDA itself

namespace crisp::cuda::native {

namespace {

// CPU twin: cpu::copy (map_into with the identity).
template <class T>
__global__ void copy_strided_kernel(StridedDesc dd, T* dst, StridedDesc sd, const T* src, int64_t n) {
  CRISP_KERNEL_LOOP(i, n) dst[kern::strided_offset(dd, i)] = src[kern::strided_offset(sd, i)];
}

// CPU twin: cpu::fill.
template <class T>
__global__ void fill_strided_kernel(StridedDesc dd, T* dst, T value, int64_t n) {
  CRISP_KERNEL_LOOP(i, n) dst[kern::strided_offset(dd, i)] = value;
}

// CPU twin: cpu::cast.
template <class U, class T>
__global__ void cast_strided_kernel(StridedDesc dd, U* dst, StridedDesc sd, const T* src, int64_t n) {
  CRISP_KERNEL_LOOP(i, n) dst[kern::strided_offset(dd, i)] = static_cast<U>(src[kern::strided_offset(sd, i)]);
}

// CPU twin: cpu::unary.
template <UnaryOp Op, class T>
__global__ void unary_kernel(StridedDesc od, T* out, StridedDesc xd, const T* x, T a, T b, int64_t n) {
  CRISP_KERNEL_LOOP(i, n) out[kern::strided_offset(od, i)] = math::unary<Op>(x[kern::strided_offset(xd, i)], a, b);
}

// CPU twin: cpu::binary.
template <BinaryOp Op, class T>
__global__ void binary_kernel(StridedDesc od, T* out, StridedDesc xd, const T* x, StridedDesc yd, const T* y,
                              int64_t n) {
  CRISP_KERNEL_LOOP(i, n)
  out[kern::strided_offset(od, i)] = math::binary<Op>(x[kern::strided_offset(xd, i)], y[kern::strided_offset(yd, i)]);
}

void check_ranks(const char* op, const StridedDesc& out, const StridedDesc& in) {
  CRISP_CHECK(in.ndim == out.ndim, ValueError, op, "expected operands described over the output's ", out.ndim,
              " dims, got rank ", in.ndim);
}

template <class T>
struct UnaryLaunch {
  const StridedDesc& od;
  T* out;
  const StridedDesc& xd;
  const T* x;
  T a, b;
  int64_t n;
  cudaStream_t stream;
  template <UnaryOp Op>
  void operator()() const {
    launch("unary_kernel", unary_kernel<Op, T>, kern::grid_for(n), kern::kThreads, 0, stream, od, out, xd, x, a, b, n);
  }
};

template <class T>
struct BinaryLaunch {
  const StridedDesc& od;
  T* out;
  const StridedDesc& xd;
  const T* x;
  const StridedDesc& yd;
  const T* y;
  int64_t n;
  cudaStream_t stream;
  template <BinaryOp Op>
  void operator()() const {
    launch("binary_kernel", binary_kernel<Op, T>, kern::grid_for(n), kern::kThreads, 0, stream, od, out, xd, x, yd, y,
           n);
  }
};

}  // namespace

template <class T>
void copy_strided(const StridedDesc& dd, T* dst, const StridedDesc& sd, const T* src, cudaStream_t stream) {
  const int64_t n = kern::numel_of(dd);
  if (n == 0) return;
  check_ranks("cuda::copy", dd, sd);
  launch("copy_strided_kernel", copy_strided_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, dd, dst, sd, src,
         n);
}

template <class T>
void fill_strided(const StridedDesc& dd, T* dst, T value, cudaStream_t stream) {
  const int64_t n = kern::numel_of(dd);
  if (n == 0) return;
  launch("fill_strided_kernel", fill_strided_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, dd, dst, value, n);
}

template <class U, class T>
void cast_strided(const StridedDesc& dd, U* dst, const StridedDesc& sd, const T* src, cudaStream_t stream) {
  const int64_t n = kern::numel_of(dd);
  if (n == 0) return;
  check_ranks("cuda::cast", dd, sd);
  launch("cast_strided_kernel", cast_strided_kernel<U, T>, kern::grid_for(n), kern::kThreads, 0, stream, dd, dst, sd,
         src, n);
}

template <class T>
void unary(const UnaryFn& f, const StridedDesc& od, T* out, const StridedDesc& xd, const T* x, cudaStream_t stream) {
  const int64_t n = kern::numel_of(od);
  if (n == 0) return;
  check_ranks(to_string(f.op), od, xd);
  visit(f.op, UnaryLaunch<T>{od, out, xd, x, static_cast<T>(f.a), static_cast<T>(f.b), n, stream});
}

template <class T>
void binary(BinaryOp op, const StridedDesc& od, T* out, const StridedDesc& xd, const T* x, const StridedDesc& yd,
            const T* y, cudaStream_t stream) {
  const int64_t n = kern::numel_of(od);
  if (n == 0) return;
  check_ranks(to_string(op), od, xd);
  check_ranks(to_string(op), od, yd);
  visit(op, BinaryLaunch<T>{od, out, xd, x, yd, y, n, stream});
}

#define CRISP_COPY_FILL(T)                                                                                   \
  template void copy_strided<T>(const StridedDesc&, T*, const StridedDesc&, const T*, cudaStream_t); \
  template void fill_strided<T>(const StridedDesc&, T*, T, cudaStream_t);
CRISP_COPY_FILL(float)
CRISP_COPY_FILL(double)
CRISP_COPY_FILL(int64_t)
#undef CRISP_COPY_FILL

#define CRISP_CAST(U, T) template void cast_strided<U, T>(const StridedDesc&, U*, const StridedDesc&, const T*, cudaStream_t);
CRISP_CAST(float, double)
CRISP_CAST(double, float)
CRISP_CAST(float, int64_t)
CRISP_CAST(int64_t, float)
CRISP_CAST(double, int64_t)
CRISP_CAST(int64_t, double)
CRISP_CAST(float, float)
CRISP_CAST(double, double)
CRISP_CAST(int64_t, int64_t)
#undef CRISP_CAST

#define CRISP_MATH(T)                                                                                       \
  template void unary<T>(const UnaryFn&, const StridedDesc&, T*, const StridedDesc&, const T*, cudaStream_t); \
  template void binary<T>(BinaryOp, const StridedDesc&, T*, const StridedDesc&, const T*, const StridedDesc&,  \
                          const T*, cudaStream_t);
CRISP_MATH(float)
CRISP_MATH(double)
#undef CRISP_MATH

}  // namespace crisp::cuda::native
