// The incremental kernel curriculum of semantic face deblurring: training starts with the
// smallest blur kernels and every K iterations the next size joins, earlier sizes still sampled.
#pragma once

// Schedule: stage s (0-based) holds the bank's kernels of sizes[s]. At iteration t the allowed
// stages are the first min(1 + floor(t / K), #stages), and a kernel is drawn uniformly over the
// kernels of all allowed stages together (so a stage's share is proportional to its kernel
// count: with equal counts, uniform over the allowed sizes). Direct mode allows every stage from
// t = 0 (the paper's ablation). Defaults: sizes 13, 15, ..., 27 and K = 30,000 (the paper's).
// Kernels of the bank whose size is not a stage are ignored; a stage without kernels is an error.
// The curriculum is immutable after construction, so one instance may serve many worker threads.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "crisp/data/blur_kernels.hpp"
#include "crisp/data/datasets.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/generator.hpp"

namespace crisp::data {

struct CurriculumOptions {
  std::vector<int64_t> sizes{13, 15, 17, 19, 21, 23, 25, 27};  // one stage per size, in order
  int64_t iterations_per_stage = 30000;                       // K
  bool direct = false;                                        // every stage from the start
};

class KernelCurriculum {
 public:
  using Options = CurriculumOptions;

  explicit KernelCurriculum(KernelBank bank, Options opts = {}) : bank_(std::move(bank)), opts_(std::move(opts)) {
    const char* op = "KernelCurriculum";
    CRISP_CHECK(!opts_.sizes.empty(), ValueError, op, "expected at least one stage size");
    CRISP_CHECK(opts_.iterations_per_stage > 0, ValueError, op, "expected iterations_per_stage > 0, got ",
                opts_.iterations_per_stage);
    for (size_t s = 0; s < opts_.sizes.size(); ++s)
      for (size_t r = 0; r < s; ++r)
        CRISP_CHECK(opts_.sizes[r] != opts_.sizes[s], ValueError, op, "expected distinct stage sizes, got ",
                    opts_.sizes[s], " twice");
    // order_: bank indices stage by stage; end_[s]: one past the last kernel of stage s.
    for (int64_t size : opts_.sizes) {
      const size_t before = order_.size();
      for (size_t i = 0; i < bank_.size(); ++i) {
        const Tensor<float>& k = bank_[i];
        CRISP_CHECK(k.defined() && k.dim() == 2, ShapeError, op, "expected 2-d kernels, kernel ", i, " has shape ",
                    k.defined() ? k.shape() : Shape{});
        if (k.size(0) == size && k.size(1) == size) order_.push_back(static_cast<int64_t>(i));
      }
      CRISP_CHECK(order_.size() > before, ValueError, op, "expected kernels of size ", size,
                  " in the bank for its stage, got none (bank of ", bank_.size(), " kernels)");
      end_.push_back(static_cast<int64_t>(order_.size()));
    }
  }

  int64_t num_stages() const { return static_cast<int64_t>(opts_.sizes.size()); }
  const Options& options() const { return opts_; }
  const KernelBank& bank() const { return bank_; }

  // How many stages are allowed at iteration t (t >= 0).
  int64_t stages_at(int64_t iteration) const {
    CRISP_CHECK(iteration >= 0, ValueError, "KernelCurriculum", "expected an iteration >= 0, got ", iteration);
    if (opts_.direct) return num_stages();
    return std::min<int64_t>(1 + iteration / opts_.iterations_per_stage, num_stages());
  }
  std::vector<int64_t> allowed_sizes(int64_t iteration) const {
    const int64_t n = stages_at(iteration);
    return {opts_.sizes.begin(), opts_.sizes.begin() + n};
  }
  // Number of kernels of stage s.
  int64_t stage_kernels(int64_t s) const {
    CRISP_CHECK(s >= 0 && s < num_stages(), ValueError, "KernelCurriculum", "expected a stage in [0, ", num_stages(),
                "), got ", s);
    return end_[static_cast<size_t>(s)] - (s ? end_[static_cast<size_t>(s - 1)] : 0);
  }

  // Index into bank() of a kernel drawn for iteration t (one uniform_int draw from gen).
  int64_t sample_index(int64_t iteration, Generator& gen) const {
    const int64_t n = end_[static_cast<size_t>(stages_at(iteration) - 1)];
    return order_[static_cast<size_t>(gen.uniform_int(static_cast<uint64_t>(n)))];
  }
  Tensor<float> sample(int64_t iteration, Generator& gen) const {
    return bank_[static_cast<size_t>(sample_index(iteration, gen))];
  }

  // A KernelSampler for BlurredFolderDataset sharing this curriculum's (immutable) kernels.
  KernelSampler sampler() const {
    auto self = std::make_shared<const KernelCurriculum>(*this);
    return [self](Generator& gen, int64_t iteration) { return self->sample(iteration, gen); };
  }

 private:
  KernelBank bank_;
  Options opts_;
  std::vector<int64_t> order_, end_;
};

}  // namespace crisp::data
