// The CUDA runtime layer: device tensors through Tensor::to, the caching allocator's reuse and
// stats, streams, and the errors (a CPU kernel handed a device tensor throws, never reads it).
#include <catch2/catch.hpp>

#include "crisp/backend/cuda/caching_allocator.hpp"
#include "crisp/crisp.hpp"
#include "cuda_test_util.hpp"

using crisp::Device;

TEST_CASE("CUDA tests report a visible skip without a device") {
  if (!crisp::cuda::is_available()) {
    CHECK(crisp::cuda::device_count() == 0);
    CHECK_THROWS_WITH(crisp::Tensor<float>::empty({4}, Device::cuda()), Catch::Contains("CUDA device index"));
  }
  CRISP_CUDA_TEST_OR_SKIP();
  CHECK(crisp::cuda::device_count() >= 1);
}

TEST_CASE("Tensor::to round-trips values, strides and dtypes through device memory") {
  CRISP_CUDA_TEST_OR_SKIP();
  crisp::Generator gen(1);
  auto x = crisp::randn<float>({3, 4, 5}, gen);
  auto d = x.to(Device::cuda());
  CHECK(d.is_cuda());
  CHECK(d.device() == Device::cuda(0));
  CHECK(d.to(Device::cuda()).same(d));  // already there: the same tensor, no copy
  CHECK(d.to(Device::cpu()).to_vector() == x.to_vector());
  // A strided view on the device is made contiguous by the copy kernel.
  auto t = d.transpose(0, 2);
  CHECK(t.to(Device::cpu()).to_vector() == x.transpose(0, 2).contiguous().to_vector());
  auto i = crisp::arange<int64_t>(0, 10).to(Device::cuda());
  CHECK(i.to(Device::cpu()).to_vector()[7] == 7);
  auto dd = crisp::randn<double>({5}, gen);
  CHECK(dd.to(Device::cuda()).to(Device::cpu()).to_vector() == dd.to_vector());
}

TEST_CASE("a CPU kernel handed a device tensor throws instead of reading device memory") {
  CRISP_CUDA_TEST_OR_SKIP();
  auto d = crisp::ones<float>({2, 2}).to(Device::cuda());
  CHECK_THROWS_WITH(d.to_vector(), Catch::Contains("expected a CPU tensor") && Catch::Contains("cuda:0"));
  CHECK_THROWS_AS(crisp::avg_pool2d(d.reshape({1, 1, 2, 2}), 2), crisp::Error);
  CHECK_THROWS_WITH(crisp::add(d, crisp::ones<float>({2, 2})), Catch::Contains("one device"));
}

TEST_CASE("the caching allocator reuses freed blocks on the same stream and empty_cache releases them") {
  CRISP_CUDA_TEST_OR_SKIP();
  crisp::cuda::empty_cache();
  const auto s0 = crisp::cuda::memory_stats();
  {
    auto a = crisp::Tensor<float>::empty({1000}, Device::cuda());
    CHECK(crisp::cuda::memory_allocated() == s0.allocated_bytes + 4096);  // 4000 B rounds up to 512 multiples
  }
  CHECK(crisp::cuda::memory_allocated() == s0.allocated_bytes);
  CHECK(crisp::cuda::memory_stats().cached_bytes() >= 4096);
  const auto mallocs = crisp::cuda::memory_stats().num_cuda_mallocs;
  { auto b = crisp::Tensor<float>::empty({1024}, Device::cuda()); }  // same bucket: served from the cache
  CHECK(crisp::cuda::memory_stats().num_cuda_mallocs == mallocs);
  {
    crisp::cuda::Stream stream;
    crisp::cuda::StreamGuard guard(stream.get());
    auto c = crisp::Tensor<float>::empty({1024}, Device::cuda());  // another stream: a new block
    CHECK(crisp::cuda::memory_stats().num_cuda_mallocs == mallocs + 1);
  }
  crisp::cuda::empty_cache();
  CHECK(crisp::cuda::memory_stats().cached_bytes() == 0);
  CHECK(crisp::cuda::CachingAllocator::round_size(1) == 512);
  CHECK(crisp::cuda::CachingAllocator::round_size((size_t(1) << 20) + 1) == (size_t(2) << 20));
}

TEST_CASE("in-place fill_, copy_ and zero_ work on device tensors") {
  CRISP_CUDA_TEST_OR_SKIP();
  crisp::NoGradGuard no_grad;
  auto d = crisp::Tensor<float>::empty({2, 3}, Device::cuda());
  d.fill_(2.5f);
  CHECK(d.to(Device::cpu()).to_vector() == std::vector<float>(6, 2.5f));
  auto row = crisp::from_vector<float>({1, 2, 3}, {3}).to(Device::cuda());
  d.copy_(row);  // broadcast over rows
  CHECK(d.to(Device::cpu()).to_vector() == std::vector<float>{1, 2, 3, 1, 2, 3});
  d.zero_();
  CHECK(d.to(Device::cpu()).to_vector() == std::vector<float>(6, 0.f));
}
