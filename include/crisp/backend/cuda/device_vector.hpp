// Small host-built tables (index maps, interpolation taps) uploaded for one launch: device memory
// from the caching allocator on the current stream, returned to it (stream-ordered) on scope exit.
// And the inversion of an output -> input map that the gather-style backward kernels read.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "crisp/backend/cuda/caching_allocator.hpp"
#include "crisp/backend/cuda/runtime.hpp"

namespace crisp::cuda {

template <class T>
class DeviceVector {
 public:
  explicit DeviceVector(const std::vector<T>& host) : n_(host.size()) {
    const cudaStream_t stream = current_stream();
    p_ = static_cast<T*>(caching_allocator().allocate(std::max<size_t>(n_, 1) * sizeof(T), current_device(), stream));
    // Pageable source: the call returns once the data is staged, so `host` may die after it.
    if (n_) CRISP_CUDA_CHECK(cudaMemcpyAsync(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice, stream));
  }
  ~DeviceVector() { caching_allocator().deallocate(p_); }
  DeviceVector(const DeviceVector&) = delete;
  DeviceVector& operator=(const DeviceVector&) = delete;
  const T* get() const { return p_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

// Input i's outputs are out[start[i] .. start[i + 1]) in ascending output order, with weights w
// (empty when the map is unweighted). Entries with map[j] < 0 (pad's fill) are dropped.
template <class T>
struct InvertedMap {
  std::vector<int64_t> start, out;
  std::vector<T> w;
};
template <class T>
InvertedMap<T> invert_map(int64_t in, const std::vector<const std::vector<int64_t>*>& maps,
                          const std::vector<const std::vector<T>*>& weights) {
  InvertedMap<T> r;
  r.start.assign(static_cast<size_t>(in + 1), 0);
  for (const auto* m : maps)
    for (int64_t s : *m)
      if (s >= 0 && s < in) ++r.start[static_cast<size_t>(s + 1)];
  for (int64_t i = 0; i < in; ++i) r.start[static_cast<size_t>(i + 1)] += r.start[static_cast<size_t>(i)];
  r.out.resize(static_cast<size_t>(r.start.back()));
  if (!weights.empty()) r.w.resize(r.out.size());
  std::vector<int64_t> fill(r.start.begin(), r.start.end() - 1);
  const size_t outs = maps.empty() ? 0 : maps[0]->size();
  for (size_t j = 0; j < outs; ++j)  // ascending output index; taps of one output in map order
    for (size_t k = 0; k < maps.size(); ++k) {
      const int64_t s = (*maps[k])[j];
      if (s < 0 || s >= in) continue;
      const size_t at = static_cast<size_t>(fill[static_cast<size_t>(s)]++);
      r.out[at] = static_cast<int64_t>(j);
      if (!weights.empty()) r.w[at] = (*weights[k])[j];
    }
  return r;
}

}  // namespace crisp::cuda
