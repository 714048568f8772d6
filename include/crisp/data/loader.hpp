// DataLoader: batches of a dataset (see dataset.hpp for the contract), shuffled per epoch and
// built by worker threads ahead of the consumer, with the same batches whatever the worker count.
#pragma once

// Determinism: epoch e's order is a Fisher-Yates shuffle driven by Generator(sample_seed(seed ^
// kShuffleTag, e, 0)) (or 0, 1, ..., n - 1 without shuffle), and sample `index` of epoch e is
// built with its own Generator(sample_seed(seed, e, index)), never a shared one, so which thread
// builds it, and when, does not matter. Datasets with get(index, gen, iteration) also receive the
// training iteration of the batch, iteration_offset + e * num_batches() + b (the curriculum's t).
//
// Threads: with num_workers = 0 batches are built in next() on the caller's thread. Otherwise
// workers start at the first next() of an epoch; each claims the next unbuilt batch, but only
// while fewer than `prefetch` batches past the consumer are claimed (the bounded queue), and the
// consumer takes batches in order. A worker's exception is stored with its batch and rethrown by
// the next() that reaches that batch (later batches stay available). reset(), set_epoch() and the
// destructor stop and join the workers, so stopping early never deadlocks. Workers run OpenMP
// code single-threaded: the loader's threads are the parallelism. The loader is not copyable or
// movable (its threads point at it); next() / reset() are for one consumer thread.
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "crisp/data/dataset.hpp"
#include "crisp/data/distributed_sampler.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/generator.hpp"

namespace crisp::data {

struct DataLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;       // drop a last batch smaller than batch_size
  int64_t num_workers = 0;      // 0: build batches in next()
  int64_t prefetch = 0;         // batches claimed ahead of the consumer; 0: 2 * num_workers
  uint64_t seed = 0;
  int64_t iteration_offset = 0;  // added to the iteration passed to the dataset (resuming)
  // Data-parallel sharding (distributed_sampler.hpp): this rank reads positions rank, rank + R,
  // ... of the epoch's order, the same for all ranks; drop_last also cuts the order to a multiple
  // of R, otherwise its start is repeated to fill the last places.
  int64_t num_replicas = 1;
  int64_t rank = 0;
};

template <class Dataset>
class DataLoader {
 public:
  using Sample = typename Dataset::Sample;
  using Batch = typename Dataset::Batch;
  using Options = DataLoaderOptions;
  static constexpr uint64_t kShuffleTag = 0x53687566666c6521ull;

  DataLoader(std::shared_ptr<const Dataset> dataset, Options opts = {})
      : ds_(std::move(dataset)), opts_(opts) {
    const char* op = "DataLoader";
    CRISP_CHECK(ds_ != nullptr, ValueError, op, "expected a dataset, got a null pointer");
    CRISP_CHECK(opts_.batch_size >= 1, ValueError, op, "expected batch_size >= 1, got ", opts_.batch_size);
    CRISP_CHECK(opts_.num_workers >= 0, ValueError, op, "expected num_workers >= 0, got ", opts_.num_workers);
    CRISP_CHECK(opts_.prefetch >= 0, ValueError, op, "expected prefetch >= 0, got ", opts_.prefetch);
    detail::check_shard(opts_.rank, opts_.num_replicas, op);
    if (opts_.prefetch == 0) opts_.prefetch = std::max<int64_t>(1, 2 * opts_.num_workers);
    reset(0);
  }
  DataLoader(Dataset dataset, Options opts = {})
      : DataLoader(std::make_shared<const Dataset>(std::move(dataset)), opts) {}
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;
  ~DataLoader() { stop_workers(); }

  const Dataset& dataset() const { return *ds_; }
  const Options& options() const { return opts_; }
  int64_t epoch() const { return epoch_; }
  int64_t num_batches() const {
    const int64_t n = static_cast<int64_t>(order_.size()), b = opts_.batch_size;
    return opts_.drop_last ? n / b : (n + b - 1) / b;
  }
  // The dataset indices of batch b of the current epoch.
  std::vector<int64_t> batch_indices(int64_t b) const {
    CRISP_CHECK(b >= 0 && b < num_batches(), ValueError, "DataLoader::batch_indices", "expected a batch in [0, ",
                num_batches(), "), got ", b);
    const auto first = order_.begin() + b * opts_.batch_size;
    return {first, first + std::min<int64_t>(opts_.batch_size, static_cast<int64_t>(order_.end() - first))};
  }

