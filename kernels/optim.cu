// Optimiser-step CUDA kernels. CPU twins: cpu::adam_step and cpu::sgd_step (backend/cpu/optim.hpp):
// the same T constants (adam_constants / sgd_constants, computed once on the host) and the same
// order of operations per element.
#include "kernel_common.cuh"  // first: launch() and, emulated, CUDA itself
#include "crisp/backend/cuda/native/optim.hpp"

namespace crisp::cuda::native {

namespace {

// CPU twin: cpu::adam_step. nvcc may contract a * b + c into an FMA where g++ does not, so float
// results agree to rounding (1e-6 relative), not bit for bit.
template <class T>
__global__ void adam_step_kernel(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, AdamConstants<T> c) {
  CRISP_KERNEL_LOOP(i, n) {
    T gi = c.maximize ? -g[i] : g[i];
    T pi = p[i];
    if (c.decoupled) {
      pi = pi * c.decay;
    } else {
      if (c.has_wd) gi = gi + c.wd * pi;
    }
    const T mi = m[i] * c.b1 + c.omb1 * gi;
    const T vi = v[i] * c.b2 + c.omb2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    T vu = vi;
    if (vmax) vu = vmax[i] = vmax[i] < vi ? vi : vmax[i];  // std::max(vmax, v)
    const T denom = sqrt(vu) / c.bc2_sqrt + c.eps;
    p[i] = pi + c.neg_step_size * mi / denom;
  }
}

// CPU twin: cpu::sgd_step.
template <class T>
__global__ void sgd_step_kernel(T* p, const T* g, T* buf, int64_t n, SgdConstants<T> c) {
  CRISP_KERNEL_LOOP(i, n) {
    const T pi = p[i];
    T d = c.maximize ? -g[i] : g[i];
    if (c.has_wd) d = d + c.wd * pi;
    if (buf) {
      const T bi = c.first ? d : buf[i] * c.mom + c.damp1 * d;
      buf[i] = bi;
      d = c.nesterov ? d + c.mom * bi : bi;
    }
    p[i] = pi + c.neg_lr * d;
  }
}

}  // namespace

template <class T>
void adam_step(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamStep& args, cudaStream_t stream) {
  CRISP_CHECK(args.step >= 1, ValueError, "cuda::adam_step", "expected a 1-based step count, got ", args.step);
  if (n == 0) return;
  launch("adam_step_kernel", adam_step_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, p, g, m, v, vmax, n,
         adam_constants<T>(args));
}

template <class T>
void sgd_step(T* p, const T* g, T* buf, int64_t n, const SgdStep& args, cudaStream_t stream) {
  if (n == 0) return;
  launch("sgd_step_kernel", sgd_step_kernel<T>, kern::grid_for(n), kern::kThreads, 0, stream, p, g, buf, n,
         sgd_constants<T>(args));
}

template void adam_step<float>(float*, const float*, float*, float*, float*, int64_t, const AdamStep&, cudaStream_t);
template void adam_step<double>(double*, const double*, double*, double*, double*, int64_t, const AdamStep&,
                                cudaStream_t);
template void sgd_step<float>(float*, const float*, float*, int64_t, const SgdStep&, cudaStream_t);
template void sgd_step<double>(double*, const double*, double*, int64_t, const SgdStep&, cudaStream_t);

}  // namespace crisp::cuda::native
