// Shared by the CUDA tests: the visible skip when no device is present, device buffers filled
// from host vectors, and the relative L2 error every CUDA-vs-CPU comparison uses.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#include "crisp/backend/cuda/caching_allocator.hpp"
#include "crisp/backend/cuda/runtime.hpp"
#include "crisp/tensor/generator.hpp"

// First line of every CUDA test: without a device the test prints why and passes.
#define CRISP_CUDA_TEST_OR_SKIP()                                                         \
  do {                                                                                    \
    if (!::crisp::cuda::is_available()) {                                                 \
      std::printf("SKIPPED: no CUDA device (%s)\n", Catch::getResultCapture().getCurrentTestName().c_str()); \
      WARN("SKIPPED: no CUDA device");                                                    \
      return;                                                                             \
    }                                                                                     \
  } while (0)

namespace crisp::test {

// ||a - b|| / ||b|| (b the reference); +inf when a holds a NaN.
inline double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i])) return INFINITY;
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

inline std::vector<float> random_vector(size_t n, Generator& gen) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(gen.normal());
  return v;
}

// A device buffer owning n floats from the caching allocator.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    p_ = static_cast<float*>(cuda::caching_allocator().allocate(n * sizeof(float), 0, cuda::current_stream()));
  }
  explicit DeviceBuffer(const std::vector<float>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { cuda::caching_allocator().deallocate(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  float* get() const { return p_; }
  void upload(const std::vector<float>& host) {
    CRISP_CUDA_CHECK(cudaMemcpy(p_, host.data(), n_ * sizeof(float), cudaMemcpyHostToDevice));
  }
  // Fills with NaN so that an element a kernel forgets to write fails the comparison.
  void poison() { CRISP_CUDA_CHECK(cudaMemset(p_, 0xff, n_ * sizeof(float))); }
  std::vector<float> download() const {
    std::vector<float> h(n_);
    CRISP_CUDA_CHECK(cudaDeviceSynchronize());
    CRISP_CUDA_CHECK(cudaMemcpy(h.data(), p_, n_ * sizeof(float), cudaMemcpyDeviceToHost));
    return h;
  }

 private:
  float* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace crisp::test