  // Starts epoch `epoch` from its first batch (stopping any prefetching of the previous one).
  void reset(int64_t epoch) {
    CRISP_CHECK(epoch >= 0, ValueError, "DataLoader::reset", "expected an epoch >= 0, got ", epoch);
    stop_workers();
    epoch_ = epoch;
    order_.resize(static_cast<size_t>(ds_->size()));
    std::iota(order_.begin(), order_.end(), int64_t{0});
    if (opts_.shuffle) {
      Generator g(sample_seed(opts_.seed ^ kShuffleTag, static_cast<uint64_t>(epoch), 0));
      for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[g.uniform_int(i)]);
    }
    if (opts_.num_replicas > 1) order_ = shard_indices(order_, opts_.rank, opts_.num_replicas, opts_.drop_last);
    next_yield_ = next_claim_ = 0;
  }
  void set_epoch(int64_t epoch) { reset(epoch); }

  // The next batch of the current epoch, or nullopt at its end.
  std::optional<Batch> next() {
    const int64_t nb = num_batches();
    if (next_yield_ >= nb) return std::nullopt;
    if (opts_.num_workers == 0) return make_batch(next_yield_++);
    if (workers_.empty()) start_workers();
    std::unique_lock<std::mutex> lock(m_);
    ready_cv_.wait(lock, [&] { return ready_.count(next_yield_) > 0; });
    Result r = std::move(ready_.at(next_yield_));
    ready_.erase(next_yield_);
    ++next_yield_;
    lock.unlock();
    work_cv_.notify_all();
    if (r.error) std::rethrow_exception(r.error);
    return std::move(r.batch);
  }

  // for (auto& batch : loader) runs the current epoch from its first batch.
  class iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(DataLoader* l) : l_(l), cur_(l->next()) {}
    Batch& operator*() const { return *cur_; }
    Batch* operator->() const { return &*cur_; }
    iterator& operator++() {
      cur_ = l_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return !it.cur_.has_value(); }

   private:
    DataLoader* l_ = nullptr;
    mutable std::optional<Batch> cur_;
  };
  iterator begin() {
    reset(epoch_);
    return iterator(this);
  }
  std::default_sentinel_t end() const { return {}; }

 private:
  struct Result {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  Sample get_sample(int64_t index, Generator& gen, int64_t iteration) const {
    if constexpr (requires(const Dataset& d, int64_t i, Generator& g) { d.get(i, g, i); })
      return ds_->get(index, gen, iteration);
    else
      return ds_->get(index, gen);
  }

  Batch make_batch(int64_t b) const {
    const std::vector<int64_t> idx = batch_indices(b);
    const int64_t iteration = opts_.iteration_offset + epoch_ * num_batches() + b;
    std::vector<Sample> samples;
    samples.reserve(idx.size());
    for (int64_t i : idx) {
      Generator g(sample_seed(opts_.seed, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(i)));
      samples.push_back(get_sample(i, g, iteration));
    }
    return Dataset::collate(std::move(samples));
  }

  void worker_loop() {
#if defined(_OPENMP)
    omp_set_num_threads(1);
#endif
    const int64_t nb = num_batches();
    std::unique_lock<std::mutex> lock(m_);
    for (;;) {
      work_cv_.wait(lock, [&] { return stop_ || next_claim_ >= nb || next_claim_ < next_yield_ + opts_.prefetch; });
      if (stop_ || next_claim_ >= nb) return;
      const int64_t b = next_claim_++;
      lock.unlock();
      Result r;
      try {
        r.batch.emplace(make_batch(b));
      } catch (...) {
        r.error = std::current_exception();
      }
      lock.lock();
      ready_.emplace(b, std::move(r));
      ready_cv_.notify_all();
    }
  }

  void start_workers() {
    stop_ = false;
    for (int64_t w = 0; w < opts_.num_workers; ++w) workers_.emplace_back([this] { worker_loop(); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    ready_.clear();
    stop_ = false;
  }

  std::shared_ptr<const Dataset> ds_;
  Options opts_;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
  // Shared with the workers, under m_: next_claim_, next_yield_ (written by the consumer), ready_, stop_.
  std::mutex m_;
  std::condition_variable work_cv_, ready_cv_;
  int64_t next_claim_ = 0, next_yield_ = 0;
  std::map<int64_t, Result> ready_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

template <class Dataset>
DataLoader(Dataset, DataLoaderOptions) -> DataLoader<Dataset>;
template <class Dataset>
DataLoader(std::shared_ptr<const Dataset>, DataLoaderOptions) -> DataLoader<Dataset>;

}  // namespace crisp::data
