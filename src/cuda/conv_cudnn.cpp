// cuDNN convolution (legacy cudnnConvolution* API, present in cuDNN 9): descriptors per call,
// handle per (thread, device), algorithm per (kind, shape, math) from cudnnFind*, workspace from
// the caching allocator.
#include "crisp/backend/cuda/cudnn_conv.hpp"

#include <cudnn.h>

#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "crisp/backend/cuda/caching_allocator.hpp"

#define CRISP_CUDNN_CHECK(call)                                                                    \
  do {                                                                                             \
    const cudnnStatus_t crisp_cudnn_st_ = (call);                                                  \
    if (crisp_cudnn_st_ != CUDNN_STATUS_SUCCESS)                                                   \
      throw ::crisp::cuda::CudaError(::crisp::detail::str_cat("cudnn: ", #call, " failed: ",       \
                                                              cudnnGetErrorString(crisp_cudnn_st_), \
                                                              " at ", __FILE__, ":", __LINE__));   \
  } while (0)

namespace crisp::cuda::cudnn {

namespace {

cudnnHandle_t handle(cudaStream_t stream) {
  thread_local std::map<int, cudnnHandle_t> handles;  // never destroyed: the driver may be gone at exit
  const int dev = current_device();
  auto it = handles.find(dev);
  if (it == handles.end()) {
    cudnnHandle_t h = nullptr;
    CRISP_CUDNN_CHECK(cudnnCreate(&h));
    it = handles.emplace(dev, h).first;
  }
  CRISP_CUDNN_CHECK(cudnnSetStream(it->second, stream));
  return it->second;
}

// Descriptors of one call, destroyed on scope exit.
struct Descs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  Descs(const ConvShape& s, ConvMath math) {
    const cudnnDataType_t dt = math == ConvMath::BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    CRISP_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    CRISP_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    CRISP_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    CRISP_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    CRISP_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, dt, s.N, s.C, s.H, s.W));
    CRISP_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, dt, s.N, s.O, s.P, s.Q));
    CRISP_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w, dt, CUDNN_TENSOR_NCHW, s.O, s.C / s.groups, s.kh, s.kw));
    CRISP_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, s.ph, s.pw, s.sh, s.sw, s.dh, s.dw,
                                                      CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CRISP_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, s.groups));
    CRISP_CUDNN_CHECK(
        cudnnSetConvolutionMathType(conv, math == ConvMath::FP32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH));
  }
  ~Descs() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
  Descs(const Descs&) = delete;
  Descs& operator=(const Descs&) = delete;
};

enum class Kind { Fprop, Dgrad, Wgrad };

struct Choice {
  int algo = 0;
  size_t workspace = 0;
  cudnnMathType_t math_type = CUDNN_DEFAULT_MATH;
};

using Key = std::tuple<int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int>;
Key key_of(Kind k, const ConvShape& s, ConvMath m) {
  return {int(k), int(m), current_device(), s.N, s.C, s.H, s.W, s.O, s.kh, s.kw, s.P, s.Q, s.sh, s.sw, s.ph, s.pw,
          s.dh, s.dw, s.groups};
}

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
std::map<Key, Choice>& cache() {
  static auto* c = new std::map<Key, Choice>();
  return *c;
}

void check_supported(const ConvShape& s, const char* op) {
  CRISP_CHECK(supports(s), ValueError, op, "cuDNN needs symmetric padding: expected P=",
              (s.H + 2 * s.ph - s.dh * (s.kh - 1) - 1) / s.sh + 1, " Q=", (s.W + 2 * s.pw - s.dw * (s.kw - 1) - 1) / s.sw + 1,
              " for the given padding, got P=", s.P, " Q=", s.Q, " (use ConvBackend::Native)");
}

// The fastest algorithm that succeeded, per cudnnFind* (which times each candidate once).
template <class Perf>
Choice best(const Perf* perf, int n, const char* op) {
  for (int i = 0; i < n; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS)
      return Choice{int(perf[i].algo), perf[i].memory, perf[i].mathType};
  throw CudaError(::crisp::detail::str_cat(op, ": cudnnFind found no working algorithm"));
}

