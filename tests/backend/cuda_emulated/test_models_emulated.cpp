// The device test of every model's train step (tests/backend/cuda/test_models_cuda.cpp) run on
// the emulated CUDA backend (crisp_cuda_emulated_backend): each model's forward, losses, backward
// and Adam step go through the dispatch layer's cuda:: twins and the emulated kernels, with
// Device::cuda(0) tensors in host memory, and must equal the CPU step.
#include "test_models_cuda.cpp"
