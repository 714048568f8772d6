// StepDataset: draws each training step's samples from a Generator seeded by (seed, step, slot)
// alone, so a DataLoader can prefetch in worker threads and a resumed run sees the same batches.
#pragma once

#include <crisp/data/dataset.hpp>
#include <crisp/tensor/generator.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

namespace crisp::examples {

// Step s of the run takes the samples (s, 0 .. batch-1), each from a Generator seeded by
// (seed, s, j) alone: a DataLoader over this "dataset" of the remaining steps prefetches in
// worker threads and a resumed run gets the batches the uninterrupted one would have had.
template <class D>
class StepDataset {
 public:
  using Sample = typename D::Sample;
  using Batch = typename D::Batch;
  StepDataset(std::shared_ptr<const D> ds, uint64_t seed, int64_t first_step, int64_t steps, int64_t batch)
      : ds_(std::move(ds)), seed_(seed), first_(first_step), steps_(std::max<int64_t>(0, steps)), batch_(batch) {}
  int64_t size() const { return steps_ * batch_; }
  Sample get(int64_t i, crisp::Generator&) const {
    const int64_t global = first_ * batch_ + i;
    crisp::Generator g(crisp::data::sample_seed(seed_ ^ 0x5354455044415441ull, static_cast<uint64_t>(global / batch_),
                                                static_cast<uint64_t>(global % batch_)));
    const auto index = static_cast<int64_t>(g.uniform_int(static_cast<uint64_t>(ds_->size())));
    return ds_->get(index, g);
  }
  static Batch collate(std::vector<Sample>&& s) { return D::collate(std::move(s)); }

 private:
  std::shared_ptr<const D> ds_;
  uint64_t seed_;
  int64_t first_, steps_, batch_;
};

}  // namespace crisp::examples
