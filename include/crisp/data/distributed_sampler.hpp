// DistributedSampler: which dataset indices each rank of a data-parallel job reads in an epoch
// (torch.utils.data.distributed.DistributedSampler). All ranks shuffle the whole index list
// with the same seed and epoch, then rank r takes positions r, r + R, r + 2R, ... - disjoint
// shards of equal length. Without drop_last the list is first padded by repeating its start
// (so a few samples are seen twice per epoch); with drop_last its tail is cut instead.
// No communication: rank and replica count are plain numbers (from the ProcessGroup).
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

#include "crisp/data/dataset.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/generator.hpp"

namespace crisp::data {

struct DistributedSamplerOptions {
  int64_t num_replicas = 1;
  int64_t rank = 0;
  bool shuffle = true;
  uint64_t seed = 0;  // must be the same on every rank
  bool drop_last = false;
};

namespace detail {
inline void check_shard(int64_t rank, int64_t replicas, const char* op) {
  CRISP_CHECK(replicas >= 1 && rank >= 0 && rank < replicas, ValueError, op,
              "expected 0 <= rank < num_replicas, got rank ", rank, " of ", replicas);
}
}  // namespace detail

// This rank's share of `order` (the epoch's full index order, identical on every rank).
inline std::vector<int64_t> shard_indices(const std::vector<int64_t>& order, int64_t rank, int64_t replicas,
                                          bool drop_last) {
  detail::check_shard(rank, replicas, "shard_indices");
  const int64_t n = static_cast<int64_t>(order.size());
  if (replicas == 1) return order;
  const int64_t per = drop_last ? n / replicas : (n + replicas - 1) / replicas;
  CRISP_CHECK(per > 0 || n == 0, ValueError, "shard_indices", "a dataset of ", n, " samples cannot give each of ",
              replicas, " ranks one sample with drop_last");
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(per));
  for (int64_t k = 0; k < per; ++k) {
    const int64_t pos = k * replicas + rank;
    out.push_back(n == 0 ? 0 : order[static_cast<size_t>(pos % n)]);  // padding wraps to the start
  }
  return out;
}

class DistributedSampler {
 public:
  static constexpr uint64_t kShuffleTag = 0x53687566666c6521ull;  // the DataLoader's, so orders agree
  DistributedSampler(int64_t dataset_size, DistributedSamplerOptions opt) : n_(dataset_size), opt_(opt) {
    CRISP_CHECK(n_ >= 0, ValueError, "DistributedSampler", "expected a dataset size >= 0, got ", n_);
    detail::check_shard(opt_.rank, opt_.num_replicas, "DistributedSampler");
  }
  // The indices this rank reads in `epoch`, in order.
  std::vector<int64_t> indices(int64_t epoch) const {
    std::vector<int64_t> order(static_cast<size_t>(n_));
    std::iota(order.begin(), order.end(), int64_t{0});
    if (opt_.shuffle) {
      Generator g(sample_seed(opt_.seed ^ kShuffleTag, static_cast<uint64_t>(epoch), 0));
      for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[g.uniform_int(i)]);
    }
    return shard_indices(order, opt_.rank, opt_.num_replicas, opt_.drop_last);
  }
  int64_t size() const {
    if (opt_.num_replicas == 1) return n_;
    return opt_.drop_last ? n_ / opt_.num_replicas : (n_ + opt_.num_replicas - 1) / opt_.num_replicas;
  }

 private:
  int64_t n_;
  DistributedSamplerOptions opt_;
};

}  // namespace crisp::data