Choice find(Kind kind, const ConvShape& s, ConvMath math, cudnnHandle_t h, const Descs& d) {
  std::lock_guard<std::mutex> lock(cache_mutex());
  const Key key = key_of(kind, s, math);
  auto it = cache().find(key);
  if (it != cache().end()) return it->second;
  constexpr int kMax = 16;
  int n = 0;
  Choice c;
  if (kind == Kind::Fprop) {
    cudnnConvolutionFwdAlgoPerf_t perf[kMax];
    CRISP_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h, d.x, d.w, d.conv, d.y, kMax, &n, perf));
    c = best(perf, n, "cudnn::conv2d_fprop");
  } else if (kind == Kind::Dgrad) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[kMax];
    CRISP_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(h, d.w, d.y, d.conv, d.x, kMax, &n, perf));
    c = best(perf, n, "cudnn::conv2d_dgrad");
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[kMax];
    CRISP_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(h, d.x, d.y, d.conv, d.w, kMax, &n, perf));
    c = best(perf, n, "cudnn::conv2d_wgrad");
  }
  // FP32 must stay FP32: a TF32 algorithm found under FMA math would not be "the same precision".
  if (math == ConvMath::FP32) c.math_type = CUDNN_FMA_MATH;
  cache().emplace(key, c);
  return c;
}

// Workspace from the caching allocator, returned to it (stream-ordered) on scope exit.
struct Workspace {
  void* p = nullptr;
  Workspace(size_t bytes, cudaStream_t stream) {
    if (bytes) p = caching_allocator().allocate(bytes, current_device(), stream);
  }
  ~Workspace() { caching_allocator().deallocate(p); }
};

template <class F>
void run(Kind kind, const ConvShape& s, ConvMath math, cudaStream_t stream, const char* op, F call) {
  check_supported(s, op);
  cudnnHandle_t h = handle(stream);
  Descs d(s, math);
  const Choice c = find(kind, s, math, h, d);
  CRISP_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, c.math_type));
  Workspace ws(c.workspace, stream);
  call(h, d, c, ws.p);
}

}  // namespace

bool supports(const ConvShape& s) {
  return s.P == (s.H + 2 * s.ph - s.dh * (s.kh - 1) - 1) / s.sh + 1 &&
         s.Q == (s.W + 2 * s.pw - s.dw * (s.kw - 1) - 1) / s.sw + 1;
}

void conv2d_fprop(const ConvShape& s, const void* x, const void* w, void* y, ConvMath math, cudaStream_t stream) {
  run(Kind::Fprop, s, math, stream, "cudnn::conv2d_fprop", [&](cudnnHandle_t h, const Descs& d, const Choice& c, void* ws) {
    const float one = 1.f, zero = 0.f;
    CRISP_CUDNN_CHECK(cudnnConvolutionForward(h, &one, d.x, x, d.w, w, d.conv, cudnnConvolutionFwdAlgo_t(c.algo), ws,
                                              c.workspace, &zero, d.y, y));
  });
}

void conv2d_dgrad(const ConvShape& s, const void* dy, const void* w, void* dx, ConvMath math, cudaStream_t stream) {
  run(Kind::Dgrad, s, math, stream, "cudnn::conv2d_dgrad", [&](cudnnHandle_t h, const Descs& d, const Choice& c, void* ws) {
    const float one = 1.f, zero = 0.f;
    CRISP_CUDNN_CHECK(cudnnConvolutionBackwardData(h, &one, d.w, w, d.y, dy, d.conv,
                                                   cudnnConvolutionBwdDataAlgo_t(c.algo), ws, c.workspace, &zero, d.x,
                                                   dx));
  });
}

void conv2d_wgrad(const ConvShape& s, const void* x, const void* dy, void* dw, ConvMath math, cudaStream_t stream) {
  run(Kind::Wgrad, s, math, stream, "cudnn::conv2d_wgrad", [&](cudnnHandle_t h, const Descs& d, const Choice& c, void* ws) {
    const float one = 1.f, zero = 0.f;
    CRISP_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, &one, d.x, x, d.y, dy, d.conv,
                                                     cudnnConvolutionBwdFilterAlgo_t(c.algo), ws, c.workspace, &zero,
                                                     d.w, dw));
  });
}

const char* algorithm_name(const char* kind, const ConvShape& s, ConvMath math) {
  const Kind k = std::strcmp(kind, "fprop") == 0 ? Kind::Fprop : std::strcmp(kind, "dgrad") == 0 ? Kind::Dgrad : Kind::Wgrad;
  check_supported(s, "cudnn::algorithm_name");
  cudnnHandle_t h = handle(current_stream());
  Descs d(s, math);
  const int algo = find(k, s, math, h, d).algo;
  static const char* fwd[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT", "FFT_TILING",
                              "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char* bwd_data[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char* bwd_filter[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED", "FFT_TILING"};
  if (k == Kind::Fprop) return algo < 8 ? fwd[algo] : "?";
  if (k == Kind::Dgrad) return algo < 6 ? bwd_data[algo] : "?";
  return algo < 7 ? bwd_filter[algo] : "?";
}

}  // namespace crisp::cuda::cudnn
