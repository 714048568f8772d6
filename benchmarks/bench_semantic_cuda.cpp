// SemanticDeblurNet on the GPU at the paper's widths: inference at batch 1 on 128x128 faces and a
// whole train step at batch 16 (forward, L1 at both scales, backward, Adam), timed after warm-up
// with the device synchronised around each repetition; prints the median and best in ms, one
// line each, in the format tools/gpu/torch_semantic.py prints PyTorch's so that tools/gpu_check.sh
// can put them side by side. Usage: bench_semantic_cuda [reps] [fp32|tf32|bf16] [native|cudnn]
#include <crisp/crisp.hpp>
#include <crisp/backend/cuda/conv.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace crisp;

namespace {

template <class F>
std::pair<double, double> time_ms(int reps, F f) {
  for (int i = 0; i < 3; ++i) f();  // warm-up: allocator, cuBLAS / cuDNN handles, algorithm search
  cuda::synchronize();
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    cuda::synchronize();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front()};
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  const std::string math = argc > 2 ? argv[2] : "fp32", backend = argc > 3 ? argv[3] : "native";
  if (!cuda::is_available()) {
    std::printf("bench_semantic_cuda: SKIPPED: no CUDA device\n");
    return 0;
  }
  cuda::set_conv_math(math == "bf16" ? cuda::ConvMath::BF16 : math == "tf32" ? cuda::ConvMath::TF32 : cuda::ConvMath::FP32);
  cuda::set_conv_backend(backend == "cudnn" ? cuda::ConvBackend::CuDNN : cuda::ConvBackend::Native);
  const Device dev = Device::cuda(0);
  Generator gen(0);
  models::SemanticDeblurNet net(models::SemanticDeblurNetOptions(), gen);
  net->to(dev);
  optim::Adam adam(net->parameters(), optim::AdamOptions(1e-4));

  const Tensor<float> x1 = rand<float>({1, 3, 128, 128}, gen).to(dev);
  const Tensor<float> p1 = softmax(rand<float>({1, 11, 128, 128}, gen), 1).to(dev);
  const auto [inf_med, inf_best] = time_ms(reps, [&] {
    NoGradGuard no_grad;
    (void)net(x1, p1);
  });
  std::printf("crisp semantic inference b1@128 %s %s: median %.3f ms, best %.3f ms\n", math.c_str(), backend.c_str(),
              inf_med, inf_best);

  const Tensor<float> x = rand<float>({16, 3, 128, 128}, gen).to(dev);
  const Tensor<float> p = softmax(rand<float>({16, 11, 128, 128}, gen), 1).to(dev);
  const Tensor<float> sharp = rand<float>({16, 3, 128, 128}, gen).to(dev);
  const Tensor<float> sharp_half = avg_pool2d(sharp, 2);
  const auto [step_med, step_best] = time_ms(std::max(3, reps / 2), [&] {
    net->zero_grad();
    auto out = net(x, p);
    Tensor<float> l = add(loss::l1(out.scale2, sharp), loss::l1(out.scale1, sharp_half));
    l.backward();
    adam.step();
  });
  std::printf("crisp semantic train step b16@128 %s %s: median %.3f ms, best %.3f ms\n", math.c_str(), backend.c_str(),
              step_med, step_best);
  return 0;
}
