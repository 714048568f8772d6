// Softmax / log-softmax CUDA kernel. CPU twin: cpu::softmax (backend/cpu/softmax.hpp): the same
// max, the exponentials of (x - max) summed in double in index order, the same final formula.
#include "kernel_common.cuh"  // first: launch() and, emulated, CUDA itself
#include "crisp/backend/cuda/native/softmax.hpp"

namespace crisp::cuda::native {

namespace {

// CPU twin: cpu::softmax. One thread per (outer, inner) row; consecutive threads read consecutive
// inner positions, so the loads coalesce whenever inner > 1.
template <class T>
__global__ void softmax_kernel(T* y, const T* x, int64_t outer, int64_t n, int64_t inner, bool log) {
  CRISP_KERNEL_LOOP(r, outer * inner) {
    const int64_t base = (r / inner) * n * inner + r % inner;
    T m = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      const T v = x[base + i * inner];
      m = m < v ? v : m;  // std::max(m, v): keeps m when v is NaN, as the CPU does
    }
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += exp(static_cast<double>(x[base + i * inner] - m));
    if (log) {
      const T lse = m + static_cast<T>(::log(s));
      for (int64_t i = 0; i < n; ++i) y[base + i * inner] = x[base + i * inner] - lse;
    } else {
      for (int64_t i = 0; i < n; ++i) y[base + i * inner] = static_cast<T>(exp(static_cast<double>(x[base + i * inner] - m)) / s);
    }
  }
}

}  // namespace

template <class T>
void softmax(T* out, const T* x, int64_t outer, int64_t n, int64_t inner, bool log, cudaStream_t stream) {
  const int64_t rows = outer * inner;
  if (rows == 0) return;
  launch("softmax_kernel", softmax_kernel<T>, kern::grid_for(rows, 128), 128, 0, stream, out, x, outer, n, inner, log);
}

template void softmax<float>(float*, const float*, int64_t, int64_t, int64_t, bool, cudaStream_t);
template void softmax<double>(double*, const double*, int64_t, int64_t, int64_t, bool, cudaStream_t);

}  // namespace crisp::cuda::native
