// Devices in a build without the CUDA backend: asking for CUDA throws a clear crisp::Error (never
// a silent CPU fallback); moving to the CPU is a no-op. (With CUDA, tests/backend/cuda/ covers it.)
#include <catch2/catch.hpp>

#include "crisp/crisp.hpp"

#if !defined(CRISP_WITH_CUDA)
TEST_CASE("without CUDA, .to(cuda) and device allocation throw crisp::Error naming the build option") {
  auto x = crisp::ones<float>({2, 3});
  CHECK(x.to(crisp::Device::cpu()).same(x));
  CHECK_FALSE(x.is_cuda());
  CHECK_THROWS_AS(x.to(crisp::Device::cuda()), crisp::Error);
  CHECK_THROWS_WITH(x.to(crisp::Device::cuda()),
                    "Tensor::to: crisp was built without CUDA (CRISP_WITH_CUDA=OFF): cannot move tensor to cuda:0");
  CHECK_THROWS_WITH(crisp::Tensor<float>::empty({4}, crisp::Device::cuda(1)),
                    Catch::Contains("CRISP_WITH_CUDA=OFF") && Catch::Contains("cuda:1"));
}
#endif
