// The incremental kernel curriculum: the stage schedule (sizes allowed at t = 0, K - 1, K, 3K, ...),
// direct mode, empirical sampling frequencies, and its use as a BlurredFolderDataset's sampler.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <map>

#include "crisp/crisp.hpp"
#include "crisp/data/data.hpp"
#include "data_test_util.hpp"

using namespace crisp;
using namespace crisp::data;

namespace {

// `counts[s]` box kernels of size sizes[s] (the curriculum only looks at sizes).
KernelBank box_bank(const std::vector<int64_t>& sizes, const std::vector<int64_t>& counts) {
  KernelBank bank;
  for (size_t s = 0; s < sizes.size(); ++s)
    for (int64_t i = 0; i < counts[s]; ++i) {
      Tensor<float> k = Tensor<float>::empty(Shape{sizes[s], sizes[s]});
      std::fill(k.data(), k.data() + k.numel(), 1.0f / static_cast<float>(k.numel()));
      bank.push_back(k);
    }
  return bank;
}

const std::vector<int64_t> kPaper{13, 15, 17, 19, 21, 23, 25, 27};

}  // namespace

TEST_CASE("the paper's schedule: one more size every 30,000 iterations", "[data][curriculum]") {
  KernelCurriculum c(box_bank(kPaper, std::vector<int64_t>(8, 3)));
  const int64_t K = 30000;
  CHECK(c.num_stages() == 8);
  CHECK(c.options().iterations_per_stage == K);
  CHECK(c.allowed_sizes(0) == std::vector<int64_t>{13});
  CHECK(c.allowed_sizes(K - 1) == std::vector<int64_t>{13});
  CHECK(c.allowed_sizes(K) == std::vector<int64_t>{13, 15});
  CHECK(c.allowed_sizes(3 * K) == std::vector<int64_t>{13, 15, 17, 19});
  CHECK(c.allowed_sizes(7 * K - 1) == std::vector<int64_t>{13, 15, 17, 19, 21, 23, 25});
  CHECK(c.allowed_sizes(7 * K) == kPaper);
  CHECK(c.allowed_sizes(1000 * K) == kPaper);
  CHECK_THROWS_AS(c.stages_at(-1), ValueError);

  CurriculumOptions direct;
  direct.direct = true;
  KernelCurriculum d(box_bank(kPaper, std::vector<int64_t>(8, 1)), direct);
  CHECK(d.allowed_sizes(0) == kPaper);
  std::map<int64_t, int64_t> seen;
  Generator g(1);
  for (int i = 0; i < 4000; ++i) ++seen[d.sample(0, g).size(0)];
  CHECK(seen.size() == 8);
}

TEST_CASE("sampling: only allowed sizes, uniform over the kernels of the allowed stages", "[data][curriculum]") {
  CurriculumOptions o;
  o.sizes = {3, 5, 7, 9, 11};
  o.iterations_per_stage = 10;
  const std::vector<int64_t> counts{10, 20, 30, 40, 50};
  KernelCurriculum c(box_bank(o.sizes, counts), o);
  for (int64_t s = 0; s < 5; ++s) CHECK(c.stage_kernels(s) == counts[static_cast<size_t>(s)]);
  Generator g(2);
  for (int64_t t : {0, 9, 10, 25, 39}) {
    const auto allowed = c.allowed_sizes(t);
    for (int i = 0; i < 200; ++i) {
      const int64_t k = c.sample(t, g).size(0);
      REQUIRE(std::find(allowed.begin(), allowed.end(), k) <= allowed.end() - 1);
    }
  }
  // At t = 30 stages 0..3 are allowed: P(size) = count / 100; each kernel 1 / 100.
  const int n = 40000;
  std::map<int64_t, int> by_size;
  std::map<int64_t, int> by_kernel;
  for (int i = 0; i < n; ++i) {
    const int64_t idx = c.sample_index(30, g);
    ++by_kernel[idx];
    ++by_size[c.bank()[static_cast<size_t>(idx)].size(0)];
  }
  CHECK(by_size.count(11) == 0);
  for (size_t s = 0; s < 4; ++s) {
    const double p = static_cast<double>(counts[s]) / 100.0;
    const double sd = std::sqrt(n * p * (1 - p));
    CHECK(std::abs(by_size[o.sizes[s]] - n * p) < 5 * sd);  // earlier stages keep their share
  }
  CHECK(by_kernel.size() == 100);
  for (const auto& [idx, cnt] : by_kernel) CHECK(std::abs(cnt - n / 100.0) < 5 * std::sqrt(n / 100.0));
}

TEST_CASE("curriculum errors name the problem", "[data][curriculum]") {
  CurriculumOptions o;
  o.sizes = {3, 5};
  CHECK_THROWS_WITH(KernelCurriculum(box_bank({3}, {2}), o), Catch::Contains("size 5"));
  o.iterations_per_stage = 0;
  CHECK_THROWS_AS(KernelCurriculum(box_bank({3, 5}, {1, 1}), o), ValueError);
  o.iterations_per_stage = 5;
  o.sizes = {3, 3};
  CHECK_THROWS_AS(KernelCurriculum(box_bank({3}, {1}), o), ValueError);
  // Bank kernels of other sizes are ignored.
  o.sizes = {5};
  KernelCurriculum c(box_bank({3, 5, 7}, {4, 2, 4}), o);
  Generator g(0);
  for (int i = 0; i < 50; ++i) CHECK(c.sample(100, g).size(0) == 5);
}

TEST_CASE("a curriculum drives BlurredFolderDataset through the DataLoader's iteration", "[data][curriculum]") {
  namespace fs = std::filesystem;
  const std::string d = test::scratch("curriculum_imgs");
  fs::create_directories(d);
  Generator pix(3);
  for (int i = 0; i < 4; ++i) {
    Tensor<float> t = Tensor<float>::empty(Shape{3, 48, 48});
    for (int64_t p = 0; p < t.numel(); ++p) t.data()[p] = static_cast<float>(pix.uniform());
    save_image(t, d + "/" + std::to_string(i) + ".png");
  }
  Generator kg(5);
  CurriculumOptions co;
  co.sizes = {5, 9, 13};
  co.iterations_per_stage = 2;  // 2 batches per stage
  KernelCurriculum cur(make_kernel_bank(co.sizes, 4, kg), co);
  BlurredFolderOptions bo;
  bo.crop = {16, 16};
  DataLoaderOptions lo;
  lo.batch_size = 2;  // 2 batches per epoch
  lo.num_workers = 2;
  DataLoader<BlurredFolderDataset> l(BlurredFolderDataset(d, cur.sampler(), bo), lo);
  std::vector<int64_t> max_size;  // per iteration
  for (int64_t e = 0; e < 4; ++e) {
    l.set_epoch(e);
    for (auto& b : l) max_size.push_back(*std::max_element(b.kernel_size.data(), b.kernel_size.data() + 2));
  }
  REQUIRE(max_size.size() == 8);
  CHECK(max_size[0] == 5);
  CHECK(max_size[1] == 5);
  for (size_t t = 2; t < 8; ++t) CHECK(max_size[t] <= (t < 4 ? 9 : 13));
}
