// Reduction and index CUDA kernels. CPU twins: cpu::sum_into and cpu::arg_extremum
// (backend/cpu/reduce.hpp), cpu::scatter_along and cpu::gather_along (backend/cpu/index.hpp).
#include "kernel_common.cuh"  // first: launch() and, emulated, CUDA itself
#include "crisp/backend/cuda/native/reduce.hpp"

namespace crisp::cuda::native {

namespace {

// Reductions longer than this are split over several blocks per output when outputs are few.
constexpr int64_t kChunk = 1 << 13;

// CPU twin: cpu::sum_into. Block (k, c) sums chunk c of output k's reduced range, each thread a
// fixed stride of it, then a fixed tree: the result depends on the sizes only, never on timing.
template <class T>
__global__ void sum_partial_kernel(StridedDesc kept, StridedDesc red, const T* x, int64_t R, int64_t chunk,
                                   double* partial) {
  const int64_t k = blockIdx.x, c = blockIdx.y;
  const T* base = x + kern::strided_offset(kept, k);
  const int64_t b = c * chunk, e = min(R, b + chunk);
  double s = 0;
  for (int64_t r = b + threadIdx.x; r < e; r += blockDim.x) s += static_cast<double>(base[kern::strided_offset(red, r)]);
  s = kern::block_sum(s);
  if (threadIdx.x == 0) partial[k * gridDim.y + c] = s;
}

template <class T>
__global__ void sum_final_kernel(const double* partial, int64_t K, int64_t chunks, T* out) {
  CRISP_KERNEL_LOOP(k, K) {
    double s = 0;
    for (int64_t c = 0; c < chunks; ++c) s += partial[k * chunks + c];
    out[k] = static_cast<T>(s);
  }
}

// Short reductions: one thread per output, in the CPU's order.
template <class T>
__global__ void sum_thread_kernel(StridedDesc kept, StridedDesc red, const T* x, int64_t K, int64_t R, T* out) {
  CRISP_KERNEL_LOOP(k, K) {
    const T* base = x + kern::strided_offset(kept, k);
    double s = 0;
    for (int64_t r = 0; r < R; ++r) s += static_cast<double>(base[kern::strided_offset(red, r)]);
    out[k] = static_cast<T>(s);
  }
}

template <class T>
__global__ void zero_kernel(T* out, int64_t n) {
  CRISP_KERNEL_LOOP(i, n) out[i] = T(0);
}

// CPU twin: cpu::arg_extremum.
template <class T>
__global__ void arg_extremum_kernel(StridedDesc kept, int64_t K, int64_t n, int64_t stride, bool greatest, const T* x,
                                    T* values, int64_t* indices) {
  CRISP_KERNEL_LOOP(k, K) {
    const T* p = x + kern::strided_offset(kept, k);
    T best = p[0];
    int64_t at = 0;
    for (int64_t j = 1; j < n && !(best != best); ++j) {
      const T v = p[j * stride];
      if (v != v || (greatest ? v > best : v < best)) {
        best = v;
        at = j;
      }
    }
    values[k] = best;
    indices[k] = at;
  }
}

// CPU twin: cpu::scatter_along. One thread per output element, so no zeroing pass is needed.
template <class T>
__global__ void scatter_along_kernel(T* out, int64_t outer, int64_t n, int64_t inner, const int64_t* index,
                                     const T* src) {
  CRISP_KERNEL_LOOP(t, outer * n * inner) {
    const int64_t i = t % inner, j = (t / inner) % n, o = t / (n * inner);
    out[t] = index[o * inner + i] == j ? src[o * inner + i] : T(0);
  }
}

// CPU twin: cpu::gather_along.
template <class T>
__global__ void gather_along_kernel(T* out, const T* x, int64_t outer, int64_t n, int64_t inner, const int64_t* index,
                                    int64_t skip) {
  CRISP_KERNEL_LOOP(k, outer * inner) {
    const int64_t o = k / inner, i = k % inner, c = index[k];
    out[k] = c == skip ? T(0) : x[(o * n + c) * inner + i];
  }
}

}  // namespace

template <class T>
void sum_reduce(const StridedDesc& kept, const StridedDesc& red, const T* x, T* out, cudaStream_t stream) {
  const int64_t K = kern::numel_of(kept), R = kern::numel_of(red);
  if (K == 0) return;
  if (R == 0) {
    launch("zero_kernel", zero_kernel<T>, kern::grid_for(K), kern::kThreads, 0, stream, out, K);
    return;
  }
  if (R <= 64) {
    launch("sum_thread_kernel", sum_thread_kernel<T>, kern::grid_for(K), kern::kThreads, 0, stream, kept, red, x, K, R,
           out);
    return;
  }
  CRISP_CHECK(K <= INT32_MAX, ValueError, "cuda::sum", "expected fewer than 2^31 outputs, got ", K);
  const int64_t chunks = K >= 1024 ? 1 : std::min<int64_t>((R + kChunk - 1) / kChunk, 1024);
  const int64_t chunk = (R + chunks - 1) / chunks;
  kern::DeviceArray<double> partial(static_cast<size_t>(K * chunks), stream);
  launch("sum_partial_kernel", sum_partial_kernel<T>, dim3(unsigned(K), unsigned(chunks)), kern::kThreads, 0, stream,
         kept, red, x, R, chunk, partial.get());
  launch("sum_final_kernel", sum_final_kernel<T>, kern::grid_for(K), kern::kThreads, 0, stream, partial.get(), K, chunks,
         out);
}

template <class T>
void arg_extremum(const StridedDesc& kept, int64_t n, int64_t stride, bool greatest, const T* x, T* values,
                  int64_t* indices, cudaStream_t stream) {
  const int64_t K = kern::numel_of(kept);
  if (K == 0) return;
  CRISP_CHECK(n > 0, ValueError, greatest ? "cuda::max" : "cuda::min", "expected a non-empty dim, got size 0");
  launch("arg_extremum_kernel", arg_extremum_kernel<T>, kern::grid_for(K), kern::kThreads, 0, stream, kept, K, n,
         stride, greatest, x, values, indices);
}

template <class T>
void scatter_along(T* out, int64_t outer, int64_t n, int64_t inner, const int64_t* index, const T* src,
                   cudaStream_t stream) {
  const int64_t total = outer * n * inner;
  if (total == 0) return;
  launch("scatter_along_kernel", scatter_along_kernel<T>, kern::grid_for(total), kern::kThreads, 0, stream, out, outer,
         n, inner, index, src);
}

template <class T>
void gather_along(T* out, const T* x, int64_t outer, int64_t n, int64_t inner, const int64_t* index, int64_t skip,
                  cudaStream_t stream) {
  const int64_t total = outer * inner;
  if (total == 0) return;
  launch("gather_along_kernel", gather_along_kernel<T>, kern::grid_for(total), kern::kThreads, 0, stream, out, x, outer,
         n, inner, index, skip);
}

#define CRISP_REDUCE(T)                                                                                           \
  template void sum_reduce<T>(const StridedDesc&, const StridedDesc&, const T*, T*, cudaStream_t);                \
  template void arg_extremum<T>(const StridedDesc&, int64_t, int64_t, bool, const T*, T*, int64_t*, cudaStream_t); \
  template void scatter_along<T>(T*, int64_t, int64_t, int64_t, const int64_t*, const T*, cudaStream_t);          \
  template void gather_along<T>(T*, const T*, int64_t, int64_t, int64_t, const int64_t*, int64_t, cudaStream_t);
CRISP_REDUCE(float)
CRISP_REDUCE(double)
#undef CRISP_REDUCE

}  // namespace crisp::cuda::native
