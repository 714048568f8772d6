// Normalisation CUDA kernels over a contiguous tensor viewed as [outer, groups, inner]. CPU twins:
// cpu::norm_stats, norm_apply, norm_grad_sums, norm_grad_input (backend/cpu/norm.hpp): the same
// two-pass variance in double and the same per-element formulas in T.
#include "kernel_common.cuh"  // first: launch() and, emulated, CUDA itself
#include "crisp/backend/cuda/native/norm.hpp"

namespace crisp::cuda::native {

namespace {

// Element e of group g (e < outer * inner).
__device__ inline int64_t group_offset(const NormLayout& l, int64_t g, int64_t e) {
  return ((e / l.inner) * l.groups + g) * l.inner + e % l.inner;
}

// CPU twin: cpu::norm_stats. One block per group.
template <class T>
__global__ void norm_stats_kernel(const T* x, NormLayout l, double* mean, double* var) {
  const int64_t g = blockIdx.x, count = l.outer * l.inner;
  double s = 0;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) s += static_cast<double>(x[group_offset(l, g, e)]);
  const double m = kern::block_sum(s) / static_cast<double>(count);
  double q = 0;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    const double d = static_cast<double>(x[group_offset(l, g, e)]) - m;
    q += d * d;
  }
  q = kern::block_sum(q);
  if (threadIdx.x == 0) mean[g] = m, var[g] = q / static_cast<double>(count);
}

// CPU twin: cpu::norm_apply.
template <class T>
__global__ void norm_apply_kernel(const T* x, NormLayout l, const double* center, const double* scale,
                                  const double* offset, T* y, int64_t n) {
  CRISP_KERNEL_LOOP(i, n) {
    const int64_t g = (i / l.inner) % l.groups;
    y[i] = (x[i] - static_cast<T>(center[g])) * static_cast<T>(scale[g]) + static_cast<T>(offset[g]);
  }
}

// CPU twin: cpu::norm_grad_sums. One block per group; either output may be null.
template <class T>
__global__ void norm_grad_sums_kernel(const T* dy, const T* x, NormLayout l, const double* center, double* sum_dy,
                                      double* sum_dy_xc) {
  const int64_t g = blockIdx.x, count = l.outer * l.inner;
  const double c = center[g];
  double s = 0, q = 0;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    const int64_t at = group_offset(l, g, e);
    const double d = static_cast<double>(dy[at]);
    s += d;
    if (sum_dy_xc) q += d * (static_cast<double>(x[at]) - c);
  }
  s = kern::block_sum(s);
  if (sum_dy_xc) q = kern::block_sum(q);
  if (threadIdx.x == 0) {
    if (sum_dy) sum_dy[g] = s;
    if (sum_dy_xc) sum_dy_xc[g] = q;
  }
}

// CPU twin: cpu::norm_grad_input (x null: the eval rule dx = dy * k).
template <class T>
__global__ void norm_grad_input_kernel(const T* dy, const T* x, NormLayout l, const double* center, const double* a,
                                       const double* b, const double* k, T* dx, int64_t n) {
  CRISP_KERNEL_LOOP(i, n) {
    const int64_t g = (i / l.inner) % l.groups;
    const T kg = static_cast<T>(k[g]);
    if (!x) {
      dx[i] = dy[i] * kg;
      continue;
    }
    dx[i] = (dy[i] - static_cast<T>(a[g]) - (x[i] - static_cast<T>(center[g])) * static_cast<T>(b[g])) * kg;
  }
}

void check_groups(const NormLayout& l, const char* op) {
  CRISP_CHECK(l.groups <= INT32_MAX, ValueError, op, "expected fewer than 2^31 groups, got ", l.groups);
}

}  // namespace

template <class T>
void norm_stats(const T* x, const NormLayout& l, double* mean, double* var, cudaStream_t stream) {
  if (l.groups == 0) return;
  check_groups(l, "cuda::norm_stats");
  launch("norm_stats_kernel", norm_stats_kernel<T>, unsigned(l.groups), kern::kThreads, 0, stream, x, l, mean, var);
}
template <class T>
void norm_apply(const T* x, const NormLayout& l, const double* center, const double* scale, const double* offset, T* y,
                cudaStream_t stream) {
  const int64_t n = l.outer * l.groups * l.inner;
  if (n == 0) return;
  launch("norm_apply_kernel", norm_apply_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, x, l, center, scale,
         offset, y, n);
}
template <class T>
void norm_grad_sums(const T* dy, const T* x, const NormLayout& l, const double* center, double* sum_dy,
                    double* sum_dy_xc, cudaStream_t stream) {
  if (l.groups == 0 || (!sum_dy && !sum_dy_xc)) return;
  check_groups(l, "cuda::norm_grad_sums");
  launch("norm_grad_sums_kernel", norm_grad_sums_kernel<T>, unsigned(l.groups), kern::kThreads, 0, stream, dy, x, l,
         center, sum_dy, sum_dy_xc);
}
template <class T>
void norm_grad_input(const T* dy, const T* x, const NormLayout& l, const double* center, const double* a,
                     const double* b, const double* k, T* dx, cudaStream_t stream) {
  const int64_t n = l.outer * l.groups * l.inner;
  if (n == 0) return;
  launch("norm_grad_input_kernel", norm_grad_input_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, dy, x, l,
         center, a, b, k, dx, n);
}

#define CRISP_NORM(T)                                                                                               \
  template void norm_stats<T>(const T*, const NormLayout&, double*, double*, cudaStream_t);                         \
  template void norm_apply<T>(const T*, const NormLayout&, const double*, const double*, const double*, T*,         \
                              cudaStream_t);                                                                        \
  template void norm_grad_sums<T>(const T*, const T*, const NormLayout&, const double*, double*, double*,           \
                                  cudaStream_t);                                                                    \
  template void norm_grad_input<T>(const T*, const T*, const NormLayout&, const double*, const double*, const double*, \
                                   const double*, T*, cudaStream_t);
CRISP_NORM(float)
CRISP_NORM(double)
#undef CRISP_NORM

}  // namespace crisp::cuda::native
