// DataLoader: batching, shuffling, determinism whatever the worker count, exceptions rethrown in
// the consumer, early stops without deadlock, the iteration passed to iteration-aware datasets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "crisp/crisp.hpp"
#include "crisp/data/data.hpp"
#include "data_test_util.hpp"

using namespace crisp;
using namespace crisp::data;

namespace {

// In-memory dataset: sample i = [i, four draws of its generator, the iteration]; sleeps a little
// at random (from a clock, not the generator) so that workers finish out of order.
struct ToyDataset {
  struct Sample {
    Tensor<float> x;
    int64_t index;
  };
  struct Batch {
    Tensor<float> x;
    Tensor<int64_t> index;
  };
  int64_t n = 23;
  int64_t fail_at = -1;
  std::shared_ptr<std::atomic<int64_t>> calls = std::make_shared<std::atomic<int64_t>>(0);

  int64_t size() const { return n; }
  Sample get(int64_t i, Generator& g, int64_t iteration) const {
    ++*calls;
    const auto jitter = std::chrono::steady_clock::now().time_since_epoch().count() % 300;
    std::this_thread::sleep_for(std::chrono::microseconds(jitter));
    if (i == fail_at) throw IoError("ToyDataset: sample " + std::to_string(i) + " is broken");
    Tensor<float> x = Tensor<float>::empty(Shape{6});
    x.data()[0] = static_cast<float>(i);
    for (int k = 1; k < 5; ++k) x.data()[k] = static_cast<float>(g.uniform());
    x.data()[5] = static_cast<float>(iteration);
    return {x, i};
  }
  static Batch collate(std::vector<Sample>&& s) {
    std::vector<Tensor<float>> xs;
    std::vector<int64_t> idx;
    for (auto& v : s) xs.push_back(v.x), idx.push_back(v.index);
    return {data::stack(xs), int_tensor(idx)};
  }
};

std::vector<std::vector<float>> run_epoch(DataLoader<ToyDataset>& l) {
  std::vector<std::vector<float>> out;
  for (auto& b : l) out.push_back(b.x.to_vector());
  return out;
}

std::vector<std::vector<float>> epochs(DataLoaderOptions o, int64_t n_epochs, ToyDataset ds = {}) {
  DataLoader<ToyDataset> l(ds, o);
  std::vector<std::vector<float>> all;
  for (int64_t e = 0; e < n_epochs; ++e) {
    l.set_epoch(e);
    for (auto& v : run_epoch(l)) all.push_back(v);
  }
  return all;
}

}  // namespace

TEST_CASE("batching: sizes, drop_last, order without shuffle", "[data][loader]") {
  DataLoaderOptions o;
  o.batch_size = 5;
  DataLoader<ToyDataset> l(ToyDataset{}, o);
  CHECK(l.num_batches() == 5);
  std::vector<int64_t> sizes, firsts;
  for (auto& b : l) {
    sizes.push_back(b.x.size(0));
    firsts.push_back(b.index.data()[0]);
    CHECK(b.x.shape() == Shape{b.x.size(0), 6});
  }
  CHECK(sizes == std::vector<int64_t>{5, 5, 5, 5, 3});
  CHECK(firsts == std::vector<int64_t>{0, 5, 10, 15, 20});
  o.drop_last = true;
  DataLoader<ToyDataset> d(ToyDataset{}, o);
  CHECK(d.num_batches() == 4);
  int64_t n = 0;
  while (auto b = d.next()) ++n;
  CHECK(n == 4);
  CHECK_FALSE(d.next().has_value());
}

TEST_CASE("shuffle: a permutation per epoch, the same for the same seed", "[data][loader]") {
  DataLoaderOptions o;
  o.batch_size = 4;
  o.shuffle = true;
  o.seed = 5;
  DataLoader<ToyDataset> l(ToyDataset{}, o);
  auto indices = [&] {
    std::vector<int64_t> v;
    for (auto& b : l)
      for (int64_t i = 0; i < b.index.numel(); ++i) v.push_back(b.index.data()[i]);
    return v;
  };
  const auto e0 = indices();
  const auto e0_again = indices();
  l.set_epoch(1);
  const auto e1 = indices();
  CHECK(e0 == e0_again);
  CHECK(e0 != e1);
  auto sorted = e1;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 23; ++i) CHECK(sorted[static_cast<size_t>(i)] == i);
  std::vector<int64_t> identity(23);
  for (int64_t i = 0; i < 23; ++i) identity[static_cast<size_t>(i)] = i;
  CHECK(e0 != identity);
}

