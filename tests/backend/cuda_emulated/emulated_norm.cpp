// kernels/norm.cu compiled as host C++ under CRISP_CUDA_EMULATION (see kernels/cuda_compat.hpp):
// the same source nvcc builds into crisp_cuda.
#include "norm.cu"
