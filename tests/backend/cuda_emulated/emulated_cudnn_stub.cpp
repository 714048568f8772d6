// cuDNN has no CPU emulation: in the emulated CUDA backend (crisp_cuda_emulated_backend) its
// launchers throw, naming themselves, so ConvBackend::Native is the one convolution backend
// there. supports() keeps src/cuda/conv_cudnn.cpp's shape rule, so the callers' checks run as
// in a real build.
#include "crisp/backend/cuda/cudnn_conv.hpp"
#include "crisp/backend/cuda/runtime.hpp"

namespace crisp::cuda::cudnn {
namespace {
[[noreturn]] void not_emulated(const char* op) {
  throw CudaError(::crisp::detail::str_cat(op, ": cuDNN has no CPU emulation (use ConvBackend::Native)"));
}
}  // namespace

void conv2d_fprop(const ConvShape&, const void*, const void*, void*, ConvMath, cudaStream_t) {
  not_emulated("cudnn::conv2d_fprop");
}
void conv2d_dgrad(const ConvShape&, const void*, const void*, void*, ConvMath, cudaStream_t) {
  not_emulated("cudnn::conv2d_dgrad");
}
void conv2d_wgrad(const ConvShape&, const void*, const void*, void*, ConvMath, cudaStream_t) {
  not_emulated("cudnn::conv2d_wgrad");
}
bool supports(const ConvShape& s) {
  return s.P == (s.H + 2 * s.ph - s.dh * (s.kh - 1) - 1) / s.sh + 1 &&
         s.Q == (s.W + 2 * s.pw - s.dw * (s.kw - 1) - 1) / s.sw + 1;
}
const char* algorithm_name(const char*, const ConvShape&, ConvMath) { not_emulated("cudnn::algorithm_name"); }

}  // namespace crisp::cuda::cudnn