TEST_CASE("determinism: the same batches for 0, 1 and 3 workers; seeds differ", "[data][loader]") {
  DataLoaderOptions o;
  o.batch_size = 3;
  o.shuffle = true;
  o.seed = 42;
  const auto ref = epochs(o, 2);
  for (int64_t w : {1, 3}) {
    INFO("workers " << w);
    o.num_workers = w;
    CHECK(epochs(o, 2) == ref);
    o.prefetch = 1;
    CHECK(epochs(o, 2) == ref);
    o.prefetch = 0;
  }
  o.seed = 43;
  o.num_workers = 0;
  CHECK(epochs(o, 2) != ref);
  // Iterations: epoch e, batch b -> e * num_batches + b (+ offset).
  CHECK(ref[0][5] == 0.0f);
  CHECK(ref[8][5] == 8.0f);   // epoch 1's first batch: 8 batches per epoch
  CHECK(ref[15][5] == 15.0f);
}

TEST_CASE("determinism with a real dataset read by worker threads", "[data][loader]") {
  namespace fs = std::filesystem;
  const std::string d = test::scratch("loader_imgs");
  fs::create_directories(d);
  Generator pix(3);
  for (int i = 0; i < 7; ++i) {
    Tensor<float> t = Tensor<float>::empty(Shape{3, 40, 40});
    for (int64_t p = 0; p < t.numel(); ++p) t.data()[p] = static_cast<float>(pix.uniform());
    save_image(t, d + "/" + std::to_string(i) + ".png");
  }
  Generator kg(1);
  BlurredFolderOptions bo;
  bo.crop = {24, 24};
  auto ds = std::make_shared<const BlurredFolderDataset>(d, make_kernel_bank({5, 9}, 3, kg), bo);
  auto collect = [&](int64_t workers) {
    DataLoaderOptions o;
    o.batch_size = 2;
    o.shuffle = true;
    o.seed = 9;
    o.num_workers = workers;
    DataLoader<BlurredFolderDataset> l(ds, o);
    std::vector<std::vector<float>> out;
    for (auto& b : l) {
      CHECK(b.blurred.shape() == Shape{b.blurred.size(0), 3, 24, 24});
      out.push_back(b.blurred.to_vector());
      out.push_back(b.sharp.to_vector());
    }
    return out;
  };
  const auto ref = collect(0);
  CHECK(ref.size() == 8);
  CHECK(collect(2) == ref);
  CHECK(collect(3) == ref);
}

TEST_CASE("a worker's exception reaches the consumer at its batch", "[data][loader]") {
  ToyDataset ds;
  ds.fail_at = 7;
  for (int64_t w : {0, 2}) {
    INFO("workers " << w);
    DataLoaderOptions o;
    o.batch_size = 3;
    o.num_workers = w;
    DataLoader<ToyDataset> l(ds, o);
    CHECK(l.next().has_value());
    CHECK(l.next().has_value());
    CHECK_THROWS_WITH(l.next(), Catch::Contains("sample 7 is broken"));  // batch 2 holds 6, 7, 8
    CHECK(l.next().has_value());  // later batches are still there
  }
}

TEST_CASE("stopping early never deadlocks; prefetch is bounded", "[data][loader]") {
  ToyDataset ds;
  ds.n = 400;
  DataLoaderOptions o;
  o.batch_size = 2;
  o.num_workers = 3;
  o.prefetch = 4;
  {
    DataLoader<ToyDataset> l(ds, o);
    CHECK(l.next().has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // One batch consumed: at most 1 + prefetch batches were ever claimed.
    CHECK(ds.calls->load() <= (1 + o.prefetch) * o.batch_size);
    l.set_epoch(1);  // stop mid-epoch, start another
    CHECK(l.next().has_value());
  }  // destructor joins with workers blocked on the bound
  for (int i = 0; i < 20; ++i) {
    DataLoader<ToyDataset> l(ds, o);
    for (int k = 0; k < i % 4; ++k) l.next();
  }
  SUCCEED("no deadlock");
}

TEST_CASE("DataLoader rejects bad options", "[data][loader]") {
  DataLoaderOptions o;
  o.batch_size = 0;
  CHECK_THROWS_AS(DataLoader<ToyDataset>(ToyDataset{}, o), ValueError);
  o.batch_size = 1;
  o.num_workers = -1;
  CHECK_THROWS_AS(DataLoader<ToyDataset>(ToyDataset{}, o), ValueError);
}
